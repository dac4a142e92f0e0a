"""Writing video files frame by frame; a context manager that always finalises the file, so that a
run stopped by Ctrl-C, SIGTERM or an exception leaves a playable video of the frames done.

What survives which end of a run:

- ``.avi``: written as Motion-JPEG by :class:`~cosmot.writers.avi.MJPEGAVIWriter`, playable
  after every frame: even a hard kill (SIGKILL, out-of-memory killer) keeps every frame written.
- ``.mp4``, ``.m4v``, ``.mov``, ``.mkv``: frames go to ``OUT.partial.avi`` (as above) while
  the run lasts; :meth:`VideoFileWriter.close` converts it to the requested container (OpenCV,
  MPEG-4 Part 2 / XVID) and removes it. A normal end, an error, Ctrl-C or SIGTERM gives the
  ``.mp4``; after a hard kill ``OUT.partial.avi`` is left and holds every frame written.
"""

from __future__ import annotations

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

    def __init__(self, path: str | os.PathLike, fps: float):
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
        self._writer: MJPEGAVIWriter | None = None
        self._size: tuple[int, int] | None = None
        self._closed = False

    def write(self, frame_bgr: np.ndarray) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: writer is closed")
        if frame_bgr.ndim != 3 or frame_bgr.shape[2] != 3 or frame_bgr.dtype != np.uint8:
            raise ValueError(f"frame of shape {frame_bgr.shape} and dtype {frame_bgr.dtype}: "
                             f"expected HxWx3 uint8 BGR")
        size = (frame_bgr.shape[1], frame_bgr.shape[0])
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = MJPEGAVIWriter(self.partial_path, self.fps, size)
            self._size = size
        elif size != self._size:
            raise ValueError(f"{self.path}: frame {self.frames_written + 1} is "
                             f"{size[0]}x{size[1]}, the video is {self._size[0]}x{self._size[1]}")
        self._writer.write(frame_bgr)
        self.frames_written += 1

    def close(self) -> None:
        """Finalise the video (convert the partial file for containers other than .avi)."""
        self._closed = True
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        writer.close()
        if self.partial_path != self.path:
            self._convert()

    def _convert(self) -> None:
        """``partial_path`` -> ``path`` in its container, replaced atomically; the partial file
        is removed only once the conversion is complete."""
        tmp = self.path.with_name(self.path.name + ".tmp" + self.path.suffix)
        fourcc = cv2.VideoWriter_fourcc(*CODECS[self.path.suffix.lower()])
        out = cv2.VideoWriter(str(tmp), fourcc, self.fps, self._size)
        if not out.isOpened():
            raise OSError(f"{self.path}: OpenCV cannot open a video writer "
                          f"({CODECS[self.path.suffix.lower()]}, {self._size[0]}x"
                          f"{self._size[1]}); the frames are kept in {self.partial_path}")
        cap = cv2.VideoCapture(str(self.partial_path))
        n = 0
        try:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                out.write(frame)
                n += 1
        finally:
            cap.release()
            out.release()
        if n != self.frames_written:
            raise OSError(f"{self.path}: converting {self.partial_path} gave {n} of "
                          f"{self.frames_written} frames; the frames are kept in "
                          f"{self.partial_path}")
        os.replace(tmp, self.path)
        os.remove(self.partial_path)

    def __enter__(self) -> "VideoFileWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
