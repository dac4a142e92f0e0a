"""``cosmot reid``: build crop sets, train, evaluate, export, adapt and benchmark the appearance
encoder.

Data preparation that reads MOTChallenge files lives here (``tools`` may import ``appearance``,
never the other way round); the appearance package only sees arrays and frames.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from cosmot.paths import REPO_ROOT, cache_dir, data_dir
from cosmot.sources.reid_crops import bench_frames, crops_from_mot, shrink_crops, unlabelled_from_sequence

CACHE = cache_dir("reid")  # crop sets: $COSMOT_CACHE/reid or ~/.cache/cosmot/reid
# Tracking validation sequences: never used for supervised training.
HELDOUT_SEQUENCES = ("PETS09-S2L1", "TUD-Stadtmitte")
TRAIN_SEQUENCES = ("MOT16-11", "KITTI-17")
OSNET = "models/osnet_x0_25_msmt17.onnx"


def repo_relative(path: str | Path) -> str:
    """``path`` relative to the repository root when it lies inside it, as
    ``$COSMOT_CACHE/...`` when it lies in the cache folder (also another checkout's
    ``.cache/``, written by an earlier run), else unchanged: records stay portable."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(REPO_ROOT.resolve()))
    except ValueError:
        pass
    try:
        return str(Path("$COSMOT_CACHE") / p.resolve().relative_to(cache_dir().resolve()))
    except ValueError:
        pass
    parts = p.parts
    if ".cache" in parts:
        return str(Path(*parts[parts.index(".cache"):]))
    return str(p)


def _size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected HxW, e.g. 128x64") from None
    return h, w


# ----------------------------------------------------------------------------- build-crops
def _cmd_build_crops(args: argparse.Namespace) -> int:
    from cosmot.appearance.crops import concat
    from cosmot.appearance.folders import load_col780, load_market_folder

    mot = list(args.mot or [])
    col780 = args.col780
    parts = args.col780_part
    size = args.size
    out = args.out
    cuhk = args.cuhk
    if args.preset in ("train", "train-v2"):
        mot = mot or list(TRAIN_SEQUENCES)
        col780, parts = col780 or str(data_dir() / "reid" / "col780"), "train"
        out = out or CACHE / ("train.npz" if args.preset == "train" else "train_v2.npz")
        if args.preset == "train-v2":
            cuhk = cuhk or str(data_dir() / "reid")
    elif args.preset == "heldout":
        mot = mot or list(HELDOUT_SEQUENCES)
        col780, parts = col780 or str(data_dir() / "reid" / "col780"), "val"
        size = size or (256, 128)
        out = out or CACHE / "heldout.npz"
    size = size or (128, 64)
    if out is None:
        raise ValueError("--out: give the .npz file to write (or use --preset)")
    if not (mot or col780 or args.market or cuhk):
        raise ValueError("nothing to read: give --mot, --col780, --market, --cuhk or --preset")
    sets = []
    for name in mot:
        s = crops_from_mot(name, size, args.stride, args.min_visibility, args.min_height)
        print(f"{name}: {len(s)} crops, {s.num_identities()} identities")
        sets.append(s)
    if col780:
        train, query, gallery = load_col780(col780, size)
        chosen = {"train": [train], "val": [query, gallery], "all": [train, query, gallery]}
        for s in chosen[parts]:
            print(f"{s.source_names[0]}: {len(s)} crops, {s.num_identities()} identities")
            sets.append(s)
    for folder in args.market or []:
        s = load_market_folder(folder, Path(folder).name, size)
        print(f"{folder}: {len(s)} crops, {s.num_identities()} identities")
        sets.append(s)
    if cuhk:
        from cosmot.appearance.folders import load_cuhk

        s = load_cuhk(cuhk, size)
        for i, name in enumerate(s.source_names):
            part = s.subset(s.sources == i)
            print(f"{name}: {len(part)} crops, {part.num_identities()} identities")
        print(f"CUHK together: {s.num_identities()} identities (cuhk03 labeled and detected "
              f"share one identity space)")
        sets.append(s)
    crops = concat(sets)
    crops.save(out, png=args.png)
    print(f"wrote {out} ({Path(out).stat().st_size / 2**20:.1f} MiB): {len(crops)} crops "
          f"{size[0]}x{size[1]}, "
          f"{crops.num_identities()} identities, sources {list(crops.source_names)}")
    return 0


