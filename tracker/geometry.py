"""Box formats and overlaps, vectorised over N boxes.

Formats (all in pixels, float64 arrays of shape (N, 4)):
- ``xyxy``: left, top, right, bottom;
- ``tlwh``: left, top, width, height (MOTChallenge files);
- ``xyah``: centre x, centre y, aspect ratio width/height, height (the Kalman filter's measurement).
"""

from __future__ import annotations

import numpy as np


def xyxy_to_tlwh(boxes: np.ndarray) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64)
    out = b.copy()
    out[..., 2:] -= b[..., :2]
    return out


def tlwh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64)
    out = b.copy()
    out[..., 2:] += b[..., :2]
    return out


def xyxy_to_xyah(boxes: np.ndarray) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64)
    out = np.empty(b.shape)
    out[..., :2] = (b[..., :2] + b[..., 2:]) * 0.5
    out[..., 3] = b[..., 3] - b[..., 1]
    out[..., 2] = (b[..., 2] - b[..., 0]) / out[..., 3]
    return out


def xyah_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    b = np.asarray(boxes, dtype=np.float64)
    half = np.empty(b.shape[:-1] + (2,))
    half[..., 1] = b[..., 3] * 0.5
    half[..., 0] = b[..., 2] * half[..., 1]
    out = np.empty(b.shape)
    out[..., :2] = b[..., :2] - half
    out[..., 2:] = b[..., :2] + half
    return out


def iou_matrix(a_xyxy: np.ndarray, b_xyxy: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in ``a`` (N, 4) with every box in ``b`` (M, 4).

    Returns (N, M) float64 in [0, 1]; 0 where the union is empty.
    """
    a = np.asarray(a_xyxy, dtype=np.float64)
    b = np.asarray(b_xyxy, dtype=np.float64)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0.0, None)
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
    return iou
