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

from .motchallenge import Sequence, read_detections, read_ground_truth
from .paths import REPO_ROOT, data_dir

CACHE = REPO_ROOT / ".cache" / "reid"
# Tracking validation sequences: never used for supervised training.
HELDOUT_SEQUENCES = ("PETS09-S2L1", "TUD-Stadtmitte")
TRAIN_SEQUENCES = ("MOT16-11", "KITTI-17")
OSNET = "models/osnet_x0_25_msmt17.onnx"


def _size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected HxW, e.g. 128x64") from None
    return h, w


def _sequence_dir(name: str) -> Path:
    p = Path(name)
    return p if p.is_dir() else data_dir() / "mot" / name


# ----------------------------------------------------------------------------- build-crops
def crops_from_mot(seq_name: str, size_hw: tuple[int, int], stride: int | None,
                   min_visibility: float, min_height: float):
    """Crops of one MOTChallenge sequence's ground truth (see ``appearance.gt_crops``)."""
    from appearance.gt_crops import GtCropConfig, collect_crops, iter_progress, select_gt_rows

    seq = Sequence(_sequence_dir(seq_name))
    gt = read_ground_truth(seq.gt_path)
    fps = seq.info.fps
    stride = stride or max(1, int(np.ceil(fps / 10.0)))
    cfg = GtCropConfig(min_visibility=min_visibility, min_height=min_height,
                       frame_stride=stride)
    keep = select_gt_rows(gt.frames, gt.ids, gt.tlwh, gt.consider, gt.classes, gt.visibility,
                          gt.mot15_format, cfg)
    rows = gt.filter(keep)
    frames = iter_progress(seq.frames(), seq.info.length, seq.name)
    return collect_crops(frames, rows.frames, rows.ids, rows.tlwh, seq.name, fps, cfg, size_hw)


def _cmd_build_crops(args: argparse.Namespace) -> int:
    from appearance.crops import concat
    from appearance.folders import load_col780, load_market_folder

    mot = list(args.mot or [])
    col780 = args.col780
    parts = args.col780_part
    size = args.size
    out = args.out
    if args.preset == "train":
        mot = mot or list(TRAIN_SEQUENCES)
        col780, parts = col780 or str(data_dir() / "reid" / "col780"), "train"
        out = out or CACHE / "train.npz"
    elif args.preset == "heldout":
        mot = mot or list(HELDOUT_SEQUENCES)
        col780, parts = col780 or str(data_dir() / "reid" / "col780"), "val"
        size = size or (256, 128)
        out = out or CACHE / "heldout.npz"
    size = size or (128, 64)
    if out is None:
        raise ValueError("--out: give the .npz file to write (or use --preset)")
    if not (mot or col780 or args.market):
        raise ValueError("nothing to read: give --mot, --col780, --market or --preset")
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
    crops = concat(sets)
    crops.save(out)
    print(f"wrote {out}: {len(crops)} crops {size[0]}x{size[1]}, "
          f"{crops.num_identities()} identities, sources {list(crops.source_names)}")
    return 0


def _add_build_crops(sub) -> None:
    p = sub.add_parser("build-crops", help="cut labelled crops into a packed .npz",
                       description="Cut person crops from MOTChallenge ground truth, a col780 "
                                   "folder or Market-1501-style folders into one .npz.")
    p.add_argument("--preset", choices=["train", "heldout"],
                   help="train: MOT16-11 + KITTI-17 + col780/train at 128x64 -> "
                        ".cache/reid/train.npz; heldout: PETS09-S2L1 + TUD-Stadtmitte + "
                        "col780/val at 256x128 -> .cache/reid/heldout.npz")
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
    p.set_defaults(func=_cmd_build_crops)


# ----------------------------------------------------------------------------- eval
def _default_eval_encoders() -> list[str]:
    names = ["default", "histogram"]
    osnet = data_dir() / OSNET
    if osnet.is_file():
        names.append(str(osnet))
    return names


def _label(name: str) -> str:
    return Path(name).name if name not in ("default", "histogram") else name


def run_eval(encoders: list[str], crops_path: Path, min_gap_seconds: float
             ) -> dict[str, list]:
    """Evaluate each encoder on a crop file; returns {encoder: [SourceScores, ...]}."""
    from appearance import load_encoder
    from appearance.crops import CropSet
    from appearance.reid_eval import evaluate_encoder

    crops = CropSet.load(crops_path)
    results = {}
    for name in encoders:
        enc = load_encoder(name)
        results[name] = evaluate_encoder(enc, crops, 10, min_gap_seconds)
    return results


def format_eval_table(results: dict[str, list]) -> str:
    from appearance.reid_eval import mean_scores

    groups = [r.name for r in next(iter(results.values()))]
    head = "| encoder | " + " | ".join(f"{g} R1 | {g} mAP" for g in groups) + \
        " | mean R1 | mean mAP |"
    lines = [head, "|---|" + "---:|" * (2 * len(groups) + 2)]
    for name, res in results.items():
        cells = [f"{100 * r.scores.rank(1):.1f} | {100 * r.scores.mAP:.1f}" for r in res]
        r1, m = mean_scores(res)
        lines.append(f"| {_label(name)} | " + " | ".join(cells) +
                     f" | {100 * r1:.1f} | {100 * m:.1f} |")
    return "\n".join(lines)


def _cmd_eval(args: argparse.Namespace) -> int:
    crops_path = args.crops or CACHE / "heldout.npz"
    encoders = args.encoders or _default_eval_encoders()
    results = run_eval(encoders, crops_path, args.min_gap_seconds)
    print(format_eval_table(results))
    groups = next(iter(results.values()))
    print("queries with a true match: " + ", ".join(
        f"{r.name} {r.scores.num_queries} ({r.num_identities} ids)" for r in groups))
    if args.json:
        payload = {_label(n): {r.name: {"rank1": r.scores.rank(1), "rank5": r.scores.rank(5),
                                        "rank10": r.scores.rank(10), "mAP": r.scores.mAP,
                                        "queries": r.scores.num_queries} for r in res}
                   for n, res in results.items()}
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
    p.set_defaults(func=_cmd_eval)


# ----------------------------------------------------------------------------- register
def register(subparsers) -> None:
    p = subparsers.add_parser("reid", help="appearance encoder: crops, training, evaluation, "
                                           "export, adaptation, benchmark")
    sub = p.add_subparsers(dest="reid_command", metavar="SUBCOMMAND")
    _add_build_crops(sub)
    _add_eval(sub)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
