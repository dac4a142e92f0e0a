"""Re-identification evaluation: CMC rank-k and mean average precision (mAP).

Protocol (Market-1501 style): every query is ranked against the gallery by cosine distance;
gallery items of the same identity AND the same camera as the query are left out; queries with no
remaining true match are skipped. For single-camera video (all-vs-all), the same-identity crops
less than ``min_gap`` frames from the query are left out instead, so a query must be found again
at another time, not in its neighbouring frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ReidScores:
    """cmc: (max_rank,) float64, cmc[k-1] = fraction of queries with a true match in the top k.
    mAP: mean over queries of average precision. num_queries: queries that had a true match."""

    cmc: np.ndarray
    mAP: float
    num_queries: int

    def rank(self, k: int) -> float:
        return float(self.cmc[min(k, len(self.cmc)) - 1]) if len(self.cmc) else float("nan")


def cmc_map(dist: np.ndarray, q_ids: np.ndarray, g_ids: np.ndarray, q_cams: np.ndarray,
            g_cams: np.ndarray, max_rank: int = 10, exclude: np.ndarray | None = None
            ) -> ReidScores:
    """CMC and mAP from a (Q, G) distance matrix.

    q_ids/q_cams: (Q,) int; g_ids/g_cams: (G,) int. exclude: optional (Q, G) bool of pairs to
    leave out as well (e.g. a query's own image when query and gallery are one set).
    Ties are broken by gallery order (stable sort).
    """
    dist = np.asarray(dist, np.float64)
    q, g = dist.shape
    if max_rank < 1:
        raise ValueError(f"max_rank={max_rank}: must be >= 1")
    if q == 0 or g == 0:
        return ReidScores(np.full(max_rank, np.nan), float("nan"), 0)
    order = np.argsort(dist, axis=1, kind="stable")
    g_ids_s = np.asarray(g_ids)[order]
    g_cams_s = np.asarray(g_cams)[order]
    match = g_ids_s == np.asarray(q_ids)[:, None]
    remove = match & (g_cams_s == np.asarray(q_cams)[:, None])
    if exclude is not None:
        remove |= np.take_along_axis(np.asarray(exclude, bool), order, axis=1)
    valid = ~remove
    match &= valid
    has = match.any(axis=1)
    # ranks counted among the valid gallery entries only
    pos = np.cumsum(valid, axis=1) - 1  # 0-based rank of each valid entry
    first = np.where(match, pos, g).min(axis=1)
    ranks = np.arange(max_rank)
    if not has.any():  # no query has a true match left: undefined, without numpy warnings
        return ReidScores(np.full(max_rank, np.nan), float("nan"), 0)
    cmc = (first[has][:, None] <= ranks[None, :]).mean(axis=0)
    hits = np.cumsum(match, axis=1)
    precision = hits / (pos + 1).clip(min=1)
    ap = (precision * match).sum(axis=1)[has] / match.sum(axis=1)[has]
    return ReidScores(cmc.astype(np.float64), float(ap.mean()) if has.any() else float("nan"),
                      int(has.sum()))


def cosine_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(Q, D), (G, D) unit-length rows -> (Q, G) float64 ``1 - a.b``."""
    return 1.0 - np.asarray(a, np.float64) @ np.asarray(b, np.float64).T


def evaluate_all_vs_all(emb: np.ndarray, ids: np.ndarray, frames: np.ndarray, min_gap: int,
                        max_rank: int = 10) -> ReidScores:
    """Every crop of one video is a query against all the others; the same identity less than
    ``min_gap`` frames away (itself included) is left out. emb: (N, D) unit rows; ids, frames:
    (N,) int."""
    if min_gap < 1:
        raise ValueError(f"min_gap={min_gap}: must be >= 1 frame")
    n = len(emb)
    ids = np.asarray(ids)
    frames = np.asarray(frames)
    near = ((ids[:, None] == ids[None, :])
            & (np.abs(frames[:, None] - frames[None, :]) < min_gap))
    near |= np.eye(n, dtype=bool)
    unique_cams = np.arange(n)  # no camera rule: only the time gap applies
    return cmc_map(cosine_distance(emb, emb), ids, ids, unique_cams, unique_cams, max_rank,
                   exclude=near)


def evaluate_all_vs_all_cameras(emb: np.ndarray, ids: np.ndarray, cams: np.ndarray,
                                max_rank: int = 10) -> ReidScores:
    """Every image is a query against all the others; the same identity in the same camera
    (itself included) is left out. For still-image sets (no frame numbers)."""
    n = len(emb)
    return cmc_map(cosine_distance(emb, emb), ids, ids, cams, cams, max_rank,
                   exclude=np.eye(n, dtype=bool))


def evaluate_query_gallery(q_emb: np.ndarray, q_ids: np.ndarray, q_cams: np.ndarray,
                           g_emb: np.ndarray, g_ids: np.ndarray, g_cams: np.ndarray,
                           max_rank: int = 10) -> ReidScores:
    """Separate query and gallery sets (same identity and camera pairs excluded)."""
    return cmc_map(cosine_distance(q_emb, g_emb), q_ids, g_ids, q_cams, g_cams, max_rank)
