"""Run many tracker configurations over the same sequences quickly, for tuning and ablations.

Detections, appearance embeddings and camera-motion estimates of each sequence are computed once
(optionally cached on disk, keyed by the detection file's content and the encoder), then every
configuration only runs ``Tracker.update`` and TrackEval.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cosmot.tracker import TrackerConfig
from cosmot.tracker.geometry import tlwh_to_xyxy

from cosmot.pipeline.camera_motion import CameraMotionEstimator
from cosmot.pipeline.foreground import ForegroundShare
from cosmot.pipeline.gate import encoder_gate, warn_uncalibrated
from cosmot.pipeline.sequence import track_sequence
from cosmot.evaluation.mot_metrics import EvalResult, evaluate
from cosmot.sources.motchallenge import Detections, Sequence, read_detections


@dataclass
class PreparedSequence:
    """A sequence's inputs, ready for any number of tracker runs."""

    seq: Sequence
    det: Detections
    xyxy: np.ndarray
    embeddings: np.ndarray | None
    warps: np.ndarray | None  # (n_frames, 2, 3)
    slices: dict
    gate: float | None = None  # the encoder's calibrated max_cosine_distance
    det_name: str = "det"  # SEQ/<det_name>/det.txt (its metadata: the detector's birth_score)
    foreground: np.ndarray | None = None  # per detection row (min_foreground), when prepared


def _cache_key(det_path: Path, min_score, encoder_id: str, cmc: str,
               foreground: bool = False) -> str:
    h = hashlib.sha256(det_path.read_bytes())
    # the estimator's settings, not only its method: warps cached with other settings differ
    estimator = repr(CameraMotionEstimator(cmc)) if cmc != "none" else "none"
    key = (min_score, encoder_id, estimator)
    if foreground:  # keys of caches made without it stay as they were
        key += (repr(ForegroundShare()),)
    h.update(repr(key).encode())
    return h.hexdigest()[:20]


def prepare(seq_dir, det_name: str = "det", min_score: float | None = None, encoder=None,
            encoder_id: str = "none", cmc: str = "none", cache_dir: str | os.PathLike | None = None,
            progress: bool = True, foreground: bool = False) -> PreparedSequence:
    """Read detections and compute per-detection embeddings and per-frame warps once (and,
    with ``foreground``, each box's moving share for ``min_foreground``); the encoder's
    calibrated gate is kept for the runs (a warning when it has none)."""
    gate = encoder_gate(encoder)
    if encoder is not None and gate is None:
        warn_uncalibrated(encoder)
    seq = Sequence(seq_dir)
    det_path = seq.detections_path(det_name)
    det = read_detections(det_path, min_score=min_score, length=seq.length(),
                          length_source=f"the sequence ({seq.length_source()})")
    xyxy = tlwh_to_xyxy(det.tlwh)
    slices = det.frame_slices()
    emb = warps = fg = None
    cache = None
    work = encoder is not None or cmc != "none" or foreground
    if cache_dir is not None and work:
        key = _cache_key(det_path, min_score, encoder_id, cmc, foreground)
        cache = Path(cache_dir) / f"{seq.name}-{det_name}-{key}.npz"
        if cache.is_file():
            with np.load(cache) as z:
                emb = z["embeddings"] if "embeddings" in z else None
                warps = z["warps"] if "warps" in z else None
                fg = z["foreground"] if "foreground" in z else None
            return PreparedSequence(seq, det, xyxy, emb, warps, slices, gate, det_name, fg)
    if work:
        est = CameraMotionEstimator(cmc) if cmc != "none" else None
        model = ForegroundShare() if foreground else None
        emb_parts: dict[int, np.ndarray] = {}
        warp_list = []
        empty = slice(0, 0)
        if model is not None:
            fg = np.zeros(len(det))
        for k, image in tqdm(seq.frames(), total=seq.info.length, desc=f"{seq.name} features",
                             disable=not progress, leave=False):
            sl = slices.get(k, empty)
            if encoder is not None and sl.stop > sl.start:
                emb_parts[sl.start] = encoder.embed(image, xyxy[sl])
            if est is not None:
                warp_list.append(est(image, xyxy[sl]))
            if model is not None:
                fg[sl] = model(image, xyxy[sl])
        if encoder is not None:
            dim = encoder.dim
            emb = np.zeros((len(det), dim), np.float32)
            for start, e in emb_parts.items():
                emb[start:start + len(e)] = e
        if est is not None:
            warps = np.array(warp_list)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            arrays = {k: v for k, v in (("embeddings", emb), ("warps", warps),
                                        ("foreground", fg)) if v is not None}
            np.savez(cache, **arrays)
    return PreparedSequence(seq, det, xyxy, emb, warps, slices, gate, det_name, fg)


def run_config(prepared: list[PreparedSequence], config: TrackerConfig, out_dir: str | os.PathLike,
               output_box: str = "kalman", interpolate: int = 0, smooth: bool = False) -> None:
    """Track every prepared sequence with ``config``; write ``out_dir/<name>.txt`` (the loop of
    ``cosmot mot``, fed with the prepared detections, embeddings and camera motion). A
    ``max_cosine_distance`` of None becomes the prepared encoder's gate."""
    out_dir = Path(out_dir)
    for p in prepared:
        track_sequence(p.seq, p.det_name, None,
                       config.replace(fps=p.seq.info.fps).with_gate(p.gate),
                       out_dir / f"{p.seq.name}.txt", output_box=output_box,
                       interpolate=interpolate, smooth=smooth, progress=False,
                       detections=p.det, embeddings=p.embeddings, warps=p.warps,
                       foreground=p.foreground)


def score_config(prepared: list[PreparedSequence], config: TrackerConfig, **kwargs) -> EvalResult:
    """Track and evaluate in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="cosmot-exp-") as tmp:
        run_config(prepared, config, tmp, **kwargs)
        return evaluate([p.seq.path for p in prepared], tmp)
