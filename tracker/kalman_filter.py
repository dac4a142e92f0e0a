"""A stateless constant-velocity Kalman filter in box space, batched over N tracks.

State (8): ``cx, cy, a, h, vcx, vcy, va, vh`` — box centre, aspect ratio (w/h), height and their
velocities. Measurement (4): ``xyah``. Noise follows Deep SORT (Wojke et al. 2017): standard
deviations proportional to the box height, so the filter behaves the same at every scale.

Every method takes and returns arrays for all tracks at once: ``mean`` (N, 8) and ``cov``
(N, 8, 8), float64. Nothing is kept between calls.
"""

from __future__ import annotations

import numpy as np

#: 0.95 quantile of the chi-square distribution for 1..4 degrees of freedom; the usual gate.
CHI2INV95 = {1: 3.8415, 2: 5.9915, 3: 7.8147, 4: 9.4877}

_DIAG8 = np.arange(8)

try:
    # numpy.linalg's batched inv/solve without their Python wrappers (input checks and error
    # state cost more than the 4x4 LAPACK calls at MOT16 density); the same gufuncs, so the
    # same bits. The matrices here are symmetric positive definite (R is added), never singular.
    from numpy.linalg import _umath_linalg

    def _inv(a: np.ndarray) -> np.ndarray:
        return _umath_linalg.inv(a, signature="d->d")

    def _solve(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return _umath_linalg.solve(a, b, signature="dd->d")
except (ImportError, AttributeError):  # pragma: no cover - another numpy layout
    _inv, _solve = np.linalg.inv, np.linalg.solve


def _diagonal(a: np.ndarray) -> np.ndarray:
    """Writable view of the diagonals of a C-contiguous (N, k, k) stack, shape (N, k)."""
    if not a.flags.c_contiguous:
        raise ValueError("expected a C-contiguous stack of matrices")
    n, k, _ = a.shape
    return a.reshape(n, k * k)[:, ::k + 1]


class KalmanFilter:
    """Constant-velocity model with height-proportional noise (Deep SORT's defaults).

    Args:
        std_weight_position: position noise as a fraction of box height (Deep SORT: 1/20).
        std_weight_velocity: velocity noise as a fraction of box height (Deep SORT: 1/160).
    """

    def __init__(self, std_weight_position: float = 1.0 / 20, std_weight_velocity: float = 1.0 / 160):
        if not std_weight_position > 0:
            raise ValueError(f"std_weight_position must be > 0, got {std_weight_position}")
        if not std_weight_velocity > 0:
            raise ValueError(f"std_weight_velocity must be > 0, got {std_weight_velocity}")
        self.std_weight_position = float(std_weight_position)
        self.std_weight_velocity = float(std_weight_velocity)
        wp, wv = self.std_weight_position, self.std_weight_velocity
        # noise std = height * scale + const, per state / measurement component
        self._q_scale = np.array([wp, wp, 0, wp, wv, wv, 0, wv])
        self._q_const = np.array([0, 0, 1e-2, 0, 0, 0, 1e-5, 0])
        self._r_scale = np.array([wp, wp, 0, wp])
        self._r_const = np.array([0, 0, 1e-1, 0])
        self.motion_mat = np.eye(8)
        self.motion_mat[:4, 4:] = np.eye(4)
        self.update_mat = np.eye(4, 8)

    # -- noise models -------------------------------------------------------------------------
    def initial_std(self, h: np.ndarray) -> np.ndarray:
        """(N,) heights -> (N, 8) standard deviations of a new track's state."""
        wp, wv = self.std_weight_position, self.std_weight_velocity
        return h[:, None] * np.array([2 * wp, 2 * wp, 0, 2 * wp, 10 * wv, 10 * wv, 0, 10 * wv]) \
            + np.array([0, 0, 1e-2, 0, 0, 0, 1e-5, 0])

    def process_noise_var(self, h: np.ndarray) -> np.ndarray:
        """(N,) heights -> (N, 8) diagonal of the process noise Q."""
        std = h[:, None] * self._q_scale + self._q_const
        return std * std

    def measurement_noise_var(self, h: np.ndarray,
                              confidence: np.ndarray | None = None) -> np.ndarray:
        """(N,) heights -> (N, 4) diagonal of the measurement noise R.

        With ``confidence`` (N,) in [0, 1], R is scaled by ``1 - confidence`` (NSA Kalman,
        Du et al. 2021): confident detections pull the state harder.
        """
        std = h[:, None] * self._r_scale + self._r_const
        var = std * std
        if confidence is not None:
            # keep a floor so that a score of 1.0 does not make R singular
            var = var * np.clip(1.0 - np.asarray(confidence, dtype=np.float64), 1e-2, 1.0)[:, None]
        return var

    # -- filter steps -------------------------------------------------------------------------
    def initiate(self, measurement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start tracks from unassociated measurements.

        measurement: (N, 4) ``xyah``. Returns mean (N, 8) with zero velocity, cov (N, 8, 8).
        """
        z = np.asarray(measurement, dtype=np.float64).reshape(-1, 4)
        n = z.shape[0]
        mean = np.zeros((n, 8))
        mean[:, :4] = z
        cov = np.zeros((n, 8, 8))
        cov[:, _DIAG8, _DIAG8] = self.initial_std(z[:, 3]) ** 2
        return mean, cov

    def predict(self, mean: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One time step ahead: ``x' = F x``, ``P' = F P F^T + Q``. Returns new arrays."""
        q = self.process_noise_var(mean[:, 3])
        new_mean = mean.copy()
        new_mean[:, :4] += mean[:, 4:]
        # F = [[I, I], [0, I]]: F P adds the velocity rows to the position rows, (F P) F^T
        # adds the velocity columns to the position columns.
        new_cov = cov.copy()
        new_cov[:, :4, :] += cov[:, 4:, :]
        new_cov[:, :, :4] += new_cov[:, :, 4:]
        _diagonal(new_cov)[...] += q
        return new_mean, new_cov

    def project(self, mean: np.ndarray, cov: np.ndarray,
                confidence: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """State distribution -> measurement space: ``(H x, H P H^T + R)``, (N, 4), (N, 4, 4)."""
        r = self.measurement_noise_var(mean[:, 3], confidence)
        proj_cov = cov[:, :4, :4].copy()
        _diagonal(proj_cov)[...] += r
        return mean[:, :4].copy(), proj_cov

    def update(self, mean: np.ndarray, cov: np.ndarray, measurement: np.ndarray,
               confidence: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Correct N states with N measurements (row i with row i).

        measurement: (N, 4) ``xyah``; confidence: optional (N,) in [0, 1] for NSA noise.
        Returns the corrected mean (N, 8) and cov (N, 8, 8).
        """
        proj_mean, proj_cov = self.project(mean, cov, confidence)
        pht = cov[:, :, :4]  # P H^T, (N, 8, 4)
        # K = P H^T S^-1; S is symmetric, so K^T = S^-1 (P H^T)^T
        gain = _solve(proj_cov, pht.transpose(0, 2, 1)).transpose(0, 2, 1)
        innovation = np.asarray(measurement, dtype=np.float64) - proj_mean
        new_mean = mean + np.einsum("nij,nj->ni", gain, innovation)
        # P - K S K^T = P - K (P H^T)^T
        new_cov = cov - gain @ pht.transpose(0, 2, 1)
        return new_mean, new_cov

    def gating_distance(self, mean: np.ndarray, cov: np.ndarray, measurements: np.ndarray,
                        only_position: bool = False) -> np.ndarray:
        """Squared Mahalanobis distance of every measurement to every track.

        mean (N, 8), cov (N, 8, 8), measurements (M, 4) ``xyah``. Returns (N, M). Compare with
        ``CHI2INV95[4]`` (or ``[2]`` with ``only_position``) to gate implausible pairs.
        """
        proj_mean, proj_cov = self.project(mean, cov)
        z = np.asarray(measurements, dtype=np.float64)
        if only_position:
            proj_mean, proj_cov, z = proj_mean[:, :2], proj_cov[:, :2, :2], z[:, :2]
        d = z[None, :, :] - proj_mean[:, None, :]  # (N, M, k)
        inv = _inv(proj_cov)  # (N, k, k), symmetric positive definite
        return np.einsum("nmi,nmi->nm", d @ inv, d)
