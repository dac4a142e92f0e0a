"""``cosmot reid adapt``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
import numpy as np
from cosmot.sources.reid_crops import unlabelled_from_sequence
from cosmot.cli.reid.common import CACHE
from cosmot.cli.reid.train import check_no_heldout
from cosmot.cli.reid.export import load_torch_model


def run(args: argparse.Namespace) -> int:
    import torch

    from cosmot.appearance.adapt import AdaptConfig, adapt, concat_unlabelled
    from cosmot.appearance.checkpoint import save_checkpoint
    from cosmot.appearance.crops import CropSet

    torch.set_num_threads(args.threads)
    labelled = None
    if args.sup_weight > 0:  # checked before the (slow) crop extraction
        labelled = CropSet.load(args.labelled)
        check_no_heldout(labelled.source_names, False, "--labelled", allow_option=None)
    model = load_torch_model(args.weights)
    hw = tuple(model.config.input_hw)
    sets = [unlabelled_from_sequence(s, args.det, args.min_score, args.min_height, hw)
            for s in args.sequences]
    data = concat_unlabelled(sets)
    lengths = np.bincount(data.tracklets)
    print(f"{len(data)} detection crops from {', '.join(args.sequences)}; "
          f"{len(lengths)} tracklets, {int((lengths >= 5).sum())} of >= 5 crops")
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


def register(sub) -> None:
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
    p.set_defaults(func=run)
