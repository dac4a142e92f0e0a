"""Detections read from a MOTChallenge ``det.txt`` instead of computed: frame k of the input is
frame k of the file (1-based: the frame number the stream gives, e.g. from an image's file
name, or counted by calls)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from cosmot.tracker.geometry import tlwh_to_xyxy

from cosmot.sources.motchallenge import Detections, read_det_metadata, read_detections
from cosmot.detectors.base import FrameDetections


class DetectionFileDetector:
    """Plays back a ``det.txt`` (``frame,-1,left,top,width,height,score[,class]...``).

    Each call returns the next frame's rows as ``xyxy`` boxes, their scores, and their class
    column (-1 where the file has none, see :func:`read_detections` for the layouts); the frame
    image is not looked at. Rows below ``min_score`` are dropped when it is given; boxes
    without area and duplicate rows are dropped with one warning; ``length`` (the input's
    frame count, when known before the run) makes rows past it an error.

    :func:`cosmot.pipeline.stream.track_stream` calls :meth:`detections` with each frame's
    number (``by_frame_number``), so a gap in an image folder does not shift the rows.
    """

    by_frame_number = True

    def __init__(self, path: str | os.PathLike, min_score: float | None = None,
                 length: int | None = None, length_source: str = "the input"):
        self.path = Path(path)
        self._use(read_detections(self.path, min_score=min_score, length=length,
                                  length_source=length_source))

    @classmethod
    def from_detections(cls, det: Detections, path: str | os.PathLike | None = None
                        ) -> "DetectionFileDetector":
        """Play back detections already read from ``path`` (for messages and its metadata)."""
        self = cls.__new__(cls)
        self.path = Path(path) if path is not None else None
        self._use(det)
        return self

    def _use(self, det: Detections) -> None:
        #: ``birth_score`` recorded beside the file by the run that wrote it (``DET.json``,
        #: :func:`cosmot.sources.motchallenge.read_det_metadata`), else None (off: the score
        #: scale of a det file is unknown).
        meta = read_det_metadata(self.path) if self.path is not None else {}
        self.birth_score = meta.get("birth_score")
        self.nsa_kalman = meta.get("nsa_kalman")
        self.source_detector = meta.get("detector")
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
        self.frame = frame
        sl = self._slices.get(frame)
        if sl is None:
            return FrameDetections.empty()
        return FrameDetections(self._xyxy[sl], self._scores[sl], self._classes[sl])

    def rows_after(self, frame: int) -> tuple[int, int]:
        """(rows, frames) of the file after frame ``frame``: what a stream that ended there
        did not use."""
        later = [f for f in self._slices if f > frame]
        return sum(self._slices[f].stop - self._slices[f].start for f in later), len(later)

    def reset(self) -> None:
        """Start again at frame 1."""
        self.frame = 0
