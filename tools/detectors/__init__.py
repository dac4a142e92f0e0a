"""Detector backends behind one interface: ``detector(frame_bgr) -> FrameDetections``.

=========  ==================================================================  ===============
name       backend                                                             module
=========  ==================================================================  ===============
yolox      the shipped YOLOX-Nano (COCO, ONNX), SHA-256 checked                  ``yolox``
hog        OpenCV HOG people detector with calibrated boxes and scores          ``hog``
bgsub      background subtraction (MOG2) for static cameras                     ``background_subtraction``
auto       the default: ``DEFAULT_DETECTOR`` (= yolox)                         —
FILE.onnx  a YOLOX ONNX model (raw head output, recognised by its row count)    ``yolox``
           or a YOLOv5/v8-style one (the user's weights)                        ``onnx_yolo``
FILE.txt   a MOTChallenge det.txt played back frame by frame                   ``det_file``
callable   any function ``frame_bgr -> (boxes_xyxy, scores, classes)``          ``base``
=========  ==================================================================  ===============
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from cosmot.settings import with_fields
from cosmot.detectors.base import PERSON, CallableDetector, Detector, FrameDetections, check_detections

#: What ``auto`` means: the shipped YOLOX-Nano (docs/detectors.md: AP50 and tracking scores
#: against HOG, background subtraction and the det.txt files).
DEFAULT_DETECTOR = "yolox"


@dataclass(frozen=True)
class DetectorKind:
    """One kind of detector, as the command line and :func:`create_detector` know it: adding
    a detector is one entry in :data:`REGISTRY` (or a file suffix in :func:`kind_of`).

    make: ``options -> detector`` (``options``: config fields as text, for ``config``).
    config: the config dataclass its options are fields of (for help texts).
    learned: an ONNX model run by ONNX Runtime: takes ``threads``, ``size`` and ``classes``.
    resumable: holds no state beyond the current frame, so a checkpointed run can continue
        it (background subtraction keeps a background model that is not saved).
    """

    name: str
    summary: str
    make: Callable[[Mapping[str, str] | None], Detector]
    config: str
    learned: bool = False
    resumable: bool = True


def _yolox(options):
    from .yolox import YOLOXConfig, YOLOXDetector

    return YOLOXDetector(None, apply_options(YOLOXConfig(), options))


def _hog(options):
    from cosmot.detectors.hog import CALIBRATED, HOGPeopleDetector

    return HOGPeopleDetector(apply_options(CALIBRATED, options))


def _bgsub(options):
    from cosmot.detectors.background_subtraction import (BackgroundConfig,
                                                         BackgroundSubtractionDetector)

    return BackgroundSubtractionDetector(apply_options(BackgroundConfig(), options))


#: The named detectors (``auto`` is :data:`DEFAULT_DETECTOR`).
REGISTRY: dict[str, DetectorKind] = {k.name: k for k in (
    DetectorKind("yolox", "the shipped YOLOX-Nano (COCO, ONNX Runtime), SHA-256 checked",
                 _yolox, "YOLOXConfig", learned=True),
    DetectorKind("hog", "OpenCV HOG people detector with calibrated boxes and scores", _hog,
                 "HOGConfig"),
    DetectorKind("bgsub", "background subtraction (MOG2) for static cameras", _bgsub,
                 "BackgroundConfig", resumable=False),
)}

#: An ``.onnx`` file: a YOLOX model (recognised by its output) or a YOLOv5/v8-style one.
ONNX_FILE = DetectorKind("model.onnx", "your YOLOX or YOLOv5/v8 ONNX model", None,
                         "YOLOXConfig or YOLOConfig", learned=True)
#: A ``.txt`` file: a MOTChallenge det.txt played back by frame number.
DET_FILE = DetectorKind("det.txt", "a MOTChallenge det.txt played back", None, "-")

BUILT_IN = ("auto", *REGISTRY)

__all__ = ["Detector", "FrameDetections", "CallableDetector", "check_detections", "PERSON",
           "create_detector", "takes_threads", "DEFAULT_DETECTOR", "BUILT_IN", "REGISTRY",
           "DetectorKind", "kind_of"]


def apply_options(config, options: Mapping[str, str] | None):
    """A copy of a frozen config dataclass with ``options`` (field name -> text) parsed in
    (:func:`cosmot.settings.with_fields`); ``ValueError`` names an unknown field and lists the
    known ones."""
    return with_fields(config, options, "detector option")


def kind_of(spec) -> DetectorKind | None:
    """The :class:`DetectorKind` of a name or path (``auto`` is the default's), None for a
    callable or an unknown name."""
    if not isinstance(spec, (str, os.PathLike)):
        return None
    text = os.fspath(spec)
    name = DEFAULT_DETECTOR if text == "auto" else text
    if name in REGISTRY:
        return REGISTRY[name]
    suffix = Path(text).suffix.lower()
    return {".onnx": ONNX_FILE, ".txt": DET_FILE}.get(suffix)


def takes_threads(spec) -> bool:
    """Whether :func:`create_detector` of ``spec`` accepts a ``threads`` option (the learned
    detectors run by ONNX Runtime: auto, yolox, an .onnx file)."""
    kind = kind_of(spec)
    return kind is not None and kind.learned


def create_detector(spec: str | os.PathLike | Callable, options: Mapping[str, str] | None = None,
                    min_score: float | None = None) -> Detector:
    """Make a detector from a name, a file path or a callable.

    Args:
        spec: a name of :data:`REGISTRY` (``"yolox"``, ``"hog"``, ``"bgsub"``) or ``"auto"``
            (= ``"yolox"``), a path to an ``.onnx`` model (YOLOX, else YOLOv5/v8), a path to a
            MOTChallenge ``det.txt``, or a callable ``frame_bgr -> (boxes_xyxy, scores,
            classes)``.
        options: config field overrides for the backend, e.g. ``{"min_person_height": "40"}``
            (``YOLOXConfig``, ``HOGConfig``, ``BackgroundConfig`` or ``YOLOConfig``).
        min_score: for a det.txt, drop rows below this score. (The other backends take
            ``min_score`` through ``options``.)

    Returns a callable ``detector(frame_bgr) -> FrameDetections`` (boxes_xyxy (N, 4),
    scores (N,), classes (N,)).
    """
    if callable(spec) and not isinstance(spec, (str, os.PathLike)):
        if options:
            raise ValueError("detector options apply to built-in backends, not to a callable")
        return CallableDetector(spec)
    text = os.fspath(spec)
    kind = kind_of(text)
    if kind is not None and kind.make is not None:
        return kind.make(options)
    path = Path(text)
    if kind is ONNX_FILE:
        from cosmot.detectors.onnx_yolo import ONNXYOLODetector, YOLOConfig

        from .yolox import YOLOXConfig, YOLOXDetector, looks_like_yolox

        if not path.is_file():
            raise FileNotFoundError(f"--detector {text}: no such ONNX model file")
        try:
            yolox = looks_like_yolox(path)
        except Exception:  # not loadable: ONNXYOLODetector says why, naming the file
            yolox = False
        if yolox:
            return YOLOXDetector(path, apply_options(YOLOXConfig(), options))
        return ONNXYOLODetector(path, apply_options(YOLOConfig(), options))
    if kind is DET_FILE:
        from cosmot.detectors.det_file import DetectionFileDetector

        if options:
            raise ValueError("detector options do not apply to a detection file")
        return DetectionFileDetector(path, min_score=min_score)
    raise ValueError(f"unknown detector {text!r}: expected one of {', '.join(BUILT_IN)}, a path "
                     f"to an .onnx model, or a MOTChallenge det.txt")
