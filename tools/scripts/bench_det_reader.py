"""Time and peak memory of reading a large det.txt (``read_detections``), for the reader's
regression check (issue 20: validation must not triple the reader's cost).

    python tools/scripts/bench_det_reader.py [--rows 1000000] [--repeat 3]
    PYTHONPATH=<an older install> python tools/scripts/bench_det_reader.py   # the same, before

Writes a seeded MOTChallenge det.txt (10 columns, 1,000 frames, boxes and scores as a detector
writes them, a few exact duplicates and zero-size boxes so that every rule runs) to a temporary
folder, then reads it in a fresh process per repeat and prints the wall time and the peak
resident memory of that process (``ru_maxrss``) above the interpreter's and numpy's baseline.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = r"""
import json, resource, sys, time, warnings
import numpy as np
from cosmot.sources import motchallenge
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    det = motchallenge.read_detections(sys.argv[1])
wall = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"rows": len(det), "seconds": wall, "peak_mib": (peak - base) / 1024,
                  "module": motchallenge.__file__}))
"""


def write_det(path: Path, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    frames = np.sort(rng.integers(1, 1001, rows))
    xy = rng.uniform(0, 1800, (rows, 2))
    wh = rng.uniform(10, 200, (rows, 2))
    wh[rng.random(rows) < 0.001] = 0.0  # zero-size boxes: dropped with a warning
    score = rng.uniform(0, 1, rows)
    table = np.c_[frames, -np.ones(rows), np.round(xy, 2), np.round(wh, 2), np.round(score, 4),
                  -np.ones((rows, 3))]
    dup = rng.choice(rows, rows // 1000, replace=False)  # exact duplicates
    table = np.concatenate([table, table[dup]])
    table = table[np.argsort(table[:, 0], kind="stable")]
    np.savetxt(path, table, delimiter=",", fmt=["%d", "%d", "%.2f", "%.2f", "%.2f", "%.2f",
                                                 "%.4f", "%d", "%d", "%d"])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        det = Path(tmp) / "det.txt"
        write_det(det, args.rows)
        size = det.stat().st_size / 2**20
        runs = []
        for _ in range(args.repeat):
            out = subprocess.run([sys.executable, "-c", CHILD, str(det)], capture_output=True,
                                 text=True, check=True)
            runs.append(json.loads(out.stdout))
    best = min(runs, key=lambda r: r["seconds"])
    print(f"{best['module']}")
    print(f"det.txt: {size:.1f} MiB, {best['rows']} rows kept; best of {args.repeat}: "
          f"{best['seconds']:.2f} s, peak {best['peak_mib']:.0f} MiB above the baseline "
          f"(all: {', '.join('%.2f s' % r['seconds'] for r in runs)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
