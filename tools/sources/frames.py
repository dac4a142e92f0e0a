"""Frame sources: image folders, video files and cameras, streamed one frame at a time.

Every iterator yields ``(frame_number, image_bgr)`` with 1-based frame numbers and uint8 HxWx3
BGR images (OpenCV's layout). Memory stays constant whatever the length.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def list_images(folder: str | os.PathLike) -> list[Path]:
    """Image files of a folder in name order."""
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not files:
        raise FileNotFoundError(f"{folder}: no images ({', '.join(IMAGE_EXTENSIONS)})")
    return files


def iter_image_folder(folder: str | os.PathLike, start: int = 1
                      ) -> Iterator[tuple[int, np.ndarray]]:
    """Frames of an image folder in name order; frame k is the k-th file."""
    for k, path in enumerate(list_images(folder)[start - 1:], start=start):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise OSError(f"{path}: cannot be read as an image")
        yield k, image


def _open_capture(source: str | int) -> cv2.VideoCapture:
    cap = cv2.VideoCapture(source)
    if not cap.isOpened():
        what = f"camera {source}" if isinstance(source, int) else f"{source}"
        raise OSError(f"{what}: cannot be opened as a video (is the path right and the codec "
                      f"supported by OpenCV?)")
    return cap


def iter_video(source: str | os.PathLike | int, start: int = 1
               ) -> Iterator[tuple[int, np.ndarray]]:
    """Frames of a video file (or a camera index) decoded one at a time."""
    src = source if isinstance(source, int) else str(source)
    cap = _open_capture(src)
    try:
        k = 0
        while True:
            ok, image = cap.read()
            if not ok:
                break
            k += 1
            if k >= start:
                yield k, image
    finally:
        cap.release()


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
