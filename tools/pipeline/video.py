"""``track_video``: the whole application as one call — a video (file, folder, sequence, camera)
in, tracks and annotated outputs out."""

from __future__ import annotations

import os
from typing import Callable

from tqdm import tqdm

from cosmot.detectors import create_detector
from cosmot.pipeline.camera_motion import CameraMotionEstimator, resolve_cmc
from cosmot.pipeline.stream import StreamTimes, TrackOutputs, track_stream
from cosmot.sources.inputs import open_input
from cosmot.tracker import Tracker, TrackerConfig

def track_video(source: str | os.PathLike, detector: str | os.PathLike | Callable = "auto",
                encoder="default", config: TrackerConfig | None = None, *,
                out_video: str | os.PathLike | None = None,
                out_mot: str | os.PathLike | None = None,
                out_json: str | os.PathLike | None = None, cmc: str = "auto",
                fps: float | None = None, trails: int = 0, min_score: float | None = None,
                max_frames: int | None = None, output_box: str = "kalman",
                progress: bool = False) -> StreamTimes:
    """Detect, embed and track every frame of ``source``; write the outputs asked for.

    Args:
        source: a video file, an image folder, a MOTChallenge sequence folder, a camera index
            ("0") or a stream URL.
        detector: a name or path for :func:`cosmot.detectors.create_detector`, or a detector.
        encoder: a name or path for :func:`cosmot.appearance.load_encoder`, an encoder object,
            or None for motion only.
        config: tracker settings (default: ``TrackerConfig()`` with ``fps`` set from the source).
        out_video / out_mot / out_json: annotated video, MOTChallenge rows, JSON lines.
        cmc: camera-motion compensation, "auto" (sparse when an encoder runs), "none",
            "sparse" or "ecc".
        fps: the source's frame rate when its header is wrong or missing.
    Returns the per-stage seconds, frame count and largest id.
    """
    src = open_input(os.fspath(source), fps)
    if isinstance(detector, (str, os.PathLike)):
        detector = create_detector(detector)
    if isinstance(encoder, (str, os.PathLike)):
        from cosmot.appearance import load_encoder

        encoder = load_encoder(encoder)
    config = config if config is not None else TrackerConfig(fps=src.fps)
    method = resolve_cmc(cmc, encoder)
    camera_motion = CameraMotionEstimator(method) if method != "none" else None
    times = StreamTimes()
    steps = track_stream(src.frames(), detector, Tracker(config), encoder, min_score=min_score,
                         max_frames=max_frames, times=times, camera_motion=camera_motion)
    total = src.length if src.length > 0 else None
    try:
        with TrackOutputs(out_video, out_mot, out_json, fps=src.fps, trails=trails,
                          output_box=output_box) as outputs, \
                tqdm(total=total, unit="frame", disable=not progress) as bar:
            for step in steps:
                outputs.write(step)
                bar.update(1)
    finally:
        steps.close()
    return times
