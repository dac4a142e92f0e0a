"""Offline post-processing: gap interpolation and RTS smoothing."""

import numpy as np
import pytest

from cosmot.tracker.offline import TrackRows, interpolate_gaps, smooth_tracks


def test_interpolation_by_hand():
    rows = TrackRows.from_arrays([1, 4, 1, 9], [1, 1, 2, 2],
                                 [[0, 0, 10, 10], [30, 0, 10, 10], [0, 0, 5, 5], [80, 0, 5, 5]],
                                 [0.9, 0.6, 1.0, 1.0])
    out = interpolate_gaps(rows, max_gap=3)
    one = out.ids == 1
    assert out.frames[one].tolist() == [1, 2, 3, 4]
    np.testing.assert_allclose(out.tlwh[one][:, 0], [0, 10, 20, 30])
    assert out.scores[one][1] == pytest.approx(0.6)
    # the gap of 7 frames in track 2 is longer than max_gap: left alone
    assert out.frames[out.ids == 2].tolist() == [1, 9]
    with pytest.raises(ValueError, match="max_gap"):
        interpolate_gaps(rows, 0)


def test_smoothing_reduces_noise_on_a_straight_walk():
    rng = np.random.default_rng(0)
    n = 60
    f = np.arange(1, n + 1)
    truth = np.c_[100 + 4 * f, 200 + 1 * f, np.full(n, 40.0), np.full(n, 100.0)]
    noisy = truth + rng.normal(0, 3, truth.shape) * [1, 1, 0.3, 0.3]
    keep = rng.random(n) > 0.1  # a few missing frames inside the track
    rows = TrackRows.from_arrays(f[keep], np.ones(keep.sum()), noisy[keep])
    out = smooth_tracks(rows)
    err_before = np.abs(noisy[keep] - truth[keep])[:, :2].mean()
    err_after = np.abs(out.tlwh - truth[keep])[:, :2].mean()
    assert err_after < 0.6 * err_before
    assert out.frames.tolist() == f[keep].tolist()
