"""Tracker-only update speed (features precomputed), printed as tables.

1. MOT16-11's official detections (DPM score >= 0, 900 frames, 5,744 boxes) with 128-d
   embeddings, Deep SORT configuration (nn_budget 100): frames/s of ``Tracker.update`` alone,
   and of a plain per-track implementation of the same algorithm (``tests/support/reference_tracker.py``:
   filterpy, scipy, loops; same output) as the in-process baseline.
   Embeddings are either random unit vectors (every appearance cost is far above the gate, so
   the IoU stage does the work) or identity-consistent ones (each detection takes the random
   unit vector of the gt identity it overlaps most, plus noise; so appearance matching is
   exercised as with a real encoder).
2. A synthetic scene with 10 ... 500 people walking (seeded): mean time per frame.

BLAS runs on one thread (this script sets ``OPENBLAS_NUM_THREADS=1`` before numpy loads unless
the environment sets it), as it should beside an encoder. Run from the checkout::

    python tools/scripts/bench_tracker.py [--dim 128] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
# the per-track reference implementation is a test oracle: tests/support/
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python tools/scripts/bench_tracker.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sequence", default=None,
                   help="MOT sequence folder for table 1 (default: $COSMOT_DATA/mot/MOT16-11)")
    p.add_argument("--dim", type=int, default=128, help="embedding dimension (default 128)")
    p.add_argument("--repeats", type=int, default=3, help="runs per figure; the best is kept")
    p.add_argument("--sizes", default="10,50,100,200,500",
                   help="detections per frame for table 2 (comma-separated)")
    p.add_argument("--frames", type=int, default=200, help="frames per synthetic run")
    return p


def identity_embeddings(frames, tlwh, gt, dim, rng, noise=0.3):
    """Per detection: the unit vector of the gt id it overlaps most (IoU >= 0.5) plus Gaussian
    noise of norm ~``noise``, renormalised; detections matching no gt get a random vector."""
    import numpy as np

    from cosmot.tracker.geometry import iou_matrix, tlwh_to_xyxy

    ids = np.unique(gt.ids)
    base = rng.normal(size=(ids.max() + 1, dim)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    out = rng.normal(size=(len(frames), dim)).astype(np.float32)
    out /= np.linalg.norm(out, axis=1, keepdims=True)
    for f in np.unique(frames):
        di = np.flatnonzero(frames == f)
        gi = np.flatnonzero(gt.frames == f)
        if gi.size == 0:
            continue
        iou = iou_matrix(tlwh_to_xyxy(tlwh[di]), tlwh_to_xyxy(gt.tlwh[gi]))
        best = iou.argmax(axis=1)
        ok = iou[np.arange(di.size), best] >= 0.5
        out[di[ok]] = base[gt.ids[gi[best[ok]]]]
    out += rng.normal(scale=noise / np.sqrt(dim), size=out.shape).astype(np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def _time_sequence(tracker, frames, repeats):
    best = float("inf")
    for _ in range(repeats):
        tracker.reset()
        t0 = time.perf_counter()
        for boxes, scores, emb in frames:
            tracker.update(boxes, scores, emb)
        best = min(best, time.perf_counter() - t0)
    return best


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from cosmot.tracker import PRESETS, Tracker
    from cosmot.tracker.geometry import tlwh_to_xyxy

    from cosmot.sources.motchallenge import Sequence, read_detections, read_ground_truth
    from cosmot.paths import mot_sequence
    from support.reference_tracker import ReferenceTracker
    from cosmot.sources.synthetic_scene import walking_scene

    seq = Sequence(args.sequence or mot_sequence("MOT16-11"))
    det = read_detections(seq.detections_path(), min_score=0.0)
    gt = read_ground_truth(seq.gt_path)
    rng = np.random.default_rng(0)
    random_emb = rng.normal(size=(len(det), args.dim)).astype(np.float32)
    random_emb /= np.linalg.norm(random_emb, axis=1, keepdims=True)
    id_emb = identity_embeddings(det.frames, det.tlwh, gt, args.dim, rng)
    slices = det.frame_slices()
    empty = slice(0, 0)
    xyxy = tlwh_to_xyxy(det.tlwh)

    def frames_with(emb):
        return [(xyxy[slices.get(f, empty)], det.scores[slices.get(f, empty)],
                 None if emb is None else emb[slices.get(f, empty)])
                for f in range(1, seq.info.length + 1)]

    n = seq.info.length
    print(f"Tracker update speed, {seq.name}: {n} frames, {len(det)} detections (score >= 0), "
          f"{args.dim}-d embeddings, nn_budget 100, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, best of {args.repeats}")
    print(f"{'preset':<10}{'embeddings':<34}{'frames/s':>10}{'ms/frame':>10}{'ids':>6}")
    for preset, name, emb in [("deepsort", "none (motion only)", None),
                              ("deepsort", "random unit vectors", random_emb),
                              ("deepsort", "identity-consistent (gt + noise)", id_emb),
                              ("default", "identity-consistent (gt + noise)", id_emb)]:
        tr = Tracker(PRESETS[preset])
        sec = _time_sequence(tr, frames_with(emb), args.repeats)
        print(f"{preset:<10}{name:<34}{n / sec:>10.0f}{1000 * sec / n:>10.3f}"
              f"{tr._next_id - 1:>6}")
    ref = ReferenceTracker(PRESETS["deepsort"])
    frames = frames_with(id_emb)
    t0 = time.perf_counter()
    for boxes, scores, emb in frames:
        ref.update(boxes, scores, emb)
    ref_sec = time.perf_counter() - t0
    fast_sec = _time_sequence(Tracker(PRESETS["deepsort"]), frames, args.repeats)
    print(f"{'deepsort':<10}{'identity-consistent, per-track ref.':<34}{n / ref_sec:>10.0f}"
          f"{1000 * ref_sec / n:>10.3f}{ref.next_id - 1:>6}")
    print(f"speed-up of Tracker over the per-track reference (same output, same process): "
          f"{ref_sec / fast_sec:.1f}x")
    sys.stdout.flush()

    sizes = [int(s) for s in args.sizes.split(",") if s]
    print(f"\nSynthetic scene (seed 0): people walking in 1920x1080, {args.frames} frames, "
          f"identity embeddings with noise, every person detected every frame, deepsort preset")
    print(f"{'detections/frame':>17}{'ms/frame':>10}{'frames/s':>10}")
    for size in sizes:
        scene = walking_scene(size, args.frames, seed=0, dim=args.dim)
        frames = [(f.det_xyxy, f.det_scores, f.det_embeddings) for f in scene]
        tr = Tracker(PRESETS["deepsort"])
        sec = _time_sequence(tr, frames, args.repeats)
        print(f"{size:>17}{1000 * sec / args.frames:>10.3f}{args.frames / sec:>10.0f}")
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
