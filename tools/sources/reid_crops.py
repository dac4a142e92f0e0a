"""Data preparation for ``cosmot reid`` from MOTChallenge sequences: labelled crops from ground
truth, unlabelled detection crops linked into tracklets, frames and boxes for benchmarks.

This is where MOT files are read (``cosmot.sources.motchallenge``); ``appearance`` gets arrays only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cosmot.sources.motchallenge import Sequence, read_detections, read_ground_truth
from cosmot.paths import data_dir


def sequence_dir(name: str) -> Path:
    """A sequence folder: ``name`` itself if it is a folder, else ``DATA/mot/<name>``."""
    p = Path(name)
    return p if p.is_dir() else data_dir() / "mot" / name


def crops_from_mot(seq_name: str, size_hw: tuple[int, int], stride: int | None,
                   min_visibility: float, min_height: float):
    """Crops of one MOTChallenge sequence's ground truth (see ``appearance.gt_crops``)."""
    from cosmot.appearance.gt_crops import GtCropConfig, collect_crops, iter_progress, select_gt_rows

    seq = Sequence(sequence_dir(seq_name))
    gt = read_ground_truth(seq.gt_path)
    fps = seq.info.fps
    stride = stride or max(1, int(np.ceil(fps / 10.0)))
    cfg = GtCropConfig(min_visibility=min_visibility, min_height=min_height,
                       frame_stride=stride)
    keep = select_gt_rows(gt.frames, gt.ids, gt.tlwh, gt.consider, gt.classes, gt.visibility,
                          gt.mot15_format, cfg)
    rows = gt.filter(keep)
    frames = iter_progress(seq.frames(), seq.info.length, seq.name)
    return collect_crops(frames, rows.frames, rows.ids, rows.tlwh, seq.name, fps, cfg, size_hw)


def shrink_crops(images: np.ndarray, factor: float) -> np.ndarray:
    """Degrade (N, H, W, 3) uint8 crops: shrink by ``factor`` (area) and enlarge back."""
    import cv2

    if not 0 < factor <= 1:
        raise ValueError(f"--shrink {factor}: allowed range (0, 1]")
    h, w = images.shape[1:3]
    sh, sw = max(4, round(h * factor)), max(2, round(w * factor))
    return np.stack([cv2.resize(cv2.resize(im, (sw, sh), interpolation=cv2.INTER_AREA),
                                (w, h), interpolation=cv2.INTER_LINEAR) for im in images])


def unlabelled_from_sequence(seq_name: str, det_name: str, min_score: float | None,
                             min_height: float, size_hw: tuple[int, int]):
    """Detection crops of one sequence, linked into tracklets (no ground truth is read)."""
    from cosmot.appearance.adapt import unlabelled_from_detections
    from cosmot.appearance.crops import cut_crops
    from cosmot.appearance.gt_crops import iter_progress

    seq = Sequence(sequence_dir(seq_name))
    det = read_detections(seq.detections_path(det_name), min_score, min_height)
    if len(det) == 0:
        raise ValueError(f"{seq.detections_path(det_name)}: no detections with score >= "
                         f"{min_score} and height >= {min_height}")
    xyxy = np.c_[det.tlwh[:, :2], det.tlwh[:, :2] + det.tlwh[:, 2:]]
    slices = det.frame_slices()
    images = np.zeros((len(det), *size_hw, 3), np.uint8)
    last = int(det.frames[-1])
    for k, frame in iter_progress(seq.frames(), seq.info.length, seq.name):
        if k in slices:
            images[slices[k]] = cut_crops(frame, xyxy[slices[k]], size_hw)
        if k >= last:
            break
    return unlabelled_from_detections(images, det.frames, xyxy, seq.name)


def detection_crops_from_mot(seq_name: str, det_name: str, size_hw: tuple[int, int],
                             min_score: float | None = None, min_height: float = 32.0,
                             stride: int = 1):
    """Unlabelled detection crops of one sequence as a crop set for training: every box of
    ``SEQ/DET/det.txt`` (score >= ``min_score``, height >= ``min_height``, every
    ``stride``-th frame), its identity the IoU tracklet it links into (no ground truth read),
    one source ``SEQ:DET`` with its own identity space."""
    from cosmot.appearance.crops import CropSet

    data = unlabelled_from_sequence(seq_name, det_name, min_score, min_height, size_hw)
    keep = (data.frames - data.frames.min()) % max(1, stride) == 0
    _, pids = np.unique(data.tracklets[keep], return_inverse=True)
    seq = Sequence(sequence_dir(seq_name))
    n = int(keep.sum())
    return CropSet(data.images[keep], pids.astype(np.int64).reshape(-1),
                   np.zeros(n, np.int64), np.zeros(n, np.int64),
                   data.frames[keep].astype(np.int64), (f"{seq.name}:{det_name}",),
                   (float(seq.info.fps),))


def bench_frames(seq_name: str, n_frames: int):
    seq = Sequence(sequence_dir(seq_name))
    det = read_detections(seq.detections_path("det"), 0.0)
    slices = det.frame_slices()
    frames, boxes = [], []
    for k, img in seq.frames():
        if k in slices and len(frames) < n_frames:
            b = det.tlwh[slices[k]]
            frames.append(img)
            boxes.append(np.c_[b[:, :2], b[:, :2] + b[:, 2:]])
        if len(frames) >= n_frames:
            break
    return frames, boxes
