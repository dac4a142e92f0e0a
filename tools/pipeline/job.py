"""One input of ``cosmot track`` or ``cosmot mot`` as a typed job, and running it.

The command line parses its arguments into a :class:`TrackJob` (or a :class:`MotJob`) once;
:func:`run_track_job` sets up what the job names (the input, the detector or a det.txt, the
encoder, the tracker configuration) and calls :func:`cosmot.pipeline.track_video`;
:func:`run_mot_job` does the same for one MOTChallenge sequence through
:func:`cosmot.pipeline.sequence.track_sequence`. The batch runner sends the same job to every
worker with only its input and outputs replaced (``dataclasses.replace``), so a batch and a
single run execute the same code, and results come back as return values.
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cosmot.pipeline.stream import StreamTimes
from cosmot.pipeline.video import thread_split, track_video
from cosmot.settings import with_fields
from cosmot.sources.open_input import FrameSource, open_input
from cosmot.sources.validation import DroppedRowsWarning
from cosmot.tracker import preset


class _JobSettings:
    """What both jobs do with their ``preset``/``overrides`` fields, and copying with changes."""

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)

    def config(self, fps: float):
        """The tracker configuration: the preset, the overrides, the input's frame rate."""
        return with_fields(preset(self.preset), dict(self.overrides), "--set").replace(fps=fps)


@dataclass(frozen=True)
class TrackJob(_JobSettings):
    """Everything one ``cosmot track`` run needs, validated where it can be without reading
    the input.

    input: what INPUT names (video, image folder, sequence, camera index, URL).
    detector: a detector name or ONNX path (``cosmot.detectors.create_detector``) and its
        ``detector_options`` (``--det-set``, ``--detector-size``, ``--classes`` as fields);
        or ``detections``: a det.txt played back instead of a detector.
    encoder, device: the appearance encoder's name or path ("none": motion only).
    preset, overrides: the tracker configuration (``--preset``, ``--set`` pairs); its ``fps``
        comes from the input.
    out_video / out_mot / out_json / out_det and the rest: as
        :func:`cosmot.pipeline.track_video` takes them.
    """

    input: str
    detector: str = "auto"
    detector_options: tuple[tuple[str, str], ...] = ()
    detections: str | None = None
    encoder: str = "default"
    device: str = "cpu"
    preset: str = "default"
    overrides: tuple[tuple[str, str], ...] = ()
    cmc: str = "auto"
    min_score: float | None = None
    max_frames: int | None = None
    fps: float | None = None
    out_video: str | None = None
    out_mot: str | None = None
    out_json: str | None = None
    out_det: str | None = None
    trails: int = 0
    output_box: str = "kalman"
    prefetch: int = 4
    detect_ahead: int = 2
    checkpoint_every: int = 0
    resume: bool = False
    progress: bool = True

    def detector_name(self) -> str:
        """How the run's detections are described (messages, checkpoints)."""
        if self.detections is not None:
            return f"detections {self.detections}"
        from cosmot.detectors import DEFAULT_DETECTOR

        return f"detector {self.detector}" + (f" ({DEFAULT_DETECTOR})"
                                              if self.detector == "auto" else "")


def make_detector(job: TrackJob, source: FrameSource, threads: int):
    """The job's detector: its det.txt (rows past a known input length are an error), or the
    named detector with its options (``threads`` unless an option sets them)."""
    if job.detections is not None:
        from cosmot.detectors.det_file import DetectionFileDetector

        if not Path(job.detections).is_file():
            raise FileNotFoundError(f"--detections {job.detections}: no such file")
        known = source.kind in ("sequence", "images") and source.length > 0
        return DetectionFileDetector(job.detections, min_score=job.min_score,
                                     length=source.length if known else None,
                                     length_source=source.length_source)
    from cosmot.detectors import create_detector, takes_threads

    options = dict(job.detector_options)
    if takes_threads(job.detector):
        options.setdefault("threads", str(threads))
    return create_detector(job.detector, options)


def run_track_job(job: TrackJob, source: FrameSource | None = None, stop=None,
                  times: StreamTimes | None = None, run: dict | None = None,
                  log: Callable[[str], None] | None = None,
                  announce: Callable[[str], None] | None = None) -> StreamTimes:
    """Run ``job``: open its input (unless ``source`` is given), make its detector and encoder
    (each with its share of the cores, :func:`thread_split`), track, write its outputs.

    ``stop``, ``times``, ``run`` (what a checkpoint must agree on) and ``log``: as for
    :func:`cosmot.pipeline.track_video`; ``announce`` is called once with a line saying what
    runs (input, detections, encoder, camera motion). After a run on a det.txt that ended
    with the input, rows the file has past the input's end, or rows that stop well before it,
    are warned (``DroppedRowsWarning``: is it this input's file?)."""
    from cosmot.appearance.registry import encoder_from_name
    from cosmot.pipeline.camera_motion import resolve_cmc

    source = source if source is not None else open_input(job.input, job.fps)
    det_threads, enc_threads = thread_split(job.detect_ahead)
    detector = make_detector(job, source, det_threads)
    encoder = encoder_from_name(job.encoder, job.device, threads=enc_threads)
    cmc = resolve_cmc(job.cmc, encoder)
    if announce is not None:
        announce(f"{source.description}, {job.detector_name()}, encoder {job.encoder}, "
                 f"camera-motion compensation {cmc}")
    times = times if times is not None else StreamTimes()
    track_video(source, detector, encoder, job.config(source.fps), out_video=job.out_video,
                out_mot=job.out_mot, out_json=job.out_json, out_det=job.out_det, cmc=cmc,
                trails=job.trails, min_score=job.min_score, max_frames=job.max_frames,
                output_box=job.output_box, progress=job.progress, prefetch=job.prefetch,
                detect_ahead=job.detect_ahead, checkpoint_every=job.checkpoint_every,
                resume=job.resume, run=run, stop=stop, times=times, log=log)
    if times.finished and job.detections is not None:
        _warn_unused_rows(job.detections, detector, times.last_frame)
    return times


