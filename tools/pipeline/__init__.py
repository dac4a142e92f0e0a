"""The per-frame loop: frames -> detector -> encoder -> tracker -> outputs."""

from .camera_motion import CameraMotionEstimator
from .stream import StreamTimes, TrackOutputs, TrackStep, track_stream
from .video import track_video

__all__ = ["track_video", "track_stream", "TrackStep", "StreamTimes", "TrackOutputs", "CameraMotionEstimator"]