def _add_build_crops(sub) -> None:
    p = sub.add_parser("build-crops", help="cut labelled crops into a packed .npz",
                       description="Cut person crops from MOTChallenge ground truth, a col780 "
                                   "folder or Market-1501-style folders into one .npz.")
    p.add_argument("--preset", choices=["train", "train-v2", "heldout"],
                   help="train: MOT16-11 + KITTI-17 + col780/train at 128x64 -> "
                        ".cache/reid/train.npz; train-v2: the same plus CUHK03 (labeled + "
                        "detected) and CUHK01 -> .cache/reid/train_v2.npz; heldout: "
                        "PETS09-S2L1 + TUD-Stadtmitte + col780/val at 256x128 -> "
                        ".cache/reid/heldout.npz")
    p.add_argument("--cuhk", help="reid data folder holding cuhk03/{labeled,detected} and "
                                  "cuhk01 (research-use data; labeled and detected share "
                                  "identities)")
    p.add_argument("--mot", nargs="*", help="sequence names under DATA/mot or folders")
    p.add_argument("--col780", help="col780-style root (train/<pid>/..., val/query, val/gallery)")
    p.add_argument("--col780-part", choices=["train", "val", "all"], default="all")
    p.add_argument("--market", nargs="*", help="Market-1501-style image folders")
    p.add_argument("--out", type=Path, help="output .npz")
    p.add_argument("--size", type=_size, help="crop size HxW (default 128x64)")
    p.add_argument("--stride", type=int, help="keep every n-th frame of a track "
                                              "(default: ceil(fps/10))")
    p.add_argument("--min-visibility", type=float, default=0.5)
    p.add_argument("--min-height", type=float, default=32.0)
    p.add_argument("--png", action="store_true",
                   help="store crops as lossless PNGs (about half the size: the training set "
                        "then fits the 64 MiB that travels to a GPU machine)")
    p.set_defaults(func=_cmd_build_crops)


# ----------------------------------------------------------------------------- eval
def _default_eval_encoders() -> list[str]:
    names = ["default", "histogram"]
    osnet = data_dir() / OSNET
    if osnet.is_file():
        names.append(str(osnet))
    return names


def _label(name: str) -> str:
    """Short table label: 'default', 'histogram', X.onnx, or <folder>/<file>.pt."""
    if name in ("default", "histogram"):
        return name
    p = Path(name)
    return p.name if p.suffix == ".onnx" else f"{p.parent.name}/{p.name}"


def run_eval(encoders: list[str], crops_path: Path, min_gap_seconds: float,
             val_fraction: float = 0.0, split_seed: int = 0, shrink: float = 1.0,
             sources: list[str] | None = None) -> dict[str, list]:
    """Evaluate each encoder on a crop file; returns {encoder: [SourceScores, ...]}.

    sources: only the crops of these sources (e.g. the source a leave-one-source-out model
    validated on). val_fraction > 0: only the identities that ``train --val-fraction F
    --split-seed S`` held out for validation. shrink < 1: crops degraded to that resolution first."""
    from dataclasses import replace

    from cosmot.appearance import load_encoder
    from cosmot.appearance.crops import CropSet, split_by_identity
    from cosmot.appearance.reid_eval import evaluate_encoder

    crops = CropSet.load(crops_path)
    if sources:
        crops = crops.select_sources(sources)
    if val_fraction > 0:
        crops = split_by_identity(crops, val_fraction, split_seed)[1]
    if shrink < 1:
        crops = replace(crops, images=shrink_crops(crops.images, shrink))
    results = {}
    for name in encoders:
        enc = load_encoder(name)
        results[name] = evaluate_encoder(enc, crops, 10, min_gap_seconds)
    return results


def format_eval_table(results: dict[str, list]) -> str:
    """Markdown table: one row per encoder and evaluation group, then the mean over groups."""
    from cosmot.appearance.reid_eval import mean_scores

    lines = ["| encoder | set | ids | queries | rank-1 | rank-5 | rank-10 | mAP |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, res in results.items():
        for r in res:
            sc = r.scores
            lines.append(f"| {_label(name)} | {r.name} | {r.num_identities} | "
                         f"{sc.num_queries} | {100 * sc.rank(1):.1f} | {100 * sc.rank(5):.1f} | "
                         f"{100 * sc.rank(10):.1f} | {100 * sc.mAP:.1f} |")
        r1, m = mean_scores(res)
        lines.append(f"| {_label(name)} | mean of sets | | | {100 * r1:.1f} | | | "
                     f"{100 * m:.1f} |")
    return "\n".join(lines)


def _cmd_eval(args: argparse.Namespace) -> int:
    crops_path = args.crops or CACHE / "heldout.npz"
    encoders = args.encoders or _default_eval_encoders()
    results = run_eval(encoders, crops_path, args.min_gap_seconds, args.val_fraction,
                       args.split_seed, args.shrink, args.sources)
    print(format_eval_table(results))
    if args.json:
        payload = {_label(n): {r.name: {"rank1": r.scores.rank(1), "rank5": r.scores.rank(5),
                                        "rank10": r.scores.rank(10), "mAP": r.scores.mAP,
                                        "queries": r.scores.num_queries,
                                        "identities": r.num_identities} for r in res}
                   for n, res in results.items()}
        payload["protocol"] = {"crops": repo_relative(crops_path),
                               "min_gap_seconds": args.min_gap_seconds,
                               "val_fraction": args.val_fraction,
                               "split_seed": args.split_seed, "shrink": args.shrink,
                               "sources": args.sources}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(payload, indent=2))
    return 0


