"""Tracking one MOTChallenge sequence from its detection file: the per-frame loop shared by
``cosmot mot`` (detections read, frames decoded when an encoder or camera-motion compensation
needs them) and ``cosmot tune``/``ablate``/``calibrate`` (detections, embeddings and camera
motion computed once by :func:`cosmot.pipeline.prepared.prepare`). Results are flushed frame
by frame; checkpoints and resume: :mod:`cosmot.pipeline.run_state`.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cosmot.pipeline.camera_motion import CameraMotionEstimator
from cosmot.pipeline.run_state import checkpoint_path, cut_outputs, load_checkpoint, save_checkpoint
from cosmot.pipeline.prefetch import prefetch as prefetched
from cosmot.sources.motchallenge import Detections, Sequence, read_detections
from cosmot.writers.mot import MOTWriter, write_rows
from cosmot.tracker import Tracker, TrackerConfig
from cosmot.pipeline.gate import with_encoder_gate
from cosmot.tracker.geometry import tlwh_to_xyxy, xyxy_to_tlwh
from cosmot.tracker.offline import TrackCollector, postprocess


def track_sequence(seq: Sequence, det_name: str, min_score: float | None, config: TrackerConfig,
                   out_path: Path, encoder=None, output_box: str = "kalman",
                   cmc: str = "none", interpolate: int = 0, smooth: bool = False,
                   progress: bool = True, checkpoint_every: int = 0, resume: bool = False,
                   stop=None, run: dict | None = None, prefetch: int = 0,
                   detections: Detections | None = None, embeddings: np.ndarray | None = None,
                   warps: np.ndarray | None = None) -> dict:
    """Track one sequence and write its results; returns counters and timings.

    The per-frame loop of ``cosmot mot`` and of ``cosmot tune``/``ablate`` (which pass what
    :func:`cosmot.pipeline.prepared.prepare` computed once: ``detections`` already read,
    ``embeddings`` (one row per detection row) and ``warps`` (one per frame), so no frame is
    decoded); ``cosmot track`` runs the same steps from images (``cosmot.pipeline.stream``).

    Online results are written and flushed frame by frame; with ``interpolate`` or ``smooth``
    the file is rewritten with the post-processed tracks once the sequence is done.
    The sequence's length is seqinfo.ini's ``seqLength`` (detection rows past it are an error).
    Frames without an image (a gap in ``img1/``) are tracked without detections when frames
    are decoded. ``checkpoint_every``/``resume``: see :mod:`cosmot.pipeline.run_state`
    (``run`` describes the run for it); ``stop``: a flag read after each frame.
    ``prefetch`` > 0 decodes up to that many frames ahead in a background thread.
    A ``config.max_cosine_distance`` of None becomes ``encoder``'s calibrated gate
    (:func:`cosmot.pipeline.gate.with_encoder_gate`; with precomputed ``embeddings`` the caller
    gates the config, as :func:`cosmot.pipeline.prepared.run_config` does).
    """
    if embeddings is None:  # precomputed embeddings come with a config already gated for them
        config = with_encoder_gate(config, encoder)
    n_frames = seq.length()
    det = detections if detections is not None else read_detections(
        seq.detections_path(det_name), min_score=min_score, length=n_frames,
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
    precomputed = embeddings is not None or warps is not None
    need_frames = not precomputed and (encoder is not None or cmc != "none")
    frames = _numbered_frames(seq, n_frames, need_frames, max(start, 1), prefetch)
    cmc_estimator = CameraMotionEstimator(cmc) if cmc != "none" and not precomputed else None
    offline = interpolate > 0 or smooth
    collector = TrackCollector()
    written = tracker.frame_count
    last = start
    with MOTWriter(out_path, append=start > 0) as writer, \
            tqdm(total=n_frames, initial=start, desc=seq.name, unit="frame",
                 disable=not progress, leave=False) as bar:
        if start == 0:  # also without checkpoint_every: it marks the run unfinished until
            # the end, so --resume never takes a failed or interrupted run's file as finished
            # (it restarts from frame 0 then)
            save_checkpoint(ckpt, tracker, 0, {"mot": writer.tell()}, run)
        try:
            for k, image in frames:
                sl = slices.get(k, empty)
                if need_frames and image is None:  # no image (warned by the reader): no
                    sl = empty                     # detections either
                elif embeddings is not None and sl.stop > sl.start and \
                        not embeddings[sl].any():  # prepare() had no image for this frame
                    sl = empty
                if k <= start:  # the checkpoint's frame: it only primes the camera motion
                    if cmc_estimator is not None and image is not None:
                        cmc_estimator(image, xyxy[sl])
                    continue
                boxes = xyxy[sl]
                emb = warp = None
                if embeddings is not None:
                    emb = embeddings[sl]
                elif encoder is not None and image is not None:
                    t0 = time.perf_counter()
                    emb = encoder.embed(image, boxes)
                    t_embed += time.perf_counter() - t0
                if warps is not None:
                    warp = warps[k - 1] if k <= len(warps) else None
                elif cmc_estimator is not None and image is not None:
                    warp = cmc_estimator(image, boxes)
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
