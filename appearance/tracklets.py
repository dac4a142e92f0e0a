"""Confident tracklets from unlabelled detections: boxes linked frame to frame by IoU.

Only unambiguous links are made (a detection pair overlaps well, and neither box overlaps any
other candidate of the other frame much), so a tracklet rarely switches person; it may end
early instead, which costs nothing here. Used to find positives (the same person some frames
apart) and negatives (two tracklets seen in the same frame are different people) for
self-supervised adaptation.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def iou_xyxy(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, 4), (M, 4) xyxy -> (N, M) intersection over union."""
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def link_tracklets(frames: np.ndarray, boxes_xyxy: np.ndarray, min_iou: float = 0.5,
                   max_rival_iou: float = 0.3) -> np.ndarray:
    """Tracklet id per detection.

    frames: (N,) int frame numbers; boxes_xyxy: (N, 4) float. Detections of consecutive frames
    (f and f + 1) are matched by maximum total IoU; a match is kept when its IoU >= min_iou and
    no other detection of either frame overlaps the matched partner by more than
    max_rival_iou. Returns (N,) int64 ids 0..T-1, numbered in order of first appearance.
    """
    if not 0 < min_iou <= 1 or not 0 <= max_rival_iou <= min_iou:
        raise ValueError(f"min_iou={min_iou}, max_rival_iou={max_rival_iou}: need "
                         f"0 <= max_rival_iou <= min_iou <= 1 and min_iou > 0")
    frames = np.asarray(frames, np.int64)
    boxes = np.asarray(boxes_xyxy, np.float64).reshape(-1, 4)
    n = len(frames)
    ids = np.full(n, -1, np.int64)
    if n == 0:
        return ids
    order = np.argsort(frames, kind="stable")
    uniq, starts = np.unique(frames[order], return_index=True)
    ends = np.r_[starts[1:], n]
    next_id = 0
    prev_idx = np.zeros(0, np.int64)
    prev_frame = None
    for f, s, e in zip(uniq, starts, ends):
        cur = order[s:e]
        if prev_frame is not None and f == prev_frame + 1 and len(prev_idx):
            iou = iou_xyxy(boxes[prev_idx], boxes[cur])
            rows, cols = linear_sum_assignment(-iou)
            for r, c in zip(rows, cols):
                if iou[r, c] < min_iou:
                    continue
                rival_col = np.delete(iou[:, c], r)
                rival_row = np.delete(iou[r, :], c)
                if (rival_col > max_rival_iou).any() or (rival_row > max_rival_iou).any():
                    continue
                ids[cur[c]] = ids[prev_idx[r]]
        fresh = cur[ids[cur] < 0]
        ids[fresh] = np.arange(next_id, next_id + len(fresh))
        next_id += len(fresh)
        prev_idx, prev_frame = cur, f
    return ids


def cooccurrence(frames: np.ndarray, tracklets: np.ndarray) -> np.ndarray:
    """(T, T) bool: True where two different tracklets have detections in the same frame.
    tracklets: (N,) ids 0..T-1 per detection."""
    t = int(tracklets.max()) + 1 if len(tracklets) else 0
    _, frame_idx = np.unique(frames, return_inverse=True)
    present = np.zeros((frame_idx.max() + 1 if len(frames) else 0, t), bool)
    present[frame_idx, tracklets] = True
    p = present.astype(np.float32)
    co = (p.T @ p) > 0
    np.fill_diagonal(co, False)
    return co
