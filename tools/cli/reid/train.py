"""``cosmot reid train``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
import numpy as np
from cosmot.cli.reid.common import CACHE, HELDOUT_SEQUENCES, repo_relative


def int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated integers") from None


def sequence_of(source_name: str) -> str:
    """The sequence a source comes from: ``SEQ`` for ground-truth crops of SEQ and for
    detection crops (``SEQ:DET``, written by ``build-crops --detections DET``)."""
    return source_name.split(":", 1)[0]


def check_no_heldout(source_names: tuple[str, ...], allow: bool, option: str = "--crops",
                     allow_option: str | None = "--allow-heldout") -> None:
    """Refuse to train on the tracking validation sequences or col780's val identities
    (``option`` names the crop file's option; ``allow_option`` the one that permits it)."""
    bad = [n for n in source_names
           if sequence_of(n) in HELDOUT_SEQUENCES or n.startswith("col780/query") or
           n.startswith("col780/gallery")]
    if bad and not allow:
        hint = f", or pass {allow_option} on purpose" if allow_option else ""
        raise ValueError(f"{option}: the training crops contain held-out sources {bad} (the "
                         f"tracking validation sequences / col780 val); build training crops "
                         f"with 'build-crops --preset train'{hint}")


def train_config_from_args(args: argparse.Namespace):
    from cosmot.appearance.augment import AugmentConfig
    from cosmot.appearance.criterion import LossConfig
    from cosmot.appearance.distill import DistillConfig
    from cosmot.appearance.model import NetConfig
    from cosmot.appearance.train import TrainConfig

    net = NetConfig(widths=args.widths, blocks=args.blocks,
                    block=getattr(args, "block", "residual"), dim=args.dim, pool=args.pool,
                    dropout=args.dropout, ibn_stages=args.ibn_stages,
                    mixstyle_p=args.mixstyle_p, mixstyle_alpha=args.mixstyle_alpha,
                    mixstyle_stages=args.mixstyle_stages)
    from cosmot.appearance.domain_augment import MOT_DOMAIN, DomainConfig

    loss = LossConfig(name=args.loss, label_smoothing=args.label_smoothing,
                      triplet_margin=args.margin, triplet_mining=args.mining,
                      triplet_weight=args.triplet_weight,
                      margin_warmup_epochs=getattr(args, "margin_warmup", 0),
                      miner=getattr(args, "miner", "none"),
                      memory_size=getattr(args, "xbm", 0))
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
    if teacher is None and getattr(args, "distill_relational", 0.0):
        raise ValueError("--distill-relational needs --distill-teacher (and --distill-kind "
                         "regress)")
    distill = DistillConfig(
        weight=(args.distill_weight if args.distill_weight is not None else 1.0)
        if teacher else 0.0, kind=args.distill_kind, temperature=args.distill_temperature,
        teacher=repo_relative(teacher) if teacher else "",
        flip=not args.distill_no_flip and not args.distill_online, online=args.distill_online,
        online_view=getattr(args, "distill_online_view", "same"),
        center=getattr(args, "distill_center", False),
        relational=getattr(args, "distill_relational", 0.0)
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
                       warmup_epochs=getattr(args, "warmup_epochs", 3),
                       id_weight=getattr(args, "id_weight", 1.0))


def run(args: argparse.Namespace) -> int:
    import torch

    from cosmot.appearance.train import train

    if getattr(args, "resume", False):
        restore_run_args(args)
    elif args.out is None:
        raise ValueError("--out: give the run's output folder (or --resume RUN to continue one)")
    if not getattr(args, "started_command", None):
        args.started_command = ("cosmot reid " + " ".join(sys.argv[sys.argv.index("reid") + 1:])
                                if "reid" in sys.argv else "")
    if args.recipe:
        apply_recipe(args)
    torch.set_num_threads(args.threads)
    config = train_config_from_args(args)  # bad settings (e.g. --loss) fail before any work
    command = getattr(args, "crops_command", None)
    if command and not Path(args.crops).is_file():
        raise FileNotFoundError(f"--recipe {args.recipe}: no crop file {args.crops}; make it "
                                f"with '{command}'")
    crops, teacher, cache_file, teacher_encoder = _training_crops(args, config)
    keep = _kept_sources(args, crops)
    if keep is not None:
        crops = crops.subset(keep)
        teacher = teacher[keep] if teacher is not None else None
    crops, val, teacher = _validation_split(args, crops, teacher)
    print(f"training on {len(crops)} crops of {crops.num_identities()} identities"
          + (f"; validating on {len(val)} crops of {val.num_identities()} other identities"
             if val is not None else ""))
    meta = _run_meta(args, config, crops, teacher, cache_file)
    save_run_args(args)
    result = train(crops, config, args.out, val, progress=not args.quiet, meta=meta,
                   teacher=teacher, teacher_encoder=teacher_encoder, device=args.device,
                   resume=bool(getattr(args, "resume", False)))
    last = result.history[-1]
    print(f"wrote {args.out}/last.pt" + (f", best.pt (epoch {result.best_epoch})"
                                         if result.best_epoch else "")
          + f"; final loss {last['loss']:.4f}"
          + (f", val mAP {last['val_mAP']:.4f}" if "val_mAP" in last else ""))
    return 0


def _training_crops(args: argparse.Namespace, config):
    """``(crops, teacher rows, teacher cache files, online teacher)``: ``--crops`` followed by
    each ``--extra-crops`` file, the teacher's embeddings cached beside each file."""
    from cosmot.appearance.crops import CropSet, concat

    paths = [Path(args.crops), *(Path(p) for p in getattr(args, "extra_crops", None) or [])]
    sets, teachers, caches, online = [], [], [], None
    for path in paths:
        crops = CropSet.load(path)
        if sets and crops.size_hw != sets[0].size_hw:
            raise ValueError(f"--extra-crops {path}: crops of {crops.size_hw[0]}x"
                             f"{crops.size_hw[1]}, --crops {paths[0]} has {sets[0].size_hw[0]}x"
                             f"{sets[0].size_hw[1]}; build both at one --size")
        for earlier, s in zip(paths, sets):
            shared = sorted(set(crops.source_names) & set(s.source_names))
            if shared:
                raise ValueError(f"--extra-crops {path}: sources {shared} are also in {earlier} "
                                 "(their identities would be merged); give each source once")
        teacher, cache, online = _teacher(args, config, crops, path)
        sets.append(crops)
        teachers.append(teacher)
        caches.append(cache)
    crops = sets[0] if len(sets) == 1 else concat(sets)
    teacher = None if teachers[0] is None else np.concatenate(teachers)
    cache = caches[0] if len(caches) == 1 else caches
    return crops, teacher, cache, online


def _kept_sources(args: argparse.Namespace, crops) -> np.ndarray | None:
    """The crops left after ``--exclude-sources`` (a mask; None: all), checked against the
    held-out rule. Excluding a sequence excludes its detection crops (``SEQ:DET``) too."""
    keep = None
    if args.exclude_sources:
        known = set(crops.source_names) | {sequence_of(n) for n in crops.source_names}
        unknown = [n for n in args.exclude_sources if n not in known]
        if unknown:
            raise ValueError(f"--exclude-sources {unknown}: not in the training crops (their "
                             f"sources: {list(crops.source_names)})")
        kept_names = [n for n in crops.source_names if n not in args.exclude_sources
                      and sequence_of(n) not in args.exclude_sources]
        keep = np.isin(crops.sources, [crops.source_names.index(n) for n in kept_names])
    used = crops.source_names if keep is None else tuple(
        crops.source_names[i] for i in np.unique(crops.sources[keep]))
    check_no_heldout(used, args.allow_heldout)
    return keep


def _teacher(args: argparse.Namespace, config, crops, path: Path):
    """``(cached teacher embeddings of the crops of file ``path``, their cache file, online
    teacher encoder)`` for distillation (Nones without it)."""
    dcfg = config.distill
    if dcfg.weight <= 0:
        return None, None, None
    online = None
    if dcfg.online:
        from cosmot.appearance.registry import load_encoder

        online = load_encoder(str(args.distill_teacher), threads=args.threads)
        if not dcfg.center:
            return None, None, online
    from cosmot.appearance.distill import teacher_embeddings

    # online targets are centred on the clean crops' cached (mirror-averaged) embeddings
    teacher, cache_file, _ = teacher_embeddings(path, args.distill_teacher, crops.images,
                                                True if dcfg.online else dcfg.flip,
                                                threads=args.threads)
    return teacher, cache_file, online


def _validation_split(args: argparse.Namespace, crops, teacher):
    """``(training crops, validation crops or None, teacher rows of the training crops)`` by
    ``--val-sources`` or ``--val-fraction`` (of the identities)."""
    from cosmot.appearance.crops import split_by_identity

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
    return crops, val, teacher


def _run_meta(args: argparse.Namespace, config, crops, teacher, cache_file) -> dict:
    """What the checkpoint records about how it was made."""
    import torch

    meta = {"command": args.started_command, "crops": repo_relative(args.crops),
            "extra_crops": [repo_relative(p) for p in getattr(args, "extra_crops", None) or []],
            "sources": [n for i, n in enumerate(crops.source_names)
                        if i in set(crops.sources.tolist())],
            "val_sources": list(args.val_sources or []),
            "excluded_sources": list(args.exclude_sources or []), "train_crops": len(crops),
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
                     "distill_online_view": config.distill.online_view,
                     "distill_center": config.distill.center,
                     "distill_relational": config.distill.relational,
                     "distill_cache": (None if not cache_file else
                                       [repo_relative(c) for c in cache_file]
                                       if isinstance(cache_file, list)
                                       else repo_relative(cache_file))})
    if config.distill.weight > 0 and config.distill.kind == "regress":
        meta["distill_teacher_dim"] = None if teacher is None else int(teacher.shape[1])
    meta["id_weight"] = config.id_weight
    return meta


