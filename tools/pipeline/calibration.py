"""Calibrating the appearance gate (``max_cosine_distance``) of an encoder on sequences with
ground truth: the rule the project ships encoders with, and a quicker pair-distance suggestion.

* :func:`sweep_gates` / :func:`best_gate` — the rule (appearance/README.md, "Gates"): track the
  sequences at every gate of a grid and take the gate with the best mean HOTA over them (each
  sequence scored alone), on the boxes the encoder will be used with. Exact, one tracker replay
  per gate and sequence (detections, embeddings and camera motion computed once).
* :func:`label_detections`, :func:`pair_distances`, :func:`suggest_threshold` — detections
  labelled with the ground-truth person they overlap; cosine distances of same-person pairs and
  of nearby different-person pairs; the threshold with the best ``TPR - FPR`` at FPR <= 5%. No
  tracking; a histogram to look at, and a suggestion that does not see the tracker's other
  stages.
"""

from __future__ import annotations

import numpy as np

from cosmot.tracker import TrackerConfig
from cosmot.tracker.assignment import linear_assignment
from cosmot.tracker.geometry import iou_matrix, tlwh_to_xyxy

from cosmot.pipeline.prepared import PreparedSequence, score_config

#: the gate grid of the project's encoder tables (appearance/README.md)
GATE_GRID = (0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def sweep_gates(prepared: list[PreparedSequence], gates=GATE_GRID,
                config: TrackerConfig | None = None, progress=None) -> dict[float, float]:
    """Mean HOTA over ``prepared`` (each sequence scored alone) of ``config`` (default: the
    default configuration) at every ``max_cosine_distance`` in ``gates``. ``progress(gate,
    score)`` is called after each."""
    config = config or TrackerConfig()
    scores = {}
    for g in gates:
        res = score_config(prepared, config.replace(max_cosine_distance=float(g)))
        scores[float(g)] = float(np.mean([res.rows[p.seq.name]["HOTA"] for p in prepared]))
        if progress is not None:
            progress(float(g), scores[float(g)])
    return scores


def best_gate(scores: dict[float, float]) -> float:
    """The gate with the best score (ties: the one nearest 0.25, the tracker's old default)."""
    return max(scores, key=lambda g: (scores[g], -abs(g - 0.25)))


def label_detections(det_frames, det_xyxy, gt) -> np.ndarray:
    """(N,) gt id of each detection (IoU >= 0.5, optimal one-to-one per frame), -1 if none.
    MOT16/17 gt: only considered pedestrians (class 1) count."""
    keep = gt.consider & ((gt.classes == 1) | gt.mot15_format)
    gt = gt.filter(keep)
    labels = np.full(len(det_frames), -1, np.int64)
    gt_xyxy = tlwh_to_xyxy(gt.tlwh)
    for f in np.unique(det_frames):
        di = np.flatnonzero(det_frames == f)
        gi = np.flatnonzero(gt.frames == f)
        if gi.size == 0:
            continue
        r, c = linear_assignment(1.0 - iou_matrix(det_xyxy[di], gt_xyxy[gi]), 0.5)
        labels[di[r]] = gt.ids[gi[c]]
    return labels


def pair_distances(frames, xyxy, labels, emb, window: int, near: float, rng,
                   max_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """Cosine distances of same-identity and nearby different-identity pairs of labelled
    detections at most ``window`` frames apart (and at least 1)."""
    lab = np.flatnonzero(labels >= 0)
    same, diff = [], []
    centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2
    height = xyxy[:, 3] - xyxy[:, 1]
    by_frame = {f: lab[frames[lab] == f] for f in np.unique(frames[lab])}
    for f, a in by_frame.items():
        b = np.concatenate([by_frame.get(g, lab[:0]) for g in range(f + 1, f + window + 1)])
        if a.size == 0 or b.size == 0:
            continue
        d = 1.0 - emb[a] @ emb[b].T
        same_id = labels[a][:, None] == labels[b][None, :]
        gap = np.linalg.norm(centre[a][:, None] - centre[b][None], axis=2)
        close = gap <= near * np.maximum(height[a][:, None], height[b][None])
        same.append(d[same_id])
        diff.append(d[~same_id & close])
    same = np.concatenate(same) if same else np.zeros(0)
    diff = np.concatenate(diff) if diff else np.zeros(0)
    if same.size > max_pairs:
        same = rng.choice(same, max_pairs, replace=False)
    if diff.size > max_pairs:
        diff = rng.choice(diff, max_pairs, replace=False)
    return same, diff


def suggest_threshold(same: np.ndarray, diff: np.ndarray, max_fpr: float = 0.05
                      ) -> tuple[float, np.ndarray]:
    """Best ``TPR - FPR`` threshold with ``FPR <= max_fpr``; also the (t, TPR, FPR) table."""
    ts = np.round(np.arange(0.02, 1.0001, 0.02), 2)
    tpr = (same[None, :] <= ts[:, None]).mean(axis=1) if same.size else np.zeros_like(ts)
    fpr = (diff[None, :] <= ts[:, None]).mean(axis=1) if diff.size else np.zeros_like(ts)
    table = np.c_[ts, tpr, fpr]
    ok = fpr <= max_fpr
    j = np.where(ok, tpr - fpr, -np.inf)
    return float(ts[int(np.argmax(j))]), table
