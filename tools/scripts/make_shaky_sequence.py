"""Make a MOTChallenge sequence seen through a shaking, panning camera, from a static one.

    python tools/scripts/make_shaky_sequence.py SRC_SEQ DST_SEQ [--width 1600] [--height 900]
        [--amplitude 150] [--period 90] [--jitter 3] [--seed 0]

A ``width`` x ``height`` window moves over every frame of SRC_SEQ (sinusoidal pan of
``amplitude`` pixels with ``period`` frames, a slow random drift and per-frame jitter); the frames
of the window, and the detections and ground truth shifted into it (boxes less than half inside
are dropped), make DST_SEQ. Used to check camera-motion compensation on known camera motion
(docs/accuracy.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from cosmot.sources.motchallenge import Sequence


def window_offsets(n: int, width: int, height: int, frame_w: int, frame_h: int,
                   amplitude: float, period: float, jitter: float, seed: int) -> np.ndarray:
    """(n, 2) integer (x, y) offsets of the window, inside the frame."""
    rng = np.random.default_rng(seed)
    k = np.arange(1, n + 1)
    cx, cy = (frame_w - width) / 2, (frame_h - height) / 2
    drift = np.clip(np.cumsum(rng.normal(0, 2, n)), -40, 40)
    ox = cx + amplitude * np.sin(2 * np.pi * k / period) + drift + rng.normal(0, jitter, n)
    oy = cy + 0.4 * amplitude * np.sin(2 * np.pi * k / (1.45 * period) + 1) \
        + rng.normal(0, jitter, n)
    ox = np.clip(np.round(ox), 0, frame_w - width)
    oy = np.clip(np.round(oy), 0, frame_h - height)
    return np.stack([ox, oy], 1).astype(np.int64)


def shift_rows(rows: np.ndarray, offsets: np.ndarray, width: int, height: int) -> np.ndarray:
    """MOT rows moved into the window of their frame; boxes less than half inside dropped."""
    rows = rows.copy()
    off = offsets[rows[:, 0].astype(np.int64) - 1]
    rows[:, 2:4] -= off
    left, top, w, h = rows[:, 2], rows[:, 3], rows[:, 4], rows[:, 5]
    iw = np.clip(np.minimum(left + w, width) - np.maximum(left, 0), 0, None)
    ih = np.clip(np.minimum(top + h, height) - np.maximum(top, 0), 0, None)
    return rows[iw * ih >= 0.5 * w * h]


def _save(path: Path, rows: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = ["%d", "%d"] + ["%.2f"] * 4 + ["%g"] * (rows.shape[1] - 6)
    np.savetxt(path, rows, fmt=fmt, delimiter=",")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("src")
    p.add_argument("dst")
    p.add_argument("--width", type=int, default=1600)
    p.add_argument("--height", type=int, default=900)
    p.add_argument("--amplitude", type=float, default=150.0)
    p.add_argument("--period", type=float, default=90.0)
    p.add_argument("--jitter", type=float, default=3.0)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    src = Sequence(a.src)
    info = src.info
    if a.width > info.width or a.height > info.height:
        raise ValueError(f"window {a.width}x{a.height} is larger than the frames "
                         f"({info.width}x{info.height})")
    dst = Path(a.dst)
    (dst / "img1").mkdir(parents=True, exist_ok=True)
    off = window_offsets(info.length, a.width, a.height, info.width, info.height,
                         a.amplitude, a.period, a.jitter, a.seed)
    for k, image in tqdm(src.frames(), total=info.length, desc="frames"):
        x, y = off[k - 1]
        cv2.imwrite(str(dst / "img1" / f"{k:06d}.jpg"), image[y:y + a.height, x:x + a.width],
                    [cv2.IMWRITE_JPEG_QUALITY, 90])
    for sub in ("det/det.txt", "det-frcnn/det.txt", "gt/gt.txt"):
        f = Path(a.src) / sub
        if f.is_file():
            _save(dst / sub, shift_rows(np.loadtxt(f, delimiter=",", ndmin=2), off,
                                        a.width, a.height))
    text = (Path(a.src) / "seqinfo.ini").read_text()
    text = text.replace(f"name={info.name}", f"name={dst.name}")
    text = text.replace(f"imWidth={info.width}", f"imWidth={a.width}")
    text = text.replace(f"imHeight={info.height}", f"imHeight={a.height}")
    (dst / "seqinfo.ini").write_text(text)
    step = np.abs(np.diff(off, axis=0)).max(axis=1)
    print(f"{dst}: {info.length} frames, window motion {step.mean():.1f} px/frame on average, "
          f"{step.max()} at most")
    return 0


if __name__ == "__main__":
    sys.exit(main())
