"""Drawing tracks on frames: a stable, distinct colour per id, labelled boxes, motion trails."""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

#: 40 colours told apart: Sasha Trubetskoy's 20 distinct colours, then 20 more picked
#: greedily, each as far as possible (CIELAB distance) from all before it, so no two are closer
#: than the closest pair of the first 20 (RGB; ids 1-40 get them in order, then again).
PALETTE_RGB = ((230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48),
               (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60),
               (250, 190, 212), (0, 128, 128), (220, 190, 255), (170, 110, 40),
               (255, 250, 200), (128, 0, 0), (170, 255, 195), (128, 128, 0), (255, 215, 180),
               (0, 0, 128), (128, 128, 128),
               (0, 0, 32), (0, 0, 224), (128, 32, 96), (0, 64, 0), (0, 224, 0), (64, 32, 0),
               (0, 96, 224), (192, 96, 96), (224, 96, 192), (224, 32, 0), (64, 64, 128),
               (128, 192, 224), (128, 160, 96), (224, 192, 96), (32, 64, 64), (96, 0, 32),
               (160, 128, 224), (224, 0, 128), (224, 160, 0), (32, 0, 64))


def id_color(track_id: int) -> tuple[int, int, int]:
    """The BGR colour of a track id from :data:`PALETTE_RGB`: the same id gets the same colour
    in every run, consecutive ids (often side by side) strongly different ones."""
    r, g, b = PALETTE_RGB[(int(track_id) - 1) % len(PALETTE_RGB)]
    return b, g, r


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


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> int:
    """Overlapping area of two (x0, y0, x1, y1) rectangles."""
    return max(0, min(a[2], b[2]) - max(a[0], b[0])) * max(0, min(a[3], b[3]) - max(a[1], b[1]))


def place_labels(boxes: list[tuple[int, int, int, int]], sizes: list[tuple[int, int]],
                 width: int, height: int) -> list[tuple[int, int, int, int]]:
    """A tab rectangle (x0, y0, x1, y1) per box for a label of ``sizes`` (w, h), placed
    greedily so that tabs do not cover each other: above the box, else inside its top, below
    it, inside its bottom (the first that fits in the image and is free; else the least
    covered). Boxes are served in order, so put the ones that matter most first."""
    placed: list[tuple[int, int, int, int]] = []
    for (x0, y0, x1, y1), (tw, th) in zip(boxes, sizes):
        tx = min(max(x0, 0), max(width - tw, 0))
        candidates = [(tx, y0 - th, tx + tw, y0), (tx, y0, tx + tw, y0 + th),
                      (tx, y1, tx + tw, y1 + th), (tx, y1 - th, tx + tw, y1)]
        inside = [c for c in candidates if c[1] >= 0 and c[3] <= height] or [
            (tx, max(0, min(y0, height - th)), tx + tw, max(0, min(y0, height - th)) + th)]
        best = min(inside, key=lambda c: sum(_overlap(c, p) for p in placed))
        placed.append(best)
    return placed


def draw_tracks(image: np.ndarray, track_ids: np.ndarray, xyxy: np.ndarray,
                trails: Trails | None = None, thickness: int = 2,
                labels: list[str] | None = None) -> np.ndarray:
    """Draw boxes (K, 4) ``xyxy`` with their ids (K,) on ``image`` (BGR uint8, in place).

    Each box is outlined in its id's colour with a ``#N`` label (``#N car`` with ``labels``,
    one class name per box) on a filled tab, placed by :func:`place_labels` so that tabs of
    people side by side do not cover each other (nearer people, lower in the frame, first);
    with ``trails`` the track's recent bottom-centre path is drawn as a polyline. Returns
    ``image``.
    """
    h, w = image.shape[:2]
    font, scale = cv2.FONT_HERSHEY_SIMPLEX, max(0.4, min(1.0, h / 1200))
    ids = np.asarray(track_ids).tolist()
    rects = [tuple(int(round(v)) for v in box) for box in np.asarray(xyxy, np.float64)]
    for tid, (x0, y0, x1, y1) in zip(ids, rects):
        color = id_color(tid)
        if trails is not None:
            pts = trails.points(tid)
            if len(pts) > 1:
                cv2.polylines(image, [np.asarray(pts, np.int32)], False, color, thickness,
                              cv2.LINE_AA)
        cv2.rectangle(image, (x0, y0), (x1, y1), color, thickness, cv2.LINE_AA)
    texts = [f"#{tid}" if labels is None else f"#{tid} {labels[k]}" for k, tid in enumerate(ids)]
    metrics = [cv2.getTextSize(t, font, scale, 1) for t in texts]
    sizes = [(tw + 4, th + base + 3) for (tw, th), base in metrics]
    order = sorted(range(len(ids)), key=lambda k: -rects[k][3])  # nearest (lowest) first
    tabs = place_labels([rects[k] for k in order], [sizes[k] for k in order], w, h)
    for k, (tx0, ty0, tx1, ty1) in zip(order, tabs):
        color = id_color(ids[k])
        cv2.rectangle(image, (tx0, ty0), (tx1 - 1, ty1 - 1), color, cv2.FILLED)
        luminance = 0.114 * color[0] + 0.587 * color[1] + 0.299 * color[2]
        text = (0, 0, 0) if luminance > 128 else (255, 255, 255)
        base = metrics[k][1]
        cv2.putText(image, texts[k], (tx0 + 2, ty1 - base - 1), font, scale, text, 1,
                    cv2.LINE_AA)
    return image
