"""MOTChallenge files: sequence folders, det.txt and gt.txt readers (the results writer is
``cosmot.writers.mot``).

Box format in files is MOTChallenge ``tlwh`` (left, top, width, height) in pixels with 1-based
frame numbers. Arrays returned here keep ``tlwh``; convert with ``tracker.geometry``.

A sequence folder holds ``seqinfo.ini`` and either an image folder (``imDir``, usually
``img1/``) or, in its place, a video file (e.g. ``PETS09-S2L1/PETS09-S2L1.avi``).
"""

from __future__ import annotations

import configparser
import math
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

VIDEO_EXTENSIONS = (".avi", ".mp4", ".mov", ".mkv", ".webm", ".mpg", ".mpeg", ".m4v")



class MOTFormatError(ValueError):
    """A MOTChallenge file is malformed; the message names the file and the row."""


@dataclass(frozen=True)
class SequenceInfo:
    """What ``seqinfo.ini`` says about a sequence (frame numbers are 1-based)."""

    name: str
    fps: float
    length: int
    width: int
    height: int
    im_dir: str = "img1"
    im_ext: str = ".jpg"


@dataclass(frozen=True)
class Detections:
    """Detections of a whole sequence, sorted by frame.

    frames: (N,) int64, 1-based frame numbers (sorted ascending).
    tlwh: (N, 4) float64 boxes in pixels.
    scores: (N,) float64 detector scores (any scale; DPM margins may be negative).
    classes: (N,) int64 class ids; -1 where the file gives none.
    """

    frames: np.ndarray
    tlwh: np.ndarray
    scores: np.ndarray
    classes: np.ndarray

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    def frame_slices(self) -> dict[int, slice]:
        """Map frame number -> slice into the arrays (only frames that have detections)."""
        if len(self) == 0:
            return {}
        starts = np.flatnonzero(np.r_[True, self.frames[1:] != self.frames[:-1]])
        ends = np.r_[starts[1:], len(self)]
        return {int(self.frames[s]): slice(int(s), int(e)) for s, e in zip(starts, ends)}

    def filter(self, mask: np.ndarray) -> "Detections":
        return Detections(self.frames[mask], self.tlwh[mask], self.scores[mask], self.classes[mask])


@dataclass(frozen=True)
class GroundTruth:
    """Ground-truth rows of a sequence, sorted by frame then id.

    frames, ids: (N,) int64; tlwh: (N, 4) float64; consider: (N,) bool (column 7: 0 marks rows to
    ignore); classes: (N,) int64 (MOT16/17 column 8, -1 for MOT15 files); visibility: (N,) float64
    (MOT16/17 column 9, 1.0 for MOT15 files). ``mot15_format`` tells which layout the file had.
    """

    frames: np.ndarray
    ids: np.ndarray
    tlwh: np.ndarray
    consider: np.ndarray
    classes: np.ndarray
    visibility: np.ndarray
    mot15_format: bool

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    def filter(self, mask: np.ndarray) -> "GroundTruth":
        return GroundTruth(self.frames[mask], self.ids[mask], self.tlwh[mask],
                           self.consider[mask], self.classes[mask], self.visibility[mask],
                           self.mot15_format)


def read_det_metadata(det_path: str | os.PathLike) -> dict:
    """What ``DET.json`` beside a det file records (``cosmot track --out-det`` writes it:
    ``detector``, ``birth_score``, ``nsa_kalman``), or {} when there is none. ``ValueError`` naming the file
    when it is not that format."""
    import json

    meta = Path(f"{os.fspath(det_path)}.json")
    if not meta.is_file():
        return {}
    try:
        data = json.loads(meta.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"{meta}: not valid JSON ({e}); it should hold the metadata "
                         f"'cosmot track --out-det' writes beside {det_path}; remove it or "
                         f"write it again") from None
    if not isinstance(data, dict) or data.get("format") != "cosmot-det/1":
        raise ValueError(f"{meta}: not cosmot det metadata (format 'cosmot-det/1'); remove "
                         f"it or rename it")
    score = data.get("birth_score")
    if score is not None and not isinstance(score, (int, float)):
        raise ValueError(f"{meta}: birth_score {score!r} must be a number or null")
    nsa = data.get("nsa_kalman")
    if nsa is not None and not isinstance(nsa, bool):
        raise ValueError(f"{meta}: nsa_kalman {nsa!r} must be true, false or null")
    return data


