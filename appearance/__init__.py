"""The learned appearance metric: person crops -> unit-length embeddings compared by cosine
distance (Wojke & Bewley 2018 style), its training, evaluation and export.

Public entry points: ``load_encoder``, ``TorchEncoder``, ``OnnxEncoder``, ``HistogramEncoder``.
"""

from .encoder import Encoder, TorchEncoder
from .histogram import HistogramEncoder
from .onnx_encoder import OnnxEncoder
from .registry import load_encoder

__all__ = ["Encoder", "TorchEncoder", "OnnxEncoder", "HistogramEncoder", "load_encoder"]
