"""Many inputs for ``cosmot track`` and ``cosmot mot``: the shared options and the per-input jobs.

Both commands hand their inputs to :func:`cosmot.pipeline.batch.run_batch` (serially in this
process, on ``--workers N`` local processes, or as Ray tasks with ``--ray``); each job runs the
command's own single-input code, so a batch writes the same bytes as a serial run. Outputs are
committed atomically per input; ``--resume`` skips the inputs whose outputs exist.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from cosmot.pipeline.batch import (BatchJob, JobResult, expand_inputs, is_complete,
                                   run_batch, summary_table, unique_names)
from cosmot.writers.outputs import FORMATS

if TYPE_CHECKING:
    from cosmot.pipeline.job import MotJob, TrackJob

#: ``cosmot track --outputs`` names and the extension each writes under ``--out-dir`` (from
#: the output registry, cosmot.writers.outputs.FORMATS).
TRACK_OUTPUTS = {f.kind: f.suffix for f in FORMATS.values()}


def add_batch_options(p: argparse.ArgumentParser, track: bool = False) -> None:
    """``--workers``, ``--ray``, ``--resume``, ``--prefetch`` (and for track ``--out-dir``,
    ``--outputs``)."""
    g = p.add_argument_group("many inputs")
    g.add_argument("--workers", type=int, default=1, metavar="N",
                   help="track N inputs at a time in local worker processes, each with "
                        "cores/N threads (default 1: one after another in this process)")
    g.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="one Ray task per input: bare --ray (after the inputs, or --ray local) "
                        "starts a local cluster with --workers CPUs (default: all cores), 'auto' "
                        "or HOST:PORT joins a running one (pip install 'cosmot[ray]'; paths must "
                        "be visible to every node)")
    g.add_argument("--resume", action="store_true",
                   help="skip inputs whose outputs are complete; one input at a time, continue "
                        "an unfinished one from its --checkpoint-every checkpoint (OUT.ckpt.npz) "
                        "if there is one (with --workers/--ray outputs are written under a "
                        "temporary name and renamed when their input is finished)")
    g.add_argument("--prefetch", type=int, default=4, metavar="N",
                   help="decode up to N frames ahead in a background thread (default 4; 0: off)")
    if track:
        g.add_argument("--out-dir", default=None, metavar="DIR",
                       help="with many inputs: write DIR/<name>.txt/.jsonl/.mp4 per input")
        g.add_argument("--outputs", default="mot", metavar="LIST",
                       help="with --out-dir: comma-separated mot,json,video,det (default: mot)")


def check_batch_options(args: argparse.Namespace) -> None:
    if args.workers < 1:
        raise ValueError(f"--workers {args.workers}: must be >= 1")
    if args.prefetch < 0:
        raise ValueError(f"--prefetch {args.prefetch}: must be >= 0")


def _options(args: argparse.Namespace) -> dict:
    """What a worker needs of the parsed arguments (picklable)."""
    return {k: v for k, v in vars(args).items() if k != "func"}


def _run(args: argparse.Namespace, fn, jobs: list[BatchJob], label: str,
         options: dict | None = None) -> int:
    """Run ``fn`` over ``jobs`` (``options``: what every job needs; default: the parsed
    arguments as a dict) and print the summary."""
    options = dict(options) if options is not None else _options(args)
    workers = args.workers
    if args.ray is not None and workers == 1 and args.ray == "local":
        from cosmot.pipeline.batch import threads_per_worker

        workers = threads_per_worker(1)  # a local cluster: every core
    options["_quiet"] = len(jobs) > 1 or workers > 1 or args.ray is not None
    t0 = time.perf_counter()

    finished = []

    def report(r) -> None:
        finished.append(r)
        for text in r.warnings:
            print(f"{r.name}: warning: {text}", file=sys.stderr)
        if r.status == "failed":
            print(f"{r.name}: failed: {r.error}", file=sys.stderr)

    try:
        results = run_batch(fn, jobs, options, workers=workers,
                            ray_address=None if args.ray in (None, "local") else args.ray,
                            use_ray=args.ray is not None, resume=args.resume,
                            progress=not getattr(args, "no_progress", False) and len(jobs) > 1,
                            on_result=report)
    except KeyboardInterrupt:  # Ctrl-C or a stop signal: say what finished, then exit as asked
        reported = {r.name for r in finished}
        # an input whose outputs were committed just before the stop, before its result came
        # back, is finished too (its counts are lost with the worker)
        rest = [JobResult(j.name, "done", error="finished as the batch stopped (no counts)")
                if is_complete(j) else JobResult(j.name, "interrupted")
                for j in jobs if j.name not in reported]
        ended = finished + rest
        print(f"cosmot {label}: stopped after {sum(r.status != 'interrupted' for r in ended)} "
              f"of {len(jobs)} inputs; unfinished ones have no output (--resume runs them)",
              file=sys.stderr)
        print(summary_table(ended, time.perf_counter() - t0), file=sys.stderr)
        raise
    wall = time.perf_counter() - t0
    if len(jobs) > 1 or args.resume or any(r.status == "failed" for r in results):
        print(f"cosmot {label}: {len(jobs)} inputs, "
              + (f"Ray {args.ray}" if args.ray is not None else f"{workers} worker(s)"),
              file=sys.stderr)
        print(summary_table(results, wall), file=sys.stderr)
    return 1 if any(r.status == "failed" for r in results) else 0


# ---------------------------------------------------------------------------- cosmot mot
def is_sequence_dir(path: Path) -> bool:
    return (path / "seqinfo.ini").is_file()


def missing_seqinfo(path: Path) -> str | None:
    """What a folder with a sequence's img1/ or det/ but no seqinfo.ini lacks (None otherwise)."""
    if is_sequence_dir(path) or not ((path / "img1").is_dir() or (path / "det").is_dir()):
        return None
    return (f"{path / 'seqinfo.ini'}: missing; a MOTChallenge sequence folder needs one: "
            "[Sequence] with name, frameRate, seqLength, imWidth, imHeight, imDir=img1")


