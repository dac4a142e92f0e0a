"""Encoders: boxes in a frame -> unit-length appearance vectors.

Every encoder has ``dim`` and ``embed(frame_bgr, boxes_xyxy) -> (N, dim) float32`` (unit rows),
plus ``embed_crops(crops_rgb)`` for crops already cut out. Boxes partly outside the frame are
clipped; a box with no area after clipping is widened to one pixel at the nearest point inside
the frame (see ``crops.clip_boxes``); N = 0 gives shape (0, dim). This module needs no torch:
the torch-backed encoder is ``torch_encoder.TorchEncoder``.

An encoder may carry ``max_cosine_distance``: the tracker's appearance gate calibrated for it
(``cosmot calibrate``), read from its weights' record, checkpoint metadata or ONNX metadata
(key ``cosmot.max_cosine_distance``); None when it has none.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from .crops import cut_crops, resize_crop_rgb


class Encoder(Protocol):
    """What the tracker needs from an appearance model."""

    dim: int
    #: the tracker's cosine gate calibrated for this encoder, or None (optional attribute)
    max_cosine_distance: float | None

    def embed(self, frame_bgr: np.ndarray, boxes_xyxy: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 BGR frame, (N, 4) float xyxy boxes -> (N, dim) float32 unit rows."""
        ...

    def embed_crops(self, crops_rgb: np.ndarray) -> np.ndarray:
        """(N, h, w, 3) uint8 RGB crops (any size) -> (N, dim) float32 unit rows."""
        ...


GATE_KEY = "cosmot.max_cosine_distance"


def check_gate(value, source: str) -> float | None:
    """A calibrated ``max_cosine_distance`` read from ``source`` (a file, for the message) as a
    float in (0, 2], or None for None; ValueError naming the source otherwise."""
    if value is None:
        return None
    try:
        gate = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{source}: max_cosine_distance {value!r} is not a number; calibrate "
                         f"the encoder again (cosmot calibrate ... --write)") from None
    if not 0.0 < gate <= 2.0:
        raise ValueError(f"{source}: max_cosine_distance {value!r} is outside (0, 2]; calibrate "
                         f"the encoder again (cosmot calibrate ... --write)")
    return gate




def check_boxes(boxes_xyxy: np.ndarray) -> np.ndarray:
    """(N, 4) float64 copy of the boxes; ValueError for another shape."""
    boxes = np.asarray(boxes_xyxy, dtype=np.float64)
    if boxes.size == 0:
        return boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes_xyxy: expected shape (N, 4), got {boxes.shape}")
    return boxes


def resize_crops(crops_rgb: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """(N, h, w, 3) uint8 -> (N, H, W, 3) uint8 at ``size_hw`` (no copy when already there)."""
    if crops_rgb.ndim != 4 or crops_rgb.shape[3] != 3:
        raise ValueError(f"crops_rgb: expected (N, h, w, 3), got {crops_rgb.shape}")
    if tuple(crops_rgb.shape[1:3]) == tuple(size_hw):
        return crops_rgb
    out = np.empty((len(crops_rgb), *size_hw, 3), np.uint8)
    for i, c in enumerate(crops_rgb):
        out[i] = resize_crop_rgb(c, size_hw)
    return out


class CropEncoder:
    """Shared ``embed``: cut the boxes out of the frame at ``input_hw`` and ``embed_crops`` them.

    Subclasses set ``dim`` and ``input_hw`` and implement ``embed_crops``.
    """

    dim: int
    input_hw: tuple[int, int]
    batch_size: int = 256
    max_cosine_distance: float | None = None

    def embed(self, frame_bgr: np.ndarray, boxes_xyxy: np.ndarray) -> np.ndarray:
        """(H, W, 3) uint8 BGR frame, (N, 4) float xyxy boxes -> (N, dim) float32 unit rows."""
        boxes = check_boxes(boxes_xyxy)
        if len(boxes) == 0:
            return np.zeros((0, self.dim), np.float32)
        return self.embed_crops(cut_crops(frame_bgr, boxes, self.input_hw))

    def embed_crops(self, crops_rgb: np.ndarray) -> np.ndarray:
        """(N, h, w, 3) uint8 RGB crops (any size) -> (N, dim) float32 unit rows, computed in
        batches of ``batch_size`` by ``_embed_batch``."""
        crops_rgb = np.asarray(crops_rgb)
        if len(crops_rgb) == 0:
            return np.zeros((0, self.dim), np.float32)
        crops_rgb = resize_crops(crops_rgb, self.input_hw)
        out = np.empty((len(crops_rgb), self.dim), np.float32)
        b = self.batch_size
        for s in range(0, len(crops_rgb), b):
            chunk = crops_rgb[s:s + b]
            out[s:s + len(chunk)] = self._embed_batch(chunk)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def _embed_batch(self, crops_rgb: np.ndarray) -> np.ndarray:
        """(B, H, W, 3) uint8 RGB crops at ``input_hw`` -> (B, dim) features, any length."""
        raise NotImplementedError