def _warn_unused_rows(path: str | os.PathLike, detector, last: int) -> None:
    rows, frames = detector.rows_after(last)
    if rows:
        warnings.warn(DroppedRowsWarning(
            f"{path}: {rows} rows on {frames} frames after the input's last frame {last} were "
            f"not used (is it the detection file of this input?)"))
    elif detector.last_frame < 0.9 * last:
        warnings.warn(DroppedRowsWarning(
            f"{path}: its rows end at frame {detector.last_frame} of the input's {last}; "
            f"frames {detector.last_frame + 1}-{last} were tracked without detections (is it "
            f"the detection file of this input?)"))


@dataclass(frozen=True)
class MotJob(_JobSettings):
    """One sequence of ``cosmot mot``: track ``sequence``'s ``<det>/det.txt`` into ``out``.

    sequence: a MOTChallenge sequence folder (seqinfo.ini, det/, img1/ or a video).
    out: the results file (MOTChallenge rows).
    det, min_score: the detection sub-folder and the score cut applied when reading.
    encoder, device: the appearance encoder's name or path ("none": motion only).
    preset, overrides: the tracker configuration (``--preset``, ``--set`` pairs); its ``fps``
        comes from seqinfo.ini.
    cmc, output_box, interpolate, smooth, checkpoint_every, resume, prefetch, progress: as
        :func:`cosmot.pipeline.sequence.track_sequence` takes them.
    """

    sequence: str
    out: str
    det: str = "det"
    min_score: float | None = None
    encoder: str = "default"
    device: str = "cpu"
    preset: str = "default"
    overrides: tuple[tuple[str, str], ...] = ()
    cmc: str = "auto"
    output_box: str = "kalman"
    interpolate: int = 0
    smooth: bool = False
    checkpoint_every: int = 0
    resume: bool = False
    prefetch: int = 4
    progress: bool = True

    def __post_init__(self):
        if self.checkpoint_every < 0:
            raise ValueError(f"--checkpoint-every {self.checkpoint_every}: must be >= 0 (0: "
                             f"off)")
        if self.prefetch < 0:
            raise ValueError(f"--prefetch {self.prefetch}: must be >= 0")
        if (self.resume or self.checkpoint_every) and (self.interpolate or self.smooth):
            raise ValueError("--resume/--checkpoint-every work on the online results; "
                             "--interpolate and --smooth rewrite them at the end: run them "
                             "apart")



def run_mot_job(job: MotJob, encoder=..., encoder_id: str | None = None, stop=None) -> dict:
    """Track ``job.sequence`` into ``job.out``; returns
    :func:`~cosmot.pipeline.sequence.track_sequence`'s counters with the sequence's ``name``.

    ``encoder``: the loaded encoder (``None``: motion only), to share one between sequences;
    by default ``job.encoder`` is loaded. ``encoder_id`` (what a checkpoint records of it;
    by default computed from ``job.encoder``) and ``stop``: as for ``track_sequence``'s
    ``run`` and ``stop``."""
    from cosmot.appearance.registry import encoder_from_name, encoder_identity
    from cosmot.pipeline.camera_motion import resolve_cmc
    from cosmot.pipeline.run_state import input_state
    from cosmot.pipeline.sequence import track_sequence
    from cosmot.sources.motchallenge import Sequence

    seq = Sequence(job.sequence)
    det_path = seq.detections_path(job.det)
    if not det_path.is_file():
        raise FileNotFoundError(f"{det_path}: no detections for {seq.name} (is --det "
                                f"{job.det} right?)")
    if encoder is ...:
        encoder = encoder_from_name(job.encoder, job.device)
    cmc = resolve_cmc(job.cmc, encoder)
    # what a checkpoint must agree on (one is also saved at frame 0 to mark the run unfinished)
    run = {"sequence": os.path.realpath(seq.path), "det": job.det, "min_score": job.min_score,
           "encoder": encoder_id if encoder_id is not None else encoder_identity(job.encoder),
           "cmc": cmc, "output_box": job.output_box}
    for p in (det_path, seq.path):
        run[f"contents of {os.path.realpath(p)}"] = input_state(p)
    st = track_sequence(seq, job.det, job.min_score, job.config(seq.info.fps), Path(job.out),
                        encoder, job.output_box, cmc, job.interpolate, job.smooth,
                        checkpoint_every=job.checkpoint_every, resume=job.resume, stop=stop,
                        run=run, prefetch=job.prefetch, progress=job.progress)
    return {**st, "name": seq.name, "encoded": encoder is not None}


def mot_summary(st: dict, out: str | os.PathLike) -> str:
    """The line ``cosmot mot`` prints for one finished sequence (``st``: :func:`run_mot_job`'s
    counters)."""
    fps = st["frames"] / st["track_seconds"] if st["track_seconds"] else float("inf")
    msg = (f"{st['name']}: {st['frames']} frames, {st['detections']} detections, "
           f"{st['ids']} ids, tracker {fps:.0f} frames/s")
    if st["encoded"] and st["embed_seconds"]:
        msg += f", encoder {st['frames'] / st['embed_seconds']:.1f} frames/s"
    return msg + f" -> {out}"
