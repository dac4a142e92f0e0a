"""``load_encoder(name)``: the shipped default encoder, a checkpoint, an ONNX file, or the
colour-histogram baseline."""

from __future__ import annotations

import os
from pathlib import Path

from .checkpoint import load_checkpoint, read_weights_record
from .encoder import Encoder, TorchEncoder
from .histogram import HistogramEncoder

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
DEFAULT_RECORD = WEIGHTS_DIR / "default.json"


def default_weights_path() -> Path:
    """The shipped weights file named by ``weights/default.json``."""
    if not DEFAULT_RECORD.is_file():
        raise FileNotFoundError(f"{DEFAULT_RECORD}: the default weights record is missing "
                                f"(a broken install?); pass a .pt or .onnx path instead")
    return WEIGHTS_DIR / read_weights_record(DEFAULT_RECORD)["file"]


def named_record(name: str) -> Path | None:
    """``weights/<name>.json`` when ``name`` is a plain name (no path, no suffix) of shipped
    weights, e.g. "default", "v1", "v2"; else None."""
    if not name or any(c in name for c in "/\\.") or name == "histogram":
        return None
    path = WEIGHTS_DIR / f"{name}.json"
    return path if path.is_file() else None


def shipped_names() -> list[str]:
    """Names of the shipped weights records (``weights/*.json``)."""
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.json"))


def load_encoder(name: str | os.PathLike = "default", device: str = "cpu",
                 batch_size: int = 64, threads: int | None = None) -> Encoder:
    """An encoder by name.

    name: "default" (the shipped weights, SHA-256 checked), the name of other shipped weights
        (``weights/<name>.json``, e.g. "v1"; ``shipped_names()``), "histogram" (colour baseline), a
        path to a ``.pt`` checkpoint written by ``cosmot reid train``, or a path to a ``.onnx``
        embedder (run by ONNX Runtime on the CPU whatever ``device`` says).
    device: "cpu" or "cuda" (float16 autocast) for torch models.
    """
    key = str(name)
    if key == "histogram":
        return HistogramEncoder()
    record_path = named_record(key)
    if record_path is not None:
        record = read_weights_record(record_path)
        model, _ = load_checkpoint(WEIGHTS_DIR / record["file"], record["sha256"])
        return TorchEncoder(model, device, batch_size, threads)
    if key == "default":
        read_weights_record(DEFAULT_RECORD)  # raises: the record is missing
    path = Path(key)
    if path.suffix == ".onnx":
        from .onnx_encoder import OnnxEncoder

        return OnnxEncoder(path, threads=threads, batch_size=batch_size)
    if path.suffix in (".pt", ".pth"):
        model, _ = load_checkpoint(path)
        return TorchEncoder(model, device, batch_size, threads)
    raise ValueError(f"encoder name {key!r}: allowed 'default', 'histogram', the name of "
                     f"shipped weights {shipped_names()}, a .pt checkpoint path or a .onnx "
                     f"file path")
