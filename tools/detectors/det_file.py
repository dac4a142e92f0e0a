"""Detections read from a MOTChallenge ``det.txt`` instead of computed: frame k of the input is
frame k of the file (1-based, counted by calls)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cosmot.tracker.geometry import tlwh_to_xyxy

from cosmot.sources.motchallenge import read_detections
from cosmot.detectors.base import FrameDetections


class DetectionFileDetector:
    """Plays back a ``det.txt`` (``frame,-1,left,top,width,height,score[,class]...``).

    Each call returns the next frame's rows as ``xyxy`` boxes, their scores, and their class
    column (-1 where the file has none); the frame image is not looked at. Rows below
    ``min_score`` are dropped when it is given; boxes without area are dropped always.
    """

    def __init__(self, path: str | os.PathLike, min_score: float | None = None):
        self.path = Path(path)
        det = read_detections(self.path, min_score=min_score)
        keep = (det.tlwh[:, 2] > 0) & (det.tlwh[:, 3] > 0)
        det = det.filter(keep)
        self._xyxy = tlwh_to_xyxy(det.tlwh)
        self._scores = det.scores
        self._classes = det.classes
        self._slices = det.frame_slices()
        #: The last frame number that has rows (0 when the file has none).
        self.last_frame = int(det.frames.max()) if len(det) else 0
        self.frame = 0

    def __call__(self, frame_bgr: np.ndarray | None = None) -> FrameDetections:
        self.frame += 1
        return self.detections(self.frame)

    def detections(self, frame: int) -> FrameDetections:
        """The rows of a given frame number (1-based)."""
        sl = self._slices.get(frame)
        if sl is None:
            return FrameDetections.empty()
        return FrameDetections(self._xyxy[sl], self._scores[sl], self._classes[sl])

    def reset(self) -> None:
        """Start again at frame 1."""
        self.frame = 0
