"""Tracker-only update speed (features precomputed), printed as tables; CPU time of this
process (``time.process_time``), so other jobs on a shared machine inflate the figures less than
wall time would (the load average is printed; ratios measured in the same run are what counts).

1. MOT16-11's official detections (DPM score >= 0, 900 frames, 5,744 boxes) with 512-d
   OSNet-x0.25 features of the detection crops (``$COSMOT_DATA/models/osnet_x0_25_msmt17.onnx``,
   computed once and cached, ``--cache``), Deep SORT configuration (nn_budget 100): frames/s of
   ``Tracker.update`` alone, and of a plain per-track implementation of the same algorithm
   (``tests/support/reference_tracker.py``: filterpy, scipy, loops; same output; about
   nwojke/deep_sort's speed) as the in-process baseline, measured alternately.
   Also: random unit vectors (every appearance cost is far above the gate, so the IoU stage
   does the work), identity-consistent ones (each detection takes the random unit vector of the
   gt identity it overlaps most, plus noise) and motion only. ``--features identity`` runs
   without the ONNX model.
2. A synthetic scene with 10 ... 500 people walking (seeded): time per frame, and the
   per-track reference at the ``--ref-sizes``.

BLAS runs on one thread (this script sets ``OPENBLAS_NUM_THREADS=1`` before numpy loads unless
the environment sets it), as it should beside an encoder. Run from the checkout::

    python tools/scripts/bench_tracker.py [--dim 512] [--repeats 3] [--features osnet|identity]
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
    p.add_argument("--dim", type=int, default=512,
                   help="dimension of the synthetic embeddings (default 512, as OSNet's)")
    p.add_argument("--features", choices=["osnet", "identity"], default="osnet",
                   help="table 1's main features: OSNet-x0.25 of the crops (default) or "
                        "identity-consistent random vectors")
    p.add_argument("--model", default=None,
                   help="ONNX embedder for --features osnet (default: "
                        "$COSMOT_DATA/models/osnet_x0_25_msmt17.onnx)")
    p.add_argument("--cache", default=".cache/bench",
                   help="folder for the cached OSNet features (default .cache/bench)")
    p.add_argument("--ref-sizes", default="10,200",
                   help="synthetic sizes also run with the per-track reference")
    p.add_argument("--repeats", type=int, default=3, help="runs per figure; the best is kept")
    p.add_argument("--sizes", default="10,50,100,200,500",
                   help="detections per frame for table 2 (comma-separated)")
    p.add_argument("--frames", type=int, default=100, help="frames per synthetic run")
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
    """Best CPU time of ``repeats`` runs over ``frames`` (the tracker is reset before each)."""
    best = float("inf")
    for _ in range(repeats):
        tracker.reset()
        t0 = time.process_time()
        for boxes, scores, emb in frames:
            tracker.update(boxes, scores, emb)
        best = min(best, time.process_time() - t0)
    return best


def _time_reference(make, frames):
    ref = make()
    t0 = time.process_time()
    for boxes, scores, emb in frames:
        ref.update(boxes, scores, emb)
    return time.process_time() - t0, ref


def _compare(config, frames, repeats):
    """Reference and Tracker alternately, best of ``repeats`` each: (ref s, fast s, ids)."""
    from cosmot.tracker import Tracker
    from support.reference_tracker import ReferenceTracker

    tr = Tracker(config)
    ref_best = fast_best = float("inf")
    ids = 0
    for _ in range(repeats):
        sec, ref = _time_reference(lambda: ReferenceTracker(config), frames)
        ref_best, ids = min(ref_best, sec), ref.next_id - 1
        fast_best = min(fast_best, _time_sequence(tr, frames, 1))
    return ref_best, fast_best, ids


def _load() -> str:
    return "load average " + " / ".join(f"{x:.1f}" for x in os.getloadavg())


def osnet_embeddings(seq, model, cache):
    """OSNet features of every detection (score >= 0) of ``seq``, cached under ``cache``."""
    from cosmot.appearance import load_encoder
    from cosmot.paths import data_dir
    from cosmot.pipeline.prepared import prepare

    model = Path(model) if model else data_dir() / "models" / "osnet_x0_25_msmt17.onnx"
    if not model.is_file():
        raise SystemExit(f"{model}: no such model (give --model or --features identity)")
    enc = load_encoder(str(model), threads=1)
    prepared = prepare(seq.path, "det", 0.0, enc, f"{model.name}", "none", cache, progress=False)
    return prepared.embeddings


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from cosmot.tracker import PRESETS, Tracker
    from cosmot.tracker.geometry import tlwh_to_xyxy

    from cosmot.sources.motchallenge import Sequence, read_detections, read_ground_truth
    from cosmot.paths import mot_sequence
    from cosmot.testing.synthetic_scene import walking_scene

    seq = Sequence(args.sequence or mot_sequence("MOT16-11"))
    det = read_detections(seq.detections_path(), min_score=0.0)
    gt = read_ground_truth(seq.gt_path)
    rng = np.random.default_rng(0)
    random_emb = rng.normal(size=(len(det), args.dim)).astype(np.float32)
    random_emb /= np.linalg.norm(random_emb, axis=1, keepdims=True)
    id_emb = identity_embeddings(det.frames, det.tlwh, gt, args.dim, rng)
    if args.features == "osnet":
        main_emb, main_name = osnet_embeddings(seq, args.model, args.cache), "OSNet-x0.25 features"
    else:
        main_emb, main_name = id_emb, "identity-consistent (gt + noise)"
    slices = det.frame_slices()
    empty = slice(0, 0)
    xyxy = tlwh_to_xyxy(det.tlwh)

    def frames_with(emb):
        return [(xyxy[slices.get(f, empty)], det.scores[slices.get(f, empty)],
                 None if emb is None else emb[slices.get(f, empty)])
                for f in range(1, seq.info.length + 1)]

    n = seq.info.length
    print(f"Tracker update speed, {seq.name}: {n} frames, {len(det)} detections (score >= 0), "
          f"{main_emb.shape[1]}-d {main_name}, nn_budget 100, CPU time, best of {args.repeats}, "
          f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, {_load()}")
    print(f"{'preset':<10}{'embeddings':<36}{'frames/s':>10}{'ms/frame':>10}{'ids':>6}")
    frames = frames_with(main_emb)
    ref_sec, fast_sec, ref_ids = _compare(PRESETS["deepsort"], frames, args.repeats)
    tr = Tracker(PRESETS["deepsort"])
    for f in frames:
        tr.update(*f)
    rows = [("deepsort", main_name, fast_sec, tr._next_id - 1),
            ("deepsort", "same, per-track reference", ref_sec, ref_ids)]
    for preset, name, emb in [("default", main_name, main_emb),
                              ("deepsort", "none (motion only)", None),
                              ("deepsort", f"random unit vectors ({args.dim}-d)", random_emb),
                              ("deepsort", f"identity-consistent ({args.dim}-d)", id_emb)]:
        tr = Tracker(PRESETS[preset])
        sec = _time_sequence(tr, frames_with(emb), args.repeats)
        rows.append((preset, name, sec, tr._next_id - 1))
    for preset, name, sec, ids in rows:
        print(f"{preset:<10}{name:<36}{n / sec:>10.0f}{1000 * sec / n:>10.3f}{ids:>6}")
    print(f"speed-up of Tracker over the per-track reference (same output, same process, "
          f"{main_name}): {ref_sec / fast_sec:.2f}x; {_load()}")
    sys.stdout.flush()

    sizes = [int(s) for s in args.sizes.split(",") if s]
    ref_sizes = {int(s) for s in args.ref_sizes.split(",") if s}
    print(f"\nSynthetic scene (seed 0): people walking in 1920x1080, {args.frames} frames, "
          f"{args.dim}-d identity embeddings with noise, every person detected every frame, "
          f"deepsort preset, CPU time")
    print(f"{'detections/frame':>17}{'ms/frame':>10}{'frames/s':>10}{'ref. ms/frame':>15}"
          f"{'speed-up':>10}")
    for size in sizes:
        scene = walking_scene(size, args.frames, seed=0, dim=args.dim)
        frames = [(f.det_xyxy, f.det_scores, f.det_embeddings) for f in scene]
        if size in ref_sizes:
            ref_sec, sec, _ = _compare(PRESETS["deepsort"], frames, 1)
            ref = f"{1000 * ref_sec / args.frames:>15.3f}{ref_sec / sec:>9.1f}x"
        else:
            sec, ref = _time_sequence(Tracker(PRESETS["deepsort"]), frames, args.repeats), ""
        print(f"{size:>17}{1000 * sec / args.frames:>10.3f}{args.frames / sec:>10.0f}{ref}")
    print(_load())
    return 0


def main(argv: list[str] | None = None) -> int:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
