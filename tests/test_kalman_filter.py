"""The batched Kalman filter against filterpy's KalmanFilter, step by step."""

import numpy as np
import pytest
from filterpy.kalman import KalmanFilter as FilterpyKF
from scipy.spatial.distance import mahalanobis
from scipy.stats import chi2

from cosmot.tracker.kalman_filter import CHI2INV95, KalmanFilter


def _filterpy_reference(kf: KalmanFilter, z0: np.ndarray) -> FilterpyKF:
    ref = FilterpyKF(dim_x=8, dim_z=4)
    ref.F = kf.motion_mat.copy()
    ref.H = kf.update_mat.copy()
    mean, cov = kf.initiate(z0[None])
    ref.x = mean[0].copy()
    ref.P = cov[0].copy()
    return ref


@pytest.mark.parametrize("seed", range(5))
def test_matches_filterpy_step_by_step(seed):
    rng = np.random.default_rng(seed)
    kf = KalmanFilter()
    n_tracks, n_steps = 6, 40
    z = np.empty((n_steps, n_tracks, 4))
    z[0] = np.c_[rng.uniform(100, 1800, (n_tracks, 2)), rng.uniform(0.3, 0.6, n_tracks),
                 rng.uniform(50, 400, n_tracks)]
    vel = rng.normal(0, 3, (n_tracks, 4)) * [1, 1, 0.001, 0.5]
    for k in range(1, n_steps):
        z[k] = z[k - 1] + vel + rng.normal(0, 1, (n_tracks, 4)) * [2, 2, 0.005, 1]
    mean, cov = kf.initiate(z[0])
    refs = [_filterpy_reference(kf, z[0, i]) for i in range(n_tracks)]
    for k in range(1, n_steps):
        # filterpy needs Q and R of the current state (Deep SORT's height-proportional noise)
        for i, ref in enumerate(refs):
            ref.Q = np.diag(kf.process_noise_var(ref.x[3:4])[0])
            ref.predict()
        mean, cov = kf.predict(mean, cov)
        for i, ref in enumerate(refs):
            np.testing.assert_allclose(mean[i], ref.x, rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(cov[i], ref.P, rtol=1e-9, atol=1e-9)
        # every third step is a miss (no update)
        if k % 3 == 0:
            continue
        for i, ref in enumerate(refs):
            ref.R = np.diag(kf.measurement_noise_var(ref.x[3:4])[0])
            ref.update(z[k, i])
        mean, cov = kf.update(mean, cov, z[k])
        for i, ref in enumerate(refs):
            np.testing.assert_allclose(mean[i], ref.x, rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(cov[i], ref.P, rtol=1e-9, atol=1e-7)


def test_nsa_noise_scales_measurement_noise():
    kf = KalmanFilter()
    h = np.array([100.0, 100.0])
    base = kf.measurement_noise_var(h)
    scaled = kf.measurement_noise_var(h, confidence=np.array([0.0, 0.75]))
    np.testing.assert_allclose(scaled[0], base[0])
    np.testing.assert_allclose(scaled[1], base[1] * 0.25)


def test_gating_distance_is_squared_mahalanobis():
    rng = np.random.default_rng(3)
    kf = KalmanFilter()
    mean, cov = kf.initiate(np.array([[500, 300, 0.4, 180], [900, 500, 0.5, 90.0]]))
    mean, cov = kf.predict(mean, cov)
    z = mean[:, :4][:, None, :] + rng.normal(0, 5, (2, 5, 4)) * [1, 1, 0.001, 1]
    z = z.reshape(-1, 4)
    d = kf.gating_distance(mean, cov, z)
    assert d.shape == (2, 10)
    pm, pc = kf.project(mean, cov)
    for i in range(2):
        vi = np.linalg.inv(pc[i])
        for j in range(10):
            assert d[i, j] == pytest.approx(mahalanobis(z[j], pm[i], vi) ** 2, rel=1e-9)
    dp = kf.gating_distance(mean, cov, z, only_position=True)
    assert dp[0, 0] == pytest.approx(mahalanobis(z[0, :2], pm[0, :2],
                                                 np.linalg.inv(pc[0, :2, :2])) ** 2, rel=1e-9)


def test_chi2_table_matches_scipy():
    for dof, value in CHI2INV95.items():
        assert value == pytest.approx(chi2.ppf(0.95, dof), abs=1e-4)


def test_predict_does_not_modify_inputs_and_keeps_covariance_symmetric():
    kf = KalmanFilter()
    mean, cov = kf.initiate(np.array([[10, 20, 0.5, 50.0]]))
    m0, c0 = mean.copy(), cov.copy()
    for _ in range(10):
        mean2, cov2 = kf.predict(mean, cov)
    np.testing.assert_array_equal(mean, m0)
    np.testing.assert_array_equal(cov, c0)
    np.testing.assert_allclose(cov2, cov2.transpose(0, 2, 1))
    assert (np.linalg.eigvalsh(cov2) > 0).all()


def test_rejects_bad_noise_weights():
    with pytest.raises(ValueError, match="std_weight_position"):
        KalmanFilter(std_weight_position=0)
