"""Frame sources: image folders, video files and cameras, streamed one frame at a time.

Every iterator yields ``(frame_number, image_bgr)`` with 1-based frame numbers and uint8 HxWx3
BGR images (OpenCV's layout). Memory stays constant whatever the length.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from cosmot.sources.video_index import FrameIndex, scan_frame_index

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files of a folder in name order."""
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise FileNotFoundError(f"{folder}: no images ({', '.join(IMAGE_EXTENSIONS)})")
    return files


class FrameGapWarning(UserWarning):
    """Frame numbers are missing from an image folder (the message names the folder, the
    count and the first gaps)."""


class FrameOffsetWarning(UserWarning):
    """An image folder numbered from 0 is taken as frames 1, 2, ... (the message says so)."""


class DamagedImageWarning(UserWarning):
    """An image of a folder is cut short (an unfinished copy): it is skipped, as a gap."""


class FramesLostWarning(UserWarning):
    """Frames in the middle of a video file cannot be read (damaged data): the container's
    index places the later frames at their true numbers (the message names the file, the
    frames and the byte where the damage starts)."""


class VideoEndedEarlyWarning(UserWarning):
    """A video file stopped decoding well before the frame count its header announces (a
    truncated or damaged file; the message names the file and both counts)."""


_NUMBER = re.compile(r"(\d+)$")


def number_images(folder: str | os.PathLike, warn: bool = True, from_zero: str = "shift",
                  length: int | None = None) -> list[tuple[int, Path]]:
    """``(frame_number, path)`` of a folder's images, by the numbers in their names.

    MOTChallenge names (``000001.jpg``), and any names ending in a number (``frame_12.png``),
    give the frame number: a missing or an extra image never shifts later frames. A folder
    numbered from 0 is taken as frames 1, 2, ... (frame = number + 1). Names without numbers
    (all of them) are numbered by name order. Raises ``ValueError`` when some names carry
    numbers and others do not, or two names carry the same number; warns once
    (:class:`FrameGapWarning`) when numbers are missing.
    """
    files = list_images(folder)
    found = [_NUMBER.search(p.stem) for p in files]
    if not any(found):
        return list(enumerate(files, start=1))
    if not all(found):
        odd = [p.name for p, m in zip(files, found) if m is None]
        raise ValueError(f"{folder}: {len(odd)} image names without a frame number (e.g. "
                         f"{odd[0]}) beside numbered ones; frames are numbered by the number "
                         f"that ends each name (000001.jpg): rename or remove them")
    numbered = sorted((int(m.group(1)), p) for m, p in zip(found, files))
    numbers = np.array([k for k, _ in numbered], np.int64)
    dup = np.flatnonzero(numbers[1:] == numbers[:-1])
    if dup.size:
        a, b = numbered[dup[0]][1].name, numbered[dup[0] + 1][1].name
        raise ValueError(f"{folder}: {a} and {b} both have frame number {numbers[dup[0]]}; "
                         f"remove one of them")
    offset = 0
    if numbers[0] == 0:
        if from_zero == "error":
            raise ValueError(f"{numbered[0][1]}: image number 0 in a sequence whose frames count "
                             f"from 1 (seqinfo.ini seqLength, the det.txt frame column): it "
                             f"would pair every image with the previous frame's detections; "
                             f"remove it, or renumber the folder from 000001")
        offset = 1
        if warn:
            warnings.warn(FrameOffsetWarning(
                f"{folder}: images are numbered from 0: image N is taken as frame N + 1 "
                f"({numbered[0][1].name} is frame 1)"), stacklevel=2)
    numbers = numbers + offset
    if length is not None and length > 0 and warn:
        past = int((numbers > length).sum())
        if past:
            warnings.warn(FrameGapWarning(
                f"{folder}: {past} images past the sequence's {length} frames (up to frame "
                f"{int(numbers[-1])}) are not tracked; fix seqLength in seqinfo.ini if they "
                f"belong to it"), stacklevel=2)
    ends = np.r_[0, numbers[numbers <= length] if length else numbers]
    if length is not None and length > 0 and ends[-1] < length:
        ends = np.r_[ends, length + 1]  # a missing tail is a gap up to seqLength
    gaps = np.flatnonzero(np.diff(ends) > 1)
    if gaps.size and warn:
        starts = ends[gaps] + 1
        stops = ends[gaps + 1] - 1
        missing = int((stops - starts + 1).sum())
        shown = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in zip(starts[:5], stops[:5]))
        warnings.warn(FrameGapWarning(
            f"{folder}: {missing} frame numbers have no image (frames {shown}"
            f"{', ...' if gaps.size > 5 else ''}); tracking runs through them without "
            f"detections"), stacklevel=2)
    return [(int(k), p) for k, (_, p) in zip(numbers, numbered)]


