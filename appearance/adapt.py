"""Self-supervised adaptation of a trained encoder to unlabelled video (no identity labels).

Crops come from detections (a det.txt or a detector's output) of the user's own sequences. For
each anchor crop the positive is a crop of the same confident tracklet at least ``min_gap``
frames away (or, if the tracklet is too short, the crop itself under another augmentation);
negatives are crops of other tracklets seen in the same frame, which must be other people, and
crops of other sequences (``negatives="cooccurring"``, the default), or every other tracklet of
the batch (``"batch"``, SimCLR-like, which may push apart two tracklets of one person). The InfoNCE loss on these pairs is added to a
batch-hard triplet loss on labelled training crops, which keeps the metric from drifting.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from .augment import AugmentConfig, augment
from .crops import CropSet
from .losses import batch_hard_triplet_loss, info_nce_loss
from .model import EmbeddingNet
from .sampler import PKSampler
from .tracklets import cooccurrence, link_tracklets
from .train import lr_factor, to_tensor


@dataclass(frozen=True)
class UnlabelledSet:
    """Detection crops of unlabelled video.

    images: (N, h, w, 3) uint8 RGB; frames: (N,) int64; tracklets: (N,) int64 ids unique over
    all sources; sources: (N,) int64 index into source_names.
    """

    images: np.ndarray
    frames: np.ndarray
    tracklets: np.ndarray
    sources: np.ndarray
    source_names: tuple[str, ...]

    def __len__(self) -> int:
        return int(len(self.images))


def unlabelled_from_detections(images: np.ndarray, frames: np.ndarray, boxes_xyxy: np.ndarray,
                               source: str, min_iou: float = 0.5) -> UnlabelledSet:
    """Link the detections of one video into tracklets (see ``link_tracklets``)."""
    tr = link_tracklets(frames, boxes_xyxy, min_iou=min_iou)
    n = len(images)
    return UnlabelledSet(images, np.asarray(frames, np.int64), tr, np.zeros(n, np.int64),
                         (source,))


def concat_unlabelled(sets: list[UnlabelledSet]) -> UnlabelledSet:
    """Join sets; tracklet ids are offset so that they stay unique."""
    if not sets:
        raise ValueError("no unlabelled sets to join")
    offset, tracks, sources, names = 0, [], [], []
    for s in sets:
        tracks.append(s.tracklets + offset)
        offset += int(s.tracklets.max()) + 1 if len(s) else 0
        sources.append(s.sources + len(names))
        names += list(s.source_names)
    return UnlabelledSet(np.concatenate([s.images for s in sets]),
                         np.concatenate([s.frames for s in sets]), np.concatenate(tracks),
                         np.concatenate(sources), tuple(names))


class PairBatcher:
    """Anchor/positive index pairs from unlabelled crops, grouped by frame.

    Each batch gathers whole frames (up to ``per_frame`` tracklets each, every tracklet once)
    until ``batch`` anchors are collected. ``batch()`` returns (anchor idx (B,), positive idx
    (B,), allowed negatives (B, B) bool).
    """

    def __init__(self, data: UnlabelledSet, batch: int = 64, per_frame: int = 8,
                 min_gap: int = 10, negatives: str = "cooccurring", seed: int = 0):
        if negatives not in ("cooccurring", "batch"):
            raise ValueError(f"negatives={negatives!r}: allowed 'cooccurring' or 'batch'")
        if batch < 2 or per_frame < 1 or min_gap < 0:
            raise ValueError(f"batch={batch} (>= 2), per_frame={per_frame} (>= 1), "
                             f"min_gap={min_gap} (>= 0)")
        self.data, self.b, self.per_frame, self.min_gap = data, batch, per_frame, min_gap
        self.negatives = negatives
        self.rng = np.random.default_rng(seed)
        key = data.sources * (1 << 32) + data.frames
        self.co = cooccurrence(key, data.tracklets)
        order = np.argsort(key, kind="stable")
        _, starts, counts = np.unique(key[order], return_index=True, return_counts=True)
        groups = np.split(order, starts[1:])
        self.frame_groups = [g for g in groups if len(g) >= 2] or groups
        t_order = np.argsort(data.tracklets, kind="stable")
        _, t_starts = np.unique(data.tracklets[t_order], return_index=True)
        self.track_members = np.split(t_order, t_starts[1:])

    def _positive(self, i: int) -> int:
        members = self.track_members[self.data.tracklets[i]]
        far = members[np.abs(self.data.frames[members] - self.data.frames[i]) >= self.min_gap]
        if len(far):
            return int(self.rng.choice(far))
        others = members[members != i]
        return int(self.rng.choice(others)) if len(others) else int(i)

    def batch(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        anchors: list[int] = []
        used: set[int] = set()
        for _ in range(10 * self.b):
            if len(anchors) >= self.b:
                break
            g = self.frame_groups[self.rng.integers(len(self.frame_groups))]
            pick = self.rng.permutation(g)[: self.per_frame]
            for i in pick:
                t = int(self.data.tracklets[i])
                if t not in used and len(anchors) < self.b:
                    used.add(t)
                    anchors.append(int(i))
        a = np.array(anchors, np.int64)
        p = np.array([self._positive(i) for i in a], np.int64)
        t = self.data.tracklets[a]
        if self.negatives == "cooccurring":
            src = self.data.sources[a]
            allowed = self.co[t[:, None], t[None, :]] | (src[:, None] != src[None, :])
        else:
            allowed = t[:, None] != t[None, :]
        return a, p, allowed


@dataclass(frozen=True)
class AdaptConfig:
    """steps: optimiser steps; each uses one unlabelled batch and one labelled P x K batch.
    sup_weight: weight of the labelled triplet term (0 = unlabelled data only)."""

    steps: int = 300
    lr: float = 2e-4
    weight_decay: float = 5e-4
    temperature: float = 0.1
    batch: int = 64
    per_frame: int = 8
    min_gap: int = 10
    negatives: str = "cooccurring"
    sup_weight: float = 1.0
    p: int = 16
    k: int = 4
    triplet_margin: float = 0.3
    seed: int = 0
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    def __post_init__(self) -> None:
        if self.steps < 1 or self.lr <= 0 or self.temperature <= 0 or self.sup_weight < 0:
            raise ValueError("steps >= 1, lr > 0, temperature > 0 and sup_weight >= 0 needed; "
                             f"got {self.steps}, {self.lr}, {self.temperature}, "
                             f"{self.sup_weight}")

    def to_dict(self) -> dict:
        return asdict(self)


def adapt(model: EmbeddingNet, unlabelled: UnlabelledSet, labelled: CropSet | None,
          config: AdaptConfig = AdaptConfig(), progress: bool = True,
          log: Callable[[str], None] = print) -> list[dict]:
    """Fine-tune ``model`` in place; returns the per-50-step log rows."""
    if unlabelled.images.shape[1:3] != tuple(model.config.input_hw):
        raise ValueError(f"unlabelled crops are {unlabelled.images.shape[1:3]}, the network "
                         f"takes {model.config.input_hw}")
    use_sup = labelled is not None and config.sup_weight > 0
    if use_sup and labelled.size_hw != tuple(model.config.input_hw):
        raise ValueError(f"labelled crops are {labelled.size_hw}, the network takes "
                         f"{model.config.input_hw}")
    history: list[dict] = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        gen = torch.Generator().manual_seed(config.seed + 1)
        pairs = PairBatcher(unlabelled, config.batch, config.per_frame, config.min_gap,
                            config.negatives, config.seed)
        if use_sup:
            labels, _ = labelled.labels()
            sampler = PKSampler(labels, config.p, config.k, config.seed)
        decay = [p for p in model.parameters() if p.ndim > 1]
        no_decay = [p for p in model.parameters() if p.ndim <= 1]
        opt = torch.optim.Adam([{"params": decay, "weight_decay": config.weight_decay},
                                {"params": no_decay, "weight_decay": 0.0}], lr=config.lr)
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=config.steps, desc="adapt", unit="step", leave=False)
        model.train()
        t0 = time.perf_counter()
        sums = {"nce": 0.0, "sup": 0.0}
        for step in range(config.steps):
            for g in opt.param_groups:
                g["lr"] = config.lr * lr_factor(step, config.steps, config.steps // 10, 0.01)
            a, p, allowed = pairs.batch()
            x = to_tensor(np.concatenate([unlabelled.images[a], unlabelled.images[p]]))
            parts = [augment(x, config.augment, gen)]
            if use_sup:
                idx = sampler.batch()
                parts.append(augment(to_tensor(labelled.images[idx]), config.augment, gen))
            emb = F.normalize(model.features(torch.cat(parts)), dim=1)
            b = len(a)
            nce = info_nce_loss(emb[:b], emb[b:2 * b], torch.from_numpy(allowed),
                                config.temperature)
            loss = nce
            if use_sup:
                sup = batch_hard_triplet_loss(emb[2 * b:], torch.from_numpy(labels[idx]),
                                              config.triplet_margin)
                loss = loss + config.sup_weight * sup
                sums["sup"] += sup.item()
            sums["nce"] += nce.item()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if bar is not None:
                bar.update(1)
            if (step + 1) % 50 == 0 or step + 1 == config.steps:
                n = (step % 50) + 1
                row = {"step": step + 1, "nce": sums["nce"] / n, "sup": sums["sup"] / n,
                       "seconds": time.perf_counter() - t0}
                history.append(row)
                log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                             for k, v in row.items()))
                sums = {"nce": 0.0, "sup": 0.0}
        if bar is not None:
            bar.close()
    model.eval()
    return history
