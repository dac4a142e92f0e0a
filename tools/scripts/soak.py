"""Soak benchmark: ``Tracker.update`` over a long synthetic crowd, memory printed as it goes.

A seeded crowd of ``--people`` walkers (128-d identity embeddings plus noise, 10% missed
detections, false positives) where every person leaves after 100-600 frames and a new identity
takes the place: tracks are born, confirmed, lost and deleted all the time, so the lost-track
galleries (2 s at 30 fps by default) fill and expire all the time. The scene is generated frame
by frame (constant memory), in the spirit of :mod:`cosmot.testing.synthetic_scene`.

Every ``--every`` frames it prints the process's resident memory (RSS, from /proc), the live
tracks and the track arrays' capacity, the lost-track galleries (entries and bytes), the ids
issued and the frames/s of the last block. Flat RSS and bounded galleries are the pass mark;
nothing is asserted. Run from the checkout::

    python tools/scripts/soak.py [--frames 100000] [--people 40] [--every 10000]
"""

from __future__ import annotations

import argparse
import os
import time

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from cosmot.tracker import Tracker, TrackerConfig  # noqa: E402


def rss_mib() -> float:
    """Resident set size of this process in MiB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return 0.0


def crowd(n_people: int, n_frames: int, seed: int = 0, dim: int = 128, width: float = 1920.0,
          height: float = 1080.0, miss_rate: float = 0.1, false_positives: float = 1.0):
    """Yield ``(boxes_xyxy, scores, embeddings)`` per frame, with identity turnover."""
    rng = np.random.default_rng(seed)

    def unit(x):
        return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)

    def spawn(k):
        h = rng.uniform(60, 200, k)
        size = np.stack([h * rng.uniform(0.35, 0.45, k), h], axis=1)
        pos = np.stack([rng.uniform(0, width - size[:, 0]), rng.uniform(0, height - h)], axis=1)
        return (size, pos, rng.normal(scale=3.0, size=(k, 2)), unit(rng.normal(size=(k, dim))),
                rng.integers(100, 600, k))

    size, pos, vel, feat, life = spawn(n_people)
    for _ in range(n_frames):
        life -= 1
        gone = np.flatnonzero(life <= 0)
        if gone.size:
            size[gone], pos[gone], vel[gone], feat[gone], life[gone] = spawn(gone.size)
        pos += vel
        over = (pos < 0) | (pos + size > [width, height])
        vel[over] *= -1
        pos = np.clip(pos, 0, np.array([width, height]) - size)
        seen = rng.random(n_people) >= miss_rate
        box = np.c_[pos, pos + size][seen]
        box += rng.normal(scale=0.03, size=box.shape) * np.c_[size, size][seen]
        box[:, 2:] = np.maximum(box[:, 2:], box[:, :2] + 1)
        emb = feat[seen] + rng.normal(scale=0.3 / np.sqrt(dim), size=(int(seen.sum()), dim))
        n_fp = rng.poisson(false_positives)
        if n_fp:
            fh = rng.uniform(60, 200, n_fp)
            fxy = np.stack([rng.uniform(0, width - fh), rng.uniform(0, height - fh)], axis=1)
            box = np.concatenate([box, np.c_[fxy, fxy + np.c_[fh * 0.4, fh]]])
            emb = np.concatenate([emb, rng.normal(size=(n_fp, dim))])
        yield box, np.clip(rng.normal(0.8, 0.1, len(box)), 0, 1), unit(emb)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python tools/scripts/soak.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, default=100_000)
    p.add_argument("--people", type=int, default=40)
    p.add_argument("--every", type=int, default=10_000, help="print every N frames")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    tracker = Tracker(TrackerConfig(fps=30.0))
    print(f"soak: {args.frames} frames, {args.people} people with turnover, seed {args.seed}, "
          f"default config (lost-track galleries {tracker.config.lost_gallery_seconds:g} s at "
          f"{tracker.config.fps:g} fps, nn_budget {tracker.config.nn_budget})")
    print(f"{'frame':>8} {'RSS MiB':>8} {'tracks':>7} {'capacity':>8} {'lost':>5} "
          f"{'lost MiB':>8} {'max lost':>8} {'ids':>7} {'frames/s':>9}")
    t0, max_lost = time.perf_counter(), 0
    print(f"{0:>8} {rss_mib():>8.1f}")
    for k, (boxes, scores, emb) in enumerate(crowd(args.people, args.frames, args.seed), 1):
        tracker.update(boxes, scores, emb)
        max_lost = max(max_lost, len(tracker.lost))
        if k % args.every == 0 or k == args.frames:
            now = time.perf_counter()
            lost = tracker.lost
            lost_mib = (lost.gallery.nbytes if lost.gallery is not None else 0) / 2**20
            print(f"{k:>8} {rss_mib():>8.1f} {tracker.num_tracks:>7} "
                  f"{tracker.tracks.capacity:>8} {len(lost):>5} {lost_mib:>8.2f} "
                  f"{max_lost:>8} {tracker._next_id - 1:>7} "
                  f"{args.every / (now - t0):>9.0f}", flush=True)
            t0 = now
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
