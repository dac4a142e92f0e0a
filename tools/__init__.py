"""Command line and application layer of cosmot: file I/O, detectors, evaluation, benchmarks."""

import os as _os

# The tracker's matrices are tiny: BLAS threads only fight the encoder for the cores (seen: a
# 10x slowdown on 2 cores). Set before numpy loads; an explicit setting by the user wins.
for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")
