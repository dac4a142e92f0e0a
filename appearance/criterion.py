"""The training objective chosen by name: a head and/or metric loss on a batch of features."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .heads import ArcFaceHead, CosFaceHead, CosineSoftmaxHead, LinearSoftmaxHead
from .losses import CenterLoss, batch_hard_triplet_loss, contrastive_loss

LOSSES = ("cosine_softmax", "softmax", "arcface", "cosface", "triplet", "contrastive",
          "center", "multi_similarity", "npair", "angular")
#: Metric losses taken from pytorch-metric-learning (not written here): name -> its class.
LIBRARY_LOSSES = {"multi_similarity": "MultiSimilarityLoss", "npair": "NPairsLoss",
                  "angular": "AngularLoss"}
#: Pair/triplet miners from pytorch-metric-learning for those losses ("none": every pair).
MINERS = {"none": None, "multi_similarity": "MultiSimilarityMiner",
          "distance_weighted": "DistanceWeightedMiner", "batch_hard": "BatchHardMiner"}
#: The library losses its CrossBatchMemory wrapper supports (NPairsLoss is not among them).
MEMORY_LOSSES = ("multi_similarity", "angular")
CLASSIFIERS = ("cosine_softmax", "softmax", "arcface", "cosface", "center")


@dataclass(frozen=True)
class LossConfig:
    """Which loss and its settings.

    name: one of LOSSES. "center" is plain softmax plus ``center_weight`` x center loss (the
        center loss alone has a trivial minimum). triplet_weight adds a batch-hard triplet term
        to any classification loss. label_smoothing applies to the cross-entropy losses.
    """

    name: str = "cosine_softmax"
    label_smoothing: float = 0.1
    scale_init: float = 10.0  # cosine softmax's initial kappa (then learned)
    margin_scale: float = 30.0  # ArcFace / CosFace scale s
    arcface_margin: float = 0.5
    cosface_margin: float = 0.35
    triplet_margin: float = 0.3
    triplet_mining: str = "hard"
    triplet_weight: float = 0.0
    contrastive_neg_margin: float = 0.7
    center_weight: float = 0.5
    margin_warmup_epochs: int = 0  # ArcFace / CosFace margin grows linearly from 0 over these
    miner: str = "none"  # pytorch-metric-learning miner for the library losses (MINERS)
    memory_size: int = 0  # > 0: the library loss sees a cross-batch memory of this many crops

    def __post_init__(self) -> None:
        if self.name not in LOSSES:
            raise ValueError(f"loss name={self.name!r}: allowed {', '.join(LOSSES)}")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ValueError(f"label_smoothing={self.label_smoothing}: allowed range [0, 1)")
        if self.triplet_mining not in ("hard", "semihard"):
            raise ValueError(f"triplet_mining={self.triplet_mining!r}: allowed 'hard' or "
                             f"'semihard'")
        if self.triplet_weight < 0 or self.center_weight < 0:
            raise ValueError("triplet_weight, center_weight: must be >= 0")
        if self.margin_warmup_epochs < 0:
            raise ValueError(f"margin_warmup_epochs={self.margin_warmup_epochs}: must be >= 0")
        if self.miner not in MINERS:
            raise ValueError(f"miner={self.miner!r}: allowed {', '.join(MINERS)}")
        if self.miner != "none" and self.name not in LIBRARY_LOSSES:
            raise ValueError(f"miner={self.miner!r} applies to the pytorch-metric-learning "
                             f"losses ({', '.join(LIBRARY_LOSSES)}), not to {self.name!r}")
        if self.memory_size < 0:
            raise ValueError(f"memory_size={self.memory_size}: must be >= 0 (0: no memory)")
        if self.memory_size and self.name not in MEMORY_LOSSES:
            raise ValueError(f"memory_size={self.memory_size} (a cross-batch memory) applies "
                             f"to {', '.join(MEMORY_LOSSES)}, not to {self.name!r}")


def library_loss(name: str, miner: str = "none", memory_size: int = 0, dim: int = 0):
    """``(loss, miner or None)`` from pytorch-metric-learning at its published defaults (the
    ``train`` extra installs it); ImportError naming the extra when it is missing. With
    ``memory_size`` > 0 the loss is the library's ``CrossBatchMemory`` (XBM, Wang et al. 2020)
    around it: each batch is compared with the last ``memory_size`` embeddings of ``dim``
    (the miner, if any, mines batch-to-memory pairs), and the returned miner is None."""
    try:
        from pytorch_metric_learning import losses, miners
    except ModuleNotFoundError as e:
        raise ModuleNotFoundError(f"loss {name!r} comes from pytorch-metric-learning: pip "
                                  f"install 'cosmot[train]' ({e})", name=e.name) from None
    loss = getattr(losses, LIBRARY_LOSSES[name])()
    mine = getattr(miners, MINERS[miner])() if MINERS[miner] else None
    if memory_size:
        xbm = losses.CrossBatchMemory(loss, dim, memory_size=memory_size, miner=mine)
        return ResumableMemory(xbm), None
    return loss, mine


class ResumableMemory(nn.Module):
    """A ``CrossBatchMemory`` whose write position travels in ``state_dict`` beside its
    contents (the library keeps it in plain attributes), so that a resumed run continues bit
    for bit."""

    def __init__(self, xbm: nn.Module):
        super().__init__()
        self.xbm = xbm

    def forward(self, emb: torch.Tensor, labels: torch.Tensor, pairs=None) -> torch.Tensor:
        return self.xbm(emb, labels, pairs)

    def get_extra_state(self) -> dict:
        return {"queue_idx": int(self.xbm.queue_idx),
                "has_been_filled": bool(self.xbm.has_been_filled)}

    def set_extra_state(self, state: dict) -> None:
        self.xbm.queue_idx = int(state["queue_idx"])
        self.xbm.has_been_filled = bool(state["has_been_filled"])


class Criterion(nn.Module):
    """``forward(features, labels) -> (loss, correct)``: features (B, D) before normalisation,
    labels (B,) int64 in [0, num_classes); correct = number of arg-max hits of the classifier
    (0 for pure metric losses)."""

    def __init__(self, config: LossConfig, dim: int, num_classes: int):
        super().__init__()
        self.config = config
        name = config.name
        self.head: nn.Module | None = None
        if name == "cosine_softmax":
            self.head = CosineSoftmaxHead(dim, num_classes, config.scale_init)
        elif name in ("softmax", "center"):
            self.head = LinearSoftmaxHead(dim, num_classes)
        elif name == "arcface":
            self.head = ArcFaceHead(dim, num_classes, config.margin_scale, config.arcface_margin)
        elif name == "cosface":
            self.head = CosFaceHead(dim, num_classes, config.margin_scale, config.cosface_margin)
        self.center = CenterLoss(num_classes, dim) if name == "center" else None
        self.full_margin = getattr(self.head, "m", None)
        self.metric_loss = self.miner = None
        if name in LIBRARY_LOSSES:
            self.metric_loss, self.miner = library_loss(name, config.miner, config.memory_size,
                                                        dim)

    def set_margin_factor(self, factor: float) -> None:
        """Scale the ArcFace / CosFace margin to ``factor`` (0..1) of its configured value (the
        margin warm-up); no effect on other losses."""
        if self.full_margin is not None:
            self.head.m = self.full_margin * min(1.0, max(0.0, factor))

    def forward(self, features: torch.Tensor, labels: torch.Tensor
                ) -> tuple[torch.Tensor, int]:
        cfg = self.config
        emb = F.normalize(features, dim=1)
        correct = 0
        if self.head is not None:
            logits = self.head(features, labels)
            loss = F.cross_entropy(logits, labels, label_smoothing=cfg.label_smoothing)
            correct = int((logits.argmax(dim=1) == labels).sum())
            if self.center is not None:
                loss = loss + cfg.center_weight * self.center(emb, labels)
            if cfg.triplet_weight > 0:
                loss = loss + cfg.triplet_weight * batch_hard_triplet_loss(
                    emb, labels, cfg.triplet_margin, cfg.triplet_mining)
        elif self.metric_loss is not None:
            pairs = self.miner(emb, labels) if self.miner is not None else None
            loss = self.metric_loss(emb, labels, pairs)
        elif cfg.name == "triplet":
            loss = batch_hard_triplet_loss(emb, labels, cfg.triplet_margin, cfg.triplet_mining)
        else:  # contrastive
            loss = contrastive_loss(emb, labels, 0.0, cfg.contrastive_neg_margin)
        return loss, correct
