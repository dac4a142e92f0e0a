"""MOT-domain degradations for sharp, hand-cropped training images (CUHK-style).

Video crops of tracked people are small, soft, compressed, unevenly lit and often cut by
another person or object; the CUHK crops are none of these. ``domain_shift`` (before the
low-resolution step of ``augment``) and ``jpeg`` (after it) bring training crops closer:

- partial occlusion: a rectangle from the bottom or one side of the crop is replaced by the
  same rectangle of another crop of the batch (a passer-by, not noise);
- light: per-sample gamma (log-uniform in [1/g, g]) and white balance (per-channel gain);
- blur: Gaussian blur with a per-sample sigma (separable, one grouped convolution);
- JPEG: 8x8 block DCT quantised with the standard JPEG tables at a per-sample quality, with
  4:2:0 chroma subsampling (torch ops only, so it runs on a GPU batch too).

Same conventions as ``augment``: (B, 3, H, W) float32 RGB in [0, 255]; every random draw comes
from the caller's CPU ``torch.Generator`` (parameters are copied to the batch's device), one
draw per sample, nothing drawn for a part whose probability is 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class DomainConfig:
    """Probabilities (0 turns a part off) and ranges of the MOT-domain degradations."""

    occlude_p: float = 0.0
    occlude_frac: tuple[float, float] = (0.1, 0.4)
    light_p: float = 0.0
    gamma: float = 1.5
    white_balance: float = 0.1
    blur_p: float = 0.0
    blur_sigma: tuple[float, float] = (0.5, 1.5)
    jpeg_p: float = 0.0
    jpeg_quality: tuple[int, int] = (20, 80)

    def __post_init__(self) -> None:
        for name in ("occlude_p", "light_p", "blur_p", "jpeg_p"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name}={v}: allowed range [0, 1]")
        lo, hi = self.occlude_frac
        if not 0 < lo <= hi < 1:
            raise ValueError(f"occlude_frac={self.occlude_frac}: need 0 < lo <= hi < 1")
        if self.gamma < 1 or not 0 <= self.white_balance < 1:
            raise ValueError(f"gamma={self.gamma} must be >= 1, white_balance="
                             f"{self.white_balance} in [0, 1)")
        lo, hi = self.blur_sigma
        if not 0 < lo <= hi <= 5:
            raise ValueError(f"blur_sigma={self.blur_sigma}: need 0 < lo <= hi <= 5")
        lo, hi = self.jpeg_quality
        if not 1 <= lo <= hi <= 100:
            raise ValueError(f"jpeg_quality={self.jpeg_quality}: need 1 <= lo <= hi <= 100")

    @property
    def active(self) -> bool:
        return max(self.occlude_p, self.light_p, self.blur_p) > 0


MOT_DOMAIN = DomainConfig(occlude_p=0.3, light_p=0.5, blur_p=0.4, jpeg_p=0.5)
"""The strengths of ``cosmot reid train --domain-aug`` (recipe v2), fixed before any run."""


def _uniform(n: int, lo: float, hi: float, gen: torch.Generator) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen)


def occlude(x: torch.Tensor, cfg: DomainConfig, gen: torch.Generator) -> torch.Tensor:
    """With probability occlude_p, paste the bottom, left or right band (a random fraction of
    the height or width) of the next crop in the batch over the same band of this one."""
    b, _, h, w = x.shape
    on = torch.rand(b, generator=gen) < cfg.occlude_p
    side = torch.randint(0, 3, (b,), generator=gen)  # 0 bottom, 1 left, 2 right
    frac = _uniform(b, *cfg.occlude_frac, gen)
    ys = torch.arange(h, dtype=torch.float32).view(1, h, 1)
    xs = torch.arange(w, dtype=torch.float32).view(1, 1, w)
    f = frac.view(b, 1, 1)
    s = side.view(b, 1, 1)
    band = torch.where(s == 0, ys >= h * (1 - f),
                       torch.where(s == 1, xs < w * f, xs >= w * (1 - f)))
    mask = (band & on.view(b, 1, 1)).unsqueeze(1).to(x.device)
    return torch.where(mask, x.roll(1, dims=0), x)


def light(x: torch.Tensor, cfg: DomainConfig, gen: torch.Generator) -> torch.Tensor:
    """With probability light_p, gamma in [1/g, g] (log-uniform) and a gain in
    [1 - wb, 1 + wb] per channel; clamped to [0, 255]."""
    b = x.shape[0]
    on = torch.rand(b, generator=gen) < cfg.light_p
    log_g = _uniform(b, -math.log(cfg.gamma), math.log(cfg.gamma), gen)
    gain = _uniform(b * 3, 1 - cfg.white_balance, 1 + cfg.white_balance, gen).view(b, 3)
    gamma = torch.where(on, torch.exp(log_g), torch.ones(b)).view(b, 1, 1, 1).to(x.device)
    gain = torch.where(on.view(b, 1), gain, torch.ones(b, 3)).view(b, 3, 1, 1).to(x.device)
    y = 255.0 * (x.clamp(0, 255) / 255.0) ** gamma * gain
    return y.clamp(0.0, 255.0)


def blur(x: torch.Tensor, cfg: DomainConfig, gen: torch.Generator) -> torch.Tensor:
    """With probability blur_p, a Gaussian blur with sigma drawn from blur_sigma (reflect
    padding); other samples are passed through unchanged."""
    b, c, h, w = x.shape
    on = torch.rand(b, generator=gen) < cfg.blur_p
    sigma = _uniform(b, *cfg.blur_sigma, gen)
    if not on.any():
        return x
    r = math.ceil(3 * cfg.blur_sigma[1])
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (t.view(1, -1) / sigma.view(-1, 1)) ** 2)
    k = k / k.sum(dim=1, keepdim=True)
    delta = (t == 0).float().expand(b, -1)
    k = torch.where(on.view(b, 1), k, delta)  # (B, 2r+1)
    k = k.repeat_interleave(c, dim=0).to(x.device)  # one kernel per (sample, channel)
    y = F.pad(x.reshape(1, b * c, h, w), (r, r, r, r), mode="reflect")
    y = F.conv2d(y, k.view(b * c, 1, 1, -1), groups=b * c)
    y = F.conv2d(y, k.view(b * c, 1, -1, 1), groups=b * c)
    return y.view(b, c, h, w)


# the standard JPEG quantisation tables (ITU T.81 Annex K), luminance and chrominance
_Q_LUMA = torch.tensor([
    [16, 11, 10, 16, 24, 40, 51, 61], [12, 12, 14, 19, 26, 58, 60, 55],
    [14, 13, 16, 24, 40, 57, 69, 56], [14, 17, 22, 29, 51, 87, 80, 62],
    [18, 22, 37, 56, 68, 109, 103, 77], [24, 35, 55, 64, 81, 104, 113, 92],
    [49, 64, 78, 87, 103, 121, 120, 101], [72, 92, 95, 98, 112, 100, 103, 99]],
    dtype=torch.float32)
_Q_CHROMA = torch.full((8, 8), 99.0)
_Q_CHROMA[:4, :4] = torch.tensor([[17, 18, 24, 47], [18, 21, 26, 66], [24, 26, 56, 99],
                                  [47, 66, 99, 99]], dtype=torch.float32)


def _dct_matrix() -> torch.Tensor:
    n = torch.arange(8, dtype=torch.float64)
    d = torch.cos(math.pi * (2 * n.view(1, 8) + 1) * n.view(8, 1) / 16) * math.sqrt(2 / 8)
    d[0] /= math.sqrt(2)
    return d.float()


_DCT = _dct_matrix()


def quant_tables(quality: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B,) qualities 1..100 -> (B, 8, 8) luma and chroma tables (libjpeg's scaling)."""
    q = quality.float().clamp(1, 100)
    scale = torch.where(q < 50, 5000.0 / q, 200.0 - 2.0 * q).view(-1, 1, 1)
    luma = torch.floor((_Q_LUMA * scale + 50) / 100).clamp(min=1)
    chroma = torch.floor((_Q_CHROMA * scale + 50) / 100).clamp(min=1)
    return luma, chroma