def _parse_plain(text: str) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(rows, line numbers)`` of a file with no blank lines (line k is row k), parsed by
    numpy's C reader in one call; ``(None, None)`` when the text has blank or CR lines or does
    not parse (the caller then goes line by line, to name the bad row)."""
    if not text.strip() or "\n\n" in text or text.startswith("\n") or "\r" in text \
            or " \n" in text or "\t\n" in text or "#" in text:
        return None, None
    try:
        rows = np.loadtxt(io.StringIO(text), delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError:
        return None, None
    return rows, np.arange(1, len(rows) + 1, dtype=np.int64)


def load_rows(path: Path, min_columns: int, with_lines: bool = False):
    """Read a comma-separated numeric MOT file into a float64 (N, C) array (and, with
    ``with_lines``, the (N,) 1-based line number of each row).

    Raises MOTFormatError naming the file and the first bad row.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        text = path.read_text()
    except UnicodeDecodeError as e:
        raise MOTFormatError(f"{path}: not a text file ({e.reason} at byte {e.start})") from None
    rows, numbers = _parse_plain(text)
    if rows is None or rows.shape[1] < min_columns:  # blank lines, or a row to name
        all_lines = text.splitlines()
        numbers = np.array([i for i, ln in enumerate(all_lines, start=1) if ln.strip()],
                           np.int64)
        lines = [all_lines[i - 1] for i in numbers]
        if not lines:
            rows = np.zeros((0, min_columns))
            return (rows, numbers) if with_lines else rows
        try:
            rows = np.loadtxt(lines, delimiter=",", ndmin=2, dtype=np.float64)
        except ValueError:
            rows = None
    if rows is None or rows.shape[1] < min_columns:
        width = None
        for i, ln in zip(numbers, lines):
            fields = ln.split(",")
            try:
                [float(f) for f in fields]
            except ValueError:
                raise MOTFormatError(
                    f"{path}, row {i}: cannot parse {ln!r} as comma-separated numbers") from None
            if len(fields) < min_columns:
                raise MOTFormatError(
                    f"{path}, row {i}: {len(fields)} columns, expected at least {min_columns} "
                    f"(frame,id,left,top,width,height,score,...)")
            if width is not None and len(fields) != width:
                raise MOTFormatError(f"{path}, row {i}: {len(fields)} columns where the rows "
                                     f"before have {width}")
            width = len(fields)
        raise MOTFormatError(f"{path}: rows have differing numbers of columns")
    return (rows, numbers) if with_lines else rows


def read_detections(path: str | os.PathLike, min_score: float | None = None,
                    min_height: float = 0.0, length: int | None = None,
                    length_source: str = "the sequence") -> Detections:
    """Read a MOTChallenge ``det.txt`` (``frame,-1,left,top,width,height,score,...``).

    The layout is decided by the column count: 7 (no class), 8 (8th column = class id) or 10
    (MOTChallenge: columns 8-10 are world coordinates or -1, never a class). Bad rows are an
    error naming the file and the row; boxes without area and duplicate rows are dropped with
    one :class:`~cosmot.sources.validation.DroppedRowsWarning` (every rule:
    :mod:`cosmot.sources.validation`). ``length``: the sequence's frame count, when known; rows
    past it are an error. Rows with ``score < min_score`` (when given) or
    ``height < min_height`` are then dropped (a choice, not a fault: no warning).
    """
    from cosmot.sources.validation import check_detection_rows

    rows, lines = load_rows(Path(path), 7, with_lines=True)
    rows, report = check_detection_rows(path, rows, length, length_source, lines)
    report.warn()
    keep = rows[:, 5] >= min_height
    if min_score is not None:
        keep &= rows[:, 6] >= min_score
    rows = rows[keep]
    order = np.argsort(rows[:, 0], kind="stable")
    rows = rows[order]
    return Detections(rows[:, 0].astype(np.int64), rows[:, 2:6].copy(), rows[:, 6].copy(),
                      rows[:, 7].astype(np.int64))


def read_ground_truth(path: str | os.PathLike) -> GroundTruth:
    """Read ``gt.txt`` in MOT16/17 layout (9 columns: ..., consider, class, visibility) or
    MOT15 layout (10 columns: ..., conf, x, y, z)."""
    rows = load_rows(Path(path), 6)
    n, c = rows.shape
    mot15 = c >= 10 or c < 9
    consider = rows[:, 6] != 0 if c > 6 else np.ones(n, bool)
    if mot15:
        classes = np.full(n, -1, np.int64)
        vis = np.ones(n)
    else:
        classes = rows[:, 7].astype(np.int64)
        vis = rows[:, 8].copy()
    order = np.lexsort((rows[:, 1], rows[:, 0]))
    return GroundTruth(rows[order, 0].astype(np.int64), rows[order, 1].astype(np.int64),
                       rows[order, 2:6].copy(), consider[order], classes[order], vis[order], mot15)


