"""Camera-motion estimation (OpenCV) and compensation of track states."""

import cv2
import numpy as np
import pytest

from cosmot.pipeline.camera_motion import CameraMotionEstimator
from cosmot.tracker import Tracker, TrackerConfig
from cosmot.tracker.warp import warp_states
from cosmot.tracker.geometry import xyah_to_xyxy, xyxy_to_xyah
from cosmot.tracker.kalman_filter import KalmanFilter


def _texture(h=480, w=640, seed=0):
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, (h // 8, w // 8, 3), dtype=np.uint8)
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_CUBIC)


@pytest.mark.parametrize("method, scale", [("sparse", 1.02), ("ecc", 1.0)])
def test_estimates_known_similarity(method, scale):
    """sparse fits a similarity (with scale); ecc a Euclidean motion (rotation + shift)."""
    img = _texture()
    true = cv2.getRotationMatrix2D((320, 240), 1.5, scale)
    true[:, 2] += [9.0, -6.0]
    cur = cv2.warpAffine(img, true, (640, 480), borderMode=cv2.BORDER_REFLECT)
    est = CameraMotionEstimator(method, max_side=320)
    np.testing.assert_allclose(est(img), np.eye(2, 3))  # first frame: identity
    w = est(cur)
    pts = np.array([[100, 100, 1], [500, 400, 1], [320, 240, 1.0]])
    np.testing.assert_allclose(pts @ w.T, pts @ true.T, atol=1.5)


def test_estimator_rejects_bad_arguments():
    with pytest.raises(ValueError, match="method"):
        CameraMotionEstimator("orb")


def test_warp_states_moves_boxes_like_points():
    kf = KalmanFilter()
    box = np.array([[100.0, 50.0, 140.0, 150.0]])
    mean, cov = kf.initiate(xyxy_to_xyah(box))
    warp = np.array([[2.0, 0.0, 10.0], [0.0, 2.0, -5.0]])  # scale 2, then shift
    m2, c2 = warp_states(mean, cov, warp)
    expected = np.array([[210.0, 95.0, 290.0, 295.0]])
    np.testing.assert_allclose(xyah_to_xyxy(m2[:, :4]), expected)
    # covariance of the height scales with s^2 = 4
    assert c2[0, 3, 3] == pytest.approx(4 * cov[0, 3, 3])


def test_tracker_follows_a_panning_camera_only_with_compensation():
    """A standing person seen by a camera panning 40 px/frame: without compensation the box
    jumps out of the gate and IoU; with the warp the track continues."""
    box = np.array([[300.0, 100.0, 340.0, 200.0]])
    results = {}
    for use_warp in (False, True):
        tr = Tracker(TrackerConfig(n_init=1))
        ids = set()
        for k in range(10):
            b = box.copy()
            b[:, [0, 2]] -= 40 * k if k < 5 else 40 * 4 + 60 * (k - 4)
            step = 40 if k < 5 else 60
            warp = np.array([[1, 0, -step], [0, 1, 0.0]]) if (use_warp and k) else None
            ids.update(tr.update(b, warp=warp).track_id.tolist())
        results[use_warp] = ids
    assert results[True] == {1}
    assert len(results[False]) > 1


def test_settings_are_named_and_key_the_warp_cache(tmp_path, monkeypatch):
    """Warps cached by cosmot tune/ablate are keyed by every setting of the estimator, so a
    change of its defaults cannot reuse warps estimated with the old ones."""
    from cosmot.pipeline import prepared

    assert repr(CameraMotionEstimator()) == (
        "CameraMotionEstimator('sparse', max_side=640, max_corners=300, window=15, "
        "half_res_corners=True)")
    with pytest.raises(ValueError, match="window"):
        CameraMotionEstimator(window=4)
    with pytest.raises(ValueError, match="max_corners"):
        CameraMotionEstimator(max_corners=3)
    det = tmp_path / "det.txt"
    det.write_text("1,-1,0,0,10,10,1,-1,-1,-1\n")
    before = prepared._cache_key(det, None, "enc", "sparse")
    assert prepared._cache_key(det, None, "enc", "none") != before
    assert prepared._cache_key(det, None, "enc", "sparse", foreground=True) != before

    class Other(CameraMotionEstimator):
        def __init__(self, method="sparse", max_side=640, max_corners=500, window=15,
                     half_res_corners=True):
            super().__init__(method, max_side, max_corners, window, half_res_corners)

    monkeypatch.setattr(prepared, "CameraMotionEstimator", Other)
    assert prepared._cache_key(det, None, "enc", "sparse") != before
