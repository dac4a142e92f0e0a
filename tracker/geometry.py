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
    wh = np.maximum(rb - lt, 0.0)  # = np.clip(rb - lt, 0.0, None), without its wrapper
    inter = wh[..., 0] * wh[..., 1]
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = np.where(union > 0, inter / union, 0.0)
    return iou


def _iou_one_to_many(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (4,) xyxy box with (M, 4) boxes -> (M,)."""
    lt = np.maximum(box[:2], boxes[:, :2])
    rb = np.minimum(box[2:], boxes[:, 2:])
    wh = np.clip(rb - lt, 0.0, None)
    inter = wh[:, 0] * wh[:, 1]
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def nms(boxes_xyxy: np.ndarray, scores: np.ndarray, iou_threshold: float,
        classes: np.ndarray | None = None, max_output: int | None = None) -> np.ndarray:
    """Indices of the boxes kept by greedy NMS, highest score first.

    A box is suppressed when its IoU with a kept box of higher score (and, when ``classes`` is
    given, the same class) is above ``iou_threshold``. Ties in score keep the lower index first.

    Args:
        boxes_xyxy: (N, 4) boxes (left, top, right, bottom).
        scores: (N,) scores.
        iou_threshold: in [0, 1].
        classes: optional (N,) class ids: suppression only within a class.
        max_output: keep at most this many.

    Returns:
        (K,) int64 indices into the inputs, sorted by descending score.
    """
    if not 0.0 <= iou_threshold <= 1.0:
        raise ValueError(f"iou_threshold = {iou_threshold!r} is outside [0, 1]")
    boxes = np.asarray(boxes_xyxy, dtype=np.float64).reshape(-1, 4)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if scores.shape[0] != boxes.shape[0]:
        raise ValueError(f"{scores.shape[0]} scores for {boxes.shape[0]} boxes")
    if boxes.shape[0] == 0:
        return np.zeros(0, np.int64)
    if classes is not None:
        # shift each class to its own region of the plane: boxes of different classes never meet
        cls = np.asarray(classes).reshape(-1).astype(np.float64)
        span = float(boxes.max() - boxes.min()) + 1.0
        offset = (cls - cls.min()) * span
        boxes = boxes + offset[:, None]
    order = np.argsort(-scores, kind="stable")
    limit = boxes.shape[0] if max_output is None else int(max_output)
    keep: list[int] = []
    while order.size and len(keep) < limit:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        order = rest[_iou_one_to_many(boxes[i], boxes[rest]) <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)
