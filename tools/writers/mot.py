"""Tracking results as MOTChallenge rows (``frame,id,left,top,width,height,score,-1,-1,-1``),
flushed frame by frame (:class:`MOTWriter`) or rewritten atomically (:func:`write_rows`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

import numpy as np


class MOTWriter:
    """Write tracking results as MOTChallenge rows; a context manager that flushes each frame.

    Rows: ``frame,id,left,top,width,height,score,-1,-1,-1``. Results written before a crash stay
    in the file.
    """

    def __init__(self, path: str | os.PathLike, append: bool = False):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f: TextIO | None = open(self.path, "a" if append else "w", buffering=1 << 16)

    def tell(self) -> int:
        """Bytes in the file (all flushed)."""
        return self._f.tell() if self._f is not None else self.path.stat().st_size

    def write(self, frame: int, ids: np.ndarray, tlwh: np.ndarray,
              scores: np.ndarray | None = None) -> None:
        """Write the rows of one frame and flush them to the file."""
        if self._f is None:
            raise ValueError(f"{self.path}: writer is closed")
        n = len(ids)
        if n:
            scores = np.ones(n) if scores is None else scores
            lines = [f"{frame},{int(i)},{b[0]:.2f},{b[1]:.2f},{b[2]:.2f},{b[3]:.2f},{s:.4f},-1,-1,-1\n"
                     for i, b, s in zip(ids, tlwh, scores)]
            lines = "".join(lines)
        try:
            if n:
                self._f.write(lines)
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

    def __enter__(self) -> "MOTWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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
