"""Detector quality against ground truth: greedy matching at an IoU threshold, recall/precision.

Boxes are ``xyxy`` pixels. Matching follows the PASCAL VOC rule: detections in descending score
order each take the unmatched ground-truth box of highest IoU if that IoU reaches the threshold.
Because the matching is greedy in score order, the matches of the detections above any score
threshold are the same as in the full matching, so one matching gives the whole
precision/recall curve (:class:`PRCurve`).

MOT16/17 ground truth: only rows with ``consider`` = 1 and class 1 (pedestrian) are targets;
detections that match no target but overlap another ground-truth row (distractor, reflection,
static person, ...) by the threshold are ignored rather than counted as false positives, as
TrackEval's MOT16 preprocessing does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from cosmot.tracker.geometry import iou_matrix, tlwh_to_xyxy

from cosmot.sources.motchallenge import GroundTruth


def gt_by_frame(gt: GroundTruth) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Map frame -> (target boxes (G, 4) xyxy, ignored boxes (I, 4) xyxy)."""
    target = gt.consider & ((gt.classes == 1) | (gt.classes == -1)) if not gt.mot15_format \
        else np.ones(len(gt), bool)
    xyxy = tlwh_to_xyxy(gt.tlwh)
    out: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for f in np.unique(gt.frames):
        m = gt.frames == f
        out[int(f)] = (xyxy[m & target], xyxy[m & ~target])
    return out


def match_frame(det_xyxy: np.ndarray, scores: np.ndarray, gt_xyxy: np.ndarray,
                iou_threshold: float = 0.5, ignore_xyxy: np.ndarray | None = None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Greedy matching of one frame.

    Args:
        det_xyxy: (N, 4) detections; scores: (N,) their scores.
        gt_xyxy: (G, 4) target boxes; ignore_xyxy: optional (I, 4) boxes whose matches are
            neither true nor false positives.

    Returns:
        ``(is_tp, is_ignored)``: (N,) bool each, aligned with the input detections.
    """
    n = det_xyxy.shape[0]
    is_tp = np.zeros(n, bool)
    is_ign = np.zeros(n, bool)
    if n == 0:
        return is_tp, is_ign
    order = np.argsort(-np.asarray(scores, np.float64), kind="stable")
    if gt_xyxy.shape[0]:
        iou = iou_matrix(det_xyxy, gt_xyxy)
        free = np.ones(gt_xyxy.shape[0], bool)
        for i in order:
            row = np.where(free, iou[i], -1.0)
            j = int(row.argmax())
            if row[j] >= iou_threshold:
                is_tp[i] = True
                free[j] = False
    if ignore_xyxy is not None and ignore_xyxy.shape[0]:
        ov = iou_matrix(det_xyxy, ignore_xyxy).max(axis=1) >= iou_threshold
        is_ign = ov & ~is_tp
    return is_tp, is_ign


@dataclass(frozen=True)
class PRCurve:
    """Detections of many frames scored against ground truth.

    scores: (N,) sorted descending; tp: (N,) bool true positive flags in that order (ignored
    detections are left out); n_gt: number of target boxes.
    """

    scores: np.ndarray
    tp: np.ndarray
    n_gt: int

    @staticmethod
    def from_frames(frames: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]],
                    iou_threshold: float = 0.5) -> "PRCurve":
        """``frames`` yields ``(det_xyxy, scores, gt_xyxy, ignore_xyxy)`` per frame."""
        all_scores, all_tp, n_gt = [], [], 0
        for det, sc, gt, ign in frames:
            tp, ignored = match_frame(det, sc, gt, iou_threshold, ign)
            keep = ~ignored
            all_scores.append(np.asarray(sc, np.float64)[keep])
            all_tp.append(tp[keep])
            n_gt += gt.shape[0]
        scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
        tp = np.concatenate(all_tp) if all_tp else np.zeros(0, bool)
        order = np.argsort(-scores, kind="stable")
        return PRCurve(scores[order], tp[order], n_gt)

    def counts(self, min_score: float = -np.inf) -> tuple[int, int, int]:
        """``(TP, FP, FN)`` of the detections with score >= ``min_score``."""
        k = int(np.searchsorted(-self.scores, -min_score, side="right"))
        tp = int(self.tp[:k].sum())
        return tp, k - tp, self.n_gt - tp

    def recall_precision(self, min_score: float = -np.inf) -> tuple[float, float]:
        tp, fp, fn = self.counts(min_score)
        return tp / max(self.n_gt, 1), tp / max(tp + fp, 1)

    def mota_proxy(self, min_score: float = -np.inf) -> float:
        """``1 - (FN + FP) / GT``: MOTA without identity switches, the tracker's ceiling."""
        tp, fp, fn = self.counts(min_score)
        return 1.0 - (fn + fp) / max(self.n_gt, 1)

    def best_threshold(self) -> tuple[float, float]:
        """``(min_score, mota_proxy)`` maximising ``TP - FP`` over every possible threshold."""
        if self.scores.size == 0:
            return float("inf"), self.mota_proxy(float("inf"))
        gain = np.cumsum(np.where(self.tp, 1, -1))
        # only thresholds at the end of a run of equal scores are reachable
        last = np.r_[self.scores[1:] != self.scores[:-1], True]
        k = int(np.flatnonzero(last)[np.argmax(gain[last])])
        return float(self.scores[k]), self.mota_proxy(float(self.scores[k]))

    def average_precision(self) -> float:
        """Area under the precision/recall curve (all-points interpolation, as VOC 2010+)."""
        if self.scores.size == 0 or self.n_gt == 0:
            return 0.0
        ctp = np.cumsum(self.tp)
        recall = ctp / self.n_gt
        precision = ctp / np.arange(1, ctp.size + 1)
        precision = np.maximum.accumulate(precision[::-1])[::-1]
        r = np.r_[0.0, recall]
        return float(np.sum((r[1:] - r[:-1]) * precision))
