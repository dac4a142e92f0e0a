"""A stand-in for the pipeline's stop flag: true from the n-th time it is read."""

from __future__ import annotations


class StopAt:
    """``bool(stop)`` becomes True at the ``frame``-th read (the loop reads it once per frame);
    ``raise_if_set`` raises KeyboardInterrupt, as the signal handler's flag does."""

    def __init__(self, frame: int):
        self.frame, self.calls = frame, 0

    def __bool__(self) -> bool:
        self.calls += 1
        return self.calls >= self.frame

    def raise_if_set(self):
        raise KeyboardInterrupt
