"""The per-frame loop: frames -> detector -> encoder -> tracker -> outputs."""

from .camera_motion import CameraMotionEstimator
from cosmot.writers.outputs import TrackOutputs

from .stream import StreamTimes, TrackStep, track_stream
from .video import track_video

__all__ = ["track_video", "track_stream", "TrackStep", "StreamTimes", "TrackOutputs", "CameraMotionEstimator"]
