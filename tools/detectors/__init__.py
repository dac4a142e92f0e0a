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
from pathlib import Path
from typing import Callable, Mapping

from cosmot.settings import with_fields
from cosmot.detectors.base import PERSON, CallableDetector, Detector, FrameDetections, check_detections

#: What ``auto`` means: the shipped YOLOX-Nano (docs/detectors.md: AP50 and tracking scores
#: against HOG, background subtraction and the det.txt files).
DEFAULT_DETECTOR = "yolox"

BUILT_IN = ("auto", "yolox", "hog", "bgsub")

__all__ = ["Detector", "FrameDetections", "CallableDetector", "check_detections", "PERSON",
           "create_detector", "takes_threads", "DEFAULT_DETECTOR", "BUILT_IN"]


def apply_options(config, options: Mapping[str, str] | None):
    """A copy of a frozen config dataclass with ``options`` (field name -> text) parsed in
    (:func:`cosmot.settings.with_fields`); ``ValueError`` names an unknown field and lists the
    known ones."""
    return with_fields(config, options, "detector option")


def takes_threads(spec) -> bool:
    """Whether :func:`create_detector` of ``spec`` accepts a ``threads`` option (the learned
    detectors run by ONNX Runtime: auto, yolox, an .onnx file)."""
    if not isinstance(spec, (str, os.PathLike)):
        return False
    text = os.fspath(spec)
    return text in ("auto", "yolox") or text.lower().endswith(".onnx")


def create_detector(spec: str | os.PathLike | Callable, options: Mapping[str, str] | None = None,
                    min_score: float | None = None) -> Detector:
    """Make a detector from a name, a file path or a callable.

    Args:
        spec: ``"auto"`` (= ``"yolox"``), ``"yolox"``, ``"hog"``, ``"bgsub"``, a path to an
            ``.onnx`` model (YOLOX, else YOLOv5/v8), a path to a MOTChallenge ``det.txt``, or
            a callable ``frame_bgr -> (boxes_xyxy, scores, classes)``.
        options: config field overrides for the backend, e.g. ``{"min_person_height": "40"}``
            (``YOLOXConfig``, ``HOGConfig``, ``BackgroundConfig`` or ``YOLOConfig``).
        min_score: for a det.txt, drop rows below this score. (The other backends take
            ``min_score`` through ``options``.)
    """
    if callable(spec) and not isinstance(spec, (str, os.PathLike)):
        if options:
            raise ValueError("detector options apply to built-in backends, not to a callable")
        return CallableDetector(spec)
    text = os.fspath(spec)
    name = DEFAULT_DETECTOR if text == "auto" else text
    if name == "yolox":
        from .yolox import YOLOXConfig, YOLOXDetector

        return YOLOXDetector(None, apply_options(YOLOXConfig(), options))
    if name == "hog":
        from cosmot.detectors.hog import CALIBRATED, HOGPeopleDetector

        return HOGPeopleDetector(apply_options(CALIBRATED, options))
    if name == "bgsub":
        from cosmot.detectors.background_subtraction import BackgroundConfig, BackgroundSubtractionDetector

        return BackgroundSubtractionDetector(apply_options(BackgroundConfig(), options))
    path = Path(text)
    if path.suffix.lower() == ".onnx":
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
    if path.suffix.lower() == ".txt":
        from cosmot.detectors.det_file import DetectionFileDetector

        if options:
            raise ValueError("detector options do not apply to a detection file")
        return DetectionFileDetector(path, min_score=min_score)
    raise ValueError(f"unknown detector {text!r}: expected one of {', '.join(BUILT_IN)}, a path "
                     f"to an .onnx model, or a MOTChallenge det.txt")
