"""``cosmot mot``: track MOTChallenge sequences from their detection files.

Reads ``SEQ_DIR/<det>/det.txt``, runs the tracker frame by frame and writes
``OUT/<sequence name>.txt`` in MOTChallenge format, flushed every frame under a temporary name
(``OUT/.<name>.partial.txt``, kept when a run is interrupted) and renamed when the sequence is
done, so ``--resume`` skips finished sequences. Frames are decoded only when an appearance
encoder is used (in a background thread, ``--prefetch``). Many sequences: ``--workers N`` local
processes or ``--ray`` (one task per sequence); see ``cosmot.cli.batch``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

from tqdm import tqdm

from cosmot.tracker import Tracker, TrackerConfig
from cosmot.tracker.geometry import tlwh_to_xyxy, xyxy_to_tlwh
from cosmot.tracker.offline import TrackCollector, postprocess

from cosmot.cli.batch import _is_sequence, add_batch_options, run_mot
from cosmot.pipeline.batch import expand_inputs
from cosmot.pipeline.camera_motion import CameraMotionEstimator
from cosmot.pipeline.prefetch import prefetch as prefetched
from cosmot.cli.options import add_cmc_option, add_config_options, config_from_args, resolve_cmc
from cosmot.sources.motchallenge import MOTWriter, Sequence, read_detections, write_rows
from cosmot.pipeline.checkpoint import checkpoint_path, cut_outputs, load_checkpoint, save_checkpoint
from cosmot.cli.paths import check_outputs
from cosmot.cli.signals import stop_between_frames


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mot", help="track MOTChallenge sequences from detection files",
                       description=__doc__)
    p.add_argument("sequences", nargs="+", metavar="SEQ_DIR",
                   help="MOTChallenge sequence folders, folders of them, glob patterns or a "
                        ".txt file listing them")
    p.add_argument("--out", required=True, help="folder for <sequence>.txt results")
    p.add_argument("--det", default="det", metavar="NAME",
                   help="detections sub-folder: SEQ_DIR/NAME/det.txt (default: det)")
    p.add_argument("--min-score", type=float, default=None,
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
    p.add_argument("--checkpoint-every", type=int, default=0, metavar="N",
                   help="every N frames (and when stopped early) save the tracker's state as "
                        "OUT/<sequence>.txt.ckpt.npz, for --resume")
    add_config_options(p)
    add_batch_options(p)
    p.set_defaults(func=run)


def track_sequence(seq: Sequence, det_name: str, min_score: float | None, config: TrackerConfig,
                   out_path: Path, encoder=None, output_box: str = "kalman",
                   cmc: str = "none", interpolate: int = 0, smooth: bool = False,
                   progress: bool = True, checkpoint_every: int = 0, resume: bool = False,
                   stop=None, run: dict | None = None, prefetch: int = 0) -> dict:
    """Track one sequence and write its results; returns counters and timings.

    Online results are written and flushed frame by frame; with ``interpolate`` or ``smooth``
    the file is rewritten with the post-processed tracks once the sequence is done.
    The sequence's length is seqinfo.ini's ``seqLength`` (detection rows past it are an error).
    Frames without an image (a gap in ``img1/``) are tracked without detections when frames
    are decoded. ``checkpoint_every``/``resume``: see :mod:`cosmot.pipeline.checkpoint`
    (``run`` describes the run for it); ``stop``: a flag read after each frame.
    ``prefetch`` > 0 decodes up to that many frames ahead in a background thread.
    """
    n_frames = seq.length()
    det = read_detections(seq.detections_path(det_name), min_score=min_score, length=n_frames,
                          length_source=f"the sequence ({seq.length_source()})")
    slices = det.frame_slices()
    xyxy = tlwh_to_xyxy(det.tlwh)
    tracker = Tracker(config)
    ckpt = checkpoint_path(out_path)
    run = dict(run or {}, config=json.dumps(dataclasses.asdict(config), sort_keys=True))
    start = 0
    if resume and ckpt.is_file():
        tracker, start, sizes = load_checkpoint(ckpt, run)
        cut_outputs({"mot": out_path}, sizes, ckpt)
    empty = slice(0, 0)
    t_track = t_embed = 0.0
    ids: set[int] = set()
    need_frames = encoder is not None or cmc != "none"
    frames = _numbered_frames(seq, n_frames, need_frames, max(start, 1), prefetch)
    cmc_estimator = CameraMotionEstimator(cmc) if cmc != "none" else None
    offline = interpolate > 0 or smooth
    collector = TrackCollector()
    written = tracker.frame_count
    last = start
    with MOTWriter(out_path, append=start > 0) as writer, \
            tqdm(total=n_frames, initial=start, desc=seq.name, unit="frame",
                 disable=not progress, leave=False) as bar:
        if checkpoint_every and start == 0:
            save_checkpoint(ckpt, tracker, 0, {"mot": writer.tell()}, run)
        try:
            for k, image in frames:
                sl = slices.get(k, empty)
                if need_frames and image is None:  # no image (warned by the reader): no
                    sl = empty                     # detections either
                if k <= start:  # the checkpoint's frame: it only primes the camera motion
                    if cmc_estimator is not None and image is not None:
                        cmc_estimator(image, xyxy[sl])
                    continue
                boxes = xyxy[sl]
                emb = None
                if encoder is not None and image is not None:
                    t0 = time.perf_counter()
                    emb = encoder.embed(image, boxes)
                    t_embed += time.perf_counter() - t0
                warp = (cmc_estimator(image, boxes)
                        if cmc_estimator is not None and image is not None else None)
                t0 = time.perf_counter()
                try:
                    out = tracker.update(boxes, det.scores[sl], emb, None, warp=warp)
                except ValueError as e:  # say which frame (the tracker does not know it)
                    raise ValueError(f"frame {k}: {e}") from None
                t_track += time.perf_counter() - t0
                box = out.xyxy if output_box == "kalman" else out.det_xyxy
                tlwh = xyxy_to_tlwh(box)
                writer.write(k, out.track_id, tlwh, out.score)
                last, written = k, tracker.frame_count
                if offline:
                    collector.add(k, out.track_id, tlwh, out.score)
                ids.update(out.track_id.tolist())
                bar.update(1)
                if checkpoint_every and k % checkpoint_every == 0:
                    save_checkpoint(ckpt, tracker, k, {"mot": writer.tell()}, run)
                if stop:
                    break
        finally:
            # stopped early (signal, error): checkpoint the last frame written, when the
            # tracker is at it (an error mid-frame keeps the previous checkpoint)
            if checkpoint_every and last < n_frames and tracker.frame_count == written:
                save_checkpoint(ckpt, tracker, last, {"mot": writer.tell()}, run)
    if stop:
        stop.raise_if_set()
    if ckpt.exists():
        ckpt.unlink()
    if offline:
        write_rows(out_path, postprocess(collector.rows(), interpolate, smooth, tracker.kf))
    return {"frames": n_frames, "detections": len(det), "ids": len(ids),
            "track_seconds": t_track, "embed_seconds": t_embed}


def _numbered_frames(seq: Sequence, n_frames: int, decode: bool, start: int = 1,
                     prefetch: int = 0):
    """``(k, image)`` for k = start..n_frames: the decoded image (None where the sequence has
    no image of that number), or None for every frame when ``decode`` is False. ``prefetch``
    > 0 decodes up to that many frames ahead in a background thread."""
    if not decode:
        yield from ((k, None) for k in range(start, n_frames + 1))
        return
    images = prefetched(seq.frames(start), prefetch)
    try:
        nxt = next(images, None)
        for k in range(start, n_frames + 1):
            while nxt is not None and nxt[0] < k:
                nxt = next(images, None)
            if nxt is not None and nxt[0] == k:
                yield nxt
            else:
                yield k, None
    finally:
        images.close()


def load_encoder_arg(name: str, device: str):
    """The encoder named on the command line, or None for 'none' (motion only)."""
    if name == "none":
        return None
    from cosmot.appearance import load_encoder

    return load_encoder(name, device=device)


def encoder_identity(name: str) -> str:
    """A string that changes whenever the named encoder's weights change (for caches)."""
    import hashlib

    if name in ("none", "histogram"):
        return name
    path = Path(name)
    if path.suffix == "":
        from cosmot.appearance.integrity import read_weights_record
        from cosmot.appearance.registry import find_record

        record = find_record(name)
        if record is not None:
            return f"{name}:" + read_weights_record(record)["sha256"]
    return f"{path.resolve()}:" + hashlib.sha256(path.read_bytes()).hexdigest()


