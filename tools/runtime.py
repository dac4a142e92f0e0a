"""Process-wide settings every stage shares, importing nothing heavy (no numpy)."""

from __future__ import annotations

import os


def limit_blas_threads() -> None:
    """One BLAS thread unless the user set one: the tracker's matrices are tiny and BLAS threads
    only fight the detector and encoder for the cores (seen: a 10x slowdown on 2 cores).
    Effective only before numpy is first imported, so ``main`` calls it before any command
    module loads; library users keep whatever their process set."""
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
