"""ONNX export of an ``EmbeddingNet`` and a check that ONNX Runtime agrees with torch.

The exported graph takes ``crops``: (N, 3, H, W) float32 RGB in [0, 255] (dynamic N) and returns
``embeddings``: (N, D) float32 unit rows; the metadata entry ``cosmot.input = rgb255`` tells
``OnnxEncoder`` not to normalise the input itself; ``cosmot.max_cosine_distance``, when given, is
the tracker gate calibrated for the model.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .encoder import GATE_KEY
from .integrity import write_checksum_beside
from .model import EmbeddingNet, fuse_omni


def export_onnx(model: EmbeddingNet, path: str | os.PathLike, opset: int = 17,
                max_cosine_distance: float | None = None, fuse: bool = False) -> Path:
    """Write ``model`` (eval mode) to ``path`` with a dynamic batch axis; returns the path.
    ``max_cosine_distance``: the calibrated tracker gate to record in the metadata.
    ``fuse``: write an omni-scale network's blocks with their streams fused
    (``model.fuse_omni``: the same embeddings in fewer, wider operations). Off by default:
    measured slower at batch 64 and in the pipeline (``tools/scripts/bench_fused_omni.py``;
    appearance/README.md, "The omni size by the pipeline").

    Uses torch's TorchScript-based exporter (``dynamo=False``), which needs only the ``onnx``
    package; the metadata is added with ``onnx``.
    """
    try:
        import onnx
    except ModuleNotFoundError:
        raise ValueError("ONNX export needs the 'onnx' package: pip install 'cosmot[export]'"
                         ) from None

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = fuse_omni(model) if fuse else model.eval()
    h, w = model.config.input_hw
    dummy = torch.zeros(1, 3, h, w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (dummy,), str(path), dynamo=False, opset_version=opset,
                          input_names=["crops"], output_names=["embeddings"],
                          dynamic_axes={"crops": {0: "batch"}, "embeddings": {0: "batch"}})
    proto = onnx.load(str(path))
    entry = proto.metadata_props.add()
    entry.key, entry.value = "cosmot.input", "rgb255"
    entry = proto.metadata_props.add()
    entry.key, entry.value = "cosmot.net", repr(model.config.to_dict())
    if max_cosine_distance is not None:
        entry = proto.metadata_props.add()
        entry.key, entry.value = GATE_KEY, repr(float(max_cosine_distance))
    onnx.checker.check_model(proto)
    onnx.save(proto, str(path))
    write_checksum_beside(path)  # later loads check the bytes against PATH.sha256
    return path


def set_onnx_gate(path: str | os.PathLike, max_cosine_distance: float) -> None:
    """Record (or replace) the calibrated tracker gate in an ONNX file's metadata, in place
    (written to a temporary file and renamed)."""
    try:
        import onnx
    except ModuleNotFoundError:
        raise ValueError("writing ONNX metadata needs the 'onnx' package: pip install "
                         "'cosmot[export]'") from None
    path = Path(path)
    proto = onnx.load(str(path))
    keep = [(e.key, e.value) for e in proto.metadata_props if e.key != GATE_KEY]
    del proto.metadata_props[:]
    for key, value in keep + [(GATE_KEY, repr(float(max_cosine_distance)))]:
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    tmp = path.with_name(path.name + ".tmp")
    onnx.save(proto, str(tmp))
    os.replace(tmp, path)
    if Path(f"{path}.sha256").is_file():  # the bytes changed: so does their checksum
        write_checksum_beside(path)


@dataclass(frozen=True)
class ExportCheck:
    """min_cosine: the smallest cosine between torch's and ONNX Runtime's embedding of the same
    crop; max_abs_diff: largest element difference; n: crops compared."""

    min_cosine: float
    max_abs_diff: float
    n: int


def verify_onnx(model: EmbeddingNet, path: str | os.PathLike, crops_rgb: np.ndarray
                ) -> ExportCheck:
    """Embed (N, H, W, 3) uint8 RGB crops (at the model's size) with torch and with ONNX
    Runtime and compare row by row."""
    from .torch_encoder import TorchEncoder
    from .onnx_encoder import OnnxEncoder

    a = TorchEncoder(model).embed_crops(crops_rgb)
    b = OnnxEncoder(path).embed_crops(crops_rgb)
    cos = (a * b).sum(axis=1)
    return ExportCheck(float(cos.min()), float(np.abs(a - b).max()), len(a))
