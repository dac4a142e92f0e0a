"""``cosmot reid ship``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import numpy as np
from cosmot.cli.reid.common import repo_relative


def run(args: argparse.Namespace) -> int:
    import shutil

    from cosmot.appearance.checkpoint import load_checkpoint
    from cosmot.runtime import sha256_file
    from cosmot.appearance.model import count_macs, count_params
    from cosmot.appearance.registry import user_weights_dir

    from cosmot.appearance.encoder import check_gate

    model, meta = load_checkpoint(args.checkpoint)
    gate = check_gate(args.max_cosine_distance if args.max_cosine_distance is not None
                      else meta.get("max_cosine_distance"), str(args.checkpoint))
    if gate is None:
        raise ValueError(f"{args.checkpoint}: no calibrated max_cosine_distance; give "
                         f"--max-cosine-distance (choose it with cosmot calibrate on "
                         f"development sequences: a gate fitted for another encoder is wrong "
                         f"for this one)")
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

        onnx_path = export_onnx(model, target.with_suffix(".onnx"), max_cosine_distance=gate)
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
        "max_cosine_distance": gate,
        "gate_note": args.gate_note,
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


def register(sub) -> None:
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
    p.add_argument("--max-cosine-distance", type=float, default=None, metavar="D",
                   help="the tracker gate calibrated for these weights (default: the "
                        "checkpoint's, from cosmot calibrate --write); required when it has none")
    p.add_argument("--gate-note", default="",
                   help="how the gate was chosen (sequences, rule), kept in the record")
    p.add_argument("--heldout-json", type=Path, help="scores written by 'reid eval --json'")
    p.add_argument("--crops-command", default="cosmot reid build-crops --preset train")
    p.add_argument("--notes", default="")
    p.add_argument("--make-default", action="store_true",
                   help="also write the record as default.json (load_encoder('default')); "
                        "earlier weights stay loadable by their own record's name")
    p.set_defaults(func=run)