def _sequence_name(text: str) -> str:
    from cosmot.sources.motchallenge import read_seqinfo

    try:
        return read_seqinfo(text).name
    except Exception:  # reported when the job runs
        return Path(text).name


def run_mot(args: argparse.Namespace, job: MotJob) -> int:
    """``cosmot mot`` over all its SEQ_DIR arguments (folders of sequences and globs too):
    ``job`` (the parsed command line) runs once per sequence with its sequence and output
    replaced."""
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    inputs = expand_inputs(args.sequences, is_sequence_dir, lambda p: False, missing_seqinfo)
    names = unique_names(inputs, _sequence_name)
    jobs = [BatchJob(n, i, (str(out_dir / f"{n}.txt"),)) for n, i in zip(names, inputs)]
    return _run(args, mot_job, jobs, "mot", {"job": job.replace(resume=False)})


_ENCODERS: dict = {}


def _encoder(name: str, device: str) -> tuple:
    """``(encoder, identity)``, loaded and hashed once per process (workers keep theirs
    between inputs)."""
    from cosmot.appearance.registry import encoder_from_name, encoder_identity

    key = (name, device)
    if key not in _ENCODERS:
        _ENCODERS[key] = encoder_from_name(name, device), encoder_identity(name)
    return _ENCODERS[key]


def mot_job(job: BatchJob, partial: tuple[str, ...], options: dict) -> dict:
    """One sequence of ``cosmot mot``: the command's job with this sequence, its results to
    ``partial[0]``."""
    from cosmot.pipeline.job import mot_summary, run_mot_job

    template = options["job"]
    one = template.replace(sequence=job.input, out=partial[0],
                           progress=template.progress and not options["_quiet"])
    st = run_mot_job(one, *_encoder(one.encoder, one.device))
    if not options["_quiet"]:
        print(mot_summary(st, job.outputs[0]))
    return {k: v for k, v in st.items() if k not in ("name", "encoded")}


