"""A Motion-JPEG AVI writer that keeps the file playable after every frame, even when the process
is killed outright (SIGKILL, power to the process cut).

OpenCV's own writers buffer in memory and write the index and sizes only when released, so a
killed run leaves an empty or unplayable file. Here each frame is one JPEG chunk appended to
the ``movi`` list and handed to the operating system at once, and the header's sizes and frame
counts are rewritten after it, so that the file on disk is always a complete AVI of the frames
written so far. The index (``idx1``, optional in AVI) is added by :meth:`close`; players and
OpenCV read the file without it.

Plain AVI (RIFF) limits a file to 4 GiB; :attr:`MJPEGAVIWriter.full` says when the next frame
may not fit (the caller starts another file: :class:`cosmot.writers.video.VideoFileWriter`
does), and a write past the limit raises ``OSError`` naming the file.
"""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path

import cv2
import numpy as np

_AVIF_HASINDEX = 0x10
_AVIIF_KEYFRAME = 0x10
_MAX_BYTES = (1 << 32) - (1 << 24)  # RIFF sizes are 32-bit; leave room for the index


class MJPEGAVIWriter:
    """Append BGR uint8 frames of one size to ``path`` as Motion-JPEG AVI.

    Args:
        path: the ``.avi`` file (replaced).
        fps: frames per second (stored as a rational with denominator 1000).
        size: ``(width, height)`` of every frame.
        quality: JPEG quality 1-100.
        max_bytes: the file's size limit (default: just under 4 GiB, plain AVI's).
    """

    def __init__(self, path: str | os.PathLike, fps: float, size: tuple[int, int],
                 quality: int = 95, max_bytes: int = _MAX_BYTES):
        self.path = Path(path)
        self.width, self.height = int(size[0]), int(size[1])
        self.rate, self.scale = max(1, int(round(fps * 1000))), 1000
        self.quality = int(quality)
        self.frames = 0
        self.max_bytes = min(int(max_bytes), _MAX_BYTES)
        self._bytes = 0
        self._index: list[tuple[int, int]] = []  # (offset from 'movi', chunk size)
        self._max_chunk = 0
        self._f = open(self.path, "wb")
        self._write_headers()
        self._f.flush()

    # offsets of the fields rewritten after every frame
    _RIFF_SIZE, _AVIH_FRAMES, _AVIH_BUF, _STRH_LENGTH, _STRH_BUF = 4, 48, 60, 140, 144

    def _write_headers(self) -> None:
        w, h = self.width, self.height
        usec = int(round(1e6 * self.scale / self.rate))
        avih = struct.pack("<14I", usec, 0, 0, _AVIF_HASINDEX, 0, 0, 1, 0, w, h, 0, 0, 0, 0)
        strh = (b"vids" + b"MJPG" + struct.pack("<IHHIIIIIIiI", 0, 0, 0, 0, self.scale,
                                                  self.rate, 0, 0, 0, -1, 0)
                + struct.pack("<4h", 0, 0, w, h))
        strf = struct.pack("<IiiHH4sIiiII", 40, w, h, 1, 24, b"MJPG", w * h * 3, 0, 0, 0, 0)
        strl = (b"LIST" + struct.pack("<I", 4 + 8 + len(strh) + 8 + len(strf)) + b"strl"
                + b"strh" + struct.pack("<I", len(strh)) + strh
                + b"strf" + struct.pack("<I", len(strf)) + strf)
        hdrl_body = b"hdrl" + b"avih" + struct.pack("<I", len(avih)) + avih + strl
        hdrl = b"LIST" + struct.pack("<I", len(hdrl_body)) + hdrl_body
        self._f.write(b"RIFF" + struct.pack("<I", 0) + b"AVI " + hdrl)
        self._movi_size_at = self._f.tell() + 4
        self._f.write(b"LIST" + struct.pack("<I", 4) + b"movi")
        self._movi_start = self._f.tell() - 4  # idx1 offsets count from the 'movi' fourcc

    def _patch(self, offset: int, value: int) -> None:
        self._f.seek(offset)
        self._f.write(struct.pack("<I", value))

    def write(self, frame_bgr: np.ndarray) -> None:
        try:
            self._write(frame_bgr)
        except OSError as e:  # disk full, file system gone: say which file
            if e.filename is not None:
                raise
            raise OSError(e.errno, f"cannot write frame {self.frames + 1} ({e.strerror})",
                          str(self.path)) from None

    def _write(self, frame_bgr: np.ndarray) -> None:
        if self._f is None:
            raise ValueError(f"{self.path}: writer is closed")
        if frame_bgr.shape[:2] != (self.height, self.width):
            raise ValueError(f"{self.path}: frame {self.frames + 1} is {frame_bgr.shape[1]}x"
                             f"{frame_bgr.shape[0]}, the video is {self.width}x{self.height}")
        ok, buf = cv2.imencode(".jpg", frame_bgr, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise ValueError(f"{self.path}: JPEG encoding of frame {self.frames + 1} failed")
        data = buf.tobytes()
        pad = len(data) & 1
        end = self._f.seek(0, os.SEEK_END)
        if end + 8 + len(data) + pad + 16 * (self.frames + 1) > self.max_bytes:
            raise OSError(errno.EFBIG, f"an AVI file cannot grow past 4 GiB (frame "
                          f"{self.frames + 1}); write shorter runs or use --max-frames",
                          str(self.path))
        self._f.write(b"00dc" + struct.pack("<I", len(data)) + data + b"\0" * pad)
        self._index.append((end - self._movi_start, len(data)))
        self.frames += 1
        self._max_chunk = max(self._max_chunk, len(data))
        size = end + 8 + len(data) + pad
        self._bytes = size
        # the file on disk stays a complete AVI of the frames so far
        self._patch(self._RIFF_SIZE, size - 8)
        self._patch(self._movi_size_at, size - self._movi_size_at - 4)
        self._patch(self._AVIH_FRAMES, self.frames)
        self._patch(self._AVIH_BUF, self._max_chunk + 8)
        self._patch(self._STRH_LENGTH, self.frames)
        self._patch(self._STRH_BUF, self._max_chunk + 8)
        self._f.seek(0, os.SEEK_END)
        self._f.flush()

    @property
    def full(self) -> bool:
        """True when a frame twice the largest so far might not fit any more."""
        return (self._bytes + 16 * (self.frames + 2) + 2 * (self._max_chunk + 8) + 1024
                > self.max_bytes)

    def close(self) -> None:
        """Append the index and close the file."""
        if self._f is None:
            return
        f, self._f = self._f, None
        try:
            end = f.seek(0, os.SEEK_END)
            idx = b"".join(struct.pack("<4sIII", b"00dc", _AVIIF_KEYFRAME, off, size)
                           for off, size in self._index)
            f.write(b"idx1" + struct.pack("<I", len(idx)) + idx)
            f.seek(self._RIFF_SIZE)
            f.write(struct.pack("<I", end + 8 + len(idx) - 8))
        finally:
            f.close()

    def __enter__(self) -> "MJPEGAVIWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
