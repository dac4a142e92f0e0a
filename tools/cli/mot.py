"""``cosmot mot``: track MOTChallenge sequences from their detection files.

Reads ``SEQ_DIR/<det>/det.txt``, runs the tracker frame by frame
(:func:`cosmot.pipeline.sequence.track_sequence`) and writes ``OUT/<sequence name>.txt`` in
MOTChallenge format, flushed every frame. One sequence at a time the file is written in place
and ``--checkpoint-every``/``--resume`` continue an interrupted run; with ``--workers``/``--ray``
it is written under a temporary name (``OUT/.<name>.partial.txt``) and renamed when the
sequence is done, so ``--resume`` skips finished sequences. Frames are decoded only when an appearance
encoder is used (in a background thread, ``--prefetch``). Many sequences: ``--workers N`` local
processes or ``--ray`` (one task per sequence); see ``cosmot.cli.batch``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from cosmot.cli.batch import (add_batch_options, check_batch_options, is_sequence_dir,
                              missing_seqinfo, run_mot)
from cosmot.cli.options import add_cmc_option, add_config_options, finite_number
from cosmot.cli.output_checks import check_outputs
from cosmot.cli.signals import stop_between_frames
from cosmot.errors import describe_error
from cosmot.pipeline.batch import expand_inputs
from cosmot.pipeline.job import MotJob, mot_summary, run_mot_job
from cosmot.appearance.registry import encoder_from_name, encoder_identity
from cosmot.pipeline.run_state import checkpoint_path
from cosmot.settings import key_values
from cosmot.sources.motchallenge import Sequence

def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mot", help="track MOTChallenge sequences from detection files",
                       description=__doc__)
    p.add_argument("sequences", nargs="+", metavar="SEQ_DIR",
                   help="MOTChallenge sequence folders, folders of them, glob patterns or a "
                        ".txt file listing them")
    p.add_argument("--out", required=True, help="folder for <sequence>.txt results")
    p.add_argument("--det", default="det", metavar="NAME",
                   help="detections sub-folder: SEQ_DIR/NAME/det.txt (default: det)")
    p.add_argument("--min-score", type=finite_number, default=None,
                   help="drop detections below this score when reading")
    p.add_argument("--encoder", default="default",
                   help="appearance encoder: 'default' (the shipped weights), 'none' (motion "
                        "only), 'histogram', a .pt checkpoint or a .onnx embedder")
    p.add_argument("--device", default="cpu", help="encoder device (cpu or cuda)")
    p.add_argument("--output-box", choices=["kalman", "detection"], default="kalman",
                   help="write the Kalman-filtered box (default) or the matched detection's box")
    add_cmc_option(p)
    p.add_argument("--interpolate", type=int, default=0, metavar="N",
                   help="offline: fill gaps of up to N frames inside tracks (default 0: off)")
    p.add_argument("--smooth", action="store_true",
                   help="offline: RTS-smooth each track after the sequence ends")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--checkpoint-every", type=int, default=0, metavar="N",
                   help="every N frames (and when stopped early) save the tracker's state as "
                        "OUT/<sequence>.txt.ckpt.npz, for --resume")
    add_config_options(p)
    add_batch_options(p)
    p.set_defaults(func=run)


def job_from_args(args: argparse.Namespace) -> MotJob:
    """The parsed command line as a :class:`MotJob` (its ``sequence`` and ``out`` are filled
    per sequence); a bad option, --preset or --set fails here, before any work."""
    check_batch_options(args)  # --workers >= 1, --prefetch >= 0
    job = MotJob(sequence="", out="", det=args.det, min_score=args.min_score,
                 encoder=args.encoder, device=args.device, preset=args.preset,
                 overrides=tuple(key_values(args.overrides, "--set").items()), cmc=args.cmc,
                 output_box=args.output_box, interpolate=args.interpolate, smooth=args.smooth,
                 checkpoint_every=args.checkpoint_every, resume=args.resume,
                 prefetch=args.prefetch, progress=not args.no_progress)
    job.config(30.0)
    return job


def run(args: argparse.Namespace) -> int:
    job = job_from_args(args)
    if args.workers > 1 or args.ray is not None:  # parallel: atomic outputs (cosmot.cli.batch)
        if job.checkpoint_every:
            raise ValueError("--checkpoint-every works with one sequence at a time: drop "
                             "--workers/--ray (there --resume skips finished sequences)")
        return run_mot(args, job)
    out_dir = Path(args.out)
    seqs = [Sequence(d) for d in expand_inputs(args.sequences, is_sequence_dir, lambda p: False,
                                               missing_seqinfo)]
    outputs, inputs, seen = {}, {}, {}
    for s in seqs:  # fail early, before any work, on a missing detection file
        if not s.detections_path(job.det).is_file():
            raise FileNotFoundError(f"{s.detections_path(job.det)}: no detections for "
                                    f"{s.name} (is --det {job.det} right?)")
        if s.name in seen:
            raise ValueError(f"{seen[s.name]} and {s.path} are both named {s.name} (seqinfo.ini "
                             f"name): their results would overwrite each other in --out "
                             f"{out_dir}; run them apart")
        seen[s.name] = s.path
        outputs[f"--out (results of {s.name})"] = out_dir / f"{s.name}.txt"
        inputs[f"detection file of {s.name}"] = s.detections_path(job.det)
        if s.gt_path.is_file():
            inputs[f"ground truth of {s.name}"] = s.gt_path
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"--out {out_dir}: is a file, not a folder")
    check_outputs(outputs, inputs)
    paths = {os.fspath(v): "--out" for v in outputs.values()}
    out_dir.mkdir(parents=True, exist_ok=True)
    encoder = encoder_from_name(job.encoder, job.device)  # loaded and hashed once
    encoder_id = encoder_identity(job.encoder)
    failures = 0
    with stop_between_frames() as stop:
        for s in seqs:
            out_path = out_dir / f"{s.name}.txt"
            if job.resume and out_path.exists() and not checkpoint_path(out_path).exists():
                print(f"{s.name}: {out_path} exists and has no checkpoint: finished, skipped")
                continue
            try:
                st = run_mot_job(job.replace(sequence=os.fspath(s.path), out=os.fspath(out_path)),
                                 encoder, encoder_id, stop=stop)
            except KeyboardInterrupt:
                raise
            except Exception as e:  # keep going: the other sequences' results are still useful
                failures += 1
                print(f"{s.name}: failed: {describe_error(e, paths)}", file=sys.stderr)
                continue
            print(mot_summary(st, out_path))
    return 1 if failures else 0
