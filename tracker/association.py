"""Cost matrices of the association stages, for N tracks (rows) and M detections (columns).

Impossible pairs cost ``inf``; each function also returns the cost limit to hand to the
assignment (``tracker.assignment``).
"""

from __future__ import annotations

import numpy as np

from .config import TrackerConfig
from .distances import cosine_distance, nearest_cosine_distance
from .geometry import iou_matrix
from .kalman_filter import KalmanFilter
from .track_set import TrackSet

def appearance_cost(cfg: TrackerConfig, tracks: TrackSet, kf: KalmanFilter, rows: np.ndarray,
                    dets: np.ndarray, det_xyah: np.ndarray, feats: np.ndarray
                    ) -> tuple[np.ndarray, float]:
    """Deep SORT's gated appearance cost for track rows ``rows`` and detections ``dets``.

    Cost = smallest cosine distance to the track's gallery (blended with the normalised
    Mahalanobis distance when ``motion_weight`` > 0); pairs outside the chi-square gate or above
    ``max_cosine_distance`` are impossible. Returns ``(cost (N, M) float64, limit)``.
    """
    maha = kf.gating_distance(tracks.mean[rows], tracks.cov[rows], det_xyah[dets],
                              cfg.gate_only_position)
    gated = maha > cfg.gating_threshold
    cos = np.empty(maha.shape)
    cos.fill(np.inf)
    # appearance only for the pairs the gate admits (a few per live track), each track's
    # gallery read in place over its filled slots (the rest repeats the
    # first feature): gathering the galleries of all rows first copied N x B x D floats per
    # frame, the largest cost at MOT16 density with 512-d features
    pair_rows, pair_cols = np.nonzero(~gated)
    if pair_rows.size:
        f = feats[dets]
        g = tracks.gallery
        track_rows = rows[pair_rows].tolist()
        filled = np.minimum(tracks.n_features[rows[pair_rows]], tracks.budget).tolist()
        starts = [0] + ((pair_rows[1:] != pair_rows[:-1]).nonzero()[0] + 1).tolist()
        ends = starts[1:] + [pair_rows.size]
        pr, pc = pair_rows.tolist(), pair_cols.tolist()
        for s, e in zip(starts, ends):
            gallery = g[track_rows[s], :filled[s]]
            if e - s <= 2:  # one or two detections: matrix-vector products
                for j in range(s, e):
                    cos[pr[j], pc[j]] = 1.0 - (gallery @ f[pc[j]]).max()
            else:
                cols = pair_cols[s:e]
                cos[pr[s], cols] = nearest_cosine_distance(gallery[None], f[cols])[0]
    w = cfg.motion_weight
    cost = cos if w == 0 else (1.0 - w) * cos + w * (maha / cfg.gating_threshold)
    cost[gated | (cos > cfg.max_cosine_distance)] = np.inf
    return cost, (1.0 - w) * cfg.max_cosine_distance + w


def iou_cost(cfg: TrackerConfig, tracks: TrackSet, rows: np.ndarray, dets: np.ndarray,
             pred_xyxy: np.ndarray, boxes: np.ndarray, feats: np.ndarray | None
             ) -> tuple[np.ndarray, float]:
    """The IoU stage's cost: ``1 - IoU`` of predicted and detected boxes, with the frame-to-frame
    appearance term (cosine distance to the track's previous feature) as a veto and optionally
    blended in. ``pred_xyxy``: (N, 4) predicted boxes of the track rows ``rows``.
    Returns ``(cost (N, M) float64, limit)``."""
    iou = 1.0 - iou_matrix(pred_xyxy, boxes[dets])
    veto = iou > cfg.max_iou_distance
    cost, limit = iou, cfg.max_iou_distance
    w = cfg.iou_appearance_weight
    if feats is not None and (w > 0 or cfg.iou_max_cosine_distance < 2.0):
        last = cosine_distance(tracks.last_feature[rows], feats[dets]).astype(np.float64)
        veto |= last > cfg.iou_max_cosine_distance
        if w > 0:
            cost = (1.0 - w) * iou + w * last
            limit = (1.0 - w) * cfg.max_iou_distance + w * min(cfg.iou_max_cosine_distance, 2.0)
    return np.where(veto, np.inf, cost), limit


def veto_class_pairs(cost: np.ndarray, track_classes: np.ndarray,
                     det_classes: np.ndarray) -> None:
    """Make pairs of different classes impossible (in place); no-op when no class is known."""
    if (track_classes >= 0).any() or (det_classes >= 0).any():
        cost[track_classes[:, None] != det_classes[None, :]] = np.inf
