"""Shared by the ``cosmot reid`` subcommands: data locations and path helpers."""

from __future__ import annotations

import argparse
from pathlib import Path
from cosmot.paths import REPO_ROOT, cache_dir

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

def parse_size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected HxW, e.g. 128x64") from None
    return h, w
