"""The training objective chosen by name: a head and/or metric loss on a batch of features."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .heads import ArcFaceHead, CosFaceHead, CosineSoftmaxHead, LinearSoftmaxHead
from .losses import CenterLoss, batch_hard_triplet_loss, contrastive_loss

LOSSES = ("cosine_softmax", "softmax", "arcface", "cosface", "triplet", "contrastive",
          "center")
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
        elif cfg.name == "triplet":
            loss = batch_hard_triplet_loss(emb, labels, cfg.triplet_margin, cfg.triplet_mining)
        else:  # contrastive
            loss = contrastive_loss(emb, labels, 0.0, cfg.contrastive_neg_margin)
        return loss, correct