def read_seqinfo(seq_dir: str | os.PathLike) -> SequenceInfo:
    """Read ``SEQ_DIR/seqinfo.ini``. Missing fields are filled from the folder where possible."""
    seq_dir = Path(seq_dir)
    ini = seq_dir / "seqinfo.ini"
    if not seq_dir.is_dir():
        raise FileNotFoundError(f"{seq_dir}: not a sequence folder")
    if not ini.is_file():
        raise FileNotFoundError(
            f"{ini}: missing. A MOTChallenge sequence folder needs seqinfo.ini with "
            f"[Sequence] name, frameRate, seqLength, imWidth, imHeight")
    cp = configparser.ConfigParser()
    try:
        cp.read(ini, encoding="utf-8-sig")  # a byte-order mark from Windows editors is fine
    except configparser.Error as e:
        first = str(e).splitlines()[0]
        raise MOTFormatError(f"{ini}: not an INI file with a [Sequence] section ({first}); "
                             f"expected '[Sequence]' on the first line, then name=, "
                             f"frameRate=, seqLength=, imWidth=, imHeight=") from None
    except UnicodeDecodeError:
        raise MOTFormatError(f"{ini}: not a text file") from None
    if "Sequence" not in cp:
        raise MOTFormatError(f"{ini}: no [Sequence] section")
    s = cp["Sequence"]
    try:
        info = SequenceInfo(
            name=s.get("name", seq_dir.name),
            fps=float(s.get("frameRate", "30")),
            length=int(s.get("seqLength", "0")),
            width=int(s.get("imWidth", "0")),
            height=int(s.get("imHeight", "0")),
            im_dir=s.get("imDir", "img1"),
            im_ext=s.get("imExt", ".jpg"),
        )
    except ValueError as e:
        raise MOTFormatError(f"{ini}: {e} (frameRate is a number; seqLength, imWidth and "
                             f"imHeight are whole numbers)") from None
    if not (math.isfinite(info.fps) and info.fps > 0):
        raise MOTFormatError(f"{ini}: frameRate={s.get('frameRate')}: must be a number > 0 "
                             f"(frames per second)")
    if info.length < 0:
        raise MOTFormatError(f"{ini}: seqLength={info.length}: must be >= 1 (the number of "
                             f"frames; 0 or missing: counted from the images or the video)")
    if "frameRate" not in s:
        warnings.warn(SeqinfoWarning(f"{ini}: no frameRate; 30 frames/s assumed (it sets how "
                                     f"long lost tracks are remembered): add frameRate="),
                      stacklevel=2)
    if info.length == 0 and "seqLength" in s:
        warnings.warn(SeqinfoWarning(f"{ini}: seqLength=0; the frames are counted from the "
                                     f"images or the video instead"), stacklevel=2)
    return info


class SeqinfoWarning(UserWarning):
    """seqinfo.ini lacks a field or has a placeholder; the message names the file, the key and
    what is assumed."""


def find_video(seq_dir: str | os.PathLike) -> Path | None:
    """The video file that stands in a sequence folder in place of the image folder, if any."""
    seq_dir = Path(seq_dir)
    videos = sorted(p for p in seq_dir.iterdir() if p.suffix.lower() in VIDEO_EXTENSIONS)
    return videos[0] if videos else None


class Sequence:
    """A MOTChallenge sequence folder: its info, frames, and the files beside them."""

    def __init__(self, seq_dir: str | os.PathLike):
        self.path = Path(seq_dir)
        self.info = read_seqinfo(self.path)
        image_dir = self.path / self.info.im_dir
        self.image_dir = image_dir if image_dir.is_dir() else None
        self.video = None if self.image_dir is not None else find_video(self.path)

    @property
    def name(self) -> str:
        return self.info.name

    def length(self) -> int:
        """Frames in the sequence: seqinfo.ini's ``seqLength``; when it is missing or 0, the
        last image number or the video's frame count. ``ValueError`` when none is known."""
        if self.info.length > 0:
            return self.info.length
        if self.image_dir is not None:
            from cosmot.sources.frames import number_images

            return number_images(self.image_dir, warn=False, from_zero="error")[-1][0]
        if self.video is not None:
            from cosmot.sources.frames import video_properties

            n = video_properties(self.video)[1]
            if n > 0:
                return n
        raise MOTFormatError(f"{self.path / 'seqinfo.ini'}: no seqLength, and no image folder "
                             f"or video to count frames in; add seqLength=<frames> under "
                             f"[Sequence]")

    def length_source(self) -> str:
        """Where :meth:`length` comes from, for messages."""
        if self.info.length > 0:
            return f"{self.path / 'seqinfo.ini'} seqLength"
        return f"{self.image_dir or self.video} (seqinfo.ini has no seqLength)"

    def detections_path(self, det_name: str = "det") -> Path:
        return self.path / det_name / "det.txt"

    @property
    def gt_path(self) -> Path:
        return self.path / "gt" / "gt.txt"

    def frames(self, start: int = 1) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(frame_number, image_bgr)`` from frame ``start`` (1-based) to the end."""
        from cosmot.sources.frames import iter_image_folder, iter_video

        if self.image_dir is not None:
            yield from iter_image_folder(self.image_dir, start, from_zero="error",
                                         length=self.info.length or None)
        elif self.video is not None:
            yield from iter_video(self.video, start)
        else:
            raise FileNotFoundError(
                f"{self.path}: neither an image folder {self.info.im_dir}/ nor a video file "
                f"({', '.join(VIDEO_EXTENSIONS)}) found")
