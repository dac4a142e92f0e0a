"""``TorchEncoder``: an ``EmbeddingNet`` run by torch (CPU or CUDA), for training, GPUs and
checkpoints that are not exported; the shipped encoder runs through ONNX Runtime by default."""

from __future__ import annotations

import numpy as np
import torch

from .device import resolve_device
from cosmot.runtime import available_cores

from .encoder import CropEncoder
from .model import EmbeddingNet


class TorchEncoder(CropEncoder):
    """An ``EmbeddingNet`` as an encoder.

    device: "cpu" or "cuda[:k]" (CUDA runs under float16 autocast; outputs are float32).
    batch_size: crops per forward pass. threads: torch intra-op threads for CPU; None keeps
    torch's setting unless it exceeds the cores this process may use (torch's thread count is
    process-wide, so it is only ever lowered, never raised).
    """

    def __init__(self, model: EmbeddingNet, device: str = "cpu", batch_size: int = 64,
                 threads: int | None = None):
        if batch_size < 1:
            raise ValueError(f"batch_size={batch_size}: must be >= 1")
        dev = resolve_device(device)
        if dev.type == "cpu":
            limit = threads if threads is not None else available_cores()
            if threads is not None and threads < 1:
                raise ValueError(f"threads={threads}: must be >= 1")
            if threads is not None or torch.get_num_threads() > limit:
                torch.set_num_threads(limit)
        self.model = model.eval().to(dev)
        self.device = dev
        self.batch_size = batch_size
        self.dim = int(model.config.dim)
        self.input_hw = tuple(model.config.input_hw)

    @torch.inference_mode()
    def _embed_batch(self, crops_rgb: np.ndarray) -> np.ndarray:
        cuda = self.device.type == "cuda"
        x = torch.from_numpy(np.ascontiguousarray(crops_rgb))
        x = x.to(self.device, non_blocking=cuda).permute(0, 3, 1, 2).float()
        with torch.autocast("cuda", dtype=torch.float16, enabled=cuda):
            y = self.model(x)
        # the base class re-normalises in float32 (fp16 leaves rows slightly off unit length)
        return y.float().cpu().numpy()