RUN_ARGS = "args.json"
# options that may differ between the first start of a run and its --resume
_NOT_RESTORED = ("resume", "quiet", "func", "command", "reid_command")


def save_run_args(args: argparse.Namespace) -> None:
    """Write the run's options to OUT/args.json (``--resume OUT`` reads them back)."""
    import json

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    values = {k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
              for k, v in vars(args).items() if k not in _NOT_RESTORED and not callable(v)}
    (out / RUN_ARGS).write_text(json.dumps(values, indent=2, default=str))


def restore_run_args(args: argparse.Namespace) -> None:
    """``--resume RUN``: take every option from RUN/args.json (written when the run started), so
    the continued run has exactly the first start's settings."""
    import json

    run = Path(args.resume)
    path = run / RUN_ARGS
    if not path.is_file():
        raise FileNotFoundError(f"--resume {run}: no {RUN_ARGS} there (not a folder written by "
                                f"'cosmot reid train --out {run}')")
    saved = json.loads(path.read_text())
    paths = {"crops", "out", "distill_teacher"}
    tuples = {"widths", "blocks"}
    for key, value in saved.items():
        if key in paths and value is not None:
            value = Path(value)
        elif key in tuples and value is not None:
            value = tuple(value)
        setattr(args, key, value)
    args.out = run


