"""How much of each detection box is moving: the evidence behind ``TrackerConfig.min_foreground``.

A detector fires now and then on something that never moves (a sign post, a mannequin, a
poster) in every frame, at scores no threshold separates from small, distant people
(docs/accuracy.md, issue 19). A background model separates them on a static camera: OpenCV's
MOG2 (Zivkovic 2004) learns each pixel's background over ``history`` frames, so a box on
something that has stood there since the first frame holds no foreground at all, while a
person who walks — or only shifts their weight — holds some. :class:`ForegroundShare` gives,
per frame, the share of each box that the model marks as foreground (shadows count as
background); the tracker confirms a track only once its boxes' mean share reaches
``min_foreground``. On a moving camera nearly everything is foreground, so nothing is held
back.

The model works on the frame shrunk to ``work_height`` rows (its cost is about that of one
resize and one pass over those pixels). The defaults (history 200, threshold 8, 360 rows) are
the background-subtraction detector's, fitted on TUD-Stadtmitte and KITTI-17
(:mod:`cosmot.detectors.background_subtraction`). It is deterministic, and its state is the
frames it has seen: a resumed run replays them (:func:`cosmot.pipeline.track_video`).
"""

from __future__ import annotations

import cv2
import numpy as np

from cosmot.sources.motchallenge import Detections


class ForegroundShare:
    """Per-box foreground shares from a MOG2 background model of one stream.

    ``shares = fg(image, boxes_xyxy)`` updates the model with the BGR frame and returns (M,)
    floats in [0, 1]; ``fg.observe(image)`` only updates it (frames before a resumed run's
    start). Call it on consecutive frames of one stream; ``reset()`` forgets the background.
    """

    def __init__(self, history: int = 200, threshold: float = 8.0, work_height: int = 360):
        if not isinstance(history, int) or history < 1:
            raise ValueError(f"history = {history!r}: must be an int >= 1 (frames)")
        if not threshold > 0:
            raise ValueError(f"threshold = {threshold!r}: must be > 0 (squared Mahalanobis "
                             f"distance of MOG2)")
        if not isinstance(work_height, int) or work_height < 16:
            raise ValueError(f"work_height = {work_height!r}: must be an int >= 16 (rows)")
        self.history, self.threshold, self.work_height = history, threshold, work_height
        self.reset()

    def __repr__(self) -> str:
        return (f"ForegroundShare(history={self.history}, threshold={self.threshold}, "
                f"work_height={self.work_height})")

    def reset(self) -> None:
        self._model = cv2.createBackgroundSubtractorMOG2(
            history=self.history, varThreshold=self.threshold, detectShadows=True)

    def observe(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """Update the model with a frame; ``(0/1 mask at work size, work/frame scale)``."""
        s = min(1.0, self.work_height / image.shape[0])
        small = image if s == 1.0 else cv2.resize(image, None, fx=s, fy=s,
                                                  interpolation=cv2.INTER_AREA)
        raw = self._model.apply(small)  # 255 foreground, 127 shadow, 0 background
        return cv2.medianBlur((raw > 200).astype(np.uint8), 5), s

    def __call__(self, image: np.ndarray, boxes_xyxy: np.ndarray) -> np.ndarray:
        mask, s = self.observe(image)
        return box_shares(mask, np.asarray(boxes_xyxy, np.float64).reshape(-1, 4) * s)


def box_shares(mask: np.ndarray, boxes_xyxy: np.ndarray) -> np.ndarray:
    """Share of each box (in the mask's pixels, clipped to it) covered by the 0/1 ``mask``;
    0 for a box with no pixel inside the mask."""
    if len(boxes_xyxy) == 0:
        return np.zeros(0)
    h, w = mask.shape
    integral = cv2.integral(mask)
    b = np.round(boxes_xyxy).astype(np.int64)
    x0, x1 = np.clip(b[:, 0], 0, w), np.clip(b[:, 2], 0, w)
    y0, y1 = np.clip(b[:, 1], 0, h), np.clip(b[:, 3], 0, h)
    area = (x1 - x0) * (y1 - y0)
    inside = integral[y1, x1] - integral[y0, x1] - integral[y1, x0] + integral[y0, x0]
    return np.where(area > 0, inside / np.maximum(area, 1), 0.0)


class PrecomputedForeground:
    """Foreground shares computed once per detection row (``prepare``), by frame number."""

    by_frame_number = True

    def __init__(self, det: Detections, shares: np.ndarray):
        if len(shares) != len(det):
            raise ValueError(f"{len(shares)} foreground shares for {len(det)} detection rows")
        self._shares = np.asarray(shares, np.float64)
        self._slices = det.frame_slices()

    def shares_frame(self, frame: int, boxes_xyxy: np.ndarray) -> np.ndarray:
        sl = self._slices.get(frame, slice(0, 0))
        if sl.stop - sl.start != len(boxes_xyxy):
            raise ValueError(f"frame {frame}: {len(boxes_xyxy)} boxes but {sl.stop - sl.start} "
                             f"precomputed foreground shares")
        return self._shares[sl]
