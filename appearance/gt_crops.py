"""Choosing which ground-truth boxes of a video become training/evaluation crops.

Works on plain arrays (the MOT readers live in ``tools``): the caller reads ``gt.txt`` and passes
its columns here, then feeds the frames to ``collect_crops``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

from .crops import CROP_HW, CropSet, cut_crops


@dataclass(frozen=True)
class GtCropConfig:
    """Filters for crops cut from ground truth.

    min_visibility: drop rows whose visibility is below this (MOT16/17 files; MOT15 rows are 1).
    min_height: drop boxes lower than this many pixels.
    frame_stride: keep a track's box only every ``frame_stride`` frames (near-duplicates of
        consecutive frames would otherwise dominate).
    pedestrian_class: MOT16/17 class kept (1 = pedestrian); ignored for MOT15 files.
    """

    min_visibility: float = 0.5
    min_height: float = 32.0
    frame_stride: int = 3
    pedestrian_class: int = 1

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_visibility <= 1.0:
            raise ValueError(f"min_visibility={self.min_visibility}: allowed range [0, 1]")
        if self.min_height < 0:
            raise ValueError(f"min_height={self.min_height}: must be >= 0")
        if self.frame_stride < 1:
            raise ValueError(f"frame_stride={self.frame_stride}: must be >= 1")


def select_gt_rows(frames: np.ndarray, ids: np.ndarray, tlwh: np.ndarray, consider: np.ndarray,
                   classes: np.ndarray, visibility: np.ndarray, mot15_format: bool,
                   config: GtCropConfig = GtCropConfig()) -> np.ndarray:
    """Boolean (N,) mask of gt rows to cut.

    Keeps rows with consider != 0, (MOT16/17 only) class == pedestrian_class and visibility >=
    min_visibility, height >= min_height, and, per identity, every ``frame_stride``-th of its
    kept rows (in frame order).
    """
    frames = np.asarray(frames)
    keep = np.asarray(consider, bool) & (np.asarray(tlwh)[:, 3] >= config.min_height)
    if not mot15_format:
        keep &= (np.asarray(classes) == config.pedestrian_class)
        keep &= (np.asarray(visibility) >= config.min_visibility)
    if config.frame_stride > 1 and keep.any():
        idx = np.flatnonzero(keep)
        order = idx[np.lexsort((frames[idx], np.asarray(ids)[idx]))]
        sorted_ids = np.asarray(ids)[order]
        start = np.r_[True, sorted_ids[1:] != sorted_ids[:-1]]
        group_start = np.maximum.accumulate(np.where(start, np.arange(len(order)), 0))
        rank = np.arange(len(order)) - group_start
        keep = np.zeros_like(keep)
        keep[order[rank % config.frame_stride == 0]] = True
    return keep


def collect_crops(frames_iter: Iterable[tuple[int, np.ndarray]], frames: np.ndarray,
                  ids: np.ndarray, tlwh: np.ndarray, source_name: str, fps: float,
                  config: GtCropConfig = GtCropConfig(),
                  size_hw: tuple[int, int] = CROP_HW) -> CropSet:
    """Cut the selected rows out of the frames of one video.

    frames_iter yields (1-based frame number, (H, W, 3) uint8 BGR) in order; frames/ids/tlwh are
    the already-selected rows ((N,), (N,), (N, 4) tlwh pixels). One camera: cams are 0.
    """
    frames = np.asarray(frames, np.int64)
    order = np.argsort(frames, kind="stable")
    frames, ids, tlwh = frames[order], np.asarray(ids, np.int64)[order], np.asarray(tlwh)[order]
    if len(frames) == 0:
        return CropSet.empty(size_hw)
    starts = np.searchsorted(frames, frames, side="left")
    by_frame = {int(f): (int(s), int(e)) for f, s, e in
                zip(frames, starts, np.searchsorted(frames, frames, side="right"))}
    out = np.zeros((len(frames), *size_hw, 3), np.uint8)
    done = np.zeros(len(frames), bool)
    last = int(frames[-1])
    for k, image in frames_iter:
        if k in by_frame:
            s, e = by_frame[k]
            b = tlwh[s:e]
            xyxy = np.c_[b[:, :2], b[:, :2] + b[:, 2:]]
            out[s:e] = cut_crops(image, xyxy, size_hw)
            done[s:e] = True
        if k >= last:
            break
    if not done.all():
        missing = sorted(set(frames[~done].tolist()))[:5]
        raise ValueError(f"{source_name}: frames {missing}... of the gt are not in the video")
    n = len(frames)
    return CropSet(out, ids, np.zeros(n, np.int64), np.zeros(n, np.int64), frames,
                   (source_name,), (float(fps),))


def iter_progress(it: Iterable, total: int, desc: str) -> Iterator:
    """Wrap an iterable with a tqdm progress bar on stderr."""
    from tqdm import tqdm

    yield from tqdm(it, total=total, desc=desc, unit="frame", leave=False)
