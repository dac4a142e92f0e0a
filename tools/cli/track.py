"""``cosmot track``: detect and track people in a video file, an image folder or a camera.

Frames are streamed one at a time (constant memory whatever the length). Outputs are written as
frames finish: the annotated video is finalised and the MOT/JSON files are flushed even when the
run is interrupted (Ctrl-C) or fails, so everything done so far is kept.

Examples::

    cosmot track clip.mp4 --out-video tracked.mp4 --out-mot tracked.txt --trails 30
    cosmot track SEQ/ --detections SEQ/det/det.txt --out-mot results/SEQ.txt --encoder none
    cosmot track 0 --detector bgsub --out-video camera.avi       # camera index 0
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

from cosmot.cli.batch import add_batch_options, check_batch_options, is_track_batch, run_track
from cosmot.cli.options import add_cmc_option, add_config_options, finite_number, positive_number
from cosmot.cli.output_checks import check_outputs
from cosmot.cli.signals import stop_between_frames
from cosmot.detectors import BUILT_IN, DEFAULT_DETECTOR, REGISTRY, kind_of
from cosmot.pipeline.job import TrackJob, run_track_job
from cosmot.pipeline.run_state import checkpoint_path
from cosmot.pipeline.stream import StreamTimes
from cosmot.settings import key_values
from cosmot.writers.outputs import FORMATS
from cosmot.sources.frames import IMAGE_EXTENSIONS
from cosmot.sources.motchallenge import Sequence
from cosmot.sources.open_input import open_input


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("track", help="detect and track people in a video, image folder or camera",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="INPUT", nargs="+",
                   help="video file, image folder, MOTChallenge sequence folder (seqinfo.ini), "
                        "camera index (0, 1, ...) or stream URL (rtsp://...); several inputs, "
                        "folders of them, globs or a .txt list with --out-dir")
    p.add_argument("--detector", default=None, metavar="NAME|PATH",
                   help=f"{', '.join(BUILT_IN)} (default: auto = {DEFAULT_DETECTOR}, the shipped "
                        f"YOLOX-Nano), or a YOLOX or YOLOv5/v8-style .onnx model; "
                        + "; ".join(f"{k.name}: {k.summary}" for k in REGISTRY.values()))
    p.add_argument("--detector-size", type=int, default=None, metavar="N",
                   help="YOLOX input long side in pixels, a multiple of 32 (default 416; 640 "
                        "with --det-set min_score=0.6 finds more small people and tracks "
                        "better, at about twice the detector time)")
    p.add_argument("--classes", default=None, metavar="LIST",
                   help="classes to track with a learned detector: COCO names or ids, "
                        "comma-separated (default person; e.g. person,car or 0,2; all)")
    p.add_argument("--detections", default=None, metavar="FILE",
                   help="MOTChallenge det.txt to use instead of a detector (frame k of the input "
                        "= frame k of the file)")
    p.add_argument("--det-set", dest="det_options", action="append", default=[],
                   metavar="KEY=VALUE",
                   help="override a detector setting (repeatable): fields of YOLOXConfig for "
                        "the default detector, e.g. --det-set min_score=0.6 or size=640; "
                        + ", ".join(f"{k.config} for {k.name}" for k in REGISTRY.values()
                                    if k.name != DEFAULT_DETECTOR)
                        + ", YOLOConfig for a YOLOv5/v8 .onnx")
    p.add_argument("--min-score", type=finite_number, default=None, metavar="S",
                   help="drop detections scoring below S before tracking")
    for fmt in FORMATS.values():  # one flag per output format (cosmot.writers.outputs)
        p.add_argument(fmt.flag, dest=f"out_{fmt.kind}", default=None, metavar="FILE",
                       help=fmt.help)
    p.add_argument("--trails", type=int, default=0, metavar="N",
                   help="draw each track's last N positions on the video (default 0: none)")
    p.add_argument("--output-box", choices=["kalman", "detection"], default="kalman",
                   help="write the Kalman-filtered box (default) or the matched detection's box")
    p.add_argument("--encoder", default="default",
                   help="appearance encoder: 'default', a name/path for appearance.load_encoder, "
                        "or 'none' for motion only")
    p.add_argument("--device", default="cpu", help="encoder device (cpu or cuda)")
    add_cmc_option(p)
    p.add_argument("--max-frames", type=int, default=None, metavar="N",
                   help="stop after N frames")
    p.add_argument("--fps", type=positive_number, default=None,
                   help="frame rate of the input, when its header is wrong or missing")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--detect-ahead", type=int, default=2, metavar="N",
                   help="run the detector up to N frames ahead in its own thread, beside the "
                        "encoder and tracker, with half the cores each (default 2; 0: one "
                        "after the other, each with every core); the outputs are the same")
    p.add_argument("--checkpoint-every", type=int, default=0, metavar="N",
                   help="every N frames (and when stopped early) save the tracker's state next "
                        "to the MOT (else JSON) output as OUT.ckpt.npz, for --resume")
    add_config_options(p)
    add_batch_options(p, track=True)
    p.set_defaults(func=run)


def _learned_detector_options(name: str, size: int | None, classes: str | None
                              ) -> dict[str, str]:
    """``--detector-size`` and ``--classes`` as config fields of the chosen detector (a
    learned one: :attr:`cosmot.detectors.DetectorKind.learned`)."""
    kind = kind_of(name)
    if not (kind is not None and kind.learned) and (size is not None or classes is not None):
        learned = [n for n, k in REGISTRY.items() if k.learned]
        raise ValueError(f"--detector-size and --classes apply to a learned detector (auto, "
                         f"{', '.join(learned)} or an .onnx model), not to --detector {name}")
    out = {}
    if size is not None:
        if size < 32 or size % 32:
            raise ValueError(f"--detector-size {size}: must be a multiple of 32 (e.g. 416, 640)")
        out["size"] = str(size)
    if classes is not None:
        from cosmot.detectors.yolox import parse_classes

        ids = parse_classes(classes)
        out["classes"] = ",".join(str(k) for k in ids)
    return out


def default_outputs(input_text: str) -> tuple[str, str]:
    """``(STEM.tracked.mp4, STEM.txt)`` in the current folder for an INPUT without output
    options (STEM: the input's file or folder name; ``camera0`` for a camera index, ``stream``
    for a URL)."""
    if "://" in input_text:
        stem = "stream"
    elif input_text.isdigit() and not Path(input_text).exists():
        stem = f"camera{input_text}"
    else:
        path = Path(input_text)
        stem = (path.stem if path.is_file() else path.resolve().name) or "tracked"
    return f"{stem}.tracked.mp4", f"{stem}.txt"


def _run_description(job: TrackJob) -> dict:
    """What a checkpoint must agree on with the run that resumes it, besides the settings
    :func:`cosmot.track_video` adds (score filter, camera motion, outputs, tracker config)."""
    from cosmot.appearance.registry import encoder_identity
    from cosmot.pipeline.run_state import input_state

    states = {f"contents of {os.path.realpath(p)}": input_state(p)
              for p in (job.input, job.detections) if p and Path(p).exists()}
    return {**states,
            "input": os.path.realpath(job.input) if Path(job.input).exists() else job.input,
            "detections": (os.path.realpath(job.detections) if job.detections
                           else f"{job.detector} {sorted(job.detector_options)}"),
            "encoder": encoder_identity(job.encoder)}


def job_from_args(args: argparse.Namespace) -> TrackJob:
    """The parsed command line as a :class:`TrackJob` (input and outputs as given: a batch
    replaces them per input); option errors are raised here, before any work."""
    if args.detector is not None and args.detections is not None:
        raise ValueError("give --detector or --detections, not both")
    if args.trails < 0:
        raise ValueError(f"--trails {args.trails}: must be >= 0")
    if args.max_frames is not None and args.max_frames < 1:
        raise ValueError(f"--max-frames {args.max_frames}: must be >= 1")
    if args.checkpoint_every < 0:
        raise ValueError(f"--checkpoint-every {args.checkpoint_every}: must be >= 0 (0: off)")
    if args.detect_ahead < 0:
        raise ValueError(f"--detect-ahead {args.detect_ahead}: must be >= 0 (0: detect in "
                         f"the main thread)")
    name = args.detector or "auto"
    if args.detections is not None:
        if args.detector_size is not None or args.classes is not None:
            raise ValueError("--detector-size and --classes apply to a detector, not to "
                             "--detections")
        if args.det_options:
            raise ValueError("--det-set applies to a detector, not to --detections")
        options: dict[str, str] = {}
    else:
        options = key_values(args.det_options, "--det-set")
        options.update(_learned_detector_options(name, args.detector_size, args.classes))
    job = TrackJob(
        input=args.input[0], detector=name, detector_options=tuple(options.items()),
        detections=args.detections, encoder=args.encoder, device=args.device,
        preset=args.preset, overrides=tuple(key_values(args.overrides, "--set").items()),
        cmc=args.cmc, min_score=args.min_score, max_frames=args.max_frames, fps=args.fps,
        out_video=args.out_video, out_mot=args.out_mot, out_json=args.out_json,
        out_det=args.out_det, trails=args.trails, output_box=args.output_box,
        prefetch=args.prefetch, detect_ahead=args.detect_ahead,
        checkpoint_every=args.checkpoint_every, resume=args.resume,
        progress=not args.no_progress)
    job.config(30.0)  # a bad --preset/--set fails before any work
    return job


def run(args: argparse.Namespace) -> int:
    check_batch_options(args)  # --workers >= 1, --prefetch >= 0
    if is_track_batch(args):
        return run_track(args, job_from_args(args))
    job = job_from_args(args)
    if not (job.out_video or job.out_mot or job.out_json or job.out_det):
        out_video, out_mot = default_outputs(job.input)
        job = job.replace(out_video=out_video, out_mot=out_mot)
        print(f"cosmot track: no output option given; writing {out_video} and {out_mot} in "
              f"{os.getcwd()} (choose with --out-video, --out-mot, --out-json, --out-det)",
              file=sys.stderr)
    source = open_input(job.input, job.fps)
    args.paths = check_track_outputs(job, source)
    ckpt = checkpoint_path(job.out_mot or job.out_json) if (job.out_mot or job.out_json) \
        else None
    if job.resume and not (ckpt is not None and ckpt.is_file()):
        done = [p for p in (job.out_mot, job.out_json, job.out_det, job.out_video)
                if p and Path(p).exists()]
        if done:
            print(f"cosmot track: --resume: {done[0]} exists and has no checkpoint: finished, "
                  f"skipped", file=sys.stderr)
            return 0
    times = StreamTimes()
    t0 = time.perf_counter()
    try:
        with stop_between_frames() as stop:
            run_track_job(job, source, stop=stop, times=times, run=_run_description(job),
                          log=lambda line: print(f"cosmot track: {line}", file=sys.stderr),
                          announce=lambda line: print(f"cosmot track: {line}",
                                                      file=sys.stderr))
            stop.raise_if_set()
    finally:
        print_summary(job, times, time.perf_counter() - t0)
    return 0


def check_track_outputs(job: TrackJob, source) -> dict[str, str]:
    """Refuse, before any work, outputs that cannot be written or would destroy an input (an
    output named like a frame inside the input's image folder, the input itself, another
    output); returns path -> option, for error messages."""
    if job.out_video:
        from cosmot.writers.video import CODECS

        ext = Path(job.out_video).suffix.lower()
        if ext not in CODECS:
            raise ValueError(f"--out-video {job.out_video}: unsupported video extension "
                             f"{ext or '(none)'!r}; use one of {', '.join(sorted(CODECS))}")
        if job.checkpoint_every or job.resume:
            raise ValueError("--checkpoint-every/--resume: an annotated video cannot be "
                             "continued after a stop; drop --out-video (resume the MOT/JSON "
                             "outputs, then draw them) or drop --checkpoint-every")
    primary = job.out_mot or job.out_json
    if (job.resume or job.checkpoint_every) and not primary:
        raise ValueError("--resume and --checkpoint-every need --out-mot or --out-json (the "
                         "checkpoint lies next to it)")
    kind = kind_of(job.detector) if job.detections is None else None
    if (job.resume or job.checkpoint_every) and kind is not None and not kind.resumable:
        raise ValueError(f"--resume/--checkpoint-every: the {kind.name} detector keeps state "
                         f"between frames that a checkpoint does not save; use another "
                         f"detector")
    outputs = {"--out-video": job.out_video, "--out-mot": job.out_mot,
               "--out-json": job.out_json, "--out-det": job.out_det}
    inputs = {"INPUT": job.input if Path(job.input).is_file() else None,
              "--detections": job.detections,
              "--detector": job.detector if Path(job.detector).is_file() else None,
              "--encoder": job.encoder if Path(job.encoder).is_file() else None}
    image_dir = None
    if source.kind == "sequence":
        seq = Sequence(source.path)
        inputs["INPUT's seqinfo.ini"] = seq.path / "seqinfo.ini"
        inputs["INPUT's video"] = seq.video
        image_dir = seq.image_dir
    elif source.kind == "images":
        image_dir = Path(source.path)
    if image_dir is not None:  # an output named like a frame would replace that frame
        for k, v in outputs.items():
            if v and Path(v).suffix.lower() in IMAGE_EXTENSIONS and \
                    os.path.realpath(Path(v).parent) == os.path.realpath(image_dir):
                raise ValueError(f"{k} {v} is inside the INPUT's image folder {image_dir}; "
                                 f"writing it would replace or add a frame: choose another path")
    if job.out_video and Path(job.out_video).suffix.lower() != ".avi":
        outputs["--out-video (its partial file)"] = f"{job.out_video}.partial.avi"
    if job.out_det:
        outputs["--out-det (its metadata)"] = f"{job.out_det}.json"
    if primary:
        outputs[f"the checkpoint of {'--out-mot' if job.out_mot else '--out-json'}"] = \
            checkpoint_path(primary)
    check_outputs(outputs, inputs)
    return {os.fspath(v): k for k, v in outputs.items() if v}


def print_summary(job: TrackJob, times: StreamTimes, wall: float) -> None:
    n = times.frames
    fps = n / wall if wall > 0 else math.inf
    print(f"cosmot track: {n} frames in {wall:.1f} s ({fps:.2f} frames/s; detector "
          f"{times.detect:.1f} s, encoder {times.embed:.1f} s, tracker {times.track:.2f} s), "
          f"{times.max_id} ids", file=sys.stderr)
    for label, path in (("video", job.out_video), ("MOT", job.out_mot),
                        ("JSON", job.out_json), ("detections", job.out_det)):
        if path:
            print(f"  {label}: {os.fspath(path)}", file=sys.stderr)
