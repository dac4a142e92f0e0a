"""``cosmot calibrate``: how well an encoder separates people, to choose ``max_cosine_distance``.

Detections are labelled with the ground-truth identity they overlap (IoU >= 0.5, one-to-one per
frame). Pairs of labelled detections up to ``--window`` frames apart give same-identity
distances and different-identity distances; the different-identity pairs are limited to people
near each other (centres within ``--near`` box heights), the ones the motion gate lets compete.
Prints the true/false accept rates per threshold, suggests the threshold with the best
``TPR - FPR`` among those with FPR <= 5%, and draws both histograms (PNG). ``--write`` records
the suggestion as the encoder's calibrated gate (the tracker then uses it unless told
otherwise): in a ``.pt`` checkpoint's metadata, an ``.onnx`` file's metadata, or the record of
weights installed in the user's weights folder. Calibrate on sequences other than the ones
you judge the encoder on.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cosmot.tracker.assignment import linear_assignment
from cosmot.tracker.geometry import iou_matrix, tlwh_to_xyxy

from cosmot.pipeline.prepared import prepare
from cosmot.sources.motchallenge import read_ground_truth
from cosmot.cli.options import finite_number


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("calibrate", help="same- vs different-identity cosine distances (PNG)",
                       description=__doc__)
    p.add_argument("sequences", nargs="+", metavar="SEQ_DIR")
    p.add_argument("--encoder", default="default")
    p.add_argument("--device", default="cpu")
    p.add_argument("--det", default="det", metavar="NAME")
    p.add_argument("--min-score", type=finite_number, default=None)
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


def label_detections(det_frames, det_xyxy, gt) -> np.ndarray:
    """(N,) gt id of each detection (IoU >= 0.5, optimal one-to-one per frame), -1 if none.
    MOT16/17 gt: only considered pedestrians (class 1) count."""
    keep = gt.consider & ((gt.classes == 1) | gt.mot15_format)
    gt = gt.filter(keep)
    labels = np.full(len(det_frames), -1, np.int64)
    gt_xyxy = tlwh_to_xyxy(gt.tlwh)
    for f in np.unique(det_frames):
        di = np.flatnonzero(det_frames == f)
        gi = np.flatnonzero(gt.frames == f)
        if gi.size == 0:
            continue
        r, c = linear_assignment(1.0 - iou_matrix(det_xyxy[di], gt_xyxy[gi]), 0.5)
        labels[di[r]] = gt.ids[gi[c]]
    return labels


def pair_distances(frames, xyxy, labels, emb, window: int, near: float, rng,
                   max_pairs: int) -> tuple[np.ndarray, np.ndarray]:
    """Cosine distances of same-identity and nearby different-identity pairs of labelled
    detections at most ``window`` frames apart (and at least 1)."""
    lab = np.flatnonzero(labels >= 0)
    same, diff = [], []
    centre = (xyxy[:, :2] + xyxy[:, 2:]) / 2
    height = xyxy[:, 3] - xyxy[:, 1]
    by_frame = {f: lab[frames[lab] == f] for f in np.unique(frames[lab])}
    for f, a in by_frame.items():
        b = np.concatenate([by_frame.get(g, lab[:0]) for g in range(f + 1, f + window + 1)])
        if a.size == 0 or b.size == 0:
            continue
        d = 1.0 - emb[a] @ emb[b].T
        same_id = labels[a][:, None] == labels[b][None, :]
        gap = np.linalg.norm(centre[a][:, None] - centre[b][None], axis=2)
        close = gap <= near * np.maximum(height[a][:, None], height[b][None])
        same.append(d[same_id])
        diff.append(d[~same_id & close])
    same = np.concatenate(same) if same else np.zeros(0)
    diff = np.concatenate(diff) if diff else np.zeros(0)
    if same.size > max_pairs:
        same = rng.choice(same, max_pairs, replace=False)
    if diff.size > max_pairs:
        diff = rng.choice(diff, max_pairs, replace=False)
    return same, diff


def suggest_threshold(same: np.ndarray, diff: np.ndarray, max_fpr: float = 0.05
                      ) -> tuple[float, np.ndarray]:
    """Best ``TPR - FPR`` threshold with ``FPR <= max_fpr``; also the (t, TPR, FPR) table."""
    ts = np.round(np.arange(0.02, 1.0001, 0.02), 2)
    tpr = (same[None, :] <= ts[:, None]).mean(axis=1) if same.size else np.zeros_like(ts)
    fpr = (diff[None, :] <= ts[:, None]).mean(axis=1) if diff.size else np.zeros_like(ts)
    table = np.c_[ts, tpr, fpr]
    ok = fpr <= max_fpr
    j = np.where(ok, tpr - fpr, -np.inf)
    return float(ts[int(np.argmax(j))]), table


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
    rng = np.random.default_rng(0)
    same_all, diff_all = [], []
    for s in args.sequences:
        p = prepare(s, args.det, args.min_score, encoder, encoder_identity(args.encoder), "none",
                    args.cache)
        if not p.seq.gt_path.is_file():
            raise FileNotFoundError(f"{p.seq.gt_path}: calibration needs ground truth")
        labels = label_detections(p.det.frames, p.xyxy, read_ground_truth(p.seq.gt_path))
        same, diff = pair_distances(p.det.frames, p.xyxy, labels, p.embeddings, args.window,
                                    args.near, rng, args.max_pairs)
        print(f"{p.seq.name}: {int((labels >= 0).sum())}/{len(labels)} detections labelled, "
              f"{same.size} same-identity pairs, {diff.size} nearby different-identity pairs")
        same_all.append(same)
        diff_all.append(diff)
    same, diff = np.concatenate(same_all), np.concatenate(diff_all)
    best, table = suggest_threshold(same, diff)
    own = getattr(encoder, "max_cosine_distance", None)
    current = own if own is not None else DEFAULT_MAX_COSINE_DISTANCE
    what = "its calibrated gate" if own is not None else "the uncalibrated default"
    print(f"{'threshold':>10}{'same accepted':>15}{'different accepted':>20}")
    for t, tp, fp in table[(table[:, 0] * 100).round().astype(int) % 10 == 0]:
        print(f"{t:>10.2f}{100 * tp:>14.1f}%{100 * fp:>19.1f}%")
    print(f"suggested max_cosine_distance: {best:.2f} (the tracker now uses {current:.2f}, "
          f"{what})")
    if args.write:
        print(f"recorded max_cosine_distance {best:.2f} in {record_gate(args.encoder, best)}")

    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    bins = np.linspace(0, max(1.0, float(np.max(np.r_[same, diff, 1.0]))), 60)
    ax.hist(same, bins=bins, density=True, alpha=0.6, label=f"same identity ({same.size})")
    ax.hist(diff, bins=bins, density=True, alpha=0.6,
            label=f"different identity, nearby ({diff.size})")
    ax.axvline(current, color="k", ls="--", label=f"in use {current:.2f}")
    ax.axvline(best, color="r", ls="-", label=f"suggested {best:.2f}")
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

