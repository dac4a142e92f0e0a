"""The detector interface: one call per frame, boxes in ``xyxy`` pixels, scores and class ids.

Every backend of :mod:`cosmot.detectors` (and any plain Python function a library user brings) is a
callable ``detector(frame_bgr) -> FrameDetections``:

- ``frame_bgr``: (H, W, 3) uint8 image in OpenCV's BGR layout;
- ``boxes_xyxy``: (N, 4) float64, left, top, right, bottom in pixels of that frame;
- ``scores``: (N,) float64 confidence (backend-specific scale; the built-ins give [0, 1]);
- ``classes``: (N,) int64 class ids (0 = person for the built-ins, -1 when unknown).

Detectors are called on consecutive frames of one stream; those with state across frames (a
background model, a position in a detection file) offer ``reset()``.
"""

from __future__ import annotations

from typing import Callable, NamedTuple, Protocol, runtime_checkable

import numpy as np

#: Class id the built-in people detectors give (COCO's "person" index).
PERSON = 0


class FrameDetections(NamedTuple):
    """Detections of one frame. Unpacks as ``boxes_xyxy, scores, classes``.

    boxes_xyxy: (N, 4) float64 (left, top, right, bottom) pixels; scores: (N,) float64;
    classes: (N,) int64.
    """

    boxes_xyxy: np.ndarray
    scores: np.ndarray
    classes: np.ndarray

    def __len__(self) -> int:  # the number of detections, not of fields
        return int(self.boxes_xyxy.shape[0])

    @staticmethod
    def empty() -> "FrameDetections":
        return FrameDetections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64))

    def select(self, index: np.ndarray) -> "FrameDetections":
        """The detections at ``index`` (indices or a boolean mask)."""
        return FrameDetections(self.boxes_xyxy[index], self.scores[index], self.classes[index])


@runtime_checkable
class Detector(Protocol):
    """Anything called with a BGR frame that returns ``(boxes_xyxy, scores, classes)``."""

    def __call__(self, frame_bgr: np.ndarray) -> FrameDetections: ...


def check_detections(result, source: str = "detector") -> FrameDetections:
    """Validate and normalise what a detector returned.

    Accepts any 3-sequence ``(boxes_xyxy (N, 4), scores (N,), classes (N,) or None)``.
    Raises ``ValueError`` naming ``source`` when shapes disagree or values are not finite.
    Boxes without area (right <= left or bottom <= top) are dropped: the tracker refuses them.
    """
    try:
        boxes, scores, classes = result
    except (TypeError, ValueError):
        raise ValueError(f"{source} returned {type(result).__name__}; expected a tuple "
                         f"(boxes_xyxy (N, 4), scores (N,), classes (N,))") from None
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.size == 0:
        boxes = boxes.reshape(0, 4)
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(f"{source} returned boxes of shape {boxes.shape}; expected (N, 4) xyxy")
    n = boxes.shape[0]
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if scores.shape[0] != n:
        raise ValueError(f"{source} returned {scores.shape[0]} scores for {n} boxes")
    if classes is None:
        classes = np.full(n, -1, np.int64)
    else:
        classes = np.asarray(classes).reshape(-1)
        if classes.shape[0] != n:
            raise ValueError(f"{source} returned {classes.shape[0]} classes for {n} boxes")
        classes = classes.astype(np.int64)
    if not (np.isfinite(boxes).all() and np.isfinite(scores).all()):
        raise ValueError(f"{source} returned non-finite boxes or scores")
    keep = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    out = FrameDetections(boxes, scores, classes)
    return out if keep.all() else out.select(keep)


class CallableDetector:
    """Wraps a plain function ``frame_bgr -> (boxes_xyxy, scores, classes)`` as a detector whose
    output is validated (see :func:`check_detections`)."""

    def __init__(self, fn: Callable[[np.ndarray], object], name: str | None = None):
        if not callable(fn):
            raise ValueError(f"fn = {fn!r} is not callable; expected a function "
                             f"frame_bgr -> (boxes_xyxy, scores, classes)")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", type(fn).__name__)

    def __call__(self, frame_bgr: np.ndarray) -> FrameDetections:
        return check_detections(self.fn(frame_bgr), source=f"detector {self.name!r}")

    def reset(self) -> None:
        reset = getattr(self.fn, "reset", None)
        if callable(reset):
            reset()
