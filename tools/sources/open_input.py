"""What a user names as input: a video file, an image folder, a MOTChallenge sequence folder, a
camera index or a stream URL, resolved into one :class:`FrameSource`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from cosmot.sources.frames import (IMAGE_EXTENSIONS, iter_image_folder, iter_video,
                                   number_images, video_properties)
from cosmot.sources.motchallenge import VIDEO_EXTENSIONS, Sequence


#: File extensions taken as videos (OpenCV's FFmpeg would also "play" a text file as frames
#: of rendered text, so other files are refused). Stream URLs (``rtsp://...``) pass as they are.
VIDEO_FILE_EXTENSIONS = tuple(sorted(set(VIDEO_EXTENSIONS) | {
    ".wmv", ".flv", ".ts", ".mts", ".m2ts", ".3gp", ".ogv", ".asf", ".mjpeg", ".mjpg", ".h264",
    ".h265", ".hevc", ".y4m", ".gif"}))


@dataclass(frozen=True)
class FrameSource:
    """Resolved INPUT: a description, the frame iterator factory, fps and length (-1 unknown)."""

    description: str
    kind: str  # "video", "images", "sequence", "camera"
    path: str | int
    fps: float
    length: int

    def frames(self, start: int = 1) -> Iterator[tuple[int, np.ndarray]]:
        if self.kind == "sequence":
            return Sequence(self.path).frames(start)
        if self.kind == "images":
            return iter_image_folder(self.path, start)
        return iter_video(self.path, start)

    @property
    def length_source(self) -> str:
        """Where ``length`` comes from, for messages."""
        if self.kind == "sequence":
            return f"the sequence ({Path(self.path) / 'seqinfo.ini'} seqLength)"
        if self.kind == "images":
            return f"the image folder {self.path} (last image number)"
        return f"the video {self.path}"


def open_input(text: str, fps: float | None = None) -> FrameSource:
    """Interpret INPUT; ``FileNotFoundError``/``ValueError`` say what was expected."""
    path = Path(text)
    if "://" in text:
        vfps, n, w, h = video_properties(text)
        rate = fps or vfps or 25.0
        return FrameSource(f"stream {text} ({w}x{h}, {_rate(rate, fps or vfps)})", "video",
                           text, rate, n)
    if not path.exists() and text.isdigit():
        _, _, w, h = video_properties(int(text))
        return FrameSource(f"camera {text} ({w}x{h})", "camera", int(text), fps or 30.0, -1)
    if not path.exists():
        raise FileNotFoundError(f"INPUT {text}: no such file or folder (expected a video file, "
                                f"an image folder, a sequence folder with seqinfo.ini, a camera "
                                f"index or a stream URL)")
    if path.is_dir():
        if (path / "seqinfo.ini").is_file():
            seq = Sequence(path)
            if seq.image_dir is None and seq.video is None:
                raise FileNotFoundError(f"INPUT {text}: sequence folder without {seq.info.im_dir}/ "
                                        f"or a video file")
            return FrameSource(f"sequence {seq.name}", "sequence", str(path),
                               fps or seq.info.fps, seq.info.length or -1)
        numbered = number_images(path, warn=False)  # raises when the folder has no images
        rate = fps or 25.0
        return FrameSource(f"image folder {path} ({len(numbered)} images, {_rate(rate, fps)})",
                           "images", str(path), rate, numbered[-1][0])
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        raise ValueError(f"INPUT {text}: a single image; give the folder of images instead")
    if path.suffix.lower() not in VIDEO_FILE_EXTENSIONS:
        raise ValueError(f"INPUT {text}: not a video file (extensions "
                         f"{', '.join(VIDEO_FILE_EXTENSIONS)}), image folder or sequence folder")
    vfps, n, w, h = video_properties(path)  # raises OSError when OpenCV cannot open it
    rate = fps or vfps or 25.0
    return FrameSource(f"video {path.name} ({w}x{h}, {_rate(rate, fps or vfps)})", "video",
                       str(path), rate, n)


def _rate(rate: float, known: float | None) -> str:
    """``"25 fps"``, or ``"25 fps assumed, set --fps if wrong"`` when neither the user nor the
    input gave a frame rate: the tracker counts seconds in frames, and the video is written
    at it."""
    return f"{rate:g} fps" if known else f"{rate:g} fps assumed, set --fps if wrong"
