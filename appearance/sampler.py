"""P x K identity samplers: each batch holds P identities with K crops each (``PKSampler``;
``BalancedPKSampler`` also spreads them over datasets and cameras)."""

from __future__ import annotations

from typing import Iterator

import numpy as np


class EpochOfBatches:
    """An epoch is ``batches_per_epoch`` calls of ``batch()`` (subclasses define both)."""

    batches_per_epoch: int

    def batch(self) -> np.ndarray:
        raise NotImplementedError

    def __iter__(self) -> Iterator[np.ndarray]:
        for _ in range(self.batches_per_epoch):
            yield self.batch()

    def __len__(self) -> int:
        return self.batches_per_epoch


class PKSampler(EpochOfBatches):
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


class BalancedPKSampler(EpochOfBatches):
    """P x K batches spread over identity spaces (datasets) and, per identity, over cameras.

    labels: (N,) int identity label per crop. domains: (N,) int dataset (identity space) of each
    crop, constant within an identity. cams: (N,) int camera of each crop.

    Each batch draws the dataset of each of its P identity slots with probability proportional
    to ``(identities in the dataset) ** power`` (power 1: as plain P x K; 0: every dataset
    alike; 0.5 in between), at least ``min(min_domains, datasets)`` different datasets per
    batch, identities without replacement within a dataset. The K crops of an identity are
    taken from its cameras in turn (K = 4 and two cameras: two crops of each), without
    replacement while an identity has enough crops. An epoch has ``N // (P * K)`` batches.
    """

    def __init__(self, labels: np.ndarray, domains: np.ndarray, cams: np.ndarray, p: int,
                 k: int, seed: int = 0, power: float = 0.5, min_domains: int = 2):
        labels, domains, cams = (np.asarray(a).reshape(-1) for a in (labels, domains, cams))
        if not len(labels) == len(domains) == len(cams):
            raise ValueError(f"labels, domains, cams: lengths {len(labels)}, {len(domains)}, "
                             f"{len(cams)} differ")
        if p < 1 or k < 1:
            raise ValueError(f"P={p}, K={k}: both must be >= 1")
        if power < 0:
            raise ValueError(f"power={power}: must be >= 0")
        uniq = np.unique(labels)
        if len(uniq) < p:
            raise ValueError(f"P={p}: only {len(uniq)} identities in the data; lower P")
        self.p, self.k = p, k
        self.rng = np.random.default_rng(seed)
        # per identity: a list of index arrays, one per camera
        self._cams: list[list[np.ndarray]] = []
        id_domain = []
        for lab in uniq:
            idx = np.flatnonzero(labels == lab)
            doms = np.unique(domains[idx])
            if len(doms) != 1:
                raise ValueError(f"identity {lab}: crops in datasets {doms.tolist()}; an "
                                 f"identity must lie in one dataset")
            id_domain.append(doms[0])
            self._cams.append([idx[cams[idx] == c] for c in np.unique(cams[idx])])
        id_domain = np.array(id_domain)
        self.domains = np.unique(id_domain)
        self._ids_of = [np.flatnonzero(id_domain == d) for d in self.domains]
        sizes = np.array([len(g) for g in self._ids_of], np.float64)
        self.weights = sizes ** power / (sizes ** power).sum()
        # P slots cannot hold more datasets than P (with P = 1 the draw never ended)
        self.min_domains = min(min_domains, len(self.domains), p)
        self.batches_per_epoch = max(1, len(labels) // (p * k))

    def _slots(self) -> np.ndarray:
        """(P,) dataset number of each identity slot."""
        nd = len(self.domains)
        while True:
            slots = self.rng.choice(nd, size=self.p, p=self.weights)
            counts = np.bincount(slots, minlength=nd)
            if (len(np.unique(slots)) >= self.min_domains
                    and all(counts[d] <= len(self._ids_of[d]) for d in range(nd))):
                return slots

    def _crops_of(self, ident: int) -> np.ndarray:
        groups = [self.rng.permutation(g) for g in self._cams[ident]]
        order = self.rng.permutation(len(groups))
        total = sum(len(g) for g in groups)
        out: list[int] = []
        pos = [0] * len(groups)
        while len(out) < min(self.k, total):
            for j in order:
                if pos[j] < len(groups[j]) and len(out) < self.k:
                    out.append(int(groups[j][pos[j]]))
                    pos[j] += 1
        if len(out) < self.k:  # fewer crops than K: fill with repeats
            out += self.rng.choice(np.concatenate(groups), self.k - len(out)).tolist()
        return np.array(out, np.int64)

    def batch(self) -> np.ndarray:
        """One batch: (P * K,) int64 indices, grouped by identity."""
        slots = self._slots()
        parts = []
        for d in np.unique(slots):
            n = int((slots == d).sum())
            for ident in self.rng.choice(self._ids_of[d], size=n, replace=False):
                parts.append(self._crops_of(int(ident)))
        return np.concatenate(parts).astype(np.int64)
