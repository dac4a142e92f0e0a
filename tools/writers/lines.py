"""A text file written a frame at a time: each frame's lines are flushed before the next frame,
so a crash or a kill leaves only complete lines; write and close errors (disk full, file system
gone) name the file and the frame. While a writer is open it holds an exclusive lock on
``PATH.lock`` (:class:`OutputLock`): a second run writing the same file refuses to start,
naming the file and the other process, instead of interleaving its lines with the first's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

try:
    import fcntl
except ImportError:  # not POSIX: no lock (the file is still written a frame at a time)
    fcntl = None


class OutputLock:
    """An exclusive, non-blocking lock on ``PATH.lock`` for the run writing ``PATH``; the lock
    file holds the writer's process id and is removed on :meth:`release`. The lock goes with
    the process, so a killed run leaves no stale lock (only, at most, the file)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(str(path) + ".lock")
        self._fd = None
        if fcntl is None:
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            other = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise FileExistsError(f"{path}: another run (process {other}) is writing it; wait "
                                  f"for it to finish or choose another output") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                self.path.unlink()
            except OSError:
                pass
            os.close(fd)


class LineFileWriter:
    """Base of the per-frame text writers (MOT rows, JSON lines); a context manager."""

    def __init__(self, path: str | os.PathLike, append: bool = False, buffering: int = -1):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._failed = False
        self._lock = OutputLock(self.path)
        try:
            self._f: TextIO | None = open(self.path, "a" if append else "w",
                                          buffering=buffering)
        except BaseException:
            self._lock.release()
            raise

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
            finally:
                self._lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
