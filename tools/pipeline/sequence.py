"""A MOTChallenge sequence tracked from its detection file, through the one per-frame loop.

``cosmot mot`` and ``cosmot tune``/``ablate``/``calibrate`` do not have a loop of their own:
:func:`track_sequence` turns a sequence into a *source* for :func:`cosmot.pipeline.track_video`
(and so :func:`cosmot.pipeline.stream.track_stream`): frames by number (decoded only when an
encoder or camera-motion compensation needs pixels), the det.txt rows as the detector, and,
for tuning, embeddings and camera motion computed once by
:func:`cosmot.pipeline.prepared.prepare` (:class:`PrecomputedEmbeddings`,
:class:`PrecomputedWarps`). Outputs, checkpoints and resume are track_video's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from cosmot.detectors.det_file import DetectionFileDetector
from cosmot.pipeline.foreground import PrecomputedForeground
from cosmot.pipeline.video import track_video
from cosmot.sources.motchallenge import Detections, Sequence, read_detections
from cosmot.tracker import TrackerConfig
from cosmot.tracker.kalman_filter import KalmanFilter
from cosmot.tracker.offline import TrackCollector, postprocess
from cosmot.writers.mot import write_rows


@dataclass(frozen=True)
class SequenceFrames:
    """A sequence as a frame source: ``(k, image)`` from its images or video when ``decode``,
    else ``(k, None)`` for every frame number 1..``length`` (detections need no pixels)."""

    seq: Sequence
    length: int
    decode: bool

    @property
    def fps(self) -> float:
        return self.seq.info.fps

    def frames(self, start: int = 1) -> Iterator[tuple[int, np.ndarray | None]]:
        if self.decode:
            return self.seq.frames(start)
        return ((k, None) for k in range(start, self.length + 1))


class PrecomputedEmbeddings:
    """Embeddings computed once per detection row (``prepare``), looked up by frame number.

    A frame whose rows are all zero had no image when they were computed: its detections are
    dropped (:meth:`frames_without_image`), as they would be with frames decoded."""

    by_frame_number = True

    def __init__(self, det: Detections, embeddings: np.ndarray, gate: float | None = None):
        self._embeddings = embeddings
        self._slices = det.frame_slices()
        self.dim = int(embeddings.shape[1])
        self.max_cosine_distance = gate

    def embed_frame(self, frame: int, boxes_xyxy: np.ndarray) -> np.ndarray:
        sl = self._slices.get(frame, slice(0, 0))
        if sl.stop - sl.start != len(boxes_xyxy):
            raise ValueError(f"frame {frame}: {len(boxes_xyxy)} boxes but {sl.stop - sl.start} "
                             f"precomputed embeddings")
        return self._embeddings[sl]

    def frames_without_image(self) -> set[int]:
        return {k for k, sl in self._slices.items()
                if sl.stop > sl.start and not self._embeddings[sl].any()}


class PrecomputedWarps:
    """Camera motion computed once per frame (``prepare``): ``warps[k - 1]`` for frame k."""

    by_frame_number = True
    method = "precomputed"

    def __init__(self, warps: np.ndarray):
        self._warps = warps

    def warp_frame(self, frame: int) -> np.ndarray | None:
        return self._warps[frame - 1] if frame <= len(self._warps) else None


def track_sequence(seq: Sequence, det_name: str, min_score: float | None, config: TrackerConfig,
                   out_path: Path, encoder=None, output_box: str = "kalman",
                   cmc: str = "none", interpolate: int = 0, smooth: bool = False,
                   progress: bool = True, checkpoint_every: int = 0, resume: bool = False,
                   stop=None, run: dict | None = None, prefetch: int = 0,
                   detections: Detections | None = None, embeddings: np.ndarray | None = None,
                   warps: np.ndarray | None = None,
                   foreground: np.ndarray | None = None) -> dict:
    """Track one sequence from ``SEQ/<det_name>/det.txt`` and write ``out_path`` (MOTChallenge
    rows, flushed frame by frame); returns counters and timings.

    ``cosmot tune``/``ablate`` pass what :func:`cosmot.pipeline.prepared.prepare` computed
    once: ``detections`` already read, ``embeddings`` (one row per detection row),
    ``warps`` (one per frame) and ``foreground`` shares (one per detection row, needed when
    ``config.min_foreground`` is on), so no frame is decoded; their ``config`` is already
    gated.
    With ``interpolate`` or ``smooth`` the file is rewritten with the post-processed tracks
    once the sequence is done. The sequence's length is seqinfo.ini's ``seqLength``
    (detection rows past it are an error); frames without an image (a gap in ``img1/``) are
    tracked without detections when frames are decoded. ``checkpoint_every``, ``resume``,
    ``run``, ``stop`` and ``prefetch``: as for :func:`cosmot.pipeline.track_video`; ``stop``
    is raised (``stop.raise_if_set()``) once the loop has ended on it.
    """
    n_frames = seq.length()
    det = detections if detections is not None else read_detections(
        seq.detections_path(det_name), min_score=min_score, length=n_frames,
        length_source=f"the sequence ({seq.length_source()})")
    detector = DetectionFileDetector.from_detections(det, seq.detections_path(det_name))
    camera_motion: object = cmc
    fg_on = config.min_foreground > float("-inf")
    fg_source = None
    if foreground is not None:
        fg_source = PrecomputedForeground(det, foreground)
    elif fg_on and (embeddings is not None or warps is not None):
        raise ValueError("min_foreground is on but the prepared inputs have no foreground "
                         "shares: prepare(..., foreground=True)")
    if embeddings is not None or warps is not None or foreground is not None:
        # prepared: nothing is decoded
        if embeddings is not None:
            encoder = PrecomputedEmbeddings(det, embeddings, config.max_cosine_distance)
            no_image = encoder.frames_without_image()
            if no_image:
                keep = ~np.isin(det.frames, list(no_image))
                detector = DetectionFileDetector.from_detections(det.filter(keep), detector.path)
                encoder = PrecomputedEmbeddings(det.filter(keep), embeddings[keep],
                                                config.max_cosine_distance)
                if foreground is not None:
                    fg_source = PrecomputedForeground(det.filter(keep), foreground[keep])
        camera_motion = PrecomputedWarps(warps) if warps is not None else "none"
        decode = False
    else:
        decode = encoder is not None or cmc != "none" or fg_on
    collector = TrackCollector() if interpolate > 0 or smooth else None
    times = track_video(SequenceFrames(seq, n_frames, decode), detector, encoder, config,
                        out_mot=out_path, cmc=camera_motion, output_box=output_box,
                        progress=progress, progress_label=seq.name,
                        prefetch=prefetch if decode else 0, detect_ahead=0,
                        background_writer=False, checkpoint_every=checkpoint_every,
                        resume=resume, run=run, stop=stop, collector=collector,
                        foreground=fg_source)
    if stop:
        stop.raise_if_set()
    if collector is not None:
        kf = KalmanFilter(config.std_weight_position, config.std_weight_velocity)
        write_rows(out_path, postprocess(collector.rows(), interpolate, smooth, kf))
    return {"frames": n_frames, "detections": len(det), "ids": times.max_id,
            "track_seconds": times.track, "embed_seconds": times.embed}