# ---------------------------------------------------------------------------- cosmot track
def is_track_batch(args: argparse.Namespace) -> bool:
    """Whether ``cosmot track`` runs as a batch: several inputs, ``--out-dir``, ``--workers``
    or ``--ray``. One input with ``--out-mot``/``--out-json``/``--out-video`` runs as before
    (``--resume`` there is issue 13's: continue from the tracker checkpoint)."""
    return (len(args.input) > 1 or args.out_dir is not None or args.workers > 1
            or args.ray is not None)


def _is_track_input_dir(path: Path) -> bool:
    from cosmot.sources.frames import IMAGE_EXTENSIONS

    if is_sequence_dir(path):
        return True
    return any(c.suffix.lower() in IMAGE_EXTENSIONS for c in path.iterdir())


def _is_video_file(path: Path) -> bool:
    from cosmot.sources.open_input import VIDEO_FILE_EXTENSIONS

    return path.suffix.lower() in VIDEO_FILE_EXTENSIONS


def _track_name(text: str) -> str:
    path = Path(text)
    if path.is_dir():
        return _sequence_name(text) if is_sequence_dir(path) else path.name
    return path.stem or text.replace("/", "_").replace(":", "_")


def run_track(args: argparse.Namespace, job: TrackJob) -> int:
    """``cosmot track`` over many inputs, outputs under ``--out-dir``: ``job`` (the parsed
    command line) runs once per input with its input and outputs replaced."""
    if args.out_video or args.out_mot or args.out_json or args.out_det:
        raise ValueError("with many inputs (or --out-dir, --workers, --ray) give "
                         "--out-dir DIR [--outputs mot,json,video,det], not --out-mot/"
                         "--out-json/--out-video/--out-det")
    if args.out_dir is None:
        raise ValueError("many inputs need --out-dir DIR")
    kinds = [k.strip() for k in args.outputs.split(",") if k.strip()]
    bad = [k for k in kinds if k not in TRACK_OUTPUTS]
    if bad or not kinds:
        raise ValueError(f"--outputs {args.outputs}: allowed a comma-separated subset of "
                         f"{', '.join(TRACK_OUTPUTS)}")
    if args.detections is not None:
        raise ValueError("--detections names one det.txt: it fits one input, not a batch")
    if getattr(args, "checkpoint_every", 0):
        raise ValueError("--checkpoint-every works with one input and --out-mot/--out-json; "
                         "in a batch --resume skips the finished inputs")
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    inputs = expand_inputs(args.input, _is_track_input_dir, _is_video_file)
    names = unique_names(inputs, _track_name)
    jobs = [BatchJob(n, i, tuple(str(out_dir / f"{n}{TRACK_OUTPUTS[k]}") for k in kinds))
            for n, i in zip(names, inputs)]
    return _run(args, track_job, jobs, "track", {"job": job.replace(resume=False),
                                                  "kinds": kinds})


def track_job(job: BatchJob, partial: tuple[str, ...], options: dict) -> dict:
    """One input of ``cosmot track``: the command's job with this input and its outputs."""
    from cosmot.pipeline.job import run_track_job

    paths = dict(zip(options["kinds"], partial))
    one = options["job"].replace(
        input=job.input, out_mot=paths.get("mot"), out_json=paths.get("json"),
        out_video=paths.get("video"), out_det=paths.get("det"),
        progress=options["job"].progress and not options["_quiet"])
    quiet = io.StringIO()
    with contextlib.redirect_stderr(quiet) if options["_quiet"] else contextlib.nullcontext():
        times = run_track_job(one)
    return {"frames": times.frames, "ids": times.max_id, "detect_seconds": times.detect,
            "embed_seconds": times.embed, "track_seconds": times.track}
