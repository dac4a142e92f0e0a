"""``HistogramEncoder``: a colour-histogram baseline (no learning).

Each crop is resized to 128x64, split into horizontal stripes (head/torso/legs), and each stripe
gives a joint hue-saturation histogram plus a value histogram in HSV space. The concatenation is
square-rooted (Hellinger kernel) and normalised to unit length, so cosine distance compares
histograms.
"""

from __future__ import annotations

import cv2
import numpy as np

from .encoder import CropEncoder


class HistogramEncoder(CropEncoder):
    """stripes: horizontal bands; hue_bins x sat_bins joint bins and val_bins per band."""

    def __init__(self, stripes: int = 4, hue_bins: int = 8, sat_bins: int = 4, val_bins: int = 4,
                 input_hw: tuple[int, int] = (128, 64)):
        for name, v in (("stripes", stripes), ("hue_bins", hue_bins), ("sat_bins", sat_bins),
                        ("val_bins", val_bins)):
            if v < 1:
                raise ValueError(f"{name}={v}: must be >= 1")
        if input_hw[0] % stripes:
            raise ValueError(f"stripes={stripes}: must divide the crop height {input_hw[0]}")
        self.stripes, self.hue_bins, self.sat_bins, self.val_bins = (stripes, hue_bins,
                                                                      sat_bins, val_bins)
        self.input_hw = input_hw
        self.dim = stripes * (hue_bins * sat_bins + val_bins)

    def _embed_batch(self, crops: np.ndarray) -> np.ndarray:
        n = len(crops)
        hsv = np.stack([cv2.cvtColor(c, cv2.COLOR_RGB2HSV) for c in crops])  # H in [0, 180)
        h, w = self.input_hw
        band = np.repeat(np.arange(self.stripes), h // self.stripes)[None, :, None]
        band = np.broadcast_to(band, (n, h, w))
        hb = np.minimum(hsv[..., 0].astype(np.int64) * self.hue_bins // 180, self.hue_bins - 1)
        sb = hsv[..., 1].astype(np.int64) * self.sat_bins // 256
        vb = hsv[..., 2].astype(np.int64) * self.val_bins // 256
        item = np.broadcast_to(np.arange(n)[:, None, None], (n, h, w))
        per_band = self.hue_bins * self.sat_bins + self.val_bins
        base = item * self.dim + band * per_band
        counts = np.bincount((base + hb * self.sat_bins + sb).ravel(), minlength=n * self.dim)
        counts += np.bincount((base + self.hue_bins * self.sat_bins + vb).ravel(),
                              minlength=n * self.dim)
        return np.sqrt(counts.reshape(n, self.dim).astype(np.float32))
