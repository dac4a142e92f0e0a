"""Run an iterator ahead in a background thread, through a bounded queue.

Decoding a frame (JPEG or a video codec in OpenCV) releases the GIL, so a decoder thread works
while the main thread detects, embeds and tracks the previous frame. Items come out in the same
order as the source yields them; an exception in the source is raised in the consumer at the
point where it happened; closing the consumer (or leaving a ``for`` loop early) stops the thread
and closes the source (waiting up to 5 s for a read in progress: a stalled network read ends in
the background, and closes the source then). Memory stays bounded by ``depth`` items.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")

_DONE = object()


class _Failure:
    def __init__(self, error: BaseException):
        self.error = error


def prefetch(source: Iterable[T], depth: int = 4) -> Iterator[T]:
    """Yield the items of ``source``, produced up to ``depth`` items ahead in a thread.

    ``depth`` < 1 returns ``iter(source)`` unchanged (no thread).
    """
    if depth < 1:
        return iter(source)
    return _prefetch(source, depth)


def _prefetch(source: Iterable[T], depth: int) -> Iterator[T]:
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        it = None
        try:
            it = iter(source)  # may raise too: handed over like any other error
            for item in it:
                if not put(item):
                    break
            else:
                put(_DONE)
        except BaseException as e:  # handed to the consumer, raised there
            put(_Failure(e))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="cosmot-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join(timeout=5.0)