def _add_eval(sub) -> None:
    p = sub.add_parser("eval", help="CMC rank-1/5/10 and mAP of encoders on a crop set",
                       description="Compare encoders on held-out identities of a crop file. "
                                   "Video sources: all-vs-all with a time gap; */query + "
                                   "*/gallery sources: query vs gallery across cameras.")
    p.add_argument("--crops", type=Path, help="crop .npz (default .cache/reid/heldout.npz, "
                                              "made by 'build-crops --preset heldout')")
    p.add_argument("--encoders", nargs="*", help="'default', 'histogram', .pt or .onnx paths "
                                                 "(default: default, histogram, OSNet-x0.25)")
    p.add_argument("--min-gap-seconds", type=float, default=2.0,
                   help="video queries ignore same-identity crops closer in time than this")
    p.add_argument("--json", type=Path, help="also write the scores here")
    p.add_argument("--val-fraction", type=float, default=0.0,
                   help="score only the validation identities that 'train --val-fraction' "
                        "split off (same --split-seed); for choosing hyper-parameters")
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--sources", nargs="+", help="score only the crops of these sources")
    p.add_argument("--shrink", type=float, default=1.0,
                   help="degrade crops to this fraction of their resolution first")
    p.set_defaults(func=_cmd_eval)


# ----------------------------------------------------------------------------- train
def _ints(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated integers") from None


def check_no_heldout(source_names: tuple[str, ...], allow: bool) -> None:
    """Refuse to train on the tracking validation sequences or col780's val identities."""
    bad = [n for n in source_names
           if n in HELDOUT_SEQUENCES or n.startswith("col780/query") or
           n.startswith("col780/gallery")]
    if bad and not allow:
        raise ValueError(f"training crops contain held-out sources {bad} (the tracking "
                         f"validation sequences / col780 val); build training crops with "
                         f"'build-crops --preset train', or pass --allow-heldout on purpose")


def train_config_from_args(args: argparse.Namespace):
    from cosmot.appearance.augment import AugmentConfig
    from cosmot.appearance.criterion import LossConfig
    from cosmot.appearance.distill import DistillConfig
    from cosmot.appearance.model import NetConfig
    from cosmot.appearance.train import TrainConfig

    net = NetConfig(widths=args.widths, blocks=args.blocks, dim=args.dim, pool=args.pool,
                    dropout=args.dropout, ibn_stages=args.ibn_stages,
                    mixstyle_p=args.mixstyle_p, mixstyle_alpha=args.mixstyle_alpha,
                    mixstyle_stages=args.mixstyle_stages)
    from cosmot.appearance.domain_augment import MOT_DOMAIN, DomainConfig

    loss = LossConfig(name=args.loss, label_smoothing=args.label_smoothing,
                      triplet_margin=args.margin, triplet_mining=args.mining,
                      triplet_weight=args.triplet_weight,
                      margin_warmup_epochs=getattr(args, "margin_warmup", 0))
    aug = AugmentConfig(lowres_p=args.lowres_p, grey_p=args.grey_p,
                        hue_degrees=args.hue_degrees, saturation=args.saturation,
                        domain=MOT_DOMAIN if getattr(args, "domain_aug", False)
                        else DomainConfig()
                        ) if not args.no_augment else AugmentConfig(
        flip_p=0.0, pad=0, zoom=0.0, brightness=0.0, contrast=0.0, saturation=0.0,
        hue_degrees=0.0, erase_p=0.0)
    teacher = getattr(args, "distill_teacher", None)
    if teacher is None and getattr(args, "distill_weight", None):
        raise ValueError("--distill-weight needs --distill-teacher")
    distill = DistillConfig(
        weight=(args.distill_weight if args.distill_weight is not None else 1.0)
        if teacher else 0.0, kind=args.distill_kind, temperature=args.distill_temperature,
        teacher=repo_relative(teacher) if teacher else "",
        flip=not args.distill_no_flip and not args.distill_online, online=args.distill_online
    ) if teacher else DistillConfig()
    device = getattr(args, "device", "cpu")
    precision = getattr(args, "precision", "auto")
    if precision == "auto":
        precision = "bf16" if device.startswith("cuda") else "fp32"
    return TrainConfig(net=net, loss=loss, augment=aug, epochs=args.epochs, p=args.p,
                       k=args.k, lr=args.lr, weight_decay=args.weight_decay, seed=args.seed,
                       eval_every=args.eval_every, distill=distill, precision=precision,
                       sampler=getattr(args, "sampler", "pk"),
                       balance_power=getattr(args, "balance_power", 0.5),
                       epoch_steps=getattr(args, "epoch_steps", 0),
                       checkpoint_every=getattr(args, "checkpoint_every", 0),
                       warmup_epochs=getattr(args, "warmup_epochs", 3))


def _cmd_train(args: argparse.Namespace) -> int:
    import torch

    from cosmot.appearance.crops import CropSet, split_by_identity
    from cosmot.appearance.train import train

    if args.recipe:
        apply_recipe(args)
    torch.set_num_threads(args.threads)
    crops = CropSet.load(args.crops)
    check_no_heldout(crops.source_names, args.allow_heldout)
    config = train_config_from_args(args)
    teacher = cache_file = teacher_encoder = None
    if config.distill.weight > 0 and config.distill.online:
        from cosmot.appearance.registry import load_encoder

        teacher_encoder = load_encoder(str(args.distill_teacher), threads=args.threads)
    elif config.distill.weight > 0:
        from cosmot.appearance.distill import teacher_embeddings

        teacher, cache_file, _ = teacher_embeddings(args.crops, args.distill_teacher,
                                                    crops.images, config.distill.flip,
                                                    threads=args.threads)
    val = None
    if args.val_sources and args.val_fraction:
        raise ValueError("--val-sources and --val-fraction: give one of them")
    if args.val_fraction is None:
        args.val_fraction = 0.0 if args.val_sources else 0.2
    all_keys = crops.identity_keys()
    if args.val_sources:
        val = crops.select_sources(args.val_sources)
        crops = crops.select_sources([n for n in crops.source_names
                                      if n not in args.val_sources])
    elif args.val_fraction > 0:
        crops, val = split_by_identity(crops, args.val_fraction, args.split_seed)
    if teacher is not None and val is not None:
        # both splits keep file order and split by identity: the kept rows are those whose
        # (source, pid) is not a validation identity
        teacher = teacher[~np.isin(all_keys, val.identity_keys())]
    print(f"training on {len(crops)} crops of {crops.num_identities()} identities"
          + (f"; validating on {len(val)} crops of {val.num_identities()} other identities"
             if val is not None else ""))
    meta = {"command": "cosmot reid " + " ".join(sys.argv[sys.argv.index("reid") + 1:])
            if "reid" in sys.argv else "", "crops": repo_relative(args.crops),
            "sources": [n for i, n in enumerate(crops.source_names)
                        if i in set(crops.sources.tolist())],
            "val_sources": list(args.val_sources or []), "train_crops": len(crops),
            "train_identities": crops.num_identities(), "seed": args.seed,
            "epochs": args.epochs, "val_fraction": args.val_fraction,
            "torch": str(torch.__version__), "device": args.device,
            "precision": config.precision}
    if args.device.startswith("cuda") and torch.cuda.is_available():
        meta["gpu"] = torch.cuda.get_device_name(args.device)
    if config.distill.weight > 0:
        meta.update({"distill_teacher": config.distill.teacher,
                     "distill_weight": config.distill.weight,
                     "distill_kind": config.distill.kind,
                     "distill_temperature": config.distill.temperature,
                     "distill_flip": config.distill.flip,
                     "distill_online": config.distill.online,
                     "distill_cache": repo_relative(cache_file) if cache_file else None})
    result = train(crops, config, args.out, val, progress=not args.quiet, meta=meta,
                   teacher=teacher, teacher_encoder=teacher_encoder, device=args.device)
    last = result.history[-1]
    print(f"wrote {args.out}/last.pt" + (f", best.pt (epoch {result.best_epoch})"
                                         if result.best_epoch else "")
          + f"; final loss {last['loss']:.4f}"
          + (f", val mAP {last['val_mAP']:.4f}" if "val_mAP" in last else ""))
    return 0


def apply_recipe(args: argparse.Namespace) -> None:
    """Set the options of recipe ``args.recipe`` that were left at their defaults."""
    from cosmot.appearance.recipes import recipe

    values = recipe(args.recipe)
    values.pop("crops_command", None)
    for key, value in values.items():
        if key == "crops":
            value = REPO_ROOT / value
        if getattr(args, key) == TRAIN_DEFAULTS.get(key):
            setattr(args, key, value)


TRAIN_DEFAULTS: dict = {}


def _add_train(sub) -> None:
    try:
        from cosmot.appearance.criterion import LOSSES
    except ModuleNotFoundError:  # no torch: running the command names the extra to install
        LOSSES = None

    p = sub.add_parser("train", help="train the embedding network on a crop set",
                       description="Train on a crop .npz (P x K batches). Writes last.pt, "
                                   "best.pt (with a validation split), log.json, log.csv and "
                                   "curve.png to --out.")
    p.add_argument("--crops", type=Path, default=CACHE / "train.npz")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--loss", choices=LOSSES, default="cosine_softmax")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--p", type=int, default=16, help="identities per batch")
    p.add_argument("--k", type=int, default=4, help="crops per identity in a batch")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--margin", type=float, default=0.3, help="triplet margin")
    p.add_argument("--mining", choices=["hard", "semihard"], default="hard")
    p.add_argument("--triplet-weight", type=float, default=0.0,
                   help="add a batch-hard triplet term to a classification loss")
    p.add_argument("--widths", type=_ints, default=(32, 64, 128))
    p.add_argument("--blocks", type=_ints, default=(1, 1, 1))
    p.add_argument("--dim", type=int, default=128)
    p.add_argument("--pool", choices=["flatten", "avg", "gem"], default="flatten")
    p.add_argument("--dropout", type=float, default=0.2)
    p.add_argument("--no-augment", action="store_true")
    p.add_argument("--lowres-p", type=float, default=0.0,
                   help="probability of the low-resolution augmentation (shrink 0.3-1x and "
                        "enlarge back)")
    p.add_argument("--ibn-stages", type=int, default=0,
                   help="instance-batch normalisation (IBN-Net-a) in the first N stages (0-3)")
    p.add_argument("--mixstyle-p", type=float, default=0.0,
                   help="MixStyle probability per batch after the early stages (0: off)")
    p.add_argument("--mixstyle-alpha", type=float, default=0.1)
    p.add_argument("--mixstyle-stages", type=int, default=2,
                   help="MixStyle after each of the first N stages (1-3)")
    p.add_argument("--grey-p", type=float, default=0.0,
                   help="probability of turning a training crop into greyscale")
    p.add_argument("--hue-degrees", type=float, default=10.0, help="hue jitter range")
    p.add_argument("--saturation", type=float, default=0.25, help="saturation jitter range")
    p.add_argument("--val-fraction", type=float, default=None,
                   help="identities split off for validation (default 0.2 without "
                        "--val-sources; 0: train on all)")
    p.add_argument("--val-sources", nargs="+",
                   help="validate on every identity of these sources and train on the others "
                        "(leave-one-source-out: a camera and scene the model never saw); "
                        "not with --val-fraction")
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--eval-every", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--distill-teacher", type=Path,
                   help="teacher embedder (.onnx or .pt) for similarity distillation; its "
                        "embeddings of the un-augmented crops are cached beside --crops")
    p.add_argument("--distill-weight", type=float, default=None,
                   help="w in loss = id_loss + w * distill_loss (default 1 with a teacher)")
    p.add_argument("--distill-kind", choices=["kl", "mse"], default="kl",
                   help="kl: KL of row-softmaxed similarities; mse: squared differences")
    p.add_argument("--distill-temperature", type=float, default=0.1,
                   help="softmax temperature of the kl distillation loss")
    p.add_argument("--distill-no-flip", action="store_true",
                   help="teacher target from the crop alone (default: mean with its mirror)")
    p.add_argument("--distill-online", action="store_true",
                   help="run the teacher on every augmented batch (the student's exact view; "
                        "slow) instead of caching its embeddings of the clean crops")
    p.add_argument("--device", default="cpu",
                   help="cpu or cuda[:k]: network, loss, optimiser and augmentation on that "
                        "device (batches are sampled, and augmentation parameters drawn, on "
                        "the CPU either way)")
    p.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                   help="bf16: CUDA bfloat16 autocast (auto: bf16 on cuda, fp32 on cpu)")
    p.add_argument("--allow-heldout", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--recipe", choices=["v2"],
                   help="a named recipe (appearance/recipes.py): sets crops, loss, sampler, "
                        "augmentation, epochs, seed, threads for options left at their defaults")
    p.add_argument("--sampler", choices=["pk", "balanced"], default="pk",
                   help="balanced: P identities spread over datasets (identity spaces), K "
                        "crops spread over an identity's cameras")
    p.add_argument("--balance-power", type=float, default=0.5,
                   help="balanced sampler: dataset weight = identities ** power")
    p.add_argument("--domain-aug", action="store_true",
                   help="MOT-domain degradations: occlusion by another crop, gamma/white "
                        "balance, blur, JPEG (appearance/domain_augment.py)")
    p.add_argument("--margin-warmup", type=int, default=0,
                   help="ArcFace/CosFace margin grows linearly from 0 over this many epochs")
    p.add_argument("--epoch-steps", type=int, default=0,
                   help="batches per epoch (0: crops // (P*K)); same budget for comparisons")
    p.add_argument("--warmup-epochs", type=int, default=3,
                   help="epochs of linear learning-rate warm-up")
    p.add_argument("--checkpoint-every", type=int, default=0,
                   help="also write epoch_NNN.pt and the logs every N epochs")
    p.set_defaults(func=_cmd_train)
    TRAIN_DEFAULTS.update({a.dest: a.default for a in p._actions})


