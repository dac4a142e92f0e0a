"""The per-frame loop: frames -> detector -> encoder -> tracker -> outputs."""

from .camera_motion import CameraMotionEstimator
from .stream import StreamTimes, TrackOutputs, TrackStep, track_stream

__all__ = ["track_stream", "TrackStep", "StreamTimes", "TrackOutputs", "CameraMotionEstimator"]
