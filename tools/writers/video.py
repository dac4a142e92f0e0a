"""Writing video files frame by frame with OpenCV; a context manager that always finalises the
file (so a run stopped by Ctrl-C or an exception leaves a playable video of the frames done)."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

#: Container extension -> FourCC used (all available in the opencv-python wheels).
CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".avi": "MJPG", ".mkv": "XVID"}


class VideoFileWriter:
    """Append BGR uint8 frames to a video file.

    The file is opened on the first frame (its size fixes the video's); every later frame must
    have that size. ``.avi`` (Motion JPEG) stays readable even when the process is killed
    outright; ``.mp4`` needs :meth:`close`, which ``with`` guarantees on exceptions and Ctrl-C.
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
        self._writer: cv2.VideoWriter | None = None
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
            fourcc = cv2.VideoWriter_fourcc(*CODECS[self.path.suffix.lower()])
            self._writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, size)
            if not self._writer.isOpened():
                self._writer = None
                raise OSError(f"{self.path}: OpenCV cannot open a video writer "
                              f"({CODECS[self.path.suffix.lower()]}, {size[0]}x{size[1]})")
            self._size = size
        elif size != self._size:
            raise ValueError(f"{self.path}: frame {self.frames_written + 1} is "
                             f"{size[0]}x{size[1]}, the video is {self._size[0]}x{self._size[1]}")
        self._writer.write(frame_bgr)
        self.frames_written += 1

    def close(self) -> None:
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        self._closed = True

    def __enter__(self) -> "VideoFileWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