# ----------------------------------------------------------------------------- export
def _load_torch_model(name: str):
    from cosmot.appearance.checkpoint import load_checkpoint
    from cosmot.appearance.integrity import read_weights_record
    from cosmot.appearance.registry import DEFAULT_RECORD, WEIGHTS_DIR, named_record

    if name == "default" or named_record(name):
        rec = read_weights_record(named_record(name) or DEFAULT_RECORD)
        return load_checkpoint(WEIGHTS_DIR / rec["file"], rec["sha256"])[0]
    if Path(name).suffix not in (".pt", ".pth"):
        raise ValueError(f"--weights {name!r}: give 'default' or a .pt checkpoint")
    return load_checkpoint(name)[0]


def _verification_crops(model, n: int):
    """Real crops when the development data is there, else seeded random images."""
    from cosmot.appearance.crops import CropSet
    from cosmot.appearance.encoder import resize_crops

    path = CACHE / "heldout.npz"
    if path.is_file():
        crops = CropSet.load(path)
        idx = np.linspace(0, len(crops) - 1, min(n, len(crops))).astype(int)
        return resize_crops(crops.images[idx], model.config.input_hw), f"{path} ({len(idx)})"
    rng = np.random.default_rng(0)
    return (rng.integers(0, 256, (n, *model.config.input_hw, 3), dtype=np.uint8),
            f"{n} random images")


