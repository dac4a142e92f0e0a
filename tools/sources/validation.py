"""Checks of MOTChallenge detection rows: the file's layout, bad rows, rows outside the sequence.

Every rule, in one place so that ``cosmot mot`` and ``cosmot track --detections`` (and any
library caller of :func:`cosmot.sources.motchallenge.read_detections`) behave the same:

=====================================  ===========================================================
row                                    what happens
=====================================  ===========================================================
not numbers, too few columns           error naming the file and the row
7, 8 or 10 columns                     layouts below; any other count is an error
frame not a whole number, or <= 0      error naming the file, the row and the value
frame > the sequence's length          error naming the file, the row and where the length came
                                       from (``seqinfo.ini`` seqLength, the image folder)
box or score NaN or infinite           error naming the file, the row and the column
negative width or height               error naming the file and the row
zero width or height                   dropped; one :class:`DroppedRowsWarning` with the count
                                       and the first rows
an exact duplicate of an earlier row   dropped; counted in the same warning
a coordinate or size beyond 100,000 px kept; one :class:`ImplausibleBoxWarning` with the count
                                       and the first rows (columns in another order?)
=====================================  ===========================================================

Layouts (decided by the column count, never by the values):

- 7 columns ``frame,id,left,top,width,height,score``;
- 8 columns ``frame,id,left,top,width,height,score,class`` (class: a whole number, -1 = none);
- 10 columns, the MOTChallenge layout ``frame,id,left,top,width,height,score,x,y,z``: the last
  three are MOT15's world coordinates (or -1 in MOT16/17); they are never a class.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

#: Column count -> layout name.
LAYOUTS = {7: "frame,id,box,score", 8: "frame,id,box,score,class",
           10: "MOTChallenge frame,id,box,score,x,y,z"}

_COLUMN_NAMES = ("frame", "id", "left", "top", "width", "height", "score", "class")


class DroppedRowsWarning(UserWarning):
    """Rows of an input file were dropped; the message names the file, the count per reason
    and the first rows."""


class ImplausibleBoxWarning(UserWarning):
    """Rows of a detection file hold boxes no camera frame has (coordinates or sizes beyond
    ``MAX_COORDINATE`` pixels); they are kept, the message names the file, count and rows."""


#: Larger box coordinates or sizes, in pixels, are warned about (no frame is that large).
MAX_COORDINATE = 100_000.0


@dataclass
class RowReport:
    """Rows dropped, per reason: reason -> 1-based line numbers of the file."""

    path: str
    lines: np.ndarray | None = None  # row index -> 1-based line number of the file
    dropped: dict[str, list[int]] = field(default_factory=dict)

    def add(self, reason: str, rows: np.ndarray) -> None:
        if len(rows):
            self.dropped.setdefault(reason, []).extend(_line(self.lines, r) for r in rows)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.dropped.values())

    def message(self) -> str:
        parts = []
        for reason, rows in self.dropped.items():
            first = ", ".join(str(r) for r in sorted(rows)[:5])
            more = ", ..." if len(rows) > 5 else ""
            parts.append(f"{len(rows)} {reason} (row {first}{more})")
        return f"{self.path}: dropped {self.count} rows: " + "; ".join(parts)

    def warn(self) -> None:
        if self.count:
            warnings.warn(DroppedRowsWarning(self.message()), stacklevel=3)


def _line(lines: np.ndarray | None, row) -> int:
    return int(row) + 1 if lines is None else int(lines[int(row)])


def check_detection_rows(path, rows: np.ndarray, length: int | None = None,
                         length_source: str = "the sequence",
                         lines: np.ndarray | None = None) -> tuple[np.ndarray, RowReport]:
    """Validate the (N, C) rows of a det.txt; returns the kept rows (N', 8) as
    ``frame,id,left,top,width,height,score,class`` (class -1 where the layout has none) and
    the report of dropped rows. Raises ``MOTFormatError`` naming the file and row (see the
    module docstring for every rule).

    length: the sequence's number of frames when known (rows past it are an error);
    length_source: where that number came from, for the message;
    lines: (N,) 1-based line number of each row in the file (default: row index + 1).
    """
    from cosmot.sources.motchallenge import MOTFormatError

    def _error(row: int, text: str, hint: str = "") -> Exception:
        return MOTFormatError(f"{path}, row {_line(lines, row)}: {text}"
                              + (f"; {hint}" if hint else ""))

    n, c = rows.shape
    report = RowReport(str(path), lines)

    if n == 0:
        return np.zeros((0, 8)), report
    if c not in LAYOUTS:
        raise _error(0, f"{c} columns; a detection file has 7 (frame,id,left,top,width,"
                              f"height,score), 8 (... ,class) or 10 (MOTChallenge ... ,x,y,z)",
                     "convert the file to one of these layouts")
    bad = ~np.isfinite(rows[:, :7])
    if bad.any():
        r, col = np.argwhere(bad)[0]
        raise _error(r, f"{_COLUMN_NAMES[col]} is {float(rows[r, col])!r}",
                     "every frame, box and score must be a finite number")
    frames = rows[:, 0]
    bad = np.flatnonzero(frames != np.round(frames))
    if bad.size:
        raise _error(bad[0], f"frame {float(frames[bad[0]])!r} is not a whole number",
                     f"{bad.size} such rows; frames are 1-based integers")
    bad = np.flatnonzero(frames <= 0)
    if bad.size:
        raise _error(bad[0], f"frame {int(frames[bad[0]])} <= 0",
                     f"{bad.size} such rows; MOTChallenge frames count from 1")
    if length is not None and length > 0:
        bad = np.flatnonzero(frames > length)
        if bad.size:
            raise _error(bad[0], f"frame {int(frames[bad[0]])} is past the end of "
                                       f"{length_source} ({length} frames)",
                         f"{bad.size} such rows, up to frame {int(frames[bad].max())}; is it "
                         f"the detection file of this sequence?")
    bad = np.flatnonzero((rows[:, 4] < 0) | (rows[:, 5] < 0))
    if bad.size:
        raise _error(bad[0], "negative width or height",
                     f"{bad.size} such rows; boxes are left,top,width,height")
    if c == 8:
        cls = rows[:, 7]
        bad = np.flatnonzero(~np.isfinite(cls) | (cls != np.round(cls)) | (cls < -1))
        if bad.size:
            raise _error(bad[0], f"class {float(cls[bad[0]])!r} is not a class id (a whole "
                                       f"number >= -1) in the 8-column layout "
                                       f"frame,id,left,top,width,height,score,class")
        classes = cls
    else:
        classes = np.full(n, -1.0)
    out = np.concatenate([rows[:, :7], classes[:, None]], axis=1)
    return out[_rows_to_keep(path, out, report, lines)], report


def _rows_to_keep(path, out: np.ndarray, report: RowReport, lines) -> np.ndarray:
    """The rows that pass (a boolean mask): zero-size boxes and exact duplicates are dropped
    and counted in ``report``; boxes far outside any frame are kept with one warning."""
    n = len(out)
    keep = np.ones(n, bool)
    zero = np.flatnonzero((out[:, 4] == 0) | (out[:, 5] == 0))
    report.add("boxes with zero width or height", zero)
    keep[zero] = False
    _, first = np.unique(out[:, [0, 2, 3, 4, 5, 6, 7]], axis=0, return_index=True)
    dup = np.setdiff1d(np.arange(n), first)
    dup = dup[keep[dup]]
    report.add("duplicates of an earlier row", dup)
    keep[dup] = False
    far = np.flatnonzero(keep & (np.abs(out[:, 2:6]) > MAX_COORDINATE).any(axis=1))
    if far.size:
        first = ", ".join(str(_line(lines, r)) for r in far[:5])
        warnings.warn(ImplausibleBoxWarning(
            f"{path}: {far.size} rows have a box coordinate or size beyond "
            f"{MAX_COORDINATE:,.0f} px (row {first}{', ...' if far.size > 5 else ''}), which no "
            f"frame has; are the columns frame,id,left,top,width,height,score? They are kept"),
            stacklevel=4)
    return keep
