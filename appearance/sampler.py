"""P x K identity sampler: each batch holds P identities with K crops each."""

from __future__ import annotations

from typing import Iterator

import numpy as np


class PKSampler:
    """Batches of ``P * K`` indices: P distinct identities, K crops of each (drawn without
    replacement when an identity has at least K crops, with replacement otherwise).

    labels: (N,) int identity label per crop. An epoch has ``N // (P * K)`` batches (at least 1).
    The sampler owns its random generator (seeded), so two samplers never share state.
    """

    def __init__(self, labels: np.ndarray, p: int, k: int, seed: int = 0):
        labels = np.asarray(labels)
        if p < 1 or k < 1:
            raise ValueError(f"P={p}, K={k}: both must be >= 1")
        uniq, inverse = np.unique(labels, return_inverse=True)
        if len(uniq) < p:
            raise ValueError(f"P={p}: only {len(uniq)} identities in the data; lower P")
        self.p, self.k = p, k
        self.rng = np.random.default_rng(seed)
        order = np.argsort(inverse, kind="stable")
        counts = np.bincount(inverse.reshape(-1), minlength=len(uniq))
        self._groups = np.split(order, np.cumsum(counts)[:-1])
        self.batches_per_epoch = max(1, len(labels) // (p * k))

    def batch(self) -> np.ndarray:
        """One batch: (P * K,) int64 indices, grouped by identity."""
        ids = self.rng.choice(len(self._groups), size=self.p, replace=False)
        parts = []
        for i in ids:
            g = self._groups[i]
            parts.append(self.rng.choice(g, size=self.k, replace=len(g) < self.k))
        return np.concatenate(parts).astype(np.int64)

    def __iter__(self) -> Iterator[np.ndarray]:
        for _ in range(self.batches_per_epoch):
            yield self.batch()

    def __len__(self) -> int:
        return self.batches_per_epoch