def _cmd_export(args: argparse.Namespace) -> int:
    from cosmot.appearance.export import export_onnx, verify_onnx

    model = _load_torch_model(args.weights)
    path = export_onnx(model, args.out, args.opset)
    crops, what = _verification_crops(model, args.verify_crops)
    check = verify_onnx(model, path, crops)
    ok = check.min_cosine > args.min_cosine
    print(f"wrote {path}; ONNX Runtime vs torch on {what}: min cosine "
          f"{check.min_cosine:.6f}, max |diff| {check.max_abs_diff:.2e} -> "
          f"{'OK' if ok else 'MISMATCH'}")
    if not ok:
        print(f"error: ONNX embeddings differ from torch's (min cosine {check.min_cosine:.6f} "
              f"<= {args.min_cosine}); try another --opset", file=sys.stderr)
        return 1
    return 0


def _add_export(sub) -> None:
    p = sub.add_parser("export", help="export the encoder to ONNX and verify it",
                       description="Export a checkpoint to ONNX (dynamic batch, raw RGB 0..255 "
                                   "input) and check ONNX Runtime's embeddings against torch's.")
    p.add_argument("--weights", default="default", help="'default' or a .pt checkpoint")
    p.add_argument("--out", type=Path, default=Path("out/cosmot_reid.onnx"))
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--verify-crops", type=int, default=256)
    p.add_argument("--min-cosine", type=float, default=0.999)
    p.set_defaults(func=_cmd_export)