def apply_recipe(args: argparse.Namespace) -> None:
    """Set the options of recipe ``args.recipe`` that were left at their defaults."""
    from cosmot.appearance.recipes import recipe

    values = recipe(args.recipe)
    command = values.pop("crops_command", None)
    for key, value in values.items():
        if key == "crops":
            value = CACHE / value
        elif key == "distill_teacher":
            from cosmot.paths import data_dir

            value = data_dir() / value
        if getattr(args, key) == TRAIN_DEFAULTS.get(key):
            setattr(args, key, value)
    args.crops_command = command  # named when the crop file is missing


TRAIN_DEFAULTS: dict = {}


def _add_data_options(p) -> None:
    g = p.add_argument_group("crops and held-out data")
    g.add_argument("--crops", type=Path, default=CACHE / "train.npz")
    g.add_argument("--out", type=Path, help="output folder (required unless --resume)")
    g.add_argument("--resume", type=Path, metavar="RUN",
                   help="continue the run in folder RUN after its last finished epoch, with "
                        "the options it was started with (RUN/args.json); the result equals "
                        "an uninterrupted run's on the same machine and thread count")
    g.add_argument("--extra-crops", nargs="+", type=Path, metavar="NPZ",
                   help="more crop files trained on beside --crops (e.g. detection crops "
                        "from 'build-crops --detections'), each with its own teacher cache")
    g.add_argument("--exclude-sources", nargs="+", metavar="SOURCE",
                   help="train without these sources of --crops (e.g. the sequences a fold "
                        "judges on; a sequence's name also drops its detection crops "
                        "SEQ:DET); teacher embeddings are computed for the whole file once")
    g.add_argument("--val-fraction", type=float, default=None,
                   help="identities split off for validation (default 0.2 without "
                        "--val-sources; 0: train on all)")
    g.add_argument("--val-sources", nargs="+",
                   help="validate on every identity of these sources and train on the others "
                        "(leave-one-source-out: a camera and scene the model never saw); "
                        "not with --val-fraction")
    g.add_argument("--split-seed", type=int, default=0)
    g.add_argument("--allow-heldout", action="store_true")
    g.add_argument("--recipe", choices=["v2", "v3"],
                   help="a named recipe (appearance/recipes.py): sets crops, loss, sampler, "
                        "augmentation, epochs, seed, threads for options left at their defaults")
    g.add_argument("--sampler", choices=["pk", "balanced"], default="pk",
                   help="balanced: P identities spread over datasets (identity spaces), K "
                        "crops spread over an identity's cameras")
    g.add_argument("--balance-power", type=float, default=0.5,
                   help="balanced sampler: dataset weight = identities ** power")



