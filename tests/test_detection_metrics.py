"""Greedy detection matching and the precision/recall curve, on hand-placed boxes."""

import numpy as np

from cosmot.evaluation.detection_metrics import PRCurve, match_frame


def test_match_frame_greedy_by_score():
    gt = np.array([[0, 0, 10, 20], [30, 0, 40, 20]], float)
    det = np.array([
        [0, 0, 10, 20],    # exact on gt 0, score 0.5
        [1, 0, 11, 20],    # IoU 180/220 = 0.82 with gt 0, score 0.9: takes gt 0 first
        [30, 10, 40, 30],  # IoU 100/300 = 0.33 with gt 1: below 0.5
        [100, 0, 110, 20],  # nothing
    ], float)
    scores = np.array([0.5, 0.9, 0.8, 0.7])
    tp, ign = match_frame(det, scores, gt, 0.5)
    assert tp.tolist() == [False, True, False, False]
    assert not ign.any()
    # an ignore region absorbs the detection on it
    tp, ign = match_frame(det, scores, gt, 0.5, ignore_xyxy=np.array([[100, 0, 110, 20.]]))
    assert ign.tolist() == [False, False, False, True]


def test_pr_curve_counts_threshold_and_ap():
    # frame 1: 2 gt, detections scored 0.9 (TP), 0.6 (FP); frame 2: 1 gt, 0.8 (TP), 0.3 (FP)
    g1 = np.array([[0, 0, 10, 10], [20, 0, 30, 10]], float)
    g2 = np.array([[0, 0, 10, 10]], float)
    frames = [
        (np.array([[0, 0, 10, 10], [50, 50, 60, 60]], float), np.array([0.9, 0.6]), g1, None),
        (np.array([[0, 0, 10, 10], [70, 70, 80, 80]], float), np.array([0.8, 0.3]), g2, None),
    ]
    c = PRCurve.from_frames(frames)
    assert c.n_gt == 3
    assert c.scores.tolist() == [0.9, 0.8, 0.6, 0.3]
    assert c.tp.tolist() == [True, True, False, False]
    assert c.counts() == (2, 2, 1)
    assert c.counts(0.7) == (2, 0, 1)
    # TP - FP is largest (2) at threshold 0.8: MOTA-proxy = 1 - (1 + 0) / 3
    thr, proxy = c.best_threshold()
    assert thr == 0.8 and abs(proxy - 2 / 3) < 1e-12
    # AP: precision 1 up to recall 2/3, nothing after: 2/3
    assert abs(c.average_precision() - 2 / 3) < 1e-12
    r, p = c.recall_precision(0.5)
    assert abs(r - 2 / 3) < 1e-12 and abs(p - 2 / 3) < 1e-12
