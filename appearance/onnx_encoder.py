"""``OnnxEncoder``: any ONNX person-embedding model run with ONNX Runtime on the CPU.

The input size and whether the batch is fixed are read from the model's first input
(``N x 3 x H x W``). Normalisation is ``(pixel / 255 - mean) / std`` per RGB channel (ImageNet
statistics by default, as torchreid models expect); models exported by ``cosmot reid export``
carry ``cosmot.input = rgb255`` in their metadata and get raw 0..255 RGB instead, and
``cosmot.max_cosine_distance``, the tracker gate calibrated for them, when they have one.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cosmot.runtime import available_cores

from .encoder import GATE_KEY, CropEncoder, check_gate

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class OnnxEncoder(CropEncoder):
    """ONNX Runtime embedder.

    path: .onnx file with one input (N, 3, H, W) and one output (N, D).
    mean/std: per-channel RGB statistics in [0, 1] units; None = from the model's metadata
        (``cosmot.input = rgb255``: no normalisation) else ImageNet's.
    channel_order: "rgb" or "bgr" input channels.
    threads: ONNX Runtime intra-op threads (default: the cores this process may use).
    batch_size: crops per run when the model's batch is dynamic (fixed-batch models run one
        crop at a time).
    """

    def __init__(self, path: str | os.PathLike, mean: tuple[float, float, float] | None = None,
                 std: tuple[float, float, float] | None = None, channel_order: str = "rgb",
                 threads: int | None = None, batch_size: int = 64):
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such ONNX file")
        if channel_order not in ("rgb", "bgr"):
            raise ValueError(f"channel_order={channel_order!r}: allowed 'rgb' or 'bgr'")
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}: must be >= 1")
        if threads is not None and threads < 1:
            raise ValueError(f"threads={threads}: must be >= 1")
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or available_cores()
        # spinning threads wait busily for work: several times slower on a 2-core machine
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(self.path), opts,
                                                providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types
            first = str(e).splitlines()[0] if str(e) else type(e).__name__
            raise ValueError(f"{self.path}: ONNX Runtime cannot load it as a model (damaged or "
                             f"not ONNX: {first}); export it again") from None
        inp = self.session.get_inputs()
        if len(inp) != 1 or len(inp[0].shape) != 4:
            raise ValueError(f"{self.path}: expected one input of shape (N, 3, H, W), got "
                             f"{[(i.name, i.shape) for i in inp]}")
        n, c, h, w = inp[0].shape
        if c != 3 or not isinstance(h, int) or not isinstance(w, int):
            raise ValueError(f"{self.path}: input shape {inp[0].shape} needs 3 channels and a "
                             f"fixed height and width")
        self.input_name = inp[0].name
        self.input_hw = (h, w)
        self.fixed_batch = n if isinstance(n, int) else None
        self.batch_size = self.fixed_batch or batch_size
        out = self.session.get_outputs()[0]
        if len(out.shape) != 2:
            raise ValueError(f"{self.path}: output shape {out.shape} is not (N, D) embeddings"
                             + (" (it looks like a detector: give it to --detector)"
                                if len(out.shape) == 3 else ""))
        if not isinstance(out.shape[-1], int):
            raise ValueError(f"{self.path}: output shape {out.shape} has no fixed length")
        self.dim = int(out.shape[-1])
        meta = self.session.get_modelmeta().custom_metadata_map
        raw = meta.get("cosmot.input") == "rgb255"
        self.max_cosine_distance = check_gate(meta.get(GATE_KEY), str(self.path))
        mean = mean if mean is not None else ((0.0, 0.0, 0.0) if raw else IMAGENET_MEAN)
        std = std if std is not None else ((1 / 255,) * 3 if raw else IMAGENET_STD)
        if min(std) <= 0:
            raise ValueError(f"std={std}: all entries must be > 0")
        # x = (p/255 - mean)/std = p * scale + shift, folded per channel
        self._scale = (1.0 / (255.0 * np.asarray(std, np.float32))).reshape(1, 3, 1, 1)
        self._shift = (-np.asarray(mean, np.float32) / np.asarray(std, np.float32)
                       ).reshape(1, 3, 1, 1)
        self.bgr = channel_order == "bgr"

    def _preprocess(self, crops_rgb: np.ndarray) -> np.ndarray:
        x = crops_rgb[..., ::-1] if self.bgr else crops_rgb
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=np.float32)
        return x * self._scale + self._shift

    def run_model(self, x: np.ndarray) -> np.ndarray:
        """Run preprocessed (B, 3, H, W) float32 input (B = the fixed batch when there is one)."""
        return self.session.run(None, {self.input_name: x})[0]

    def _embed_batch(self, crops_rgb: np.ndarray) -> np.ndarray:
        x = self._preprocess(crops_rgb)
        n = len(crops_rgb)
        if self.fixed_batch and n < self.fixed_batch:  # pad the last batch
            x = np.concatenate([x, np.zeros((self.fixed_batch - n, *x.shape[1:]), np.float32)])
        return self.run_model(x)[:n].reshape(n, -1)