def _add_loss_options(p) -> None:
    g = p.add_argument_group("loss and optimisation")
    g.add_argument("--id-weight", type=float, default=1.0,
                   help="factor of the identity loss (--loss) beside distillation; 0: "
                        "distillation alone")
    # names checked when the command runs (LossConfig), so that registering the command does
    # not import torch (1.2 s on every cosmot call)
    g.add_argument("--loss", default="cosine_softmax",
                   help="cosine_softmax (default), softmax, arcface, cosface, triplet, "
                        "contrastive, center, or from pytorch-metric-learning multi_similarity, "
                        "npair, angular (cosmot.appearance.criterion.LOSSES)")
    g.add_argument("--miner", default="none",
                   help="pytorch-metric-learning miner for multi_similarity/npair/angular: "
                        "none (default), multi_similarity, distance_weighted, batch_hard")
    g.add_argument("--xbm", type=int, default=0, metavar="N",
                   help="cross-batch memory (pytorch-metric-learning's CrossBatchMemory) of "
                        "the last N embeddings for multi_similarity/angular; 0: off (default)")
    g.add_argument("--epochs", type=int, default=60)
    g.add_argument("--p", type=int, default=16, help="identities per batch")
    g.add_argument("--k", type=int, default=4, help="crops per identity in a batch")
    g.add_argument("--lr", type=float, default=1e-3)
    g.add_argument("--weight-decay", type=float, default=5e-4)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--label-smoothing", type=float, default=0.1)
    g.add_argument("--margin", type=float, default=0.3, help="triplet margin")
    g.add_argument("--mining", choices=["hard", "semihard"], default="hard")
    g.add_argument("--triplet-weight", type=float, default=0.0,
                   help="add a batch-hard triplet term to a classification loss")
    g.add_argument("--margin-warmup", type=int, default=0,
                   help="ArcFace/CosFace margin grows linearly from 0 over this many epochs")
    g.add_argument("--epoch-steps", type=int, default=0,
                   help="batches per epoch (0: crops // (P*K)); same budget for comparisons")
    g.add_argument("--warmup-epochs", type=int, default=3,
                   help="epochs of linear learning-rate warm-up")



def _add_network_options(p) -> None:
    g = p.add_argument_group("network")
    g.add_argument("--widths", type=int_list, default=(32, 64, 128))
    g.add_argument("--blocks", type=int_list, default=(1, 1, 1))
    g.add_argument("--block", choices=("residual", "omni"), default="residual",
                   help="residual: two 3x3 convolutions per block; omni: OSNet's multi-scale "
                        "bottleneck (four streams of 1-4 depthwise 3x3 convolutions and a "
                        "channel gate)")
    g.add_argument("--dim", type=int, default=128)
    g.add_argument("--pool", choices=["flatten", "avg", "gem"], default="flatten")
    g.add_argument("--dropout", type=float, default=0.2)
    g.add_argument("--ibn-stages", type=int, default=0,
                   help="instance-batch normalisation (IBN-Net-a) in the first N stages (0-3)")
    g.add_argument("--mixstyle-p", type=float, default=0.0,
                   help="MixStyle probability per batch after the early stages (0: off)")
    g.add_argument("--mixstyle-alpha", type=float, default=0.1)
    g.add_argument("--mixstyle-stages", type=int, default=2,
                   help="MixStyle after each of the first N stages (1-3)")



