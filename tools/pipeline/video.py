"""``track_video``: the whole application as one call — a video (file, folder, sequence, camera)
in, tracks and annotated outputs out. ``cosmot track`` is this call plus argument checks.

Threads: frames are decoded ahead (``prefetch``), the detector runs ahead in its own thread
(``detect_ahead``) while the encoder, the camera motion and the tracker work on the frame
before, and the outputs are encoded in a writer thread (:class:`TrackOutputs`). The detector
and the encoder then get half the cores each (:func:`thread_split`). Outputs are the same
whatever these settings.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from typing import Callable

from tqdm import tqdm

from cosmot.detectors import create_detector, takes_threads
from cosmot.pipeline.camera_motion import CameraMotionEstimator, resolve_cmc
from cosmot.pipeline.foreground import ForegroundShare
from cosmot.pipeline.run_state import (checkpoint_path, cut_outputs, load_checkpoint,
                                        save_checkpoint)
from cosmot.pipeline.prefetch import prefetch as prefetched
from cosmot.pipeline.stream import StreamTimes, track_stream
from cosmot.writers.outputs import TrackOutputs
from cosmot.sources.open_input import open_input
from cosmot.tracker import Tracker, TrackerConfig
from cosmot.pipeline.gate import with_detector_birth_score, with_encoder_gate


def thread_split(detect_ahead: int, cores: int | None = None) -> tuple[int, int]:
    """Intra-op threads of ``(detector, encoder)``: with the detector running ahead in its own
    thread, the cores are shared between them (half each, at least one); without, both run in
    turn and each gets every core. ``cores`` defaults to the cores this process may use
    (``COSMOT_THREADS`` when set).

    Why: YOLOX-Nano gains little from a second thread, so one thread beside the rest of the
    frame is faster (measured with ``python tools/scripts/bench_components.py detector-threads
    SEQ``; figures in docs/scale.md, section 2.4).
    """
    from cosmot.runtime import available_cores

    cores = available_cores() if cores is None else max(1, int(cores))
    if detect_ahead < 1:
        return cores, cores
    detector = max(1, cores // 2)
    return detector, max(1, cores - detector)


def _timed(frames, times: StreamTimes):
    """``frames``, adding the time spent producing each to ``times.decode``."""
    it = iter(frames)
    try:
        while True:
            t0 = time.perf_counter()
            try:
                item = next(it)
            except StopIteration:
                return
            times.decode += time.perf_counter() - t0
            yield item
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()


def track_video(source, detector: str | os.PathLike | Callable = "auto",
                encoder="default", config: TrackerConfig | None = None, *,
                out_video: str | os.PathLike | None = None,
                out_mot: str | os.PathLike | None = None,
                out_json: str | os.PathLike | None = None,
                out_det: str | os.PathLike | None = None, cmc="auto",
                fps: float | None = None, trails: int = 0, min_score: float | None = None,
                max_frames: int | None = None, output_box: str = "kalman",
                progress: bool = False, prefetch: int = 4, detect_ahead: int = 2,
                background_writer: bool = True,
                checkpoint_every: int = 0, resume: bool = False, run: dict | None = None,
                stop=None, times: StreamTimes | None = None,
                log: Callable[[str], None] | None = None, collector=None,
                progress_label: str | None = None, foreground=None) -> StreamTimes:
    """Detect, embed and track every frame of ``source``; write the outputs asked for.

    Args:
        source: a video file, an image folder, a MOTChallenge sequence folder, a camera index
            ("0") or a stream URL; or an input already opened by
            :func:`cosmot.sources.open_input.open_input`.
        detector: a name or path for :func:`cosmot.detectors.create_detector` (made with
            :func:`thread_split`'s threads), or a detector.
        encoder: a name or path for :func:`cosmot.appearance.load_encoder` (made with
            :func:`thread_split`'s threads), an encoder object, or None for motion only.
        config: tracker settings (default: ``TrackerConfig()`` with ``fps`` set from the source);
            a ``max_cosine_distance`` of None becomes the encoder's calibrated gate
            (:func:`cosmot.pipeline.gate.with_encoder_gate`), a ``birth_score`` of None the
            detector's (:func:`cosmot.pipeline.gate.with_detector_birth_score`).
        out_video / out_mot / out_json: annotated video, MOTChallenge rows, JSON lines.
        out_det: the detections tracked (after ``min_score``) as det rows, which replay the
            run through ``cosmot mot`` or ``--detections``.
        cmc: camera-motion compensation, "auto" (sparse when an encoder runs), "none",
            "sparse" or "ecc"; or an estimator object (``CameraMotionEstimator``, or one with
            ``by_frame_number`` and ``warp_frame(k)``, see :func:`track_stream`).
        fps: the source's frame rate when its header is wrong or missing.
        trails: length of the motion trails drawn on the video (0: none).
        min_score: detections scoring below this are dropped before tracking.
        max_frames: stop after this many frames of the input (counted from its first frame,
            also when resuming).
        output_box: "kalman" (filtered boxes) or "detection" (the matched detections' boxes).
        progress: show a progress bar.
        prefetch: frames decoded ahead in a background thread (0: none).
        detect_ahead: frames detected ahead in a background thread (0: none).
        background_writer: draw and encode the outputs in a writer thread
            (:class:`~cosmot.writers.outputs.TrackOutputs`).
        checkpoint_every: every N frames, and when stopped early, save the tracker's state
            next to the MOT (else JSON) output (:mod:`cosmot.pipeline.run_state`).
        resume: continue from that checkpoint when it exists (the MOT/JSON outputs are cut
            back to it and appended to; an annotated video cannot be continued).
        run: what describes the run for the checkpoint besides the settings given here
            (input, detector and encoder identity); a resumed run must match it.
        stop: read after each frame; a true value ends the run there (e.g. a signal flag).
        times: counters to fill (also readable when the call raises).
        log: called with a line saying where a resumed run starts.
        collector: a :class:`~cosmot.tracker.offline.TrackCollector` that also receives every
            frame's output rows (for offline post-processing, as ``cosmot mot`` does).
        progress_label: the progress bar's label (the bar is then removed when done).
        foreground: the moving share of each box for ``config.min_foreground``: None makes a
            :class:`~cosmot.pipeline.foreground.ForegroundShare` when that is on (a resumed
            run first replays the frames before its checkpoint through it: decoding only);
            or an object (see :func:`track_stream`).
    Returns the per-stage seconds, frame counts, largest id, last frame done and whether the
    input was tracked to its end.
    """
    src = source if hasattr(source, "frames") else open_input(os.fspath(source), fps)
    detector, encoder = _components(detector, encoder, detect_ahead)
    config = with_encoder_gate(config if config is not None else TrackerConfig(fps=src.fps),
                               encoder)
    config = with_detector_birth_score(config, detector)
    camera_motion, method = _camera_motion(cmc, encoder)
    texts = {k: v for k, v in (("mot", out_mot), ("json", out_json), ("det", out_det)) if v}
    description = dict(run or {}, min_score=min_score, cmc=method, output_box=output_box,
                       outputs=sorted(texts),
                       config=json.dumps(dataclasses.asdict(config), sort_keys=True))
    ckpt, tracker, resume_after = _starting_state(config, texts, out_video, description,
                                                  checkpoint_every, resume, log)
    total, max_frames = _frame_budget(src.length, max_frames, resume_after, ckpt)
    # class names in the JSON lines when the detector has them; on the video when the run
    # tracks more than one class
    class_names = getattr(detector, "class_names", None)
    wanted = getattr(getattr(detector, "config", None), "classes", (0,))
    several = bool(class_names) and len(wanted) != 1
    birth = config.birth_score if config.birth_score is not None and \
        config.birth_score > float("-inf") else None
    times = times if times is not None else StreamTimes()
    times.last_frame = resume_after
    foreground = _foreground(foreground, config, src, resume_after, times)
    frames = _timed(src.frames(max(resume_after, 1)), times)
    steps = track_stream(prefetched(frames, prefetch), detector,
                         tracker, encoder, min_score=min_score, max_frames=max_frames,
                         times=times, camera_motion=camera_motion, resume_after=resume_after,
                         detect_ahead=detect_ahead, foreground=foreground)
    outputs = None
    ended_as_asked = False
    saver = _Checkpoints(ckpt, tracker, description, checkpoint_every)
    try:
        with TrackOutputs(out_video, out_mot, out_json, fps=src.fps, trails=trails,
                          output_box=output_box, class_names=class_names,
                          draw_class_names=several, append=resume_after > 0,
                          background=background_writer, det=out_det, collector=collector,
                          det_source=(getattr(detector, "name", type(detector).__name__),
                                      birth, config.nsa_kalman)) as outputs, \
                tqdm(total=total, initial=min(resume_after, total or resume_after),
                     desc=progress_label, leave=progress_label is None, unit="frame",
                     disable=not progress, dynamic_ncols=True) as bar:
            if resume_after == 0:
                saver.save(0, outputs, always=True)
            ended_as_asked = _write_steps(steps, outputs, bar, saver, times, stop)
            # stopped early (stop, max_frames): checkpoint the last frame, once its outputs are
            # written (sizes() waits for them). On an error the last periodic checkpoint stays:
            # the tracker may be ahead of the outputs then.
            if not times.finished:
                saver.save(times.last_frame, outputs)
    finally:
        steps.close()  # stops the reader threads and releases the capture, also on Ctrl-C
        if outputs is not None:  # drawing and encoding, the queued frames included
            times.write = outputs.seconds
    # finished, or stopped at max_frames without periodic checkpoints to continue from
    done = times.finished or (ended_as_asked and not checkpoint_every)
    if done and ckpt is not None and ckpt.exists():
        ckpt.unlink()
    return times


def _components(detector, encoder, detect_ahead: int):
    """The detector and encoder objects: names and paths are made with
    :func:`thread_split`'s threads; objects pass through."""
    det_threads, enc_threads = thread_split(detect_ahead)
    if isinstance(detector, (str, os.PathLike)):
        detector = create_detector(detector, {"threads": str(det_threads)}
                                   if takes_threads(detector) else None)
    if isinstance(encoder, (str, os.PathLike)):
        from cosmot.appearance import load_encoder

        encoder = None if os.fspath(encoder) == "none" else load_encoder(encoder,
                                                                         threads=enc_threads)
    return detector, encoder


def _foreground(foreground, config: TrackerConfig, src, resume_after: int, times: StreamTimes):
    """The foreground model the run needs (None when ``min_foreground`` is off); a fresh one
    has seen the frames before a resumed run's checkpoint frame, as the interrupted run's had."""
    if config.min_foreground == float("-inf"):
        return None
    if foreground is not None:
        return foreground
    foreground = ForegroundShare()
    if resume_after > 1:
        t0 = time.perf_counter()
        for k, image in src.frames(1):
            if k >= resume_after:
                break
            if image is None:
                raise ValueError(f"frame {k}: no image, and the foreground model "
                                 f"(min_foreground) needs one")
            foreground.observe(image)
        times.decode += time.perf_counter() - t0
    return foreground


def _camera_motion(cmc, encoder):
    """``(estimator or None, method name)`` for a ``cmc`` name or estimator object."""
    if isinstance(cmc, str):
        method = resolve_cmc(cmc, encoder)
        return (CameraMotionEstimator(method) if method != "none" else None), method
    return cmc, getattr(cmc, "method", type(cmc).__name__)


def _starting_state(config: TrackerConfig, texts: dict, out_video, description: dict,
                    checkpoint_every: int, resume: bool, log) -> tuple:
    """``(checkpoint path or None, tracker, frame to resume after)``: a fresh tracker, or
    the checkpoint's when resuming (the text outputs are then cut back to it).

    The checkpoint lies next to the MOT (else JSON) output and also marks a run unfinished
    (saved at frame 0 without ``checkpoint_every``, removed when the run ends as asked):
    ``--resume`` never takes a failed or interrupted run's outputs as finished, it restarts
    them from frame 0."""
    primary = texts.get("mot") or texts.get("json")
    ckpt = checkpoint_path(primary) if primary else None
    if (checkpoint_every or resume) and ckpt is None:
        raise ValueError("checkpoints (checkpoint_every, resume) need out_mot or out_json: the "
                         "checkpoint lies next to it")
    if not (resume and ckpt.is_file()):
        return ckpt, Tracker(config), 0
    if out_video:
        raise ValueError(f"--resume from {ckpt}: an annotated video cannot be continued; "
                         f"drop --out-video (or remove the checkpoint to start afresh)")
    tracker, resume_after, sizes = load_checkpoint(ckpt, description)
    cut_outputs(texts, sizes, ckpt)
    if log is not None:
        log(f"resuming after frame {resume_after} from {ckpt}")
    return ckpt, tracker, resume_after


def _frame_budget(length: int, max_frames: int | None, resume_after: int, ckpt
                  ) -> tuple[int | None, int | None]:
    """``(frames the progress bar counts to, max_frames of the stream)``: a resumed stream
    starts at the checkpoint's frame, so it has that many fewer frames to go."""
    total = length if length > 0 else None
    if max_frames is not None:
        total = min(total, max_frames) if total else max_frames
    if max_frames is not None and resume_after:
        if max_frames <= resume_after:
            raise ValueError(f"--max-frames {max_frames}: the checkpoint {ckpt} is already at "
                             f"frame {resume_after}")
        max_frames -= resume_after - 1  # the stream starts at the checkpoint's frame
    return total, max_frames


class _Checkpoints:
    """Saves the run's checkpoint (every ``every`` frames, or when asked ``always``)."""

    def __init__(self, path, tracker, description: dict, every: int):
        self.path, self.tracker, self.description, self.every = path, tracker, description, every

    def due(self, frame: int) -> bool:
        return bool(self.every) and frame % self.every == 0

    def save(self, frame: int, outputs: TrackOutputs, always: bool = False) -> None:
        if self.path is not None and (always or self.every):
            save_checkpoint(self.path, self.tracker, frame, outputs.sizes(), self.description)


def _write_steps(steps, outputs: TrackOutputs, bar, saver: _Checkpoints, times: StreamTimes,
                 stop) -> bool:
    """Write every step, checkpoint when due, stop when ``stop`` turns true. True when the
    stream ended (at the input's end or at max_frames), False when stopped."""
    for step in steps:
        outputs.write(step)
        times.last_frame = step.frame
        bar.update(1)
        bar.set_postfix(tracks=len(step.tracks), refresh=False)
        if saver.due(step.frame):
            saver.save(step.frame, outputs)
        if stop:
            return False
    times.finished = times.input_ended
    return True
