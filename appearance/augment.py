"""Batched training augmentation with torch ops (no torchvision).

Input and output: (B, 3, H, W) float32 RGB in [0, 255], on the CPU or a GPU. One random draw
per sample from a CPU ``torch.Generator`` the caller owns, so results are reproducible and a
batch on the GPU gets the same draws as on the CPU (the small parameter tensors are drawn on
the CPU and copied to the batch's device):

- geometry (one ``grid_sample``): horizontal flip, random translation of up to ``pad`` pixels
  (the random-crop-after-padding of ReID practice; uncovered pixels get the mean grey) and a
  random zoom;
- colour jitter: brightness, contrast, saturation, hue (rotation in YIQ space);
- random erasing (Zhong et al. 2020): a rectangle filled with uniform noise;
- optional random greyscale: with probability ``grey_p`` a sample becomes its luma (Y = 0.299 R
  + 0.587 G + 0.114 B) in all three channels, so that clothing colour, which changes with the
  camera, is not the only cue;
- optional low resolution: with probability ``lowres_p`` a sample is shrunk by a random factor in
  ``lowres_scale`` (area averaging) and enlarged back (bilinear), as small, distant people look
  after cropping;
- optional MOT-domain degradations (``domain``, see ``domain_augment``): occlusion by another
  crop, gamma and white balance, blur before the low-resolution step, JPEG artefacts after it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .domain_augment import DomainConfig, domain_shift, jpeg


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation strengths (0 turns a part off)."""

    flip_p: float = 0.5
    pad: int = 8
    zoom: float = 0.1
    brightness: float = 0.25
    contrast: float = 0.2
    saturation: float = 0.25
    hue_degrees: float = 10.0
    erase_p: float = 0.5
    erase_area: tuple[float, float] = (0.02, 0.3)
    erase_aspect: tuple[float, float] = (0.3, 3.3)
    lowres_p: float = 0.0
    lowres_scale: tuple[float, float] = (0.3, 1.0)
    grey_p: float = 0.0
    domain: DomainConfig = field(default_factory=DomainConfig)

    def __post_init__(self) -> None:
        lo, hi = self.lowres_scale
        if not 0 < lo <= hi <= 1:
            raise ValueError(f"lowres_scale={self.lowres_scale}: need 0 < lo <= hi <= 1")
        for name in ("flip_p", "erase_p", "lowres_p", "grey_p"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"{name}={v}: allowed range [0, 1]")
        for name in ("pad", "zoom", "brightness", "contrast", "saturation", "hue_degrees"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}={getattr(self, name)}: must be >= 0")
        if self.zoom >= 1 or max(self.brightness, self.contrast, self.saturation) >= 1:
            raise ValueError("zoom, brightness, contrast, saturation: allowed range [0, 1)")
        lo, hi = self.erase_area
        if not 0 < lo <= hi < 1:
            raise ValueError(f"erase_area={self.erase_area}: need 0 < lo <= hi < 1")
        lo, hi = self.erase_aspect
        if not 0 < lo <= hi:
            raise ValueError(f"erase_aspect={self.erase_aspect}: need 0 < lo <= hi")


def _uniform(n: int, lo: float, hi: float, gen: torch.Generator) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, generator=gen)


def geometric(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """Flip, translate, zoom with one bilinear resampling; borders get value 127.5."""
    b, _, h, w = x.shape
    flip = torch.where(torch.rand(b, generator=gen) < cfg.flip_p, -1.0, 1.0)
    scale = _uniform(b, 1.0 - cfg.zoom, 1.0 + cfg.zoom, gen)  # >1 shows more (zoom out)
    tx = _uniform(b, -1.0, 1.0, gen) * (2.0 * cfg.pad / w)
    ty = _uniform(b, -1.0, 1.0, gen) * (2.0 * cfg.pad / h)
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = scale * flip
    theta[:, 1, 1] = scale
    theta[:, 0, 2] = tx
    theta[:, 1, 2] = ty
    theta = theta.to(x.device)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x - 127.5, grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False) + 127.5


# RGB <-> YIQ (NTSC) matrices; hue is a rotation of the (I, Q) plane
_RGB2YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322],
                         [0.211, -0.523, 0.312]])
_YIQ2RGB = torch.linalg.inv(_RGB2YIQ)


def colour(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """Per-sample brightness, contrast, saturation and hue jitter; result clamped to [0, 255]."""
    b = x.shape[0]
    br = _uniform(b, 1 - cfg.brightness, 1 + cfg.brightness, gen).view(b, 1, 1, 1).to(x.device)
    ct = _uniform(b, 1 - cfg.contrast, 1 + cfg.contrast, gen).view(b, 1, 1, 1).to(x.device)
    sat = _uniform(b, 1 - cfg.saturation, 1 + cfg.saturation, gen)
    hue = _uniform(b, -1.0, 1.0, gen) * math.radians(cfg.hue_degrees)
    x = x * br
    grey = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).mean(dim=(1, 2))
    x = (x - grey.view(b, 1, 1, 1)) * ct + grey.view(b, 1, 1, 1)
    # saturation and hue together as one 3x3 colour matrix per sample: YIQ, scale+rotate IQ
    cos, sin = torch.cos(hue) * sat, torch.sin(hue) * sat
    m = torch.zeros(b, 3, 3)
    m[:, 0, 0] = 1.0
    m[:, 1, 1], m[:, 1, 2], m[:, 2, 1], m[:, 2, 2] = cos, -sin, sin, cos
    full = (_YIQ2RGB @ m @ _RGB2YIQ).to(x.device)  # (B, 3, 3)
    x = torch.einsum("bij,bjhw->bihw", full, x)
    return x.clamp(0.0, 255.0)


