"""Writing outputs in a background thread, in order, through a bounded queue.

Encoding a video frame (JPEG, MPEG-4) happens in OpenCV and releases the GIL, so a writer
thread encodes frame k while the pipeline detects, embeds and tracks frame k+1.
:class:`WriterThread` runs the calls handed to :meth:`~WriterThread.submit` one after the
other in its thread; :meth:`~WriterThread.flush` waits until all are done; an error in the
thread is raised in the caller at its next ``submit``, ``flush`` or ``close``, after which the
calls still queued and every later one are dropped (a file never gets rows after a hole).
"""

from __future__ import annotations

import queue
import threading
from typing import Callable

_STOP = object()


class WriterThread:
    """Run submitted calls in a thread, in submission order.

    Args:
        depth: at most this many calls wait in the queue (``submit`` blocks beyond it); it
            bounds memory (``depth`` frames) and how many frames, at most, are not yet on disk
            when the process is killed outright (``depth``, plus the one being written).
        name: the thread's name.
    """

    def __init__(self, depth: int = 2, name: str = "cosmot-writer"):
        if depth < 1:
            raise ValueError(f"depth = {depth!r}: must be >= 1")
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None  # to raise in the caller (once)
        self._failed = False  # set for good by the first error: later calls are dropped
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is _STOP:
                    return
                if not self._failed:  # after an error, drain without running
                    fn, args = item
                    try:
                        fn(*args)
                    except BaseException as e:  # noqa: BLE001 - handed to the caller
                        self._failed = True
                        self._error = e
            finally:
                self._queue.task_done()

    def _raise_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def submit(self, fn: Callable, *args) -> None:
        """Queue ``fn(*args)`` (blocks while ``depth`` calls are waiting)."""
        if self._closed:
            raise ValueError("the writer thread is closed")
        self._raise_error()
        self._queue.put((fn, args))

    def flush(self) -> None:
        """Wait until every call submitted so far has run; raise its error if one failed."""
        self._queue.join()
        self._raise_error()

    def close(self) -> None:
        """Run the calls still queued, stop the thread, raise a pending error.

        Waits for the thread even through Ctrl-C (raised afterwards), so that what was
        submitted is written before the outputs are closed.
        """
        if self._closed:
            return
        self._closed = True
        interrupted = None
        self._queue.put(_STOP)
        while self._thread.is_alive():
            try:
                self._thread.join()
            except KeyboardInterrupt as e:
                interrupted = e
        self._raise_error()
        if interrupted is not None:
            raise interrupted
