"""cosmot's tracker core: a Deep SORT-style track manager (numpy, scipy, lap, filterpy only).

Typical use, one call per frame::

    from cosmot.tracker import Tracker, TrackerConfig
    tracker = Tracker(TrackerConfig())
    for boxes_xyxy, scores, embeddings in frames:
        for obj in tracker.update(boxes_xyxy, scores, embeddings):
            print(obj.track_id, obj.xyxy)
"""

from .config import DEEPSORT, DEFAULT_MAX_COSINE_DISTANCE, PRESETS, TrackerConfig, preset
from .kalman_filter import CHI2INV95, KalmanFilter
from .results import TrackedObject, TrackedObjects
from .tracker import Tracker

__all__ = ["Tracker", "TrackerConfig", "TrackedObject", "TrackedObjects", "KalmanFilter",
           "CHI2INV95", "PRESETS", "DEEPSORT", "DEFAULT_MAX_COSINE_DISTANCE", "preset"]
