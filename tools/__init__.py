"""cosmot: Deep SORT-style multi-object tracking with a learned appearance metric.

The data flow reads from the sub-packages' names::

    cosmot.sources     frames from videos, image folders, cameras, MOTChallenge sequences
    cosmot.detectors   frame -> boxes, scores, classes (YOLO ONNX, HOG, background, det.txt)
    cosmot.appearance  boxes in a frame -> unit embeddings (the learned encoder), its training
    cosmot.tracker     detections + embeddings -> tracks (Kalman filter, matching, life cycle)
    cosmot.pipeline    the per-frame loop joining them; camera-motion compensation
    cosmot.writers     MOTChallenge rows, JSON lines, annotated video
    cosmot.evaluation  HOTA / CLEAR / Identity via TrackEval; detector precision/recall
    cosmot.cli         the ``cosmot`` command line

The public API is re-exported here and imported lazily, so ``import cosmot`` is cheap and
loads neither OpenCV nor ONNX Runtime until they are used::

    from cosmot import Tracker, TrackerConfig, load_encoder, create_detector, track_video
"""

from __future__ import annotations

import importlib

__version__ = "0.2.0"

#: public name -> module that defines it
_EXPORTS = {
    "Tracker": "cosmot.tracker",
    "TrackerConfig": "cosmot.tracker",
    "TrackedObject": "cosmot.tracker",
    "TrackedObjects": "cosmot.tracker",
    "PRESETS": "cosmot.tracker",
    "preset": "cosmot.tracker",
    "load_encoder": "cosmot.appearance",
    "create_detector": "cosmot.detectors",
    "FrameDetections": "cosmot.detectors",
    "track_stream": "cosmot.pipeline",
    "track_video": "cosmot.pipeline",
    "TrackOutputs": "cosmot.writers.outputs",
    "CameraMotionEstimator": "cosmot.pipeline",
    "DeepSortTracker": "cosmot.integrations",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cosmot' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return __all__
