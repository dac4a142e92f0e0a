"""Drawing tracks on frames: a stable, distinct colour per id, labelled boxes, motion trails."""

from __future__ import annotations

import colorsys
from collections import deque

import cv2
import numpy as np

_GOLDEN = 0.6180339887498949


def id_color(track_id: int) -> tuple[int, int, int]:
    """The BGR colour of a track id: hues a golden-ratio step apart, so consecutive ids differ
    strongly; the same id gets the same colour in every run."""
    h = (int(track_id) * _GOLDEN) % 1.0
    s = 0.85 if int(track_id) % 2 else 0.65
    r, g, b = colorsys.hsv_to_rgb(h, s, 0.95)
    return int(b * 255), int(g * 255), int(r * 255)


class Trails:
    """The last ``length`` bottom-centre points of each track, for drawing motion trails.

    Memory is bounded: a track not seen for ``length`` frames is forgotten.
    """

    def __init__(self, length: int):
        if not (isinstance(length, int) and length >= 0):
            raise ValueError(f"trail length = {length!r}: must be an int >= 0")
        self.length = length
        self._points: dict[int, deque] = {}
        self._seen: dict[int, int] = {}
        self._frame = 0

    def __len__(self) -> int:
        return len(self._points)

    def update(self, track_ids: np.ndarray, xyxy: np.ndarray) -> None:
        """Add this frame's boxes (K,) ids and (K, 4) xyxy."""
        self._frame += 1
        if self.length == 0:
            return
        foot = np.c_[(xyxy[:, 0] + xyxy[:, 2]) / 2, xyxy[:, 3]]
        for tid, p in zip(track_ids.tolist(), foot):
            self._points.setdefault(tid, deque(maxlen=self.length)).append(
                (int(round(p[0])), int(round(p[1]))))
            self._seen[tid] = self._frame
        old = [t for t, f in self._seen.items() if self._frame - f >= self.length]
        for t in old:
            del self._points[t], self._seen[t]

    def points(self, track_id: int) -> list[tuple[int, int]]:
        return list(self._points.get(track_id, ()))


def draw_tracks(image: np.ndarray, track_ids: np.ndarray, xyxy: np.ndarray,
                trails: Trails | None = None, thickness: int = 2,
                labels: list[str] | None = None) -> np.ndarray:
    """Draw boxes (K, 4) ``xyxy`` with their ids (K,) on ``image`` (BGR uint8, in place).

    Each box is outlined in its id's colour with an ``id N`` label (``id N car`` with
    ``labels``, one class name per box) on a filled tab above it; with ``trails`` the track's
    recent bottom-centre path is drawn as a polyline. Returns ``image``.
    """
    h, w = image.shape[:2]
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, max(0.4, min(1.0, h / 1200))
    for k, (tid, box) in enumerate(zip(np.asarray(track_ids).tolist(),
                                       np.asarray(xyxy, np.float64))):
        color = id_color(tid)
        x0, y0, x1, y1 = (int(round(v)) for v in box)
        if trails is not None:
            pts = trails.points(tid)
            if len(pts) > 1:
                cv2.polylines(image, [np.asarray(pts, np.int32)], False, color, thickness,
                              cv2.LINE_AA)
        cv2.rectangle(image, (x0, y0), (x1, y1), color, thickness, cv2.LINE_AA)
        label = f"id {tid}" if labels is None else f"id {tid} {labels[k]}"
        (tw, th), base = cv2.getTextSize(label, font, scale, 1)
        ty = y0 - 2 if y0 - th - base - 2 >= 0 else y0 + th + base + 2
        tx = min(max(x0, 0), max(w - tw - 2, 0))
        cv2.rectangle(image, (tx - 1, ty - th - base), (tx + tw + 1, ty + base // 2), color,
                      cv2.FILLED)
        luminance = 0.114 * color[0] + 0.587 * color[1] + 0.299 * color[2]
        text = (0, 0, 0) if luminance > 128 else (255, 255, 255)
        cv2.putText(image, label, (tx, ty - base // 2), font, scale, text, 1, cv2.LINE_AA)
    return image
