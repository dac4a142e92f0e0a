"""Metric-learning losses on batches of embeddings, vectorised over all pairs/triplets.

Shapes: ``emb`` (B, D) float (L2-normalised by the caller unless said otherwise), ``labels``
(B,) int64. Distances are Euclidean, ``d = sqrt(max(|a|^2 + |b|^2 - 2 a.b, eps))``. When a batch
holds no valid pair/triplet the loss is ``0 * emb.sum()``: zero, with zero gradients, and still
part of the autograd graph.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

_EPS = 1e-12


def pairwise_distance(emb: torch.Tensor) -> torch.Tensor:
    """(B, D) -> (B, B) Euclidean distances (diagonal ~ sqrt(eps), never NaN in backward)."""
    sq = (emb * emb).sum(dim=1)
    d2 = sq[:, None] + sq[None, :] - 2.0 * emb @ emb.t()
    return torch.sqrt(d2.clamp(min=_EPS))


def _masks(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    return same & ~eye, ~same


def batch_hard_triplet_loss(emb: torch.Tensor, labels: torch.Tensor, margin: float = 0.3,
                            mining: str = "hard") -> torch.Tensor:
    """Triplet loss ``relu(d(a, p) - d(a, n) + margin)``.

    mining="hard" (Hermans et al. 2017): per anchor, the farthest positive and the nearest
    negative; mean over anchors that have both. mining="semihard" (Schroff et al. 2015): per
    (anchor, positive) pair, the nearest negative farther than the positive (if none, the
    farthest negative); mean over pairs that have a negative.
    """
    if mining not in ("hard", "semihard"):
        raise ValueError(f"mining={mining!r}: allowed 'hard' or 'semihard'")
    if margin < 0:
        raise ValueError(f"margin={margin}: must be >= 0")
    d = pairwise_distance(emb)
    pos, neg = _masks(labels)
    inf = torch.tensor(float("inf"), dtype=d.dtype, device=d.device)
    if mining == "hard":
        valid = pos.any(dim=1) & neg.any(dim=1)
        if not valid.any():
            return 0.0 * emb.sum()
        hardest_pos = torch.where(pos, d, -inf).max(dim=1).values
        hardest_neg = torch.where(neg, d, inf).min(dim=1).values
        return F.relu(hardest_pos - hardest_neg + margin)[valid].mean()
    # semi-hard: for every (a, p), look at d(a, n) for all n
    a_idx, p_idx = torch.nonzero(pos, as_tuple=True)
    has_neg = neg[a_idx].any(dim=1)
    if not has_neg.any():
        return 0.0 * emb.sum()
    a_idx, p_idx = a_idx[has_neg], p_idx[has_neg]
    dp = d[a_idx, p_idx]
    dn = d[a_idx]  # (T, B)
    nmask = neg[a_idx]
    farther = nmask & (dn > dp[:, None])
    semi = torch.where(farther, dn, inf).min(dim=1).values
    easiest = torch.where(nmask, dn, -inf).max(dim=1).values
    chosen = torch.where(farther.any(dim=1), semi, easiest)
    return F.relu(dp - chosen + margin).mean()


def contrastive_loss(emb: torch.Tensor, labels: torch.Tensor, pos_margin: float = 0.0,
                     neg_margin: float = 0.7) -> torch.Tensor:
    """Contrastive loss (Hadsell et al. 2006) over all pairs i < j:
    mean over positive pairs of ``relu(d - pos_margin)^2`` plus mean over negative pairs of
    ``relu(neg_margin - d)^2`` (a term with no pairs counts 0)."""
    if pos_margin < 0 or neg_margin <= pos_margin:
        raise ValueError(f"pos_margin={pos_margin}, neg_margin={neg_margin}: need "
                         f"0 <= pos_margin < neg_margin")
    d = pairwise_distance(emb)
    pos, neg = _masks(labels)
    upper = torch.ones_like(pos).triu(diagonal=1)
    pos, neg = pos & upper, neg & upper
    total = 0.0 * emb.sum()
    if pos.any():
        total = total + F.relu(d[pos] - pos_margin).pow(2).mean()
    if neg.any():
        total = total + F.relu(neg_margin - d[neg]).pow(2).mean()
    return total


class CenterLoss(nn.Module):
    """Center loss (Wen et al. 2016): ``0.5 * mean_i |f_i - c_{y_i}|^2`` with one learned center
    per class; used next to a softmax loss, which keeps the classes apart."""

    def __init__(self, num_classes: int, dim: int):
        super().__init__()
        if num_classes < 1 or dim < 1:
            raise ValueError(f"num_classes={num_classes}, dim={dim}: both must be >= 1")
        self.centers = nn.Parameter(torch.randn(num_classes, dim) * 0.1)

    def forward(self, emb: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        if len(emb) == 0:
            return 0.0 * self.centers.sum()
        return 0.5 * (emb - self.centers[labels]).pow(2).sum(dim=1).mean()


def info_nce_loss(anchors: torch.Tensor, positives: torch.Tensor, allowed: torch.Tensor,
                  temperature: float = 0.1) -> torch.Tensor:
    """InfoNCE between two views (SimCLR/MoCo style), with chosen negatives.

    anchors, positives: (B, D) unit rows; row i of each shows the same object. allowed: (B, B)
    bool, True where ``positives[j]`` may serve as a negative for ``anchors[i]`` (the diagonal
    is ignored: it is the positive). loss_i = -log(exp(a_i.p_i / t) / sum_{j = i or allowed}
    exp(a_i.p_j / t)), averaged over both directions and over rows with at least one negative.
    """
    if temperature <= 0:
        raise ValueError(f"temperature={temperature}: must be > 0")
    b = len(anchors)
    eye = torch.eye(b, dtype=torch.bool, device=anchors.device)
    keep = (allowed.bool() & ~eye) | eye
    total, count = 0.0 * anchors.sum() + 0.0 * positives.sum(), 0
    for logits, k in ((anchors @ positives.t() / temperature, keep),
                      (positives @ anchors.t() / temperature, keep.t())):
        rows = (k & ~eye).any(dim=1)
        if rows.any():
            masked = logits.masked_fill(~k, float("-inf"))
            lse = torch.logsumexp(masked[rows], dim=1)
            total = total + (lse - logits.diagonal()[rows]).sum()
            count += int(rows.sum())
    return total / count if count else total
