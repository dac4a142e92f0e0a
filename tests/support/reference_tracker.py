"""A deliberately plain Deep SORT: one Python object per track, filterpy's Kalman filter per
track, scipy's assignment, loops over tracks and detections.

It exists to check the vectorised ``tracker.Tracker`` (same algorithm, so the same output frame
by frame for the ``deepsort`` preset) and as the in-process speed baseline of
``cosmot bench tracker``. It supports only that preset's features.
"""

from __future__ import annotations

from collections import deque

import numpy as np
from filterpy.kalman import KalmanFilter as FilterpyKF
from scipy.optimize import linear_sum_assignment

from cosmot.tracker.config import TrackerConfig
from cosmot.tracker.distances import normalize_rows
from cosmot.tracker.geometry import iou_matrix, xyah_to_xyxy, xyxy_to_xyah
from cosmot.tracker.kalman_filter import KalmanFilter


def assign_with_limit(cost: np.ndarray, limit: float) -> list[tuple[int, int]]:
    """Min-cost matching where leaving a row and a column unmatched costs ``limit`` (each half
    of it through a dummy partner) and pairs above ``limit`` are forbidden."""
    n, m = cost.shape
    if n == 0 or m == 0:
        return []
    big = 1e9
    aug = np.zeros((n + m, m + n))
    aug[:n, :m] = np.where(cost <= limit, cost, big)
    aug[:n, m:] = np.where(np.eye(n, dtype=bool), limit / 2, big)
    aug[n:, :m] = np.where(np.eye(m, dtype=bool), limit / 2, big)
    rows, cols = linear_sum_assignment(aug)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if r < n and c < m]


class _Track:
    def __init__(self, z, feature, model: KalmanFilter, budget, det_index, box):
        self.kf = FilterpyKF(dim_x=8, dim_z=4)
        self.kf.F, self.kf.H = model.motion_mat, model.update_mat
        mean, cov = model.initiate(z[None])
        self.kf.x, self.kf.P = mean[0], cov[0]
        self.features = deque([feature], maxlen=budget) if feature is not None else None
        self.last_feature = feature
        self.hits, self.time_since_update, self.confirmed, self.track_id = 1, 0, False, 0
        self.det_index, self.box = det_index, box


class ReferenceTracker:
    """Plain Deep SORT with the semantics of ``tracker.Tracker`` (``deepsort`` preset, also
    with an IoU-stage appearance veto). ``update`` returns ``[(track_id, det_index), ...]``."""

    def __init__(self, config: TrackerConfig):
        self.cfg = config.with_gate(None)  # the gate Tracker uses when none is given
        self.model = KalmanFilter(config.std_weight_position, config.std_weight_velocity)
        self.tracks: list[_Track] = []
        self.next_id = 1

    def _predict(self, t: _Track) -> None:
        t.kf.predict(Q=np.diag(self.model.process_noise_var(t.kf.x[3:4])[0]))
        if t.kf.x[3] < 1.0:
            t.kf.x[3], t.kf.x[7] = 1.0, 0.0
        t.kf.x[2] = max(t.kf.x[2], 1e-2)
        t.time_since_update += 1

    def _gate(self, t: _Track, z: np.ndarray) -> float:
        s = t.kf.P[:4, :4] + np.diag(self.model.measurement_noise_var(t.kf.x[3:4])[0])
        d = z - t.kf.x[:4]
        return float(d @ np.linalg.solve(s, d))

    def update(self, boxes, scores=None, embeddings=None) -> list[tuple[int, int]]:
        cfg = self.cfg
        for t in self.tracks:
            self._predict(t)
        z = xyxy_to_xyah(boxes)
        if embeddings is not None:
            embeddings = normalize_rows(embeddings)
        free = list(range(len(boxes)))
        matches: list[tuple[_Track, int]] = []
        matched: set[int] = set()
        if embeddings is not None:
            confirmed = [t for t in self.tracks if t.confirmed]
            for level in sorted({t.time_since_update for t in confirmed}):
                level_tracks = [t for t in confirmed if t.time_since_update == level]
                cost = np.full((len(level_tracks), len(free)), np.inf)
                for i, t in enumerate(level_tracks):
                    for j, d in enumerate(free):
                        if self._gate(t, z[d]) > cfg.gating_threshold:
                            continue
                        c = min(1.0 - float(f @ embeddings[d]) for f in t.features)
                        if c <= cfg.max_cosine_distance:
                            cost[i, j] = c
                pairs = assign_with_limit(cost, cfg.max_cosine_distance)
                for i, j in pairs:
                    matches.append((level_tracks[i], free[j]))
                    matched.add(id(level_tracks[i]))
                taken = {free[j] for _, j in pairs}
                free = [d for d in free if d not in taken]
        cand = [t for t in self.tracks if id(t) not in matched and (
            embeddings is None or not t.confirmed
            or t.time_since_update <= cfg.iou_max_time_since_update)]
        if cand and free:
            pred = np.array([xyah_to_xyxy(t.kf.x[:4]) for t in cand])
            iou_cost = 1.0 - iou_matrix(pred, boxes[free])
            for i, t in enumerate(cand):
                for j, d in enumerate(free):
                    too_far = iou_cost[i, j] > cfg.max_iou_distance
                    looks_other = embeddings is not None and cfg.iou_max_cosine_distance < 2.0 \
                        and 1.0 - float(t.last_feature @ embeddings[d]) > \
                        cfg.iou_max_cosine_distance
                    if too_far or looks_other:
                        iou_cost[i, j] = np.inf
            pairs = assign_with_limit(iou_cost, cfg.max_iou_distance)
            for i, j in pairs:
                matches.append((cand[i], free[j]))
                matched.add(id(cand[i]))
            taken = {free[j] for _, j in pairs}
            free = [d for d in free if d not in taken]
        for t, d in matches:
            r = np.diag(self.model.measurement_noise_var(t.kf.x[3:4])[0])
            t.kf.update(z[d], R=r)
            t.hits += 1
            t.time_since_update = 0
            t.det_index, t.box = d, boxes[d]
            if embeddings is not None:
                t.features.append(embeddings[d])
                t.last_feature = embeddings[d]
            if not t.confirmed and t.hits >= cfg.n_init:
                t.confirmed, t.track_id = True, self.next_id
                self.next_id += 1
        self.tracks = [t for t in self.tracks if id(t) in matched or (
            t.confirmed and t.time_since_update <= cfg.max_age)]
        for d in free:
            feat = None if embeddings is None else embeddings[d]
            t = _Track(z[d], feat, self.model, cfg.nn_budget, d, boxes[d])
            if cfg.n_init <= 1:
                t.confirmed, t.track_id = True, self.next_id
                self.next_id += 1
            self.tracks.append(t)
        return sorted((t.track_id, t.det_index) for t in self.tracks
                      if t.confirmed and t.time_since_update == 0)
