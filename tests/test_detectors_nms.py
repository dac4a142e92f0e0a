"""Non-maximum suppression: a hand-worked case and the invariants that define greedy NMS."""

import numpy as np
import pytest

from cosmot.tracker.geometry import nms
from cosmot.tracker.geometry import iou_matrix


def test_hand_worked_example():
    boxes = np.array([
        [0, 0, 10, 10],    # 0: score 0.9, kept
        [1, 0, 11, 10],    # 1: IoU with 0 = 90 / 110 = 0.818 -> suppressed at 0.5
        [5, 0, 15, 10],    # 2: IoU with 0 = 50 / 150 = 0.333 -> kept at 0.5
        [20, 20, 30, 30],  # 3: disjoint -> kept
    ], float)
    scores = np.array([0.9, 0.8, 0.7, 0.1])
    assert nms(boxes, scores, 0.5).tolist() == [0, 2, 3]
    # at 0.3 box 2 goes too (0.333 > 0.3)
    assert nms(boxes, scores, 0.3).tolist() == [0, 3]
    # at 0.85 nothing overlaps enough
    assert nms(boxes, scores, 0.85).tolist() == [0, 1, 2, 3]


def test_suppressed_box_only_counts_if_kept():
    # 1 overlaps 0 (suppressed); 2 overlaps 1 but not 0, so 2 survives: suppression is by kept
    # boxes only
    boxes = np.array([[0, 0, 10, 10], [6, 0, 16, 10], [12, 0, 22, 10]], float)
    scores = np.array([0.9, 0.8, 0.7])
    # IoU(0,1) = 40/160 = 0.25; IoU(1,2) = 40/160 = 0.25; IoU(0,2) = 0
    assert nms(boxes, scores, 0.2).tolist() == [0, 2]


@pytest.mark.parametrize("thr", [0.3, 0.5, 0.7])
def test_invariants_on_random_boxes(thr):
    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 100, (200, 2))
    wh = rng.uniform(5, 40, (200, 2))
    boxes = np.c_[xy, xy + wh]
    scores = rng.uniform(size=200)
    keep = nms(boxes, scores, thr)
    # sorted by descending score
    assert np.all(np.diff(scores[keep]) <= 0)
    # no two kept boxes overlap above the threshold
    iou = iou_matrix(boxes[keep], boxes[keep])
    np.fill_diagonal(iou, 0)
    assert iou.max() <= thr
    # every dropped box overlaps a kept box of higher score above the threshold
    dropped = np.setdiff1d(np.arange(200), keep)
    ov = iou_matrix(boxes[dropped], boxes[keep]) > thr
    higher = scores[keep][None, :] >= scores[dropped][:, None]
    assert (ov & higher).any(axis=1).all()
    # idempotent
    assert np.array_equal(keep[nms(boxes[keep], scores[keep], thr)], keep)


def test_classes_do_not_suppress_each_other():
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], float)
    scores = np.array([0.9, 0.8, 0.7])
    assert nms(boxes, scores, 0.5, classes=np.array([0, 1, 0])).tolist() == [0, 1]
    assert nms(boxes, scores, 0.5).tolist() == [0]


def test_max_output_and_empty():
    boxes = np.array([[0, 0, 1, 1], [5, 5, 6, 6], [9, 9, 10, 10]], float)
    assert nms(boxes, np.array([0.1, 0.3, 0.2]), 0.5, max_output=2).tolist() == [1, 2]
    assert nms(np.zeros((0, 4)), np.zeros(0), 0.5).shape == (0,)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="iou_threshold"):
        nms(np.zeros((1, 4)), np.zeros(1), 1.5)
    with pytest.raises(ValueError, match="2 scores for 1 boxes"):
        nms(np.zeros((1, 4)), np.zeros(2), 0.5)
