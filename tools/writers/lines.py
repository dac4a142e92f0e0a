"""A text file written a frame at a time: each frame's lines are flushed before the next frame,
so a crash or a kill leaves only complete lines; write and close errors (disk full, file system
gone) name the file and the frame."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO


class LineFileWriter:
    """Base of the per-frame text writers (MOT rows, JSON lines); a context manager."""

    def __init__(self, path: str | os.PathLike, append: bool = False, buffering: int = -1):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._failed = False
        self._f: TextIO | None = open(self.path, "a" if append else "w", buffering=buffering)

    def tell(self) -> int:
        """Bytes in the file (all flushed)."""
        return self._f.tell() if self._f is not None else self.path.stat().st_size

    def _write_frame(self, frame: int, text: str) -> None:
        """Append one frame's text (may be empty) and flush it to the file."""
        if self._f is None:
            raise ValueError(f"{self.path}: writer is closed")
        try:
            if text:
                self._f.write(text)
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
                if not self._failed:  # else: already reported by the write
                    raise OSError(e.errno, f"cannot close ({e.strerror})", str(self.path)) \
                        from None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