# ----------------------------------------------------------------------------- adapt
def _cmd_adapt(args: argparse.Namespace) -> int:
    import torch

    from cosmot.appearance.adapt import AdaptConfig, adapt, concat_unlabelled
    from cosmot.appearance.checkpoint import save_checkpoint
    from cosmot.appearance.crops import CropSet

    torch.set_num_threads(args.threads)
    model = _load_torch_model(args.weights)
    hw = tuple(model.config.input_hw)
    sets = [unlabelled_from_sequence(s, args.det, args.min_score, args.min_height, hw)
            for s in args.sequences]
    data = concat_unlabelled(sets)
    lengths = np.bincount(data.tracklets)
    print(f"{len(data)} detection crops from {', '.join(args.sequences)}; "
          f"{len(lengths)} tracklets, {int((lengths >= 5).sum())} of >= 5 crops")
    labelled = None
    if args.sup_weight > 0:
        labelled = CropSet.load(args.labelled)
        check_no_heldout(labelled.source_names, False)
    cfg = AdaptConfig(steps=args.steps, lr=args.lr, temperature=args.temperature,
                      negatives=args.negatives, sup_weight=args.sup_weight,
                      min_gap=args.min_gap, seed=args.seed)
    history = adapt(model, data, labelled, cfg, progress=not args.quiet)
    meta = {"command": "cosmot reid " + " ".join(sys.argv[sys.argv.index("reid") + 1:])
            if "reid" in sys.argv else "", "adapted_from": str(args.weights),
            "sequences": list(args.sequences), "detections": args.det,
            "config": cfg.to_dict(), "history": history}
    save_checkpoint(args.out, model, meta)
    print(f"wrote {args.out}")
    return 0


def _add_adapt(sub) -> None:
    p = sub.add_parser("adapt", help="self-supervised adaptation to unlabelled video",
                       description="Fine-tune an encoder on detection crops of your own "
                                   "sequences without identity labels: positives from "
                                   "augmentations and IoU tracklets, negatives from other "
                                   "people in the same frame (contrastive InfoNCE), plus a "
                                   "triplet loss on labelled training crops.")
    p.add_argument("sequences", nargs="+", help="sequence names under DATA/mot or folders")
    p.add_argument("--weights", default="default", help="'default' or a .pt checkpoint")
    p.add_argument("--out", type=Path, required=True, help="adapted .pt checkpoint to write")
    p.add_argument("--det", default="det", help="detection folder name (det, det-frcnn, ...)")
    p.add_argument("--min-score", type=float, default=None)
    p.add_argument("--min-height", type=float, default=32.0)
    p.add_argument("--labelled", type=Path, default=CACHE / "train.npz",
                   help="labelled crops for the supervised term")
    p.add_argument("--sup-weight", type=float, default=1.0)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--temperature", type=float, default=0.1)
    p.add_argument("--negatives", choices=["cooccurring", "batch"], default="cooccurring")
    p.add_argument("--min-gap", type=int, default=10, help="frames between positive crops")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_cmd_adapt)