def _add_augmentation_options(p) -> None:
    g = p.add_argument_group("augmentation")
    g.add_argument("--no-augment", action="store_true")
    g.add_argument("--lowres-p", type=float, default=0.0,
                   help="probability of the low-resolution augmentation (shrink 0.3-1x and "
                        "enlarge back)")
    g.add_argument("--grey-p", type=float, default=0.0,
                   help="probability of turning a training crop into greyscale")
    g.add_argument("--hue-degrees", type=float, default=10.0, help="hue jitter range")
    g.add_argument("--saturation", type=float, default=0.25, help="saturation jitter range")
    g.add_argument("--domain-aug", action="store_true",
                   help="MOT-domain degradations: occlusion by another crop, gamma/white "
                        "balance, blur, JPEG (appearance/domain_augment.py)")



def _add_distillation_options(p) -> None:
    g = p.add_argument_group("distillation from a teacher")
    g.add_argument("--distill-teacher", type=Path,
                   help="teacher embedder (.onnx or .pt) for similarity distillation; its "
                        "embeddings of the un-augmented crops are cached beside --crops")
    g.add_argument("--distill-weight", type=float, default=None,
                   help="w in loss = id_loss + w * distill_loss (default 1 with a teacher)")
    g.add_argument("--distill-kind", choices=["regress", "kl", "mse"], default="kl",
                   help="regress: 1 - cosine between the student's (projected) and the "
                        "teacher's embedding of each crop; kl: KL of row-softmaxed batch "
                        "similarities; mse: squared differences of those similarities")
    g.add_argument("--distill-temperature", type=float, default=0.1,
                   help="softmax temperature of the kl distillation loss")
    g.add_argument("--distill-no-flip", action="store_true",
                   help="teacher target from the crop alone (default: mean with its mirror)")
    g.add_argument("--distill-center", action="store_true",
                   help="regress: subtract the teacher embeddings' mean over the training "
                        "crops first (the common direction carries no identity)")
    g.add_argument("--distill-relational", type=float, default=0.0,
                   help="regress: weight of a relational term beside the regression (KL of "
                        "the row-softmaxed batch similarities at --distill-temperature, "
                        "against the regression's own targets, centred with "
                        "--distill-center); 0: regression alone")
    g.add_argument("--distill-online", action="store_true",
                   help="run the teacher on every augmented batch (slow: about as long again "
                        "per epoch on 2 CPU cores) instead of caching its embeddings of the "
                        "clean crops; with --distill-center the centre is the cached clean "
                        "embeddings' mean")
    g.add_argument("--distill-online-view", choices=("same", "undegraded"), default="same",
                   help="with --distill-online, what the teacher embeds: 'same' = the "
                        "student's augmented crop; 'undegraded' = that crop's geometry and "
                        "colour without low resolution, erasing and the MOT-domain "
                        "degradations")



def _add_run_options(p) -> None:
    g = p.add_argument_group("running")
    g.add_argument("--eval-every", type=int, default=5)
    g.add_argument("--threads", type=int, default=2)
    g.add_argument("--device", default="cpu",
                   help="cpu or cuda[:k]: network, loss, optimiser and augmentation on that "
                        "device (batches are sampled, and augmentation parameters drawn, on "
                        "the CPU either way)")
    g.add_argument("--precision", choices=["auto", "fp32", "bf16"], default="auto",
                   help="bf16: CUDA bfloat16 autocast (auto: bf16 on cuda, fp32 on cpu)")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.add_argument("--checkpoint-every", type=int, default=0,
                   help="also write epoch_NNN.pt and the logs every N epochs")


def register(sub) -> None:
    p = sub.add_parser("train", help="train the embedding network on a crop set",
                       description="Train on a crop .npz (P x K batches). Writes last.pt, "
                                   "best.pt (with a validation split), log.json, log.csv and "
                                   "curve.png to --out.")
    _add_data_options(p)
    _add_loss_options(p)
    _add_network_options(p)
    _add_augmentation_options(p)
    _add_distillation_options(p)
    _add_run_options(p)
    p.set_defaults(func=run)
    TRAIN_DEFAULTS.update({a.dest: a.default for a in p._actions})
