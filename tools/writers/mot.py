"""Tracking results as MOTChallenge rows (``frame,id,left,top,width,height,score,-1,-1,-1``),
flushed frame by frame (:class:`MOTWriter`) or rewritten atomically (:func:`write_rows`); the
detections a run tracked as MOTChallenge det rows (:class:`DetWriter`)."""

from __future__ import annotations

import os
from pathlib import Path
import numpy as np

from cosmot.writers.lines import LineFileWriter


class MOTWriter(LineFileWriter):
    """Write tracking results as MOTChallenge rows; a context manager that flushes each frame.

    Rows: ``frame,id,left,top,width,height,score,-1,-1,-1``. Results written before a crash stay
    in the file.
    """

    def __init__(self, path: str | os.PathLike, append: bool = False):
        super().__init__(path, append, buffering=1 << 16)

    def write(self, frame: int, ids: np.ndarray, tlwh: np.ndarray,
              scores: np.ndarray | None = None) -> None:
        """Write the rows of one frame and flush them to the file."""
        n = len(ids)
        text = ""
        if n:
            scores = np.ones(n) if scores is None else scores
            text = "".join(
                f"{frame},{int(i)},{b[0]:.2f},{b[1]:.2f},{b[2]:.2f},{b[3]:.2f},{s:.4f},-1,-1,-1\n"
                for i, b, s in zip(ids, tlwh, scores))
        self._write_frame(frame, text)


class DetWriter(LineFileWriter):
    """Write the detections a run tracked (after its score filter) as det rows
    ``frame,-1,left,top,width,height,score,class``: the 8-column layout
    :func:`cosmot.sources.motchallenge.read_detections` reads with its class column. Numbers
    are written in full (shortest round-trip text), so ``cosmot mot`` or ``cosmot track
    --detections`` on the file replays the same boxes."""

    def __init__(self, path: str | os.PathLike, append: bool = False):
        super().__init__(path, append, buffering=1 << 16)

    def write(self, frame: int, xyxy: np.ndarray, scores: np.ndarray,
              classes: np.ndarray) -> None:
        n = len(xyxy)
        text = ""
        if n:
            b = np.asarray(xyxy, np.float64)
            tlwh = np.c_[b[:, :2], b[:, 2:] - b[:, :2]].tolist()
            text = "".join(f"{frame},-1,{x!r},{y!r},{w!r},{h!r},{float(s)!r},{int(c)}\n"
                           for (x, y, w, h), s, c in zip(tlwh, np.asarray(scores).tolist(),
                                                        np.asarray(classes).tolist()))
        self._write_frame(frame, text)


DET_METADATA_FORMAT = "cosmot-det/1"


def write_det_metadata(det_path: str | os.PathLike, detector: str,
                       birth_score: float | None, nsa_kalman: bool | None = None) -> Path:
    """Write ``DET.json`` beside a det file (``det.txt`` -> ``det.txt.json``): the detector that
    made the boxes and the tracker's ``birth_score`` and ``nsa_kalman`` for its score scale,
    so that replaying
    the file (``cosmot mot``, ``--detections``) tracks as the run that wrote it did."""
    import json

    meta = Path(f"{os.fspath(det_path)}.json")
    tmp = meta.with_name(meta.name + ".tmp")
    tmp.write_text(json.dumps({"format": DET_METADATA_FORMAT, "detector": detector,
                               "birth_score": birth_score, "nsa_kalman": nsa_kalman},
                              indent=1) + "\n")
    os.replace(tmp, meta)
    return meta


def write_rows(path: str | os.PathLike, rows) -> None:
    """Write whole-sequence results (``tracker.offline.TrackRows``) frame by frame, replacing
    the file atomically so that a crash leaves either the old or the new file."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    rows = rows.by_frame()
    starts = np.flatnonzero(np.r_[True, rows.frames[1:] != rows.frames[:-1]])
    ends = np.r_[starts[1:], len(rows.frames)]
    with MOTWriter(tmp) as w:
        for s, e in zip(starts, ends):
            w.write(int(rows.frames[s]), rows.ids[s:e], rows.tlwh[s:e], rows.scores[s:e])
    os.replace(tmp, path)