def iter_image_folder(folder: str | os.PathLike, start: int = 1, from_zero: str = "shift",
                      length: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """Frames of an image folder numbered by their file names (see :func:`number_images`,
    which ``from_zero`` and ``length`` are passed to), from frame ``start``; images past
    ``length`` are not yielded. A JPEG cut short is skipped with a ``DamagedImageWarning`` (a
    gap); an image of another size than the first is a ValueError naming both."""
    first = None
    for k, path in number_images(folder, from_zero=from_zero, length=length):
        if length is not None and length > 0 and k > length:
            break
        if k < start:
            continue
        data = np.fromfile(path, np.uint8)
        if path.suffix.lower() in (".jpg", ".jpeg") and _jpeg_cut_short(data):
            warnings.warn(DamagedImageWarning(
                f"{path}: frame {k} is cut short (no JPEG end marker; an unfinished copy?); "
                f"skipped: tracked as a frame without an image. Copy it again to use it"))
            continue
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        if image is None:
            raise OSError(f"{path}: frame {k} cannot be read as an image (damaged or not an "
                          f"image); remove it or replace it")
        if first is None:
            first = (k, image.shape)
        elif image.shape != first[1]:
            raise ValueError(f"{path}: frame {k} is {image.shape[1]}x{image.shape[0]} but frame "
                             f"{first[0]} is {first[1][1]}x{first[1][0]}; every image of a "
                             f"folder must have one size (resize or remove {path.name})")
        yield k, image


def _jpeg_cut_short(data: np.ndarray) -> bool:
    """True when a JPEG's bytes hold no end-of-image marker (FF D9) near their end: the file
    was cut (libjpeg would fill the rest with grey). Trailing padding of up to 4 KiB is
    allowed."""
    return len(data) > 2 and b"\xff\xd9" not in data[-4096:].tobytes()


def _open_capture(source: str | int) -> cv2.VideoCapture:
    # OpenCV's own log lines (a missing camera prints several) stay out of the terminal: the
    # error below says what failed
    log = getattr(getattr(cv2, "utils", None), "logging", None)
    previous = log.getLogLevel() if log is not None else None
    if log is not None:
        log.setLogLevel(log.LOG_LEVEL_SILENT)
    try:
        cap = cv2.VideoCapture(source)
    finally:
        if log is not None:
            log.setLogLevel(previous)
    if not cap.isOpened():
        what = f"camera {source}" if isinstance(source, int) else f"{source}"
        raise OSError(f"{what}: cannot be opened as a video (is the path right and the codec "
                      f"supported by OpenCV?)")
    return cap


def iter_video(source: str | os.PathLike | int, start: int = 1
               ) -> Iterator[tuple[int, np.ndarray]]:
    """Frames of a video file (or a camera index) decoded one at a time.

    A file is first checked against its container's index (:mod:`cosmot.sources.video_index`,
    with PyAV installed): when frames in the middle cannot be read, a
    :class:`FramesLostWarning` names them and the later frames keep their true numbers."""
    src = source if isinstance(source, int) else str(source)
    index = scan_frame_index(src) if isinstance(src, str) and os.path.isfile(src) else None
    if index is not None and index.lost:
        warnings.warn(FramesLostWarning(index.describe_lost(src)), stacklevel=2)
        yield from _iter_indexed_video(src, index, start)
        return
    cap = _open_capture(src)
    try:
        announced = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if isinstance(src, str) else 0
        k = 0
        while True:
            ok, image = cap.read()
            if not ok:
                break
            k += 1
            if k >= start:
                yield k, image
        _warn_if_ended_early(src, k, announced)
    finally:
        cap.release()


def _warn_if_ended_early(src: str, last: int, announced: int) -> None:
    # containers may estimate their count (duration x rate): only a clear shortfall warns
    if announced > 0 and last < announced - max(2, announced // 100):
        import importlib.util

        hint = "" if importlib.util.find_spec("av") else (
            " Frames lost mid-file (not at the end) shift every later frame's number: install "
            "PyAV (pip install 'cosmot[video]') to have them placed by the file's index.")
        warnings.warn(VideoEndedEarlyWarning(
            f"{src}: decoding stopped after frame {last} of the {announced} its header "
            f"announces; the file is probably truncated or damaged (results cover frames "
            f"1-{last}). If it plays to the end elsewhere, re-encode it (e.g. ffmpeg -i IN "
            f"OUT.mp4) and run again.{hint}"), stacklevel=3)


def _iter_indexed_video(src: str, index: FrameIndex, start: int
                        ) -> Iterator[tuple[int, np.ndarray]]:
    """Frames of a video with frames lost mid-file, decoded by PyAV and numbered by the
    container's index (the pixels are FFmpeg's, as through OpenCV)."""
    import av

    with av.open(src) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        last, unplaced = 0, 0
        try:
            for frame in container.decode(stream):
                k = index.numbers.get(frame.pts) if frame.pts is not None else None
                if k is None or k <= last:
                    unplaced += 1  # a frame the index cannot place is not guessed at
                    continue
                last = k
                if k >= start:
                    yield k, frame.to_ndarray(format="bgr24")
        except av.FFmpegError:
            pass  # decoding stopped: the shortfall is reported below
    if unplaced:
        warnings.warn(FramesLostWarning(
            f"{src}: {unplaced} decoded frames could not be placed by the file's index and "
            f"were skipped"), stacklevel=3)
    _warn_if_ended_early(src, last, index.total)


def video_properties(source: str | os.PathLike | int) -> tuple[float, int, int, int]:
    """``(fps, frame_count, width, height)`` as the container reports them (count -1 if unknown)."""
    cap = _open_capture(source if isinstance(source, int) else str(source))
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS)) or 0.0
        n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
        h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    finally:
        cap.release()
    return fps, (n if n > 0 else -1), w, h
