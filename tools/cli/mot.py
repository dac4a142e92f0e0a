"""``cosmot mot``: track MOTChallenge sequences from their detection files.

Reads ``SEQ_DIR/<det>/det.txt``, runs the tracker frame by frame and writes
``OUT/<sequence name>.txt`` in MOTChallenge format, flushed every frame (an interrupted run keeps
what it wrote). Frames are decoded only when an appearance encoder is used.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tqdm import tqdm

from cosmot.tracker import Tracker, TrackerConfig
from cosmot.tracker.geometry import tlwh_to_xyxy, xyxy_to_tlwh
from cosmot.tracker.offline import TrackCollector, postprocess

from cosmot.pipeline.camera_motion import CameraMotionEstimator
from cosmot.cli.options import add_cmc_option, add_config_options, config_from_args, resolve_cmc
from cosmot.sources.motchallenge import MOTWriter, Sequence, read_detections, write_rows


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("mot", help="track MOTChallenge sequences from detection files",
                       description=__doc__)
    p.add_argument("sequences", nargs="+", metavar="SEQ_DIR", help="MOTChallenge sequence folders")
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
    add_config_options(p)
    p.set_defaults(func=run)


def track_sequence(seq: Sequence, det_name: str, min_score: float | None, config: TrackerConfig,
                   out_path: Path, encoder=None, output_box: str = "kalman",
                   cmc: str = "none", interpolate: int = 0, smooth: bool = False,
                   progress: bool = True) -> dict:
    """Track one sequence and write its results; returns counters and timings.

    Online results are written and flushed frame by frame; with ``interpolate`` or ``smooth``
    the file is rewritten with the post-processed tracks once the sequence is done.
    """
    det = read_detections(seq.detections_path(det_name), min_score=min_score)
    slices = det.frame_slices()
    xyxy = tlwh_to_xyxy(det.tlwh)
    tracker = Tracker(config)
    n_frames = max(seq.info.length, int(det.frames.max()) if len(det) else 0)
    empty = slice(0, 0)
    t_track = t_embed = 0.0
    ids: set[int] = set()
    need_frames = encoder is not None or cmc != "none"
    frames = seq.frames() if need_frames else ((k, None) for k in range(1, n_frames + 1))
    cmc_estimator = CameraMotionEstimator(cmc) if cmc != "none" else None
    offline = interpolate > 0 or smooth
    collector = TrackCollector()
    with MOTWriter(out_path) as writer, tqdm(total=n_frames, desc=seq.name, unit="frame",
                                             disable=not progress, leave=False) as bar:
        for k, image in frames:
            sl = slices.get(k, empty)
            boxes = xyxy[sl]
            emb = None
            if encoder is not None:
                t0 = time.perf_counter()
                emb = encoder.embed(image, boxes)
                t_embed += time.perf_counter() - t0
            warp = cmc_estimator(image, boxes) if cmc_estimator is not None else None
            t0 = time.perf_counter()
            out = tracker.update(boxes, det.scores[sl], emb, None, warp=warp)
            t_track += time.perf_counter() - t0
            box = out.xyxy if output_box == "kalman" else out.det_xyxy
            tlwh = xyxy_to_tlwh(box)
            writer.write(k, out.track_id, tlwh, out.score)
            if offline:
                collector.add(k, out.track_id, tlwh, out.score)
            ids.update(out.track_id.tolist())
            bar.update(1)
    if offline:
        write_rows(out_path, postprocess(collector.rows(), interpolate, smooth, tracker.kf))
    return {"frames": n_frames, "detections": len(det), "ids": len(ids),
            "track_seconds": t_track, "embed_seconds": t_embed}


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
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    seqs = [Sequence(d) for d in args.sequences]
    for s in seqs:  # fail early, before any work, on a missing detection file
        if not s.detections_path(args.det).is_file():
            raise FileNotFoundError(f"{s.detections_path(args.det)}: no detections for "
                                    f"{s.name} (is --det {args.det} right?)")
    encoder = load_encoder_arg(args.encoder, args.device)
    failures = 0
    for s in seqs:
        config = config_from_args(args, fps=s.info.fps)
        try:
            st = track_sequence(s, args.det, args.min_score, config, out_dir / f"{s.name}.txt",
                                encoder, args.output_box, resolve_cmc(args.cmc, encoder),
                                args.interpolate, args.smooth)
        except Exception as e:  # keep going: the other sequences' results are still useful
            failures += 1
            print(f"{s.name}: failed: {type(e).__name__}: {e}", file=sys.stderr)
            continue
        fps = st["frames"] / st["track_seconds"] if st["track_seconds"] else float("inf")
        msg = (f"{s.name}: {st['frames']} frames, {st['detections']} detections, "
               f"{st['ids']} ids, tracker {fps:.0f} frames/s")
        if encoder is not None and st["embed_seconds"]:
            msg += f", encoder {st['frames'] / st['embed_seconds']:.1f} frames/s"
        print(msg + f" -> {out_dir / (s.name + '.txt')}")
    return 1 if failures else 0
