"""OpenCV's HOG + linear SVM people detector (Dalal & Triggs 2005), with calibrated boxes.

OpenCV's detector returns its 64x128 detection *windows*. A window is much larger than the
person in it (the training crops have a wide margin), so raw windows overlap annotated
pedestrian boxes poorly, and it only finds people at least ~100 px tall. This backend:

1. upscales the frame so that people down to ``min_person_height`` pixels fill a window;
2. takes every window above the score threshold, ungrouped (``groupThreshold=0``);
3. maps each window (x, y, w, h) to a person box with a :class:`BoxCalibration`;
4. turns the SVM margin into a probability with a logistic :class:`ScoreCalibration`;
5. removes duplicates with non-maximum suppression on the calibrated boxes.

The constants of :data:`CALIBRATED` were fitted by ``python tools/scripts/fit_hog_calibration.py`` on
TUD-Stadtmitte, KITTI-17 and MOT16-11 ground truth (never on PETS09-S2L1, which is kept for
testing); that script reproduces them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from cosmot.detectors.base import PERSON, FrameDetections
from cosmot.tracker.geometry import nms

#: OpenCV's default people detector window (width, height) in pixels.
WINDOW = (64, 128)


@dataclass(frozen=True)
class BoxCalibration:
    """Where the person lies in a detection window ``(x, y, w, h)``, as fractions of it.

    The person box has its centre at ``(x + center_x * w, y + center_y * h)`` and size
    ``(width * w, height * h)``. The identity (0.5, 0.5, 1, 1) returns the window itself.
    """

    center_x: float = 0.5
    center_y: float = 0.5
    width: float = 1.0
    height: float = 1.0

    def __post_init__(self) -> None:
        for name in ("center_x", "center_y"):
            v = getattr(self, name)
            if not 0.0 <= v <= 1.0:
                raise ValueError(f"BoxCalibration.{name} = {v!r} is outside [0, 1]")
        for name in ("width", "height"):
            v = getattr(self, name)
            if not 0.0 < v <= 2.0:
                raise ValueError(f"BoxCalibration.{name} = {v!r} is outside (0, 2]")

    def apply(self, windows_xywh: np.ndarray) -> np.ndarray:
        """(N, 4) windows ``x, y, w, h`` -> (N, 4) person boxes ``xyxy``."""
        win = np.asarray(windows_xywh, dtype=np.float64).reshape(-1, 4)
        cx = win[:, 0] + self.center_x * win[:, 2]
        cy = win[:, 1] + self.center_y * win[:, 3]
        hw = 0.5 * self.width * win[:, 2]
        hh = 0.5 * self.height * win[:, 3]
        return np.stack([cx - hw, cy - hh, cx + hw, cy + hh], axis=1)


@dataclass(frozen=True)
class ScoreCalibration:
    """Logistic map of the SVM margin ``m`` to a probability: ``1 / (1 + exp(-(a m + b)))``."""

    slope: float = 1.0
    intercept: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.slope) and self.slope > 0):
            raise ValueError(f"ScoreCalibration.slope = {self.slope!r}: must be finite and > 0")
        if not math.isfinite(self.intercept):
            raise ValueError(f"ScoreCalibration.intercept = {self.intercept!r}: must be finite")

    def apply(self, margins: np.ndarray) -> np.ndarray:
        z = self.slope * np.asarray(margins, dtype=np.float64) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def margin(self, probability: float) -> float:
        """The margin whose score is ``probability`` (the inverse of :meth:`apply`)."""
        p = min(max(probability, 1e-12), 1.0 - 1e-12)
        return (math.log(p / (1.0 - p)) - self.intercept) / self.slope


@dataclass(frozen=True)
class HOGConfig:
    """Parameters of :class:`HOGPeopleDetector`.

    min_person_height: smallest person (pixels of the input frame) to detect; the frame is
        upscaled by ``window person height / min_person_height`` when that exceeds 1 (cost
        grows with the square of the upscale). 0 disables upscaling.
    min_score: keep detections with calibrated score >= this (a probability in [0, 1]).
    nms_iou: IoU above which a lower-scored calibrated box is suppressed.
    pyramid_scale: ratio between successive detection scales (OpenCV's ``scale``), in (1, 2].
    win_stride: window step in pixels of the upscaled image; a multiple of 8.
    box, score: the calibrations (identity = raw windows and a plain logistic of the margin).
    """

    min_person_height: float = 52.0
    min_score: float = 0.5
    nms_iou: float = 0.5
    pyramid_scale: float = 1.05
    win_stride: int = 8
    box: BoxCalibration = field(default_factory=BoxCalibration)
    score: ScoreCalibration = field(default_factory=ScoreCalibration)

    def __post_init__(self) -> None:
        if not (self.min_person_height == 0 or 8.0 <= self.min_person_height <= 1000.0):
            raise ValueError(f"HOGConfig.min_person_height = {self.min_person_height!r} is "
                             f"outside [8, 1000] (or 0 for no upscaling)")
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"HOGConfig.min_score = {self.min_score!r} is outside [0, 1]")
        if not 0.0 <= self.nms_iou <= 1.0:
            raise ValueError(f"HOGConfig.nms_iou = {self.nms_iou!r} is outside [0, 1]")
        if not 1.0 < self.pyramid_scale <= 2.0:
            raise ValueError(f"HOGConfig.pyramid_scale = {self.pyramid_scale!r} is outside (1, 2]")
        if not (isinstance(self.win_stride, int) and self.win_stride > 0
                and self.win_stride % 8 == 0):
            raise ValueError(f"HOGConfig.win_stride = {self.win_stride!r}: must be a positive "
                             f"multiple of 8 (the block stride)")

    @property
    def upscale(self) -> float:
        """Factor applied to the frame before detection (>= 1)."""
        if self.min_person_height == 0:
            return 1.0
        return max(1.0, self.box.height * WINDOW[1] / self.min_person_height)


# ---------------------------------------------------------------------------------------------
# Fitted by `python tools/scripts/fit_hog_calibration.py` (see that module's docstring for the data and
# the procedure). Do not edit by hand: run the script and paste what it prints.
FITTED_BOX = BoxCalibration(center_x=0.5108, center_y=0.4760, width=0.5097, height=0.7918)
FITTED_SCORE = ScoreCalibration(slope=3.3067, intercept=-4.1534)
FITTED_MIN_PERSON_HEIGHT = 52.0
FITTED_MIN_SCORE = 0.5650
FITTED_NMS_IOU = 0.30
# ---------------------------------------------------------------------------------------------

#: The default: calibrated boxes and scores, fitted thresholds.
CALIBRATED = HOGConfig(min_person_height=FITTED_MIN_PERSON_HEIGHT, min_score=FITTED_MIN_SCORE,
                       nms_iou=FITTED_NMS_IOU, box=FITTED_BOX, score=FITTED_SCORE)


class HOGPeopleDetector:
    """Pedestrian detector on OpenCV's HOG descriptor; boxes fitted to annotated pedestrians.

    ``detector(frame_bgr)`` returns :class:`FrameDetections` with ``xyxy`` boxes in frame
    pixels, calibrated scores in [0, 1] and class 0 (person).
    """

    def __init__(self, config: HOGConfig = CALIBRATED):
        if not isinstance(config, HOGConfig):
            raise ValueError(f"config must be a HOGConfig, got {type(config).__name__}")
        self.config = config
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())

    def windows(self, frame_bgr: np.ndarray, min_margin: float | None = None,
                upscale: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every detection window above ``min_margin`` (default: the score threshold), ungrouped.

        Returns ``(windows_xywh (N, 4) float64 in frame pixels, margins (N,) float64)``.
        """
        cfg = self.config
        up = cfg.upscale if upscale is None else float(upscale)
        if min_margin is None:
            min_margin = cfg.score.margin(cfg.min_score)
        image = frame_bgr
        if up != 1.0:
            image = cv2.resize(frame_bgr, None, fx=up, fy=up, interpolation=cv2.INTER_LINEAR)
        stride = (cfg.win_stride, cfg.win_stride)
        rects, weights = self._hog.detectMultiScale(
            image, hitThreshold=float(min_margin), winStride=stride, padding=(8, 8),
            scale=cfg.pyramid_scale, groupThreshold=0)
        if len(rects) == 0:
            return np.zeros((0, 4)), np.zeros(0)
        return (np.asarray(rects, np.float64).reshape(-1, 4) / up,
                np.asarray(weights, np.float64).reshape(-1))

    def __call__(self, frame_bgr: np.ndarray) -> FrameDetections:
        cfg = self.config
        win, margins = self.windows(frame_bgr)
        boxes = cfg.box.apply(win)
        scores = cfg.score.apply(margins)
        keep = scores >= cfg.min_score
        boxes, scores = boxes[keep], scores[keep]
        k = nms(boxes, scores, cfg.nms_iou)
        return FrameDetections(boxes[k], scores[k], np.full(k.size, PERSON, np.int64))

    def reset(self) -> None:
        """Nothing to forget: each frame is detected on its own."""


def opencv_default_people(frame_bgr: np.ndarray) -> FrameDetections:
    """OpenCV's HOG people detector as commonly used (original size, ``scale=1.05``, OpenCV's own
    window grouping, raw windows, margins as scores): the uncalibrated baseline."""
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
    rects, weights = hog.detectMultiScale(frame_bgr, winStride=(8, 8), padding=(8, 8),
                                          scale=1.05)
    if len(rects) == 0:
        return FrameDetections.empty()
    r = np.asarray(rects, np.float64).reshape(-1, 4)
    boxes = np.c_[r[:, :2], r[:, :2] + r[:, 2:]]
    return FrameDetections(boxes, np.asarray(weights, np.float64).reshape(-1),
                           np.full(len(r), PERSON, np.int64))
