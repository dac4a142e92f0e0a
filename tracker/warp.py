"""Camera-motion compensation of Kalman states, given the frame-to-frame image transform.

The transform (estimated in the application layer, e.g. with OpenCV on downscaled frames) is a
2x3 affine matrix ``A = [R | t]`` that maps pixel coordinates of the previous frame to the
current one. Applied to a state ``cx, cy, a, h, vcx, vcy, va, vh``: the centre becomes
``R c + t``, the centre velocity ``R v``, height and its velocity scale by ``s = sqrt(|det R|)``,
the aspect ratio is unchanged. Covariances transform with the same (linear) Jacobian.
"""

from __future__ import annotations

import numpy as np


def validate_warp(warp: np.ndarray) -> np.ndarray:
    """A 2x3 affine matrix (a 3x3 homography is reduced to its affine part)."""
    w = np.asarray(warp, dtype=np.float64)
    if w.shape == (3, 3):
        w = w[:2] / w[2, 2]
    if w.shape != (2, 3) or not np.isfinite(w).all():
        raise ValueError(f"warp must be a finite 2x3 affine (or 3x3 homography) matrix, got "
                         f"shape {np.shape(warp)}")
    return w


def warp_jacobian(warp: np.ndarray) -> np.ndarray:
    """The 8x8 linear map of the state (without the translation)."""
    r = warp[:2, :2]
    s = float(np.sqrt(abs(np.linalg.det(r))))
    j = np.zeros((8, 8))
    for off in (0, 4):
        j[off:off + 2, off:off + 2] = r
        j[off + 2, off + 2] = 1.0
        j[off + 3, off + 3] = s
    return j


def warp_states(mean: np.ndarray, cov: np.ndarray, warp: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Move N states (N, 8) and covariances (N, 8, 8) into the current frame's coordinates."""
    w = validate_warp(warp)
    j = warp_jacobian(w)
    new_mean = mean @ j.T
    new_mean[:, :2] += w[:, 2]
    new_cov = j @ cov @ j.T
    return new_mean, new_cov


def warp_points(xyah: np.ndarray, warp: np.ndarray) -> np.ndarray:
    """Move N measurements (N, 4) ``xyah`` into the current frame's coordinates."""
    w = validate_warp(warp)
    out = np.asarray(xyah, dtype=np.float64).copy()
    out[:, :2] = out[:, :2] @ w[:, :2].T + w[:, 2]
    out[:, 3] *= float(np.sqrt(abs(np.linalg.det(w[:, :2]))))
    return out
