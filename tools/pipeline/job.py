"""One input of ``cosmot track`` as a typed job, and running it.

The command line parses its arguments into a :class:`TrackJob` once; :func:`run_track_job`
sets up what the job names (the input, the detector or a det.txt, the encoder, the tracker
configuration) and calls :func:`cosmot.pipeline.track_video`. The batch runner sends the same
job to every worker with only its input and outputs replaced (``dataclasses.replace``), so a
batch and a single run execute the same code, and results come back as return values.
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


@dataclass(frozen=True)
class TrackJob:
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

    def replace(self, **changes) -> "TrackJob":
        return dataclasses.replace(self, **changes)

    def config(self, fps: float):
        """The tracker configuration: the preset, the overrides, the input's frame rate."""
        return with_fields(preset(self.preset), dict(self.overrides), "--set").replace(fps=fps)

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
