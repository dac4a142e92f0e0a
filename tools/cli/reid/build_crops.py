"""``cosmot reid build-crops``."""

from __future__ import annotations

import argparse
from pathlib import Path
from cosmot.paths import data_dir
from cosmot.sources.reid_crops import crops_from_mot, detection_crops_from_mot
from cosmot.cli.reid.common import CACHE, HELDOUT_SEQUENCES, TRAIN_SEQUENCES, parse_size


def run(args: argparse.Namespace) -> int:
    from cosmot.appearance.crops import concat
    from cosmot.appearance.folders import load_col780, load_market_folder

    mot = list(args.mot or [])
    col780 = args.col780
    parts = args.col780_part
    size = args.size
    out = args.out
    cuhk = args.cuhk
    stride = args.stride
    if args.preset in ("train", "train-v2"):
        mot = mot or list(TRAIN_SEQUENCES)
        col780, parts = col780 or str(data_dir() / "reid" / "col780"), "train"
        out = out or CACHE / ("train.npz" if args.preset == "train" else "train_v2.npz")
        if args.preset == "train-v2":
            cuhk = cuhk or str(data_dir() / "reid")
    elif args.preset == "pool":
        mot = mot or [*TRAIN_SEQUENCES, *HELDOUT_SEQUENCES]
        col780, parts = col780 or str(data_dir() / "reid" / "col780"), "train"
        cuhk = cuhk or str(data_dir() / "reid")
        size = size or (256, 128)
        stride = stride or 2
        out = out or CACHE / "pool256.npz"
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
        if args.detections:
            s = detection_crops_from_mot(name, args.detections, size, args.det_min_score,
                                         args.min_height, stride or 1)
            print(f"{s.source_names[0]}: {len(s)} detection crops, {s.num_identities()} "
                  f"tracklets")
        else:
            s = crops_from_mot(name, size, stride, args.min_visibility, args.min_height)
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


def register(sub) -> None:
    p = sub.add_parser("build-crops", help="cut labelled crops into a packed .npz",
                       description="Cut person crops from MOTChallenge ground truth, a col780 "
                                   "folder or Market-1501-style folders into one .npz.")
    p.add_argument("--preset", choices=["train", "train-v2", "pool", "heldout"],
                   help=f"train: MOT16-11 + KITTI-17 + col780/train at 128x64 -> "
                        f"{CACHE}/train.npz; train-v2: the same plus CUHK03 (labeled + "
                        f"detected) and CUHK01 -> train_v2.npz there; pool: the four MOT "
                        f"sequences (every 2nd frame), col780/train and CUHK at 256x128 -> "
                        f"pool256.npz there (the distillation recipe v3's pool; a fold "
                        f"drops two sequences with 'reid train --exclude-sources'); heldout: "
                        f"PETS09-S2L1 + TUD-Stadtmitte + col780/val at 256x128 -> "
                        f"heldout.npz there (the cache folder: $COSMOT_CACHE/reid, else the "
                        f"user cache)")
    p.add_argument("--cuhk", help="reid data folder holding cuhk03/{labeled,detected} and "
                                  "cuhk01 (research-use data; labeled and detected share "
                                  "identities)")
    p.add_argument("--mot", nargs="*", help="sequence names under DATA/mot or folders")
    p.add_argument("--col780", help="col780-style root (train/<pid>/..., val/query, val/gallery)")
    p.add_argument("--col780-part", choices=["train", "val", "all"], default="all")
    p.add_argument("--market", nargs="*", help="Market-1501-style image folders")
    p.add_argument("--out", type=Path, help="output .npz")
    p.add_argument("--size", type=parse_size, help="crop size HxW (default 128x64)")
    p.add_argument("--stride", type=int, help="keep every n-th frame of a track "
                                              "(default: ceil(fps/10))")
    p.add_argument("--detections", metavar="DET",
                   help="--mot sequences: crops of the boxes in SEQ/DET/det.txt instead "
                        "of the ground truth, unlabelled (each IoU tracklet its own identity, "
                        "source SEQ:DET; default --stride 1): distillation data without labels")
    p.add_argument("--det-min-score", type=float, default=None,
                   help="--detections: keep boxes scoring at least this (default: all)")
    p.add_argument("--min-visibility", type=float, default=0.5)
    p.add_argument("--min-height", type=float, default=32.0)
    p.add_argument("--png", action="store_true",
                   help="store crops as lossless PNGs (about half the size: the training set "
                        "then fits the 64 MiB that travels to a GPU machine)")
    p.set_defaults(func=run)
