"""Writing video files frame by frame; a context manager that always finalises the file, so that a
run stopped by Ctrl-C, SIGTERM or an exception leaves a playable video of the frames done.

What survives which end of a run:

- ``.avi``: written as Motion-JPEG by :class:`~cosmot.writers.avi.MJPEGAVIWriter`, playable
  after every frame: even a hard kill (SIGKILL, out-of-memory killer) keeps every frame written.
- ``.mp4``, ``.m4v``, ``.mov``, ``.mkv``: every frame is encoded twice while the run lasts:
  into the requested container (OpenCV, MPEG-4 Part 2 / XVID, file ``OUT.tmp.mp4``), which is
  unreadable until it is finalised, and into ``OUT.partial.avi`` (as above), which is readable
  at every moment. :meth:`VideoFileWriter.close` finalises the first, checks its frame count,
  renames it to ``OUT.mp4`` and removes the AVI (when the direct file cannot be written or
  comes out short, the AVI is converted instead). A normal end, an error, Ctrl-C or SIGTERM
  gives the ``.mp4``; after a hard kill ``OUT.partial.avi`` is left and holds every frame
  written.

An AVI file stops just under 4 GiB (about 30,000 frames of 768x576 at 136 kB each): the frames
go on in ``OUT-002.avi``, ``OUT-003.avi``, ... (``OUT.mp4.partial-002.avi``, ... converted into
the one ``.mp4``), each a complete video.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import cv2
import numpy as np

from cosmot.writers.avi import MJPEGAVIWriter

#: Container extension -> FourCC used (all available in the opencv-python wheels).
CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "XVID"}


class VideoFileWriter:
    """Append BGR uint8 frames to a video file.

    The file is opened on the first frame (its size fixes the video's); every later frame must
    have that size. ``.avi`` (Motion JPEG) stays readable even when the process is killed
    outright; other containers are written to :attr:`partial_path` and converted by
    :meth:`close`, which ``with`` guarantees on exceptions, Ctrl-C and SIGTERM (module
    docstring).
    """

    def __init__(self, path: str | os.PathLike, fps: float, segment_bytes: int | None = None):
        self.path = Path(path)
        ext = self.path.suffix.lower()
        if ext not in CODECS:
            raise ValueError(f"{self.path}: unsupported video extension {ext or '(none)'!r}; "
                             f"use one of {', '.join(sorted(CODECS))}")
        if not (fps > 0 and np.isfinite(fps)):
            raise ValueError(f"fps = {fps!r}: must be a positive number")
        self.fps = float(fps)
        self.frames_written = 0
        #: where the frames are written while the run lasts (the output itself for .avi)
        self.partial_path = (self.path if ext == ".avi"
                             else self.path.with_name(self.path.name + ".partial.avi"))
        #: the AVI files written so far (more than one past 4 GiB)
        self.segments: list[Path] = []
        self._segment_bytes = segment_bytes
        self._writer: MJPEGAVIWriter | None = None
        #: the requested container written frame by frame (None for .avi, or when OpenCV
        #: cannot open it: the AVI is converted at the end then)
        self._direct: cv2.VideoWriter | None = None
        self._direct_path = self.path.with_name(self.path.name + ".tmp" + self.path.suffix)
        self._size: tuple[int, int] | None = None
        self._closed = False

    def _segment_path(self, i: int) -> Path:
        if i == 0:
            return self.partial_path
        if self.partial_path == self.path:
            return self.path.with_name(f"{self.path.stem}-{i + 1:03d}{self.path.suffix}")
        return self.path.with_name(f"{self.path.name}.partial-{i + 1:03d}.avi")

    def _open_segment(self) -> None:
        path = self._segment_path(len(self.segments))
        extra = {} if self._segment_bytes is None else {"max_bytes": self._segment_bytes}
        self._writer = MJPEGAVIWriter(path, self.fps, self._size, **extra)
        self.segments.append(path)

    def write(self, frame_bgr: np.ndarray) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: writer is closed")
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
            raise ValueError(f"frame of shape {frame_bgr.shape} and dtype {frame_bgr.dtype}: "
                             f"expected HxWx3 uint8 BGR")
        size = (frame_bgr.shape[1], frame_bgr.shape[0])
        if self._size is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._size = size
            if self.partial_path != self.path:
                self._direct = self._open_direct()
        elif size != self._size:
            raise ValueError(f"{self.path}: frame {self.frames_written + 1} is "
                             f"{size[0]}x{size[1]}, the video is {self._size[0]}x{self._size[1]}")
        if self._writer is not None and self._writer.full:  # next file before 4 GiB
            self._writer.close()
            self._writer = None
        if self._writer is None:
            self._open_segment()
        self._writer.write(frame_bgr)
        if self._direct is not None:
            self._direct.write(frame_bgr)
        self.frames_written += 1

    def _open_direct(self) -> cv2.VideoWriter | None:
        fourcc = cv2.VideoWriter_fourcc(*CODECS[self.path.suffix.lower()])
        out = cv2.VideoWriter(str(self._direct_path), fourcc, self.fps, self._size)
        if out.isOpened():
            return out
        out.release()
        self._direct_path.unlink(missing_ok=True)
        return None

    def close(self) -> None:
        """Finalise the video (convert the partial file for containers other than .avi); a
        second call does nothing."""
        if self._closed:
            return
        self._closed = True
        writer, self._writer = self._writer, None
        direct, self._direct = self._direct, None
        try:
            if writer is not None:
                writer.close()
        finally:
            if direct is not None:
                direct.release()
        if self.partial_path != self.path and self.segments:
            if direct is not None and self._frame_count(self._direct_path) == \
                    self.frames_written:
                os.replace(self._direct_path, self.path)
                for segment in self.segments:
                    os.remove(segment)
            else:
                self._direct_path.unlink(missing_ok=True)
                self._convert()

    @staticmethod
    def _frame_count(path: Path) -> int:
        """Frames in a finalised video file, as its header says (-1 when unreadable)."""
        cap = cv2.VideoCapture(str(path))
        try:
            return int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if cap.isOpened() else -1
        finally:
            cap.release()

    def _convert(self) -> None:
        """The partial AVI segments -> ``path`` in its container, replaced atomically; they are
        removed only once the conversion is complete."""
        tmp = self._direct_path  # the same temporary name as the direct writer's
        out = self._open_direct()
        kept = ", ".join(str(p) for p in self.segments)
        if out is None:
            raise OSError(f"{self.path}: OpenCV cannot open a video writer "
                          f"({CODECS[self.path.suffix.lower()]}, {self._size[0]}x"
                          f"{self._size[1]}); the frames are kept in {kept}")
        n = 0
        try:
            for segment in self.segments:
                cap = cv2.VideoCapture(str(segment))
                try:
                    while True:
                        ok, frame = cap.read()
                        if not ok:
                            break
                        out.write(frame)
                        n += 1
                finally:
                    cap.release()
        finally:
            out.release()
        if n != self.frames_written:
            raise OSError(f"{self.path}: converting the partial video gave {n} of "
                          f"{self.frames_written} frames; the frames are kept in {kept}")
        check = cv2.VideoCapture(str(tmp))  # OpenCV's writer fails silently (disk full)
        try:
            stored = int(check.get(cv2.CAP_PROP_FRAME_COUNT)) if check.isOpened() else 0
        finally:
            check.release()
        if stored < n:
            raise OSError(errno.ENOSPC, f"the converted video holds {stored} of {n} frames "
                          f"(disk full, or a file size limit?); the frames are kept in {kept}",
                          str(self.path))
        os.replace(tmp, self.path)
        for segment in self.segments:
            os.remove(segment)

    def __enter__(self) -> "VideoFileWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
