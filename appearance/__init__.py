"""The learned appearance metric: person crops -> unit-length embeddings compared by cosine
distance (Wojke & Bewley 2018 style), its training, evaluation and export.

Public entry points: ``load_encoder``, ``OnnxEncoder``, ``HistogramEncoder`` and, with torch
installed (``pip install 'cosmot[train]'``), ``TorchEncoder``. Importing this package does not
import torch; training, export and ``TorchEncoder`` do.
"""

from .encoder import Encoder
from .histogram import HistogramEncoder
from .onnx_encoder import OnnxEncoder
from .registry import load_encoder

__all__ = ["Encoder", "TorchEncoder", "OnnxEncoder", "HistogramEncoder", "load_encoder"]


def __getattr__(name: str):
    if name == "TorchEncoder":  # torch is imported only when asked for
        from .torch_encoder import TorchEncoder

        return TorchEncoder
    raise AttributeError(f"module 'cosmot.appearance' has no attribute {name!r}")