def _quantise(plane: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
    """(B, H, W) plane (H, W multiples of 8), (B, 8, 8) tables -> plane after DCT, rounding
    to the table and inverse DCT."""
    b, h, w = plane.shape
    d = _DCT.to(plane.device)
    blocks = plane.view(b, h // 8, 8, w // 8, 8).permute(0, 1, 3, 2, 4)  # (B, h8, w8, 8, 8)
    coef = d @ (blocks - 128.0) @ d.t()
    t = table.to(plane.device).view(b, 1, 1, 8, 8)
    coef = torch.round(coef / t) * t
    out = d.t() @ coef @ d + 128.0
    return out.permute(0, 1, 3, 2, 4).reshape(b, h, w)


def jpeg(x: torch.Tensor, cfg: DomainConfig, gen: torch.Generator) -> torch.Tensor:
    """With probability jpeg_p, JPEG compression artefacts at a quality drawn uniformly from
    jpeg_quality (YCbCr, 4:2:0 chroma, 8x8 DCT quantisation); H and W must be multiples of
    16."""
    b, _, h, w = x.shape
    on = torch.rand(b, generator=gen) < cfg.jpeg_p
    quality = torch.randint(cfg.jpeg_quality[0], cfg.jpeg_quality[1] + 1, (b,), generator=gen)
    if not on.any():
        return x
    if h % 16 or w % 16:
        raise ValueError(f"jpeg: crop size {h}x{w} must be a multiple of 16 on both sides")
    luma_t, chroma_t = quant_tables(quality)
    r, g, bl = x[:, 0], x[:, 1], x[:, 2]
    y = 0.299 * r + 0.587 * g + 0.114 * bl
    cb = -0.168736 * r - 0.331264 * g + 0.5 * bl + 128.0
    cr = 0.5 * r - 0.418688 * g - 0.081312 * bl + 128.0
    y = _quantise(y, luma_t)
    chroma = F.avg_pool2d(torch.stack([cb, cr], 1), 2)  # (B, 2, H/2, W/2)
    cb = _quantise(chroma[:, 0], chroma_t)
    cr = _quantise(chroma[:, 1], chroma_t)
    chroma = F.interpolate(torch.stack([cb, cr], 1), size=(h, w), mode="bilinear",
                           align_corners=False) - 128.0
    cb, cr = chroma[:, 0], chroma[:, 1]
    out = torch.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], 1)
    return torch.where(on.view(b, 1, 1, 1).to(x.device), out.clamp(0.0, 255.0), x)


def domain_shift(x: torch.Tensor, cfg: DomainConfig, gen: torch.Generator) -> torch.Tensor:
    """Occlusion, light and blur (the parts whose probability is > 0), in that order."""
    if cfg.occlude_p > 0:
        x = occlude(x, cfg, gen)
    if cfg.light_p > 0:
        x = light(x, cfg, gen)
    if cfg.blur_p > 0:
        x = blur(x, cfg, gen)
    return x
