"""Render one frame of a sequence with tracks drawn by ``cosmot.writers.drawing`` (for the
before/after pictures of a drawing change).

    python tools/scripts/drawing_example.py SEQ RESULTS.txt OUT.png [--frame K] [--crop X,Y,W,H]

RESULTS.txt: MOTChallenge rows (a tracker's output or the sequence's gt/gt.txt). Without
``--frame``, the frame where most boxes have another box's top within 40 px (crowded labels)
is drawn. Run it under an older checkout (``PYTHONPATH``) to draw the same frame the old way.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from cosmot.sources.motchallenge import Sequence
from cosmot.writers.drawing import draw_tracks


def crowded_frame(rows: np.ndarray) -> int:
    best, best_n = int(rows[0, 0]), -1
    for k in np.unique(rows[:, 0]):
        r = rows[rows[:, 0] == k]
        d = np.hypot(r[:, None, 2] - r[None, :, 2], r[:, None, 3] - r[None, :, 3])
        n = int(((d < 40).sum(axis=1) > 1).sum())
        if n > best_n:
            best, best_n = int(k), n
    return best


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("seq", type=Path)
    p.add_argument("results", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--frame", type=int)
    p.add_argument("--crop", help="X,Y,W,H of the region to keep")
    args = p.parse_args()
    rows = np.loadtxt(args.results, delimiter=",", ndmin=2)
    if rows.shape[1] >= 8:  # gt: people only (class 1 where given), considered rows
        rows = rows[(rows[:, 6] != 0) & ((rows[:, 7] == 1) | (rows[:, 7] == -1))]
    k = args.frame or crowded_frame(rows)
    image = next(img for n, img in Sequence(args.seq).frames(k) if n == k)
    r = rows[rows[:, 0] == k]
    xyxy = np.c_[r[:, 2], r[:, 3], r[:, 2] + r[:, 4], r[:, 3] + r[:, 5]]
    draw_tracks(image, r[:, 1].astype(int), xyxy)
    if args.crop:
        x, y, w, h = (int(v) for v in args.crop.split(","))
        image = image[y:y + h, x:x + w]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), image)
    print(f"{args.out}: frame {k}, {len(r)} boxes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
