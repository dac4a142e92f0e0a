"""Checks of one frame's inputs to ``Tracker.update``, with errors that say what to fix."""

from __future__ import annotations

import numpy as np

from .distances import normalize_rows


#: More detections in one frame are refused: the association matrices (tracks x detections,
#: float64) would need gigabytes (20,000 boxes met as many tracks: 6 GiB for one IoU matrix;
#: 5,000 per frame runs in 2-7 s per frame and 2.5 GB).
MAX_DETECTIONS = 10_000


def _numbers(values, name: str, dtype) -> np.ndarray:
    """``values`` as a numeric array; ValueError naming the argument when it is not one."""
    try:
        return np.asarray(values, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name}: not numbers ({e}); give a numeric array") from None


def check_frame_inputs(boxes, scores, embeddings, classes, dim: int = 0):
    """Validate and convert one frame's detections.

    Returns ``boxes (M, 4) float64``, ``scores (M,) float64`` (ones when None), ``feats``
    ``(M, D) float32`` unit rows or None, ``classes (M,) int64`` (-1 when None). ``dim`` is the
    feature dimension seen so far (0: none yet).
    """
    boxes = _numbers(boxes, "boxes_xyxy", np.float64)
    if boxes.size == 0:
        boxes = boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"boxes_xyxy must have shape (M, 4), got {boxes.shape}")
    m = boxes.shape[0]
    if m > MAX_DETECTIONS:
        raise ValueError(f"boxes_xyxy has {m} rows: more than {MAX_DETECTIONS:,} detections in "
                         f"one frame, whose matching would need gigabytes; drop low scores "
                         f"(TrackerConfig.min_score, --min-score) or overlapping boxes "
                         f"(nms_max_overlap) before tracking")
    if m:
        bad = ~np.isfinite(boxes).all(axis=1) | (boxes[:, 2] <= boxes[:, 0]) | (
            boxes[:, 3] <= boxes[:, 1])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"boxes_xyxy row {i} = {boxes[i].tolist()} is not a finite box with area; "
                f"rows must be (left, top, right, bottom) with right > left, bottom > top")
    if scores is None:
        scores = np.ones(m)
    else:
        scores = _numbers(scores, "scores", np.float64).reshape(-1)
        if scores.shape[0] != m:
            raise ValueError(f"scores has {scores.shape[0]} entries for {m} boxes")
        if not np.isfinite(scores).all():
            i = int(np.flatnonzero(~np.isfinite(scores))[0])
            raise ValueError(f"scores row {i} = {scores[i]}: scores must be finite")
    if classes is None:
        classes = np.full(m, -1, np.int64)
    else:
        raw = _numbers(classes, "classes", np.float64).reshape(-1)
        if raw.shape[0] != m:
            raise ValueError(f"classes has {raw.shape[0]} entries for {m} boxes")
        bad = np.flatnonzero(~np.isfinite(raw) | (raw != np.round(raw)))
        if bad.size:
            raise ValueError(f"classes row {int(bad[0])} = {raw[bad[0]]}: class ids must be "
                             f"whole numbers")
        classes = raw.astype(np.int64)
    feats = None
    if embeddings is not None:
        feats = _numbers(embeddings, "embeddings", np.float32)
        if feats.ndim != 2 or feats.shape[0] != m or (m and feats.shape[1] == 0):
            raise ValueError(f"embeddings must have shape (M, D) with M = {m} boxes and "
                             f"D >= 1, got {feats.shape}")
        if not np.isfinite(feats).all():
            i = int(np.flatnonzero(~np.isfinite(feats).all(axis=1))[0])
            raise ValueError(f"embeddings row {i} is not finite (NaN or inf)")
        zero = np.flatnonzero(~feats.any(axis=1))
        if zero.size:
            raise ValueError(f"embeddings row {int(zero[0])} is all zeros: it has no "
                             f"direction to compare (an encoder failure?); drop that box or "
                             f"embed it again")
        if dim and feats.shape[1] != dim:
            raise ValueError(f"embeddings have {feats.shape[1]} dimensions, earlier frames "
                             f"had {dim}; call reset() to change encoders")
        feats = normalize_rows(feats)
    return boxes, scores, feats, classes
