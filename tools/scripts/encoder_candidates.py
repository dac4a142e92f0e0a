"""Untrained encoder networks of several sizes, for measuring speed before training any.

    python tools/scripts/encoder_candidates.py --out runs/arch
    cosmot reid bench --weights runs/arch/w32b2.pt --batches 64 --seconds 2 --threads 2

Writes one checkpoint per candidate (seed 0, 512-d output, 128x64 input) and prints its
parameters; ``cosmot reid bench`` then prints its multiply-adds and measures crops per second with
cropping next to OSNet-x0.25 in the same run (the speed goal is >= 3x OSNet). Speed does not
depend on the weights, so the choice of network can be made before any training
(appearance/README.md, "Lever 4").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from cosmot.appearance.checkpoint import save_checkpoint
from cosmot.appearance.model import EmbeddingNet, NetConfig, count_macs, count_params

#: name -> (widths, blocks per stage, block kind)
CANDIDATES = {
    "v1w512": ((32, 64, 128), (1, 1, 1), "residual"),
    "w40b1": ((40, 80, 160), (1, 1, 1), "residual"),
    "w48b1": ((48, 96, 192), (1, 1, 1), "residual"),
    "w32b2": ((32, 64, 128), (2, 2, 2), "residual"),
    "w48b2": ((48, 96, 192), (2, 2, 2), "residual"),
    "w64b1": ((64, 128, 256), (1, 1, 1), "residual"),
    # OSNet's multi-scale block: OSNet-x0.25's stage widths and depth, then wider
    "omni64": ((64, 96, 128), (2, 2, 2), "omni"),
    "omni96": ((96, 144, 192), (2, 2, 2), "omni"),
    "omni128": ((128, 192, 256), (2, 2, 2), "omni"),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("runs/arch"))
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--only", nargs="+", choices=sorted(CANDIDATES),
                    help="write only these candidates")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, (widths, blocks, block) in CANDIDATES.items():
        if args.only and name not in args.only:
            continue
        torch.manual_seed(0)
        model = EmbeddingNet(NetConfig(widths=widths, blocks=blocks, block=block,
                                       dim=args.dim)).eval()
        params = count_params(model)
        macs = count_macs(model, model.config.input_hw)
        save_checkpoint(args.out / f"{name}.pt", model, {})
        print(f"{name}: {block} blocks, widths {widths}, blocks {blocks}: "
              f"{params / 1e6:.2f} M parameters, {macs / 1e6:.1f} M multiply-adds "
              f"-> {args.out / name}.pt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
