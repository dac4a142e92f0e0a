"""The neutral leaf every stage (and both libraries) may import: process-wide settings and
small helpers, standard library only (no numpy)."""

from __future__ import annotations

import hashlib
import os


def limit_blas_threads() -> None:
    """One BLAS thread unless the user set one: the tracker's matrices are tiny and BLAS threads
    only fight the detector and encoder for the cores (seen: a 10x slowdown on 2 cores).
    Effective only before numpy is first imported, so ``main`` calls it before any command
    module loads; library users keep whatever their process set."""
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")

def available_cores() -> int:
    """CPU cores this process may run on, or ``COSMOT_THREADS`` when it is set lower (the
    batch runner sets it to each worker's share of the cores)."""
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        cores = max(1, os.cpu_count() or 1)
    limit = os.environ.get("COSMOT_THREADS", "").strip()
    if limit:
        try:
            n = int(limit)
        except ValueError:
            raise ValueError(f"COSMOT_THREADS={limit!r}: must be a whole number >= 1 (or "
                             f"unset)") from None
        if n < 1:
            raise ValueError(f"COSMOT_THREADS={limit!r}: must be a whole number >= 1 (or unset)")
        cores = min(cores, n)
    return cores


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
