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
import time
from pathlib import Path

from tqdm import tqdm

from cosmot.tracker import Tracker, TrackerConfig
from cosmot.tracker.geometry import tlwh_to_xyxy, xyxy_to_tlwh
from cosmot.tracker.offline import TrackCollector, postprocess

from cosmot.cli.batch import add_batch_options, run_mot
from cosmot.pipeline.camera_motion import CameraMotionEstimator
from cosmot.pipeline.prefetch import prefetch as prefetched
from cosmot.cli.options import add_cmc_option, add_config_options, config_from_args
from cosmot.sources.motchallenge import MOTWriter, Sequence, read_detections, write_rows


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
    add_config_options(p)
    add_batch_options(p)
    p.set_defaults(func=run)


def track_sequence(seq: Sequence, det_name: str, min_score: float | None, config: TrackerConfig,
                   out_path: Path, encoder=None, output_box: str = "kalman",
                   cmc: str = "none", interpolate: int = 0, smooth: bool = False,
                   progress: bool = True, prefetch: int = 0) -> dict:
    """Track one sequence and write its results; returns counters and timings.

    Online results are written and flushed frame by frame; with ``interpolate`` or ``smooth``
    the file is rewritten with the post-processed tracks once the sequence is done.
    ``prefetch`` > 0 decodes up to that many frames ahead in a background thread.
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
    frames = (prefetched(seq.frames(), prefetch) if need_frames
              else ((k, None) for k in range(1, n_frames + 1)))
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
    if name == "default":
        from cosmot.appearance.checkpoint import read_weights_record
        from cosmot.appearance.registry import DEFAULT_RECORD

        return "default:" + read_weights_record(DEFAULT_RECORD)["sha256"]
    path = Path(name)
    return f"{path.resolve()}:" + hashlib.sha256(path.read_bytes()).hexdigest()


def run(args: argparse.Namespace) -> int:
    config_from_args(args)  # a bad --preset/--set fails before any work
    return run_mot(args)
