"""Classification heads for identity-supervised training: features -> class logits.

Each head maps (B, D) features (not normalised) and (B,) int64 labels to (B, C) logits for
cross-entropy; the labels are needed by the margin heads (ArcFace, CosFace), which change the
target class's logit only.

- ``CosineSoftmaxHead``: Wojke & Bewley's cosine softmax: ``kappa * cos(w_c, f)`` with unit
  class weights and a learned scale kappa (kept positive through softplus).
- ``LinearSoftmaxHead``: plain ``W f + b`` softmax.
- ``ArcFaceHead``: ``s * cos(theta_y + m)`` for the target class (Deng et al. 2019).
- ``CosFaceHead``: ``s * (cos(theta_y) - m)`` for the target class (Wang et al. 2018).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def _check(dim: int, num_classes: int) -> None:
    if dim < 1:
        raise ValueError(f"dim={dim}: must be >= 1")
    if num_classes < 2:
        raise ValueError(f"num_classes={num_classes}: need at least 2 identities to train")


class _CosineHead(nn.Module):
    def __init__(self, dim: int, num_classes: int):
        super().__init__()
        _check(dim, num_classes)
        self.weight = nn.Parameter(torch.randn(num_classes, dim) * 0.01)

    def cosine(self, features: torch.Tensor) -> torch.Tensor:
        """(B, D) -> (B, C) cosine similarity of each feature with each class weight."""
        return F.normalize(features, dim=1) @ F.normalize(self.weight, dim=1).t()


class CosineSoftmaxHead(_CosineHead):
    """Logits ``kappa * cos``; kappa = softplus(raw) starts at ``scale_init``."""

    def __init__(self, dim: int, num_classes: int, scale_init: float = 10.0):
        super().__init__(dim, num_classes)
        if scale_init <= 0:
            raise ValueError(f"scale_init={scale_init}: must be > 0")
        # inverse softplus so that softplus(raw) == scale_init
        self.raw_scale = nn.Parameter(torch.tensor(math.log(math.expm1(scale_init))))

    @property
    def scale(self) -> torch.Tensor:
        return F.softplus(self.raw_scale)

    def forward(self, features: torch.Tensor, labels: torch.Tensor | None = None
                ) -> torch.Tensor:
        return self.scale * self.cosine(features)


class LinearSoftmaxHead(nn.Module):
    """Plain fully connected softmax classifier on the raw features."""

    def __init__(self, dim: int, num_classes: int):
        super().__init__()
        _check(dim, num_classes)
        self.fc = nn.Linear(dim, num_classes)

    def forward(self, features: torch.Tensor, labels: torch.Tensor | None = None
                ) -> torch.Tensor:
        return self.fc(features)


class ArcFaceHead(_CosineHead):
    """Additive angular margin ``m`` (radians) on the target class, scale ``s``.

    Where ``theta + m`` would pass pi, the target logit follows ``cos(theta) - m sin(m)``
    instead (keeps it monotonic), as in the reference formulation.
    """

    def __init__(self, dim: int, num_classes: int, scale: float = 30.0, margin: float = 0.5):
        super().__init__(dim, num_classes)
        if scale <= 0:
            raise ValueError(f"scale={scale}: must be > 0")
        if not 0.0 <= margin < math.pi / 2:
            raise ValueError(f"margin={margin}: allowed range [0, pi/2) radians")
        self.s, self.m = scale, margin

    def forward(self, features: torch.Tensor, labels: torch.Tensor | None = None
                ) -> torch.Tensor:
        cos = self.cosine(features)
        if labels is None:
            return self.s * cos
        sin = torch.sqrt((1.0 - cos * cos).clamp(min=1e-9))
        phi = cos * math.cos(self.m) - sin * math.sin(self.m)
        phi = torch.where(cos > math.cos(math.pi - self.m), phi,
                          cos - self.m * math.sin(self.m))
        onehot = F.one_hot(labels, cos.shape[1]).to(cos.dtype)
        return self.s * (onehot * phi + (1.0 - onehot) * cos)


class CosFaceHead(_CosineHead):
    """Additive cosine margin ``m`` on the target class, scale ``s``."""

    def __init__(self, dim: int, num_classes: int, scale: float = 30.0, margin: float = 0.35):
        super().__init__(dim, num_classes)
        if scale <= 0:
            raise ValueError(f"scale={scale}: must be > 0")
        if not 0.0 <= margin < 1.0:
            raise ValueError(f"margin={margin}: allowed range [0, 1)")
        self.s, self.m = scale, margin

    def forward(self, features: torch.Tensor, labels: torch.Tensor | None = None
                ) -> torch.Tensor:
        cos = self.cosine(features)
        if labels is None:
            return self.s * cos
        onehot = F.one_hot(labels, cos.shape[1]).to(cos.dtype)
        return self.s * (cos - self.m * onehot)
