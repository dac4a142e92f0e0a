"""The live tracks of one tracker, stored as a struct of arrays (one row per track).

Rows ``0..n-1`` are live; capacity grows by doubling. Removing tracks fills the holes with rows
from the tail, so only the moved rows are copied (a track's row may change between frames; its
``uid`` does not). Every per-track quantity is one array, so a frame's work is a few numpy
operations over all tracks.
"""

from __future__ import annotations

import numpy as np

TENTATIVE = 1
CONFIRMED = 2


class TrackSet:
    """Arrays for all live tracks.

    Per row: ``uid`` (internal, unique per tracker), ``track_id`` (public id, 0 until confirmed),
    ``state`` (TENTATIVE/CONFIRMED), ``hits``, ``age`` (frames since birth),
    ``time_since_update``, Kalman ``mean`` (8) and ``cov`` (8x8), the last matched detection's
    ``det_xyxy``, ``det_index``, ``score``, ``class_id``, ``fg_sum`` (the matched boxes'
    foreground shares summed, for ``min_foreground``), the state at that observation
    (``obs_mean``, ``obs_cov``, ``obs_xyah``) for re-updates after a gap, and the appearance
    ``gallery`` (B x D ring buffer filled from slot 0, ``gallery_pos`` its next slot,
    ``n_features`` how many features it has taken) and ``last_feature`` (D).
    """

    # Declared for readers and type checkers: (capacity, ...) arrays, rows 0..n-1 live. Each is
    # a view of one of the base arrays below (rebound when capacity grows).
    uid: np.ndarray                # (C,) int64
    track_id: np.ndarray           # (C,) int64, 0 while tentative
    state: np.ndarray              # (C,) int64, TENTATIVE or CONFIRMED
    hits: np.ndarray               # (C,) int64
    age: np.ndarray                # (C,) int64
    time_since_update: np.ndarray  # (C,) int64
    det_index: np.ndarray          # (C,) int64, row of the last matched detection in its frame
    class_id: np.ndarray           # (C,) int64
    gallery_pos: np.ndarray        # (C,) int64
    n_features: np.ndarray         # (C,) int64
    mean: np.ndarray               # (C, 8) float64, Kalman state (x, y, a, h and velocities)
    obs_mean: np.ndarray           # (C, 8) float64
    obs_xyah: np.ndarray           # (C, 4) float64
    det_xyxy: np.ndarray           # (C, 4) float64
    score: np.ndarray              # (C,) float64
    fg_sum: np.ndarray             # (C,) float64, summed foreground share of matched boxes
    cov: np.ndarray                # (C, 8, 8) float64
    obs_cov: np.ndarray            # (C, 8, 8) float64
    gallery: np.ndarray            # (C, budget, D) float32
    last_feature: np.ndarray       # (C, D) float32

    # Per-track fields live in a few base arrays (so that adding and removing rows touches few
    # arrays); each named field is a view of columns of one of them.
    _INT_FIELDS = ("uid", "track_id", "state", "hits", "age", "time_since_update", "det_index",
                   "class_id", "gallery_pos", "n_features")
    _FLOAT_FIELDS = (("mean", 8), ("obs_mean", 8), ("obs_xyah", 4), ("det_xyxy", 4), ("score", 1),
                     ("fg_sum", 1))
    _BASES = ("_ints", "_floats", "_covs", "gallery", "last_feature")

    def __init__(self, budget: int, capacity: int = 32):
        self.budget = budget
        self.n = 0
        self.dim = 0  # feature dimension; 0 until the first features arrive
        self._alloc(capacity)

    def _alloc(self, capacity: int) -> None:
        d = max(self.dim, 1)
        self._ints = np.zeros((capacity, len(self._INT_FIELDS)), np.int64)
        self._floats = np.zeros((capacity, sum(k for _, k in self._FLOAT_FIELDS)))
        self._covs = np.zeros((capacity, 2, 8, 8))
        self.gallery = np.zeros((capacity, self.budget, d), np.float32)
        self.last_feature = np.zeros((capacity, d), np.float32)
        self._make_views()

    def _make_views(self) -> None:
        for i, name in enumerate(self._INT_FIELDS):
            setattr(self, name, self._ints[:, i])
        col = 0
        for name, k in self._FLOAT_FIELDS:
            setattr(self, name, self._floats[:, col] if k == 1 else self._floats[:, col:col + k])
            col += k
        self.cov = self._covs[:, 0]
        self.obs_cov = self._covs[:, 1]

    @property
    def capacity(self) -> int:
        return self._ints.shape[0]

    def set_feature_dim(self, dim: int) -> None:
        """Fix the feature dimension (first frame with embeddings); existing rows get zeros."""
        if self.dim == dim:
            return
        self.dim = dim
        self.gallery = np.zeros((self.capacity, self.budget, dim), np.float32)
        self.last_feature = np.zeros((self.capacity, dim), np.float32)

    def _grow(self, needed: int) -> None:
        cap = self.capacity
        while cap < needed:
            cap *= 2
        if cap == self.capacity:
            return
        old = [getattr(self, f) for f in self._BASES]
        self._alloc(cap)
        for f, a in zip(self._BASES, old):
            getattr(self, f)[: self.n] = a[: self.n]

    def add(self, k: int) -> np.ndarray:
        """Make room for ``k`` new rows (zeroed) and return their indices."""
        self._grow(self.n + k)
        rows = np.arange(self.n, self.n + k)
        for f in self._BASES:
            getattr(self, f)[self.n:self.n + k] = 0
        self.n += k
        return rows

    def remove(self, dead: np.ndarray) -> None:
        """Remove the rows where the boolean mask ``dead`` (n,) is True."""
        keep_n = self.n - int(dead.sum())
        holes = dead[:keep_n].nonzero()[0]
        if holes.size:
            movers = keep_n + (~dead[keep_n:]).nonzero()[0]
            for f in self._BASES:
                a = getattr(self, f)
                a[holes] = a[movers]
        self.n = keep_n