# ----------------------------------------------------------------------------- bench
def _cmd_bench(args: argparse.Namespace) -> int:
    import tempfile

    import torch

    from cosmot.appearance.bench import measure, pipeline_rate
    from cosmot.appearance.torch_encoder import TorchEncoder
    from cosmot.appearance.export import export_onnx
    from cosmot.appearance.model import count_macs, count_params
    from cosmot.appearance.onnx_encoder import OnnxEncoder

    torch.set_num_threads(args.threads)
    frames, boxes = bench_frames(args.sequence, 20)
    model = _load_torch_model(args.weights)
    hw = tuple(model.config.input_hw)
    macs = count_macs(model, hw)
    if args.device != "cpu":
        from cosmot.appearance.device import resolve_device

        print(f"GPU: {torch.cuda.get_device_name(resolve_device(args.device))}")
    print(f"encoder {args.weights}: {count_params(model) / 1e6:.3f} M parameters, "
          f"{macs / 1e6:.1f} M multiply-adds ({2 * macs / 1e9:.3f} GFLOP) per {hw[0]}x{hw[1]} "
          f"crop; {args.threads} threads; frames of {args.sequence} with its det.txt boxes")
    tmp = Path(tempfile.mkdtemp())
    onnx_path = export_onnx(model, tmp / "cosmot.onnx")
    rows = []
    for b in args.batches:
        enc = TorchEncoder(model, batch_size=b, threads=args.threads)
        x = torch.rand(b, 3, *hw) * 255

        def torch_model(x=x):
            with torch.inference_mode():
                model(x)

        rows.append(("cosmot torch", b, measure(torch_model, b, args.seconds),
                     pipeline_rate(enc.embed, frames, boxes, b, args.seconds)))
        if args.device != "cpu":
            genc = TorchEncoder(model, device=args.device, batch_size=b)
            xg = x.to(genc.device)

            def gpu_model(xg=xg, m=genc.model):
                with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16):
                    m(xg)
                torch.cuda.synchronize()

            rows.append((f"cosmot torch {args.device} fp16", b,
                         measure(gpu_model, b, args.seconds),
                         pipeline_rate(genc.embed, frames, boxes, b, args.seconds)))
        oenc = OnnxEncoder(onnx_path, threads=args.threads, batch_size=b)
        xo = np.random.default_rng(0).random((b, 3, *hw), dtype=np.float32) * 255
        rows.append(("cosmot onnx", b, measure(lambda xo=xo: oenc.run_model(xo), b,
                                               args.seconds),
                     pipeline_rate(oenc.embed, frames, boxes, b, args.seconds)))
    ext = args.external
    if ext is None and (data_dir() / OSNET).is_file():
        ext = str(data_dir() / OSNET)
    if ext and ext != "none":
        for b in args.batches:
            oenc = OnnxEncoder(ext, threads=args.threads, batch_size=b)
            fb = oenc.fixed_batch or b  # fixed-batch models run one batch of fb at a time
            calls = max(1, b // fb)
            xo = np.random.default_rng(0).random((fb, 3, *oenc.input_hw), dtype=np.float32)

            def ext_model(xo=xo, calls=calls, oenc=oenc):
                for _ in range(calls):
                    oenc.run_model(xo)

            rows.append((Path(ext).stem, b, measure(ext_model, calls * fb, args.seconds),
                         pipeline_rate(oenc.embed, frames, boxes, b, args.seconds)))
    print("| encoder | batch | model only (crops/s) | crop+preprocess+model (crops/s) |")
    print("|---|---:|---:|---:|")
    for name, b, m, p in rows:
        print(f"| {name} | {b} | {m.crops_per_s:.0f} | {p.crops_per_s:.0f} |")
    return 0


def _add_bench(sub) -> None:
    p = sub.add_parser("bench", help="encoder throughput on the CPU and GPU (crops/s)",
                       description="Crops per second of the encoder's torch and ONNX paths at "
                                   "several batch sizes, next to an external ONNX embedder "
                                   "(OSNet-x0.25 by default) measured in the same run.")
    p.add_argument("--weights", default="default")
    p.add_argument("--external", help="external ONNX embedder (default: OSNet-x0.25 if "
                                      "found; 'none' to skip)")
    p.add_argument("--batches", type=_ints, default=(1, 16, 64))
    p.add_argument("--sequence", default="MOT16-11", help="frames and det boxes to crop from")
    p.add_argument("--seconds", type=float, default=1.5, help="length of one timed round")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu",
                   help="also measure the torch path on this CUDA device (float16 autocast; "
                        "model only and with cropping on the CPU)")
    p.set_defaults(func=_cmd_bench)


