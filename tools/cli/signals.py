"""Signals: SIGTERM and SIGHUP stop a command the way Ctrl-C does, and frame loops stop cleanly.

``install()`` (called by ``main``) makes SIGTERM (what ``timeout``, ``docker stop`` and systemd
send) and SIGHUP raise :class:`Terminated`, a ``KeyboardInterrupt``: every ``with`` block and
``finally`` runs, so outputs are flushed and videos finalised, and the command exits with
128 + the signal number. Inside :func:`stop_between_frames` the first SIGINT, SIGTERM or SIGHUP
only sets a flag that the frame loop reads after each finished frame (so the outputs and a
checkpoint end on the same frame); a second one raises at once. SIGKILL cannot be handled:
what survives it is said where each output is written (``cosmot.writers.video``; MOT and JSON
files are flushed every frame, so they end with complete lines).
"""

from __future__ import annotations

import contextlib
import signal
from typing import Iterator

HANDLED = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
                if s is not None)


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by a signal (``signum``)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


_received: list[int] = []  # the stop signals raised so far, in order


def _raise(signum, frame):
    _received.append(signum)
    raise Terminated(signum)


def stop_signal(error: KeyboardInterrupt) -> int | None:
    """The signal behind ``error``: its own number for a :class:`Terminated`; for a plain
    ``KeyboardInterrupt`` the last SIGTERM/SIGHUP raised, if any (a library that catches a
    ``KeyboardInterrupt`` and raises its own loses the subclass: Ray's blocking calls turn
    every one raised inside them into a plain ``KeyboardInterrupt``); None for Ctrl-C."""
    if isinstance(error, Terminated):
        return error.signum
    return _received[-1] if _received else None


def exit_code(error: KeyboardInterrupt) -> int:
    """128 + the stop signal's number (130 for Ctrl-C)."""
    signum = stop_signal(error)
    return 128 + (signal.SIGINT if signum is None else signum)


def install() -> None:
    """SIGTERM and SIGHUP raise :class:`Terminated` (main thread only)."""
    for s in HANDLED:
        with contextlib.suppress(ValueError, OSError):  # not the main thread
            signal.signal(s, _raise)


def ignore_further_stops() -> None:
    """Ignore SIGINT, SIGTERM and SIGHUP from now on (main thread only): called once an
    interrupted command has finished its cleanup and only the exit is left."""
    for s in (signal.SIGINT,) + HANDLED:
        with contextlib.suppress(ValueError, OSError):
            signal.signal(s, signal.SIG_IGN)


class StopFlag:
    """Set by the first stop signal inside :func:`stop_between_frames`."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __bool__(self) -> bool:
        return self.signum is not None

    def raise_if_set(self) -> None:
        if self.signum is not None:
            if self.signum == signal.SIGINT:
                raise KeyboardInterrupt
            _raise(self.signum, None)


@contextlib.contextmanager
def stop_between_frames() -> Iterator[StopFlag]:
    """Within the block, a stop signal sets the flag (a second one raises); the previous
    handlers come back at the end."""
    flag = StopFlag()

    def handler(signum, frame):
        if flag.signum is not None:  # asked twice: stop now
            if signum == signal.SIGINT:
                raise KeyboardInterrupt
            _raise(signum, frame)
        flag.signum = signum

    old = {}
    for s in (signal.SIGINT,) + HANDLED:
        try:
            old[s] = signal.signal(s, handler)
        except (ValueError, OSError):
            pass
    try:
        yield flag
    finally:
        for s, h in old.items():
            signal.signal(s, h)
