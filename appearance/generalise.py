"""Layers for domain generalisation of the embedding network (unseen cameras and scenes).

- ``IBN``: instance-batch normalisation (Pan et al., "Two at Once: Enhancing Learning and
  Generalization Capacities via IBN-Net", ECCV 2018): the first ``ratio`` of the channels are
  instance-normalised (each sample's own statistics per channel, which removes per-image
  contrast and colour casts), the rest batch-normalised (keeps discriminative content).
- ``MixStyle`` (Zhou et al., "Domain Generalization with MixStyle", ICLR 2021): during training,
  mixes the per-channel feature mean and std of each sample with those of another sample in
  the batch, synthesising new "styles"; the identity in eval mode.
- ``GeM``: generalised-mean pooling (Radenovic et al. 2018) with a learned exponent ``p``:
  average pooling at p = 1, tending to max pooling as p grows.
"""

from __future__ import annotations

import torch
from torch import nn


class IBN(nn.Module):
    """``forward(x)``: x (B, C, H, W) -> (B, C, H, W). Channels ``[0, n_in)`` go through
    ``InstanceNorm2d(affine=True)``, channels ``[n_in, C)`` through ``BatchNorm2d``, with
    ``n_in = round(C * ratio)`` (at least 1 and at most C - 1)."""

    def __init__(self, channels: int, ratio: float = 0.5):
        super().__init__()
        if channels < 2:
            raise ValueError(f"channels={channels}: IBN needs at least 2 channels")
        if not 0.0 < ratio < 1.0:
            raise ValueError(f"ratio={ratio}: allowed range (0, 1)")
        self.n_in = min(channels - 1, max(1, int(round(channels * ratio))))
        self.instance = nn.InstanceNorm2d(self.n_in, affine=True)
        self.batch = nn.BatchNorm2d(channels - self.n_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = torch.split(x, [self.n_in, x.shape[1] - self.n_in], dim=1)
        return torch.cat([self.instance(a.contiguous()), self.batch(b.contiguous())], dim=1)


class MixStyle(nn.Module):
    """``forward(x)``: x (B, C, H, W) -> (B, C, H, W).

    Training mode, with probability ``p`` per batch: each sample's features are normalised by
    their own per-channel mean and std (over H, W; treated as constants for the gradient) and
    re-styled with ``lam * own + (1 - lam) * other`` statistics, ``lam ~ Beta(alpha, alpha)``
    per sample and ``other`` a random permutation of the batch. Eval mode: the identity.
    Randomness comes from torch's global generator (seed it for reproducible training).
    """

    def __init__(self, p: float = 0.5, alpha: float = 0.1, eps: float = 1e-6):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p={p}: allowed range [0, 1]")
        if alpha <= 0:
            raise ValueError(f"alpha={alpha}: must be > 0")
        self.p, self.alpha, self.eps = p, alpha, eps
        self._beta = torch.distributions.Beta(torch.tensor(alpha), torch.tensor(alpha))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0 or x.shape[0] < 2:
            return x
        if float(torch.rand(())) >= self.p:
            return x
        b = x.shape[0]
        mu = x.mean(dim=(2, 3), keepdim=True).detach()
        sig = (x.var(dim=(2, 3), keepdim=True) + self.eps).sqrt().detach()
        normed = (x - mu) / sig
        lam = self._beta.sample((b, 1, 1, 1)).to(x.dtype)
        perm = torch.randperm(b)
        mu_mix = lam * mu + (1 - lam) * mu[perm]
        sig_mix = lam * sig + (1 - lam) * sig[perm]
        return normed * sig_mix + mu_mix

    def extra_repr(self) -> str:
        return f"p={self.p}, alpha={self.alpha}"


class GeM(nn.Module):
    """``forward(x)``: x (B, C, H, W), values >= 0 (after ReLU) -> (B, C):
    ``mean(clamp(x, eps) ** p) ** (1 / p)`` over H, W, with ``p`` learned (shape (1,))."""

    def __init__(self, p: float = 3.0, eps: float = 1e-6):
        super().__init__()
        if p < 1:
            raise ValueError(f"p={p}: GeM needs p >= 1")
        self.p = nn.Parameter(torch.tensor([float(p)]))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.p.clamp(min=1.0)
        return x.clamp(min=self.eps).pow(p).mean(dim=(2, 3)).pow(1.0 / p)

    def extra_repr(self) -> str:
        return f"p={float(self.p):.3f}"


__all__ = ["IBN", "MixStyle", "GeM"]