def run(args: argparse.Namespace) -> int:
    if args.checkpoint_every < 0:
        raise ValueError(f"--checkpoint-every {args.checkpoint_every}: must be >= 0 (0: off)")
    if (args.resume or args.checkpoint_every) and (args.interpolate or args.smooth):
        raise ValueError("--resume/--checkpoint-every work on the online results; "
                         "--interpolate and --smooth rewrite them at the end: run them apart")
    config_from_args(args)  # a bad --preset/--set fails before any work
    if args.workers > 1 or args.ray is not None:  # parallel: atomic outputs (cosmot.cli.batch)
        if args.checkpoint_every:
            raise ValueError("--checkpoint-every works with one sequence at a time: drop "
                             "--workers/--ray (there --resume skips finished sequences)")
        return run_mot(args)
    out_dir = Path(args.out)
    seqs = [Sequence(d) for d in expand_inputs(args.sequences, _is_sequence, lambda p: False)]
    outputs, inputs, seen = {}, {}, {}
    for s in seqs:  # fail early, before any work, on a missing detection file
        if not s.detections_path(args.det).is_file():
            raise FileNotFoundError(f"{s.detections_path(args.det)}: no detections for "
                                    f"{s.name} (is --det {args.det} right?)")
        if s.name in seen:
            raise ValueError(f"{seen[s.name]} and {s.path} are both named {s.name} (seqinfo.ini "
                             f"name): their results would overwrite each other in --out "
                             f"{out_dir}; run them apart")
        seen[s.name] = s.path
        outputs[f"--out (results of {s.name})"] = out_dir / f"{s.name}.txt"
        inputs[f"detection file of {s.name}"] = s.detections_path(args.det)
        if s.gt_path.is_file():
            inputs[f"ground truth of {s.name}"] = s.gt_path
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"--out {out_dir}: is a file, not a folder")
    check_outputs(outputs, inputs)
    args.paths = {os.fspath(v): "--out" for v in outputs.values()}
    out_dir.mkdir(parents=True, exist_ok=True)
    encoder = load_encoder_arg(args.encoder, args.device)
    cmc = resolve_cmc(args.cmc, encoder)
    failures = 0
    with stop_between_frames() as stop:
        for s in seqs:
            out_path = out_dir / f"{s.name}.txt"
            if args.resume and out_path.exists() and not checkpoint_path(out_path).exists():
                print(f"{s.name}: {out_path} exists and has no checkpoint: finished, skipped")
                continue
            config = config_from_args(args, fps=s.info.fps)
            run_info = {"sequence": os.path.realpath(s.path), "det": args.det,
                        "min_score": args.min_score, "encoder": encoder_identity(args.encoder),
                        "cmc": cmc, "output_box": args.output_box}
            try:
                st = track_sequence(s, args.det, args.min_score, config, out_path, encoder,
                                    args.output_box, cmc, args.interpolate, args.smooth,
                                    checkpoint_every=args.checkpoint_every,
                                    resume=args.resume, stop=stop, run=run_info,
                                    prefetch=args.prefetch)
            except KeyboardInterrupt:
                raise
            except Exception as e:  # keep going: the other sequences' results are still useful
                failures += 1
                from cosmot.cli.main import describe_error

                print(f"{s.name}: failed: {describe_error(e, args.paths)}", file=sys.stderr)
                continue
            fps = st["frames"] / st["track_seconds"] if st["track_seconds"] else float("inf")
            msg = (f"{s.name}: {st['frames']} frames, {st['detections']} detections, "
                   f"{st['ids']} ids, tracker {fps:.0f} frames/s")
            if encoder is not None and st["embed_seconds"]:
                msg += f", encoder {st['frames'] / st['embed_seconds']:.1f} frames/s"
            print(msg + f" -> {out_path}")
    return 1 if failures else 0
