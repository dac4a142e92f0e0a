"""``cosmot reid export``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
import numpy as np
from cosmot.cli.reid.common import CACHE


def load_torch_model(name: str, with_gate: bool = False):
    """The torch network of installed weights ``name`` (shipped or ``cosmot reid ship``-ed:
    read from the folder its record lies in, SHA-256 checked) or of a ``.pt`` checkpoint; with
    ``with_gate``, also its calibrated tracker gate (record, else checkpoint meta; or None)."""
    from cosmot.appearance.checkpoint import load_checkpoint
    from cosmot.appearance.integrity import read_weights_record
    from cosmot.appearance.registry import DEFAULT_RECORD, named_record

    record_path = named_record(name) or (DEFAULT_RECORD if name == "default" else None)
    if record_path is not None:
        rec = read_weights_record(record_path)
        model, meta = load_checkpoint(record_path.parent / rec["file"], rec["sha256"])
        gate = rec.get("max_cosine_distance", meta.get("max_cosine_distance"))
    else:
        if Path(name).suffix not in (".pt", ".pth"):
            raise ValueError(f"--weights {name!r}: give 'default' or a .pt checkpoint")
        model, meta = load_checkpoint(name)
        gate = meta.get("max_cosine_distance")
    return (model, gate) if with_gate else model


def verification_crops(model, n: int):
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


def run(args: argparse.Namespace) -> int:
    from cosmot.appearance.export import export_onnx, verify_onnx

    model, gate = load_torch_model(args.weights, with_gate=True)
    path = export_onnx(model, args.out, args.opset, max_cosine_distance=gate)
    crops, what = verification_crops(model, args.verify_crops)
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


def register(sub) -> None:
    p = sub.add_parser("export", help="export the encoder to ONNX and verify it",
                       description="Export a checkpoint to ONNX (dynamic batch, raw RGB 0..255 "
                                   "input) and check ONNX Runtime's embeddings against torch's.")
    p.add_argument("--weights", default="default", help="'default' or a .pt checkpoint")
    p.add_argument("--out", type=Path, default=Path("out/cosmot_reid.onnx"))
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--verify-crops", type=int, default=256)
    p.add_argument("--min-cosine", type=float, default=0.999)
    p.set_defaults(func=run)