# ----------------------------------------------------------------------------- ship
def _cmd_ship(args: argparse.Namespace) -> int:
    import shutil

    from cosmot.appearance.checkpoint import load_checkpoint, sha256_file
    from cosmot.appearance.model import count_macs, count_params
    from cosmot.appearance.registry import user_weights_dir

    model, meta = load_checkpoint(args.checkpoint)
    folder = Path(args.weights_dir) if args.weights_dir else user_weights_dir()
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--weights-dir {folder}: exists and is not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / args.name
    shutil.copyfile(args.checkpoint, target)
    hw = tuple(model.config.input_hw)
    onnx = None
    if not args.no_onnx:
        from cosmot.appearance.export import export_onnx, verify_onnx

        onnx_path = export_onnx(model, target.with_suffix(".onnx"))
        rng = np.random.default_rng(0)
        crops = rng.integers(0, 256, size=(64, *hw, 3), dtype=np.uint8)
        check = verify_onnx(model, onnx_path, crops)
        if check.min_cosine < 0.999:
            raise ValueError(f"{onnx_path}: ONNX Runtime disagrees with torch (min cosine "
                             f"{check.min_cosine:.6f} < 0.999); ship with --no-onnx")
        onnx = {"file": onnx_path.name, "sha256": sha256_file(onnx_path),
                "bytes": onnx_path.stat().st_size,
                "check": f"ONNX Runtime vs torch on {check.n} random images: min cosine "
                         f"{check.min_cosine:.6f}, max |diff| {check.max_abs_diff:.2e}"}
    record = {
        "file": target.name,
        "sha256": sha256_file(target),
        "bytes": target.stat().st_size,
        "onnx": onnx,
        "net": model.config.to_dict(),
        "parameters": count_params(model),
        "multiply_adds": count_macs(model, hw),
        "command": meta.get("command", ""),
        "crops_command": args.crops_command,
        "data": {"crops": repo_relative(meta["crops"]) if meta.get("crops") else None,
                 "sources": meta.get("sources"),
                 "train_crops": meta.get("train_crops"),
                 "train_identities": meta.get("train_identities")},
        "seed": meta.get("seed"),
        "epochs": meta.get("epochs"),
        "torch": meta.get("torch"),
        "heldout": _relative_protocol(json.loads(Path(args.heldout_json).read_text()))
        if args.heldout_json else None,
        "notes": args.notes,
    }
    if record["onnx"] is None:
        del record["onnx"]
    (folder / (target.stem + ".json")).write_text(json.dumps(record, indent=2) + "\n")
    if args.make_default:
        (folder / "default.json").write_text(json.dumps(record, indent=2) + "\n")
        print(f"{folder / 'default.json'} now names {target.name}")
    print(f"wrote {target} ({record['bytes']} bytes, sha256 {record['sha256'][:12]}...) and "
          f"{target.stem}.json")
    return 0


def _relative_protocol(scores: dict) -> dict:
    """An 'eval --json' payload with its crop path made repository-relative."""
    proto = scores.get("protocol")
    if isinstance(proto, dict) and proto.get("crops"):
        scores = {**scores, "protocol": {**proto, "crops": repo_relative(proto["crops"])}}
    return scores


def _add_ship(sub) -> None:
    p = sub.add_parser("ship", help="install a checkpoint as named weights, with its record",
                       description="Install a trained checkpoint as named weights: copies it "
                                   "to the weights folder as NAME, exports it to ONNX beside it "
                                   "(checked against torch) and writes NAME's .json record "
                                   "(SHA-256s, training command, data, seed, epochs, held-out "
                                   "scores from an 'eval --json' file). Then "
                                   "load_encoder(NAME stem) / --encoder STEM finds it.")
    p.add_argument("checkpoint", type=Path)
    p.add_argument("--name", default="default.pt")
    p.add_argument("--weights-dir", default=None, metavar="DIR",
                   help="where to install (default: $COSMOT_WEIGHTS or the user data folder, "
                        "e.g. ~/.local/share/cosmot/weights; maintainers releasing new shipped "
                        "weights pass appearance/weights in the checkout)")
    p.add_argument("--no-onnx", action="store_true", help="skip the ONNX export")
    p.add_argument("--heldout-json", type=Path, help="scores written by 'reid eval --json'")
    p.add_argument("--crops-command", default="cosmot reid build-crops --preset train")
    p.add_argument("--notes", default="")
    p.add_argument("--make-default", action="store_true",
                   help="also write the record as default.json (load_encoder('default')); "
                        "earlier weights stay loadable by their own record's name")
    p.set_defaults(func=_cmd_ship)


# ----------------------------------------------------------------------------- register
def register(subparsers) -> None:
    p = subparsers.add_parser("reid", help="appearance encoder: crops, training, evaluation, "
                                           "export, adaptation, benchmark")
    sub = p.add_subparsers(dest="reid_command", metavar="SUBCOMMAND")
    _add_build_crops(sub)
    _add_train(sub)
    _add_eval(sub)
    _add_export(sub)
    _add_adapt(sub)
    _add_bench(sub)
    _add_ship(sub)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
