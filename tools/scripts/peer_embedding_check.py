"""Does a boxmot appearance tracker's output depend on the embeddings it is fed?

    python tools/scripts/peer_embedding_check.py runs/contrib/seqs/TUD-Stadtmitte \\
        --tracker deepocsort --frames 179

Runs the tracker twice on the same boxes (``DET/det.txt``) and frames, once with random unit
embeddings and once with one constant embedding for every box, and prints in how many frames
the outputs differ (with ``--encoders A B``: then once more with each encoder's embeddings,
e.g. ``--encoders default ../shared/data/models/osnet_x0_25_msmt17.onnx``); for a tracker whose
module calls OC-SORT's ``associate`` (Deep OC-SORT) also in how many frames that first
association stage was ambiguous by overlap (the only case in which it consults embeddings). Benchmark-only (boxmot is AGPL-3.0; ``compare_peers.py`` says how to
install it apart).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compare_peers import _boxmot_step  # noqa: E402  (the harness's own boxmot call)

from cosmot.sources.motchallenge import Sequence  # noqa: E402


def run(name: str, seq: Sequence, det: np.ndarray, frames: int, embeddings, dim: int):
    """The tracker's outputs per frame (ids, rounded boxes) with ``embeddings``: "random",
    "constant" or an encoder."""
    from boxmot.trackers import TrackerSpec, create_tracker

    tracker = create_tracker(TrackerSpec(name=name))
    rng = np.random.default_rng(0)
    out = []
    for k, image in seq.frames():
        if k > frames:
            break
        rows = det[det[:, 0] == k]
        boxes = np.c_[rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6], rows[:, 6]]
        if embeddings == "random":
            e = rng.normal(size=(len(rows), dim))
        elif embeddings == "constant":
            e = np.ones((len(rows), dim))
        else:  # an encoder
            e = embeddings.embed(image, boxes[:, :4])
        e = (e / np.linalg.norm(e, axis=1, keepdims=True)).astype(np.float32)
        ids, xyxy, _ = _boxmot_step(tracker, boxes, image, e, k)
        out.append((tuple(ids), np.round(xyxy, 2).tobytes()))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sequence", type=Path)
    ap.add_argument("--det", default="det-cosmot")
    ap.add_argument("--tracker", default="deepocsort")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--encoders", nargs=2, metavar=("A", "B"),
                    help="also compare the outputs with these two encoders' embeddings")
    args = ap.parse_args(argv)
    logging.getLogger("boxmot").setLevel(logging.ERROR)
    seq = Sequence(args.sequence)
    det = np.loadtxt(args.sequence / args.det / "det.txt", delimiter=",", ndmin=2)
    frames = min(args.frames, seq.length())

    import importlib

    ambiguous = [0, 0]
    try:
        module = importlib.import_module(f"boxmot.trackers.box.{args.tracker}.tracker")
    except ImportError:
        module = None
    original = getattr(module, "associate", None)
    if original is not None:
        def counting(detections, trackers, asso_func, threshold, *rest, **kw):
            ambiguous[1] += 1
            if len(detections) and len(trackers):
                over = asso_func(detections, trackers) > threshold
                ambiguous[0] += int(not (over.sum(1).max() <= 1 and over.sum(0).max() <= 1))
            return original(detections, trackers, asso_func, threshold, *rest, **kw)
        module.associate = counting
    a = run(args.tracker, seq, det, frames, "random", args.dim)
    if original is not None:
        module.associate = original
    b = run(args.tracker, seq, det, frames, "constant", args.dim)
    differ = sum(x != y for x, y in zip(a, b))
    print(f"{args.tracker} on {seq.name}, {frames} frames: outputs differ in {differ} frames "
          f"between random and constant embeddings")
    if args.encoders:
        from cosmot.appearance.registry import encoder_from_name

        a, b = (run(args.tracker, seq, det, frames, encoder_from_name(e), args.dim)
                for e in args.encoders)
        differ = sum(x != y for x, y in zip(a, b))
        print(f"outputs differ in {differ} frames between {args.encoders[0]} and "
              f"{args.encoders[1]} embeddings")
    if original is not None:
        print(f"first-stage association calls: {ambiguous[1]}, ambiguous by overlap (the only "
              f"ones that consult embeddings): {ambiguous[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
