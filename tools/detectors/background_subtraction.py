"""People as moving foreground blobs: background subtraction for static cameras.

Per frame: OpenCV's MOG2 (or KNN) background model gives a foreground mask (shadows, which both
mark grey, are dropped); a median filter and a morphological opening remove speckle, a closing
with a tall kernel joins the parts of a body (head, torso, legs); the outer contours' bounding
boxes become candidates, filtered by size and shape. A blob much wider than a person (a group
walking side by side) is split into person-wide columns, each box shrunk to the foreground rows
of its columns. The score is the fraction of the box covered by foreground.

Only for a fixed camera: the model needs ``warmup`` frames to learn the background and a moving
camera turns everything into foreground. Parameters were chosen by
``python tools/scripts/fit_background.py`` on TUD-Stadtmitte and KITTI-17, never on PETS09-S2L1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from cosmot.detectors.base import PERSON, FrameDetections
from cosmot.tracker.geometry import nms


@dataclass(frozen=True)
class BackgroundConfig:
    """Parameters of :class:`BackgroundSubtractionDetector` (pixels are input-frame pixels).

    method: ``"mog2"`` or ``"knn"``.
    history: frames the background model remembers.
    threshold: MOG2 ``varThreshold`` (squared Mahalanobis distance, default 16) or KNN
        ``dist2Threshold`` (squared distance, default 400).
    work_height: frames are resized to this height before modelling (0: original size).
    open_size, close_width, close_height: morphology kernel sizes in pixels at work size.
    min_height, max_height: person box height range in pixels.
    min_aspect, max_aspect: person box width / height range; wider blobs are split.
    person_aspect: width / height of one person, used to split wide blobs.
    min_fill: smallest fraction of the box covered by foreground (also the lowest score).
    warmup: frames at the start for which nothing is reported (the model is learning).
    box_scale_x, box_scale_y: box width and height factors about the box centre.
    """

    # defaults chosen by `python tools/scripts/fit_background.py` (TUD-Stadtmitte, KITTI-17)
    method: Literal["mog2", "knn"] = "mog2"
    history: int = 200
    threshold: float = 8.0
    work_height: int = 360
    open_size: int = 3
    close_width: int = 11
    close_height: int = 51
    min_height: float = 55.0
    max_height: float = 600.0
    min_aspect: float = 0.15
    max_aspect: float = 0.6
    person_aspect: float = 0.4
    min_fill: float = 0.43
    warmup: int = 5
    box_scale_x: float = 1.0
    box_scale_y: float = 1.0

    def __post_init__(self) -> None:
        if self.method not in ("mog2", "knn"):
            raise ValueError(f"BackgroundConfig.method = {self.method!r}: must be 'mog2' or 'knn'")
        ints = {"history": (1, None), "work_height": (0, None), "open_size": (1, 99),
                "close_width": (1, 99), "close_height": (1, 199), "warmup": (0, None)}
        for name, (lo, hi) in ints.items():
            v = getattr(self, name)
            if not isinstance(v, int) or v < lo or (hi is not None and v > hi):
                raise ValueError(f"BackgroundConfig.{name} = {v!r}: must be an int in "
                                 f"[{lo}, {'inf' if hi is None else hi}]")
        if not self.threshold > 0:
            raise ValueError(f"BackgroundConfig.threshold = {self.threshold!r}: must be > 0")
        if not 0 < self.min_height < self.max_height:
            raise ValueError(f"BackgroundConfig.min_height = {self.min_height!r}, max_height = "
                             f"{self.max_height!r}: need 0 < min_height < max_height")
        if not 0 < self.min_aspect <= self.person_aspect <= self.max_aspect:
            raise ValueError(f"BackgroundConfig aspects: need 0 < min_aspect ({self.min_aspect}) "
                             f"<= person_aspect ({self.person_aspect}) <= max_aspect "
                             f"({self.max_aspect})")
        if not 0.0 <= self.min_fill <= 1.0:
            raise ValueError(f"BackgroundConfig.min_fill = {self.min_fill!r} is outside [0, 1]")
        for name in ("box_scale_x", "box_scale_y"):
            v = getattr(self, name)
            if not 0.5 <= v <= 2.0:
                raise ValueError(f"BackgroundConfig.{name} = {v!r} is outside [0.5, 2]")


class BackgroundSubtractionDetector:
    """Moving-people detector for static cameras (see the module docstring).

    ``detector(frame_bgr)`` returns :class:`FrameDetections`: ``xyxy`` boxes in frame pixels,
    scores = foreground fill in [0, 1], class 0 (person). Stateful: call on consecutive frames
    of one stream; ``reset()`` forgets the background.
    """

    def __init__(self, config: BackgroundConfig = BackgroundConfig()):
        if not isinstance(config, BackgroundConfig):
            raise ValueError(f"config must be a BackgroundConfig, got {type(config).__name__}")
        self.config = config
        self.reset()

    def reset(self) -> None:
        cfg = self.config
        # KNN draws from OpenCV's global RNG when it updates its samples: seed it, so a run does
        # not depend on what ran before in the process
        cv2.setRNGSeed(0)
        if cfg.method == "mog2":
            self._model = cv2.createBackgroundSubtractorMOG2(
                history=cfg.history, varThreshold=cfg.threshold, detectShadows=True)
        else:
            self._model = cv2.createBackgroundSubtractorKNN(
                history=cfg.history, dist2Threshold=cfg.threshold, detectShadows=True)
        self._open = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (cfg.open_size,) * 2)
        self._close = cv2.getStructuringElement(cv2.MORPH_RECT,
                                                (cfg.close_width, cfg.close_height))
        self.frames_seen = 0

    def foreground(self, frame_bgr: np.ndarray) -> tuple[np.ndarray, float]:
        """Update the model; return ``(mask uint8 0/255 at work size, work/frame scale)``."""
        cfg = self.config
        h = frame_bgr.shape[0]
        s = cfg.work_height / h if cfg.work_height and cfg.work_height < h else 1.0
        image = frame_bgr if s == 1.0 else cv2.resize(frame_bgr, None, fx=s, fy=s,
                                                      interpolation=cv2.INTER_AREA)
        raw = self._model.apply(image)
        self.frames_seen += 1
        mask = np.where(raw > 200, 255, 0).astype(np.uint8)  # 127 = shadow
        mask = cv2.medianBlur(mask, 5)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, self._open)
        mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, self._close)
        return mask, s

    def __call__(self, frame_bgr: np.ndarray) -> FrameDetections:
        cfg = self.config
        mask, s = self.foreground(frame_bgr)
        if self.frames_seen <= cfg.warmup:
            return FrameDetections.empty()
        _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        boxes, fills = [], []
        min_h, max_h = cfg.min_height * s, cfg.max_height * s
        for x, y, w, h, _area in stats[1:]:
            if h < min_h or w < 2:
                continue
            if w > cfg.max_aspect * h:  # a group side by side: person-wide columns
                parts = max(2, int(round(w / (cfg.person_aspect * h))))
                edges = np.linspace(x, x + w, parts + 1).round().astype(int)
                spans = list(zip(edges[:-1], edges[1:]))
            else:
                spans = [(x, x + w)]
            for x0, x1 in spans:
                cols = mask[y:y + h, x0:x1] > 0
                rows = np.flatnonzero(cols.any(axis=1))
                if rows.size == 0:
                    continue
                y0, y1 = y + rows[0], y + rows[-1] + 1
                bh, bw = y1 - y0, x1 - x0
                if not (min_h <= bh <= max_h and cfg.min_aspect * bh <= bw <= cfg.max_aspect * bh):
                    continue
                fill = float(cols[rows[0]:rows[-1] + 1].mean())
                if fill >= cfg.min_fill:
                    boxes.append((x0, y0, x1, y1))
                    fills.append(fill)
        if not boxes:
            return FrameDetections.empty()
        b = np.asarray(boxes, np.float64) / s
        scores = np.asarray(fills)
        if cfg.box_scale_x != 1.0 or cfg.box_scale_y != 1.0:
            c = (b[:, :2] + b[:, 2:]) / 2
            half = (b[:, 2:] - b[:, :2]) / 2 * np.array([cfg.box_scale_x, cfg.box_scale_y])
            b = np.c_[c - half, c + half]
        keep = nms(b, scores, 0.5)
        return FrameDetections(b[keep], scores[keep], np.full(keep.size, PERSON, np.int64))
