"""Tracking results as JSON lines: one object per frame, flushed as each frame finishes.

Line format::

    {"frame": 12, "tracks": [{"id": 3, "xyxy": [l, t, r, b], "score": 0.91, "class": 0,
                              "label": "person"}, ...]}

``frame`` is 1-based; ``xyxy`` are pixels (left, top, right, bottom) rounded to 0.01;
``class`` is -1 when the detector gives none; ``"label": "person"`` (the class name) follows
it when the detector names its classes (YOLOX: COCO names). A file cut short by an
interruption is valid up to its last complete line.
"""

from __future__ import annotations

import json
import os
from typing import Iterator

import numpy as np

from cosmot.writers.lines import LineFileWriter


class JSONTracksWriter(LineFileWriter):
    """Context manager writing one JSON line per frame (see the module docstring)."""

    def write(self, frame: int, track_ids: np.ndarray, xyxy: np.ndarray, scores: np.ndarray,
              classes: np.ndarray, labels: list[str] | None = None) -> None:
        """Write one frame's tracks: ids (K,), boxes (K, 4) xyxy, scores (K,), classes (K,),
        optional class names (K,) written as ``"label"``."""
        boxes = np.round(np.asarray(xyxy, np.float64), 2).tolist()
        tracks = [{"id": int(i), "xyxy": b, "score": round(float(s), 4), "class": int(c)}
                  for i, b, s, c in zip(track_ids, boxes, scores, classes)]
        if labels is not None:
            for t, name in zip(tracks, labels):
                t["label"] = name
        self._write_frame(frame, json.dumps({"frame": int(frame), "tracks": tracks},
                                            separators=(",", ":")) + "\n")


def read_json_tracks(path: str | os.PathLike) -> Iterator[dict]:
    """The frames of a JSON-lines track file, in order; an incomplete last line is skipped."""
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                return
            yield json.loads(line)
