"""Galleries of deleted tracks, kept for a while so that a returning person gets its id back."""

from __future__ import annotations

import numpy as np

from .assignment import linear_assignment


class LostTracks:
    """Appearance galleries of deleted confirmed tracks, each with an expiry frame.

    ``gallery``: (L, B, D) float32 unit rows, ``track_id`` (L,), ``expires`` (L,) frame numbers.
    """

    def __init__(self) -> None:
        self.track_id = np.zeros(0, np.int64)
        self.expires = np.zeros(0, np.int64)
        self.gallery: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.track_id.shape[0])

    def add(self, track_id: np.ndarray, gallery: np.ndarray, expires: int) -> None:
        if len(track_id) == 0:
            return
        self.track_id = np.concatenate([self.track_id, track_id])
        self.expires = np.concatenate([self.expires, np.full(len(track_id), expires, np.int64)])
        self.gallery = gallery.copy() if self.gallery is None else np.concatenate(
            [self.gallery, gallery])

    def expire(self, frame: int) -> None:
        """Forget entries whose expiry frame has passed."""
        keep = self.expires >= frame
        if not keep.all():
            self._keep(keep)

    def _keep(self, keep: np.ndarray) -> None:
        self.track_id = self.track_id[keep]
        self.expires = self.expires[keep]
        self.gallery = self.gallery[keep]

    def claim(self, gallery: np.ndarray, max_distance: float) -> np.ndarray:
        """Match new tracks' galleries (K, B, D) to lost ones; matched entries are removed.

        The distance between two galleries is the smallest cosine distance between any of their
        features. Returns (K,) int64: the lost id each new track takes back, or 0.
        """
        k = gallery.shape[0]
        out = np.zeros(k, np.int64)
        if k == 0 or len(self) == 0:
            return out
        q = gallery.reshape(-1, gallery.shape[-1])
        g = self.gallery.reshape(-1, self.gallery.shape[-1])
        sim = (q @ g.T).reshape(k, gallery.shape[1], len(self), self.gallery.shape[1])
        dist = 1.0 - sim.max(axis=(1, 3))
        rows, cols = linear_assignment(np.where(dist <= max_distance, dist, np.inf), max_distance)
        out[rows] = self.track_id[cols]
        if rows.size:
            keep = np.ones(len(self), bool)
            keep[cols] = False
            self._keep(keep)
        return out
