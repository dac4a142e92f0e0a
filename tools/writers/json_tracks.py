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
from pathlib import Path
from typing import Iterator, TextIO

import numpy as np


class JSONTracksWriter:
    """Context manager writing one JSON line per frame (see the module docstring)."""

    def __init__(self, path: str | os.PathLike, append: bool = False):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f: TextIO | None = open(self.path, "a" if append else "w")

    def tell(self) -> int:
        """Bytes in the file (all flushed)."""
        return self._f.tell() if self._f is not None else self.path.stat().st_size

    def write(self, frame: int, track_ids: np.ndarray, xyxy: np.ndarray, scores: np.ndarray,
              classes: np.ndarray, labels: list[str] | None = None) -> None:
        """Write one frame's tracks: ids (K,), boxes (K, 4) xyxy, scores (K,), classes (K,),
        optional class names (K,) written as ``"label"``."""
        if self._f is None:
            raise ValueError(f"{self.path}: writer is closed")
        boxes = np.round(np.asarray(xyxy, np.float64), 2).tolist()
        tracks = [{"id": int(i), "xyxy": b, "score": round(float(s), 4), "class": int(c)}
                  for i, b, s, c in zip(track_ids, boxes, scores, classes)]
        if labels is not None:
            for t, name in zip(tracks, labels):
                t["label"] = name
        try:
            self._f.write(json.dumps({"frame": int(frame), "tracks": tracks},
                                     separators=(",", ":")) + "\n")
            self._f.flush()
        except OSError as e:  # disk full, file system gone: say which file
            self._failed = True
            raise OSError(e.errno, f"cannot write frame {frame} ({e.strerror})",
                          str(self.path)) from None

    def close(self) -> None:
        if self._f is not None:
            f, self._f = self._f, None
            try:
                f.close()
            except OSError as e:
                if not getattr(self, "_failed", False):  # else: already reported by write
                    raise OSError(e.errno, f"cannot close ({e.strerror})", str(self.path)) \
                        from None

    def __enter__(self) -> "JSONTracksWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_json_tracks(path: str | os.PathLike) -> Iterator[dict]:
    """The frames of a JSON-lines track file, in order; an incomplete last line is skipped."""
    with open(path) as f:
        for line in f:
            if not line.endswith("\n"):
                return
            yield json.loads(line)
