"""``cosmot calibrate``: choose an encoder's ``max_cosine_distance`` on sequences with ground truth.

``--by hota`` (default; the rule the project's shipped encoders are calibrated by): the
sequences are tracked at every gate of ``--gates`` with the default configuration on the
``--det`` boxes (use the boxes you will track: e.g. ``cosmot track SEQ --out-det
SEQ/mine/det.txt`` writes the default detector's) and the gate with the best mean HOTA is
suggested. ``--by pairs``: no tracking; the threshold with the best ``TPR - FPR`` (FPR <= 5%)
between same-identity and nearby different-identity distances of labelled detections.

Either way, detections are labelled with the ground-truth identity they overlap (IoU >= 0.5,
one-to-one per frame), pairs up to ``--window`` frames apart give both histograms (PNG) and the
accept-rate table. ``--write`` records the suggestion as the encoder's calibrated gate (the
tracker then uses it unless told otherwise): in a ``.pt`` checkpoint's metadata, an ``.onnx``
file's metadata, or the record of weights installed in the user's weights folder. Calibrate on
sequences other than the ones you judge the encoder on.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cosmot.pipeline.calibration import (GATE_GRID, best_gate, label_detections,
                                         pair_distances, suggest_threshold, sweep_gates)
from cosmot.pipeline.prepared import prepare
from cosmot.sources.motchallenge import read_ground_truth
from cosmot.cli.options import finite_number


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="choose an encoder's cosine gate on sequences with "
                       "ground truth (best HOTA; distance histograms as PNG)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sequences", nargs="+", metavar="SEQ_DIR")
    p.add_argument("--encoder", default="default")
    p.add_argument("--device", default="cpu")
    p.add_argument("--det", default="det", metavar="NAME")
    p.add_argument("--min-score", type=finite_number, default=None)
    p.add_argument("--by", choices=["hota", "pairs"], default="hota",
                   help="hota: track at every --gates value, best mean HOTA (default); pairs: "
                        "best TPR - FPR of the pair distances, no tracking")
    p.add_argument("--gates", default=",".join(map(str, GATE_GRID)), metavar="G1,G2,...",
                   help="gates tried by --by hota")
    p.add_argument("--cmc", choices=["none", "sparse", "ecc"], default="sparse",
                   help="camera motion for --by hota (sparse: as cosmot track with an encoder)")
    p.add_argument("--window", type=int, default=30, help="largest frame gap of a pair")
    p.add_argument("--near", type=float, default=2.0,
                   help="different-identity pairs: centres within this many box heights")
    p.add_argument("--cache", default=None, metavar="DIR")
    p.add_argument("--out", default="calibration.png", help="plot file (PNG)")
    p.add_argument("--max-pairs", type=int, default=200_000)
    p.add_argument("--write", action="store_true",
                   help="record the suggested threshold in the encoder (.pt, .onnx, or the "
                        "record of user-installed weights) as its calibrated gate")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cosmot.appearance.registry import record_gate
    from cosmot.tracker import DEFAULT_MAX_COSINE_DISTANCE

    from cosmot.appearance.registry import encoder_from_name, encoder_identity

    encoder = encoder_from_name(args.encoder, args.device)
    if encoder is None:
        raise ValueError("calibrate needs an appearance encoder (--encoder)")
    gates = parse_gates(args.gates)
    rng = np.random.default_rng(0)
    same_all, diff_all, prepared = [], [], []
    for s in args.sequences:
        p = prepare(s, args.det, args.min_score, encoder, encoder_identity(args.encoder),
                    args.cmc if args.by == "hota" else "none", args.cache)
        if not p.seq.gt_path.is_file():
            raise FileNotFoundError(f"{p.seq.gt_path}: calibration needs ground truth")
        labels = label_detections(p.det.frames, p.xyxy, read_ground_truth(p.seq.gt_path))
        same, diff = pair_distances(p.det.frames, p.xyxy, labels, p.embeddings, args.window,
                                    args.near, rng, args.max_pairs)
        print(f"{p.seq.name}: {int((labels >= 0).sum())}/{len(labels)} detections labelled, "
              f"{same.size} same-identity pairs, {diff.size} nearby different-identity pairs")
        same_all.append(same)
        diff_all.append(diff)
        prepared.append(p)
    same, diff = np.concatenate(same_all), np.concatenate(diff_all)
    by_pairs, table = suggest_threshold(same, diff)
    own = getattr(encoder, "max_cosine_distance", None)
    current = own if own is not None else DEFAULT_MAX_COSINE_DISTANCE
    what = "its calibrated gate" if own is not None else "the uncalibrated default"
    print(f"{'threshold':>10}{'same accepted':>15}{'different accepted':>20}")
    for t, tp, fp in table[(table[:, 0] * 100).round().astype(int) % 10 == 0]:
        print(f"{t:>10.2f}{100 * tp:>14.1f}%{100 * fp:>19.1f}%")
    print(f"pair distances suggest {by_pairs:.2f} (best TPR - FPR with FPR <= 5%)")
    best = by_pairs
    if args.by == "hota":
        names = ", ".join(p.seq.name for p in prepared)
        print(f"tracking {names} at {len(gates)} gates (mean HOTA, default configuration, "
              f"{args.det} boxes, camera motion {args.cmc})")
        scores = sweep_gates(prepared, gates, progress=lambda g, v: print(
            f"{g:>10.3g}  mean HOTA {v:.2f}", flush=True))
        best = best_gate(scores)
    print(f"suggested max_cosine_distance: {best:.3g} (by {args.by}; the tracker now uses "
          f"{current:.3g}, {what})")
    if args.write:
        print(f"recorded max_cosine_distance {best:.3g} in {record_gate(args.encoder, best)}")

    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    bins = np.linspace(0, max(1.0, float(np.max(np.r_[same, diff, 1.0]))), 60)
    ax.hist(same, bins=bins, density=True, alpha=0.6, label=f"same identity ({same.size})")
    ax.hist(diff, bins=bins, density=True, alpha=0.6,
            label=f"different identity, nearby ({diff.size})")
    ax.axvline(current, color="k", ls="--", label=f"in use {current:.2f}")
    ax.axvline(best, color="r", ls="-", label=f"suggested {best:.3g} (by {args.by})")
    ax.set_xlabel("cosine distance")
    ax.set_ylabel("density")
    names = ", ".join(Path(s).name for s in args.sequences)
    ax.set_title(f"{args.encoder} on {names} (pairs <= {args.window} frames apart)",
                 fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out)
    print(f"plot -> {args.out}")
    return 0



def parse_gates(text: str) -> list[float]:
    """``--gates 0.1,0.2``: the values, each in (0, 2]; ValueError naming the option."""
    try:
        gates = [float(g) for g in text.split(",") if g.strip()]
    except ValueError:
        raise ValueError(f"--gates {text!r}: expected numbers separated by commas, e.g. "
                         f"0.1,0.2,0.3") from None
    bad = [g for g in gates if not 0 < g <= 2]
    if not gates or bad:
        raise ValueError(f"--gates {text!r}: cosine distances in (0, 2] are needed"
                         + (f" ({', '.join(map(str, bad))} is not)" if bad else ""))
    return gates