def random_grey(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """With probability grey_p per sample, replace R, G and B by the luma Y."""
    b = x.shape[0]
    on = (torch.rand(b, generator=gen) < cfg.grey_p).view(b, 1, 1, 1).to(x.device)
    y = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1).expand_as(x)
    return torch.where(on, y, x)


def random_erase(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator,
                 noise_gen: torch.Generator | None = None) -> torch.Tensor:
    """With probability erase_p per sample, fill a random rectangle with uniform noise.

    noise_gen: a generator on ``x``'s device to draw the noise image there (a GPU batch then
    needs no full-size CPU draw and copy; its noise differs from a CPU run's). None: the noise
    comes from ``gen`` on the CPU."""
    b, c, h, w = x.shape
    area = _uniform(b, *cfg.erase_area, gen) * h * w
    log_r = _uniform(b, math.log(cfg.erase_aspect[0]), math.log(cfg.erase_aspect[1]), gen)
    r = torch.exp(log_r)
    eh = torch.sqrt(area * r).clamp(1, h)
    ew = torch.sqrt(area / r).clamp(1, w)
    y0 = torch.rand(b, generator=gen) * (h - eh)
    x0 = torch.rand(b, generator=gen) * (w - ew)
    on = torch.rand(b, generator=gen) < cfg.erase_p
    ys = torch.arange(h, dtype=torch.float32).view(1, h, 1)
    xs = torch.arange(w, dtype=torch.float32).view(1, 1, w)
    inside = ((ys >= y0.view(b, 1, 1)) & (ys < (y0 + eh).view(b, 1, 1))
              & (xs >= x0.view(b, 1, 1)) & (xs < (x0 + ew).view(b, 1, 1)) & on.view(b, 1, 1))
    if noise_gen is None:
        noise = torch.rand(x.shape, generator=gen).to(x.device)
    else:
        noise = torch.rand(x.shape, generator=noise_gen, device=x.device)
    return torch.where(inside.unsqueeze(1).to(x.device), noise * 255.0, x)


def low_resolution(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator) -> torch.Tensor:
    """Shrink chosen samples by a random factor and enlarge them back to (H, W)."""
    b, _, h, w = x.shape
    on = torch.rand(b, generator=gen) < cfg.lowres_p
    scale = _uniform(b, *cfg.lowres_scale, gen)
    if not on.any():
        return x
    out = x.clone()
    for i in torch.nonzero(on).flatten().tolist():
        sh = max(4, int(round(h * float(scale[i]))))
        sw = max(2, int(round(w * float(scale[i]))))
        small = F.interpolate(x[i:i + 1], size=(sh, sw), mode="area")
        out[i:i + 1] = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
    return out


def augment(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator,
            noise_gen: torch.Generator | None = None) -> torch.Tensor:
    """All augmentations in order: MOT-domain occlusion, light, blur (if on), low resolution
    (if on), JPEG (if on), geometry, colour, greyscale (if on), erasing. (B, 3, H, W) float in
    [0, 255]. noise_gen: see ``random_erase``."""
    return _augment(x, cfg, gen, noise_gen, with_view=False)[0]


def augment_pair(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator,
                 noise_gen: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(augmented, undegraded view)``: the first is exactly ``augment(x, ...)`` (same draws,
    same result); the second is the same crop under the same geometry, colour and greyscale
    draws but without the degradations (MOT-domain occlusion / light / blur, low resolution,
    JPEG, erasing). A distillation teacher embeds the second: its target then matches the
    student's view in pose and colour while staying the sharp, unoccluded crop's."""
    return _augment(x, cfg, gen, noise_gen, with_view=True)


def _augment(x: torch.Tensor, cfg: AugmentConfig, gen: torch.Generator,
             noise_gen: torch.Generator | None, with_view: bool
             ) -> tuple[torch.Tensor, torch.Tensor | None]:
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"x: expected (B, 3, H, W), got {tuple(x.shape)}")
    view = x if with_view else None
    if cfg.domain.active:
        x = domain_shift(x, cfg.domain, gen)
    if cfg.lowres_p > 0:
        x = low_resolution(x, cfg, gen)
    if cfg.domain.jpeg_p > 0:
        x = jpeg(x, cfg.domain, gen)
    for step in (geometric, colour) + ((random_grey,) if cfg.grey_p > 0 else ()):
        if view is not None:
            # the view takes the same draws: replay the generator for the augmented batch
            state = gen.get_state()
            view = step(view, cfg, gen)
            gen.set_state(state)
        x = step(x, cfg, gen)
    if cfg.erase_p > 0:
        x = random_erase(x, cfg, gen, noise_gen)
    return x, view
