"""Offline post-processing of finished tracks: gap interpolation and RTS smoothing.

Off by default (an online tracker cannot look ahead). Both work on a whole sequence's results
given as arrays: ``frames`` (N,) int, ``ids`` (N,) int, ``tlwh`` (N, 4) float, ``scores`` (N,).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import tlwh_to_xyxy, xyah_to_xyxy, xyxy_to_tlwh, xyxy_to_xyah
from .kalman_filter import KalmanFilter


@dataclass(frozen=True)
class TrackRows:
    """Results of a sequence, sorted by id then frame. frames (N,), ids (N,), tlwh (N, 4),
    scores (N,)."""

    frames: np.ndarray
    ids: np.ndarray
    tlwh: np.ndarray
    scores: np.ndarray

    @staticmethod
    def from_arrays(frames, ids, tlwh, scores=None) -> "TrackRows":
        frames = np.asarray(frames, np.int64)
        ids = np.asarray(ids, np.int64)
        tlwh = np.asarray(tlwh, np.float64).reshape(-1, 4)
        scores = np.ones(len(frames)) if scores is None else np.asarray(scores, np.float64)
        order = np.lexsort((frames, ids))
        return TrackRows(frames[order], ids[order], tlwh[order], scores[order])

    def by_frame(self) -> "TrackRows":
        order = np.lexsort((self.ids, self.frames))
        return TrackRows(self.frames[order], self.ids[order], self.tlwh[order],
                         self.scores[order])

    def _segments(self):
        starts = np.flatnonzero(np.r_[True, self.ids[1:] != self.ids[:-1]])
        ends = np.r_[starts[1:], len(self.ids)]
        return zip(starts, ends)


def interpolate_gaps(rows: TrackRows, max_gap: int) -> TrackRows:
    """Fill gaps of at most ``max_gap`` missing frames inside each track by linear interpolation
    of the box; filled rows get the lower score of the two ends."""
    if max_gap < 1:
        raise ValueError(f"max_gap = {max_gap}: must be >= 1")
    new_f, new_i, new_b, new_s = [], [], [], []
    for s, e in rows._segments():
        f = rows.frames[s:e]
        step = np.diff(f)
        for k in np.flatnonzero((step > 1) & (step <= max_gap + 1)):
            missing = np.arange(f[k] + 1, f[k + 1])
            t = ((missing - f[k]) / (f[k + 1] - f[k]))[:, None]
            new_f.append(missing)
            new_i.append(np.full(missing.size, rows.ids[s]))
            new_b.append(rows.tlwh[s + k] * (1 - t) + rows.tlwh[s + k + 1] * t)
            new_s.append(np.full(missing.size, min(rows.scores[s + k], rows.scores[s + k + 1])))
    if not new_f:
        return rows
    return TrackRows.from_arrays(np.concatenate([rows.frames, *new_f]),
                                 np.concatenate([rows.ids, *new_i]),
                                 np.concatenate([rows.tlwh, *new_b]),
                                 np.concatenate([rows.scores, *new_s]))


def smooth_tracks(rows: TrackRows, kf: KalmanFilter | None = None) -> TrackRows:
    """Rauch-Tung-Striebel smoothing of each track with the tracker's motion model (filterpy's
    ``rts_smoother``); frames missing inside a track are predicted through, not output."""
    # imported here: filterpy pulls scipy.stats (~0.6 s), which only smoothing needs
    from filterpy.kalman import KalmanFilter as FilterpyKF

    kf = kf or KalmanFilter()
    out = rows.tlwh.copy()
    for s, e in rows._segments():
        if e - s < 3:
            continue
        f = rows.frames[s:e]
        z = xyxy_to_xyah(tlwh_to_xyxy(rows.tlwh[s:e]))
        span = np.arange(f[0], f[-1] + 1)
        zs = [None] * span.size
        for k, fr in enumerate(f):
            zs[fr - f[0]] = z[k]
        ref = FilterpyKF(dim_x=8, dim_z=4)
        ref.F, ref.H = kf.motion_mat, kf.update_mat
        mean, cov = kf.initiate(z[:1])
        ref.x, ref.P = mean[0], cov[0]
        xs, ps, qs = [], [], []
        for zk in zs:
            q = np.diag(kf.process_noise_var(ref.x[3:4])[0])
            ref.predict(Q=q)
            if zk is not None:
                ref.update(zk, R=np.diag(kf.measurement_noise_var(ref.x[3:4])[0]))
            xs.append(ref.x.copy())
            ps.append(ref.P.copy())
            qs.append(q)
        xs_s, _, _, _ = ref.rts_smoother(np.array(xs), np.array(ps), Qs=np.array(qs))
        keep = f - f[0]
        out[s:e] = xyxy_to_tlwh(xyah_to_xyxy(xs_s[keep, :4]))
    return TrackRows(rows.frames, rows.ids, out, rows.scores)


class TrackCollector:
    """Collects a sequence's per-frame outputs for post-processing once it has ended."""

    def __init__(self) -> None:
        self._parts: list[tuple] = []

    def add(self, frame: int, ids: np.ndarray, tlwh: np.ndarray, scores: np.ndarray) -> None:
        self._parts.append((np.full(len(ids), frame, np.int64), ids, tlwh, scores))

    def rows(self) -> TrackRows:
        if not self._parts:
            return TrackRows.from_arrays(np.zeros(0), np.zeros(0), np.zeros((0, 4)), np.zeros(0))
        return TrackRows.from_arrays(*(np.concatenate(c) for c in zip(*self._parts)))


def postprocess(rows: TrackRows, interpolate: int = 0, smooth: bool = False,
                kf: KalmanFilter | None = None) -> TrackRows:
    """Gap interpolation (``interpolate`` > 0: largest gap filled) then RTS smoothing."""
    if interpolate > 0:
        rows = interpolate_gaps(rows, interpolate)
    if smooth:
        rows = smooth_tracks(rows, kf)
    return rows
