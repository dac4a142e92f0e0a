import numpy as np
import pytest

from cosmot.tracker.geometry import (iou_matrix, tlwh_to_xyxy, xyah_to_xyxy, xyxy_to_tlwh,
                              xyxy_to_xyah)


def test_round_trips():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 500, (20, 2))
    b = np.c_[xy, xy + rng.uniform(1, 100, (20, 2))]
    np.testing.assert_allclose(xyah_to_xyxy(xyxy_to_xyah(b)), b)
    np.testing.assert_allclose(tlwh_to_xyxy(xyxy_to_tlwh(b)), b)


def test_xyah_by_hand():
    # box 10..30 x 20..60: centre (20, 40), w 20, h 40, a = 0.5
    np.testing.assert_allclose(xyxy_to_xyah(np.array([[10, 20, 30, 60.0]])), [[20, 40, 0.5, 40]])


def test_iou_by_hand():
    a = np.array([[0, 0, 10, 10.0], [0, 0, 2, 2]])
    b = np.array([[5, 0, 15, 10.0], [20, 20, 30, 30], [0, 0, 10, 10]])
    iou = iou_matrix(a, b)
    # a0 vs b0: overlap 5x10 = 50, union 100 + 100 - 50 = 150
    assert iou[0, 0] == pytest.approx(50 / 150)
    assert iou[0, 1] == 0.0
    assert iou[0, 2] == 1.0
    # a1 inside b2: 4 / 100
    assert iou[1, 2] == pytest.approx(0.04)
    assert iou_matrix(np.zeros((0, 4)), b).shape == (0, 3)
