"""Tracking a stream of frames end to end: frames -> detector -> encoder -> tracker.

:func:`track_stream` is a generator: it pulls one frame, detects, embeds, tracks, yields a
:class:`TrackStep`, and only then pulls the next frame, so memory stays constant whatever the
length (and a camera stream can run forever). :class:`cosmot.writers.outputs.TrackOutputs`
writes the steps' outputs, each flushed or finalised as frames finish.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

from cosmot.tracker import Tracker, TrackedObjects

from cosmot.pipeline.camera_motion import CameraMotionEstimator
from cosmot.pipeline.foreground import ForegroundShare
from cosmot.pipeline.prefetch import prefetch
from cosmot.detectors import Detector, FrameDetections, check_detections


@dataclass(frozen=True)
class TrackStep:
    """One processed frame: its 1-based number, the image (BGR uint8, not copied), what the
    detector found (after the score filter) and the tracks output by the tracker."""

    frame: int
    image: np.ndarray
    detections: FrameDetections
    tracks: TrackedObjects


@dataclass
class StreamTimes:
    """Seconds spent per stage, summed over the frames processed so far, and the largest track
    id output (ids count up from 1, so it is the number of tracks confirmed).

    Stages run in several threads (decoding ahead, the detector ahead, the writer), so these
    are busy times per stage, which may add up to more than the wall time. ``decode`` and
    ``write`` are filled by :func:`cosmot.track_video` (reading frames, drawing and encoding
    the outputs), which also sets the last frame whose outputs were written and whether the
    input was tracked to its end. ``input_ended``: the stream ran out of frames (rather than
    stopping at ``max_frames``)."""

    frames: int = 0
    decode: float = 0.0
    detect: float = 0.0
    embed: float = 0.0
    cmc: float = 0.0
    foreground: float = 0.0
    track: float = 0.0
    write: float = 0.0
    max_id: int = 0
    input_ended: bool = False
    last_frame: int = 0
    finished: bool = False


def numbered(frames: Iterable) -> Iterator[tuple[int, np.ndarray | None]]:
    """Accept ``(frame_number, image)`` pairs or bare images (numbered from 1). The image of a
    pair may be None: a frame known only by its number (detections from a file, nothing that
    needs pixels)."""
    k = 0
    for item in frames:
        k += 1
        if isinstance(item, tuple) and len(item) == 2 and (item[1] is None
                                                           or np.ndim(item[1]) == 3):
            yield int(item[0]), item[1]
        else:
            yield k, item


def track_stream(frames: Iterable, detector: Detector, tracker: Tracker, encoder=None,
                 min_score: float | None = None, max_frames: int | None = None,
                 times: StreamTimes | None = None,
                 camera_motion: CameraMotionEstimator | None = None,
                 resume_after: int = 0, detect_ahead: int = 0,
                 foreground: ForegroundShare | None = None) -> Iterator[TrackStep]:
    """Track a stream of frames lazily, one :class:`TrackStep` per frame.

    Args:
        frames: iterable of BGR uint8 (H, W, 3) images or ``(frame_number, image)`` pairs
            (e.g. :func:`cosmot.sources.frames.iter_video`); consumed one at a time.
        detector: ``detector(image) -> (boxes_xyxy, scores, classes)`` (any callable).
        tracker: a :class:`tracker.Tracker` (its state carries over between frames).
        encoder: optional appearance encoder with ``embed(image, boxes_xyxy) -> (N, D)``.
        min_score: detections scoring below this are dropped before tracking.
        max_frames: stop after this many frames.
        times: optional counters to fill (seconds per stage, frames, largest id).
        camera_motion: optional estimator of the frame-to-frame camera motion, applied to the
            tracks before association (moving cameras).
        resume_after: continue a run whose ``tracker`` was restored at this frame: frames up
            to it are skipped (the last one only primes ``camera_motion``).
        detect_ahead: run the detector up to this many frames ahead in a background thread
            (0: in the caller's thread). The detector then works on the next frames while the
            encoder, the camera motion and the tracker work on this one; the outputs are the
            same. The detector must not be used by anything else meanwhile.
        foreground: optional :class:`ForegroundShare` (or one with ``by_frame_number`` and
            ``shares_frame(k, boxes)``): each box's moving share, for the tracker's
            ``min_foreground``. A resumed run's model must already have seen the frames
            before ``resume_after`` (:func:`cosmot.pipeline.track_video` replays them).

    Frame numbers come from the stream (an image folder's file names): when some are
    missing, the tracker is advanced through them without detections and nothing is
    yielded for them. A detector with ``by_frame_number`` (a det.txt) is asked for the
    frame's number, not called with the image; so are an encoder (``embed_frame(k, boxes)``)
    and a camera-motion estimator (``warp_frame(k)``) with ``by_frame_number`` (values
    computed beforehand, :mod:`cosmot.pipeline.prepared`). Frames may then come without
    pixels (``(k, None)``) when nothing else needs them.
    """
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames = {max_frames!r}: must be >= 1 (or None for all)")
    times = times if times is not None else StreamTimes()
    detected = _detected(numbered(frames), detector, min_score, max_frames, resume_after,
                         times)
    if detect_ahead:
        detected = prefetch(detected, detect_ahead)
    try:
        yield from _tracked(detected, tracker, encoder, times, camera_motion, resume_after,
                            foreground)
    finally:
        close = getattr(detected, "close", None)
        if close is not None:
            close()


def _detected(frames: Iterator[tuple[int, np.ndarray]], detector: Detector,
              min_score: float | None, max_frames: int | None, resume_after: int,
              times: StreamTimes) -> Iterator[tuple[int, np.ndarray, FrameDetections, float]]:
    """``(frame number, image, detections, detector seconds)`` for the first ``max_frames``
    frames of the stream from ``resume_after`` on."""
    source = getattr(detector, "name", type(detector).__name__)
    by_number = getattr(detector, "by_frame_number", False)
    times.input_ended = False
    warned_outside = False
    for count, (k, image) in enumerate(frames, start=1):
        if max_frames is not None and count > max_frames:
            return
        if k < resume_after:
            continue
        if image is None:
            if not by_number:
                raise ValueError(f"frame {k}: no image, and detector {source!r} needs one "
                                 f"(only detections read by frame number can run without)")
        else:
            image = np.asarray(image)
            if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
                raise ValueError(f"frame {k}: shape {image.shape} dtype {image.dtype}; expected "
                                 f"an HxWx3 uint8 BGR image")
        t0 = time.perf_counter()
        try:
            raw = detector.detections(k) if by_number else detector(image)
            dets = check_detections(raw, source=f"detector {source!r}")
        except ValueError as e:  # say which frame
            raise ValueError(f"frame {k}: {e}") from None
        if min_score is not None:
            dets = dets.select(dets.scores >= min_score)
        if not warned_outside and image is not None and len(dets):
            warned_outside = _warn_outside(k, dets, image.shape, source)
        yield k, image, dets, time.perf_counter() - t0
    times.input_ended = True


class BoxesOutsideFrameWarning(UserWarning):
    """Detections lie entirely outside the image: a det file of another input, or boxes in
    another coordinate system."""


def _warn_outside(k: int, dets: FrameDetections, shape: tuple, source: str) -> bool:
    """Warn (once per run: returns True) when some of this frame's boxes do not touch the
    image at all."""
    h, w = shape[:2]
    b = dets.boxes_xyxy
    out = (b[:, 2] <= 0) | (b[:, 3] <= 0) | (b[:, 0] >= w) | (b[:, 1] >= h)
    if not out.any():
        return False
    warnings.warn(BoxesOutsideFrameWarning(
        f"frame {k}: {int(out.sum())} of {len(b)} boxes from {source} lie entirely outside the "
        f"{w}x{h} image (first: {np.round(b[out][0], 1).tolist()}); is it this input's "
        f"detection file? (said once per run)"))
    return True


def _tracked(detected, tracker: Tracker, encoder, times: StreamTimes,
             camera_motion: CameraMotionEstimator | None, resume_after: int,
             foreground: ForegroundShare | None = None) -> Iterator[TrackStep]:
    """Embed, estimate the camera motion and the moving shares, and track each detected
    frame."""
    enc_by_number = getattr(encoder, "by_frame_number", False)
    cmc_by_number = getattr(camera_motion, "by_frame_number", False)
    fg_by_number = getattr(foreground, "by_frame_number", False)
    for name, part, by_number in (("encoder", encoder, enc_by_number),
                                  ("camera motion", camera_motion, cmc_by_number),
                                  ("foreground model", foreground, fg_by_number)):
        if part is not None and not by_number:  # say so before the first frame without pixels
            detected = _needing_images(detected, name)
    prev = resume_after  # frames before the first one given: motion only
    for k, image, dets, detect_seconds in detected:
        if k == resume_after:  # the checkpoint's frame: only the camera motion needs it
            if camera_motion is not None and not cmc_by_number:
                camera_motion(image, dets.boxes_xyxy)
            if foreground is not None and not fg_by_number:
                foreground.observe(image)
            prev = k
            continue
        if k > prev + 1:  # frames without an image: motion only
            for _ in range(k - prev - 1):
                tracker.update(np.zeros((0, 4)))
        prev = k
        t1 = time.perf_counter()
        times.detect += detect_seconds
        # no boxes, no embedding call (the tracker accepts None on frames without detections)
        emb = None
        if encoder is not None and len(dets):
            emb = (encoder.embed_frame(k, dets.boxes_xyxy) if enc_by_number
                   else encoder.embed(image, dets.boxes_xyxy))
        t_cmc = time.perf_counter()
        warp = None
        if camera_motion is not None:
            warp = (camera_motion.warp_frame(k) if cmc_by_number
                    else camera_motion(image, dets.boxes_xyxy))
        t_fg = time.perf_counter()
        fg = None
        if foreground is not None:
            fg = (foreground.shares_frame(k, dets.boxes_xyxy) if fg_by_number
                  else foreground(image, dets.boxes_xyxy))
        t2 = time.perf_counter()
        try:
            out = tracker.update(dets.boxes_xyxy, dets.scores, emb, dets.classes, warp=warp,
                                 foreground=fg)
        except ValueError as e:  # say which frame (the tracker does not know it)
            raise ValueError(f"frame {k}: {e}") from None
        t3 = time.perf_counter()
        times.frames += 1
        times.embed += t_cmc - t1
        times.cmc += t_fg - t_cmc
        times.foreground += t2 - t_fg
        times.track += t3 - t2
        if len(out):
            times.max_id = max(times.max_id, int(out.track_id.max()))
        yield TrackStep(k, image, dets, out)


def _needing_images(detected, what: str):
    """``detected``, with a ValueError naming ``what`` at the first frame without an image."""
    for item in detected:
        if item[1] is None:
            raise ValueError(f"frame {item[0]}: no image, and the {what} needs one")
        yield item
