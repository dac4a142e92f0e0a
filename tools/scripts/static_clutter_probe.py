"""Could a "static, low-score" rule remove a static false positive without losing people?

    python tools/scripts/static_clutter_probe.py runs/contrib/seqs/{PETS09-S2L1,KITTI-17,...} \\
        --det det-cosmot --rule max:0.6:0.5 --rule mean:0.6:0.5 --rule none:0:0.5

A candidate tracker rule would hold a track back (not report it) while it is *unproven*: its
matched boxes have not scored high enough (``max``: none reached S; ``mean``: their running mean,
after 3 boxes, is below S; ``none``: the score is not used) and its box centre has stayed within
R box heights of where it started. This script costs such a rule before anyone builds it: each
ground-truth person is followed through the detections (IoU >= 0.5 with a box scoring >= the
detector's threshold) as if a perfect tracker held it, and the share of the person's matched
box-frames that the rule would hold back is printed per sequence. A rule worth building holds
back the clutter (``--probe X,Y,W,H``: the detections overlapping that region, e.g. a sign post,
followed the same way) and almost no person.

Appearance of motion (``fgmax:F:R``, ``fgmean:F:R``): the share of each box covered by
foreground in OpenCV's MOG2 background model (:class:`cosmot.pipeline.foreground.ForegroundShare`,
what ``TrackerConfig.min_foreground`` reads; shadows count as background), so a box on
something that never moved — a sign post seen from the first frame — has none. ``fgmax``: proven once a box's
foreground share reaches F; ``fgmean``: once the running mean, after 3 boxes, does (or, for
both, once the centre moved R box heights). ``--fg-percentiles`` prints the distribution.

Would another input size of the shipped detector not fire on the clutter?
``--detector-sizes 416,480,512,640 --every 40`` runs YOLOX-Nano at each size on every 40th frame
of the first sequence and prints the best score of a box on the probe region (IoU >= 0.5).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from cosmot.pipeline.foreground import ForegroundShare, box_shares
from cosmot.pipeline.prepared import prepare
from cosmot.sources.motchallenge import Detections, Sequence, read_detections, read_ground_truth
from cosmot.tracker.geometry import iou_matrix, tlwh_to_xyxy


def people(seq: Sequence):
    """Per ground-truth person (active rows; pedestrians only where the file has classes, the
    MOT16 layout): its frames and xyxy boxes, in frame order."""
    gt = read_ground_truth(seq.gt_path)
    gt = gt.filter(gt.consider & (gt.mot15_format | (gt.classes == 1)))
    for pid in np.unique(gt.ids):
        g = gt.filter(gt.ids == pid)  # sorted by frame
        yield g.frames, tlwh_to_xyxy(g.tlwh)


def follow(dets: Detections, slices: dict[int, slice], frames, boxes,
           fg: np.ndarray | None = None) -> np.ndarray:
    """The detections a perfect tracker would match along a path (frames, xyxy boxes), in
    order: (score, centre x, centre y, height, foreground share or 0) per matched frame (IoU >=
    0.5)."""
    out = []
    for frame, box in zip(frames, boxes):
        sl = slices.get(int(frame))
        if sl is None:
            continue
        xyxy = tlwh_to_xyxy(dets.tlwh[sl])
        iou = iou_matrix(box[None], xyxy)[0]
        j = int(iou.argmax())
        if iou[j] >= 0.5:
            b = xyxy[j]
            share = 0.0 if fg is None else fg[sl][j]
            out.append((dets.scores[sl][j], (b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[3] - b[1], share))
    return np.asarray(out, float).reshape(-1, 5)


def unproven(matches: np.ndarray, mode: str, score: float, radius: float) -> np.ndarray:
    """Per matched frame: True while the rule would still hold the track back (latched)."""
    if not len(matches):
        return np.zeros(0, bool)
    s, c, h, fg = matches[:, 0], matches[:, 1:3], matches[:, 3], matches[:, 4]
    moved = np.linalg.norm(c - c[0], axis=1) > radius * h
    n = np.arange(1, len(s) + 1)
    if mode == "max":
        scored = s >= score
    elif mode == "mean":
        scored = (n >= 3) & (np.cumsum(s) / n >= score)
    elif mode == "fgmax":
        scored = fg >= score
    elif mode == "fgmean":
        scored = (n >= 3) & (np.cumsum(fg) / n >= score)
    else:
        scored = np.zeros(len(s), bool)
    return ~np.logical_or.accumulate(moved | scored)


def figure(seq: Sequence, det_name: str, min_score: float, frame: int, path: str) -> None:
    """The frame with each box and its foreground share (green: at least 0.02, red: below),
    beside the model's foreground mask, after the model has seen frames 1..frame."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    dets = read_detections(seq.detections_path(det_name), min_score=min_score)
    slices = dets.frame_slices()
    model = ForegroundShare()
    for k, image in seq.frames():
        if k == frame:
            break
        model.observe(image)
    mask, s = model.observe(image)
    xyxy = tlwh_to_xyxy(dets.tlwh[slices.get(frame, slice(0, 0))])
    shares = box_shares(mask, xyxy * s)
    scores = dets.scores[slices.get(frame, slice(0, 0))]
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    axes[0].imshow(image[:, :, ::-1])
    axes[1].imshow(mask, cmap="gray", extent=(0, image.shape[1], image.shape[0], 0))
    for b, share, score in zip(xyxy, shares, scores):
        colour = "lime" if share >= 0.02 else "red"
        for ax in axes:
            ax.add_patch(Rectangle((b[0], b[1]), b[2] - b[0], b[3] - b[1], fill=False,
                                   edgecolor=colour, linewidth=1.2))
        axes[0].text(b[0], b[1] - 3, f"{share:.2f} ({score:.2f})", color=colour, fontsize=8)
    axes[0].set_title(f"{seq.name} frame {frame}: foreground share (detector score) per box",
                      fontsize=10)
    axes[1].set_title("MOG2 foreground (white), the shares' source", fontsize=10)
    for ax in axes:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"figure: {path}")


def probe_scores_by_size(seq: Sequence, region_xyxy: np.ndarray, sizes: list[int],
                         every: int) -> None:
    """Per detector input size: the best score of a shipped-detector box on the region (IoU >=
    0.5, 0 if none) on every ``every``-th frame, summarised against the default pipeline's
    detector threshold (0.3) and birth score (0.5)."""
    from cosmot.detectors.yolox import YOLOXConfig, YOLOXDetector

    images = [image for k, image in seq.frames() if (k - 1) % every == 0]
    print(f"\n{seq.name}: best score on the probe region, {len(images)} frames (every {every}th)")
    print("| input size | median | frames >= 0.3 | frames >= 0.5 |\n|---|---|---|---|")
    for size in sizes:
        detector = YOLOXDetector(config=YOLOXConfig(size=size, min_score=0.1, threads=1))
        best = []
        for image in images:
            d = detector(image)
            iou = iou_matrix(region_xyxy[None], d.boxes_xyxy)[0] if len(d.scores) else np.zeros(0)
            hit = iou >= 0.5
            best.append(float(d.scores[hit].max()) if hit.any() else 0.0)
        best = np.asarray(best)
        print(f"| {size} | {np.median(best):.2f} | {100 * (best >= 0.3).mean():.0f}% | "
              f"{100 * (best >= 0.5).mean():.0f}% |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sequences", nargs="+", type=Path)
    ap.add_argument("--det", default="det-cosmot", help="detection folder in each sequence")
    ap.add_argument("--min-score", type=float, default=0.3)
    ap.add_argument("--rule", action="append", required=True,
                    help="MODE:S:R with MODE max, mean, fgmax, fgmean or none (repeatable)")
    ap.add_argument("--figure", nargs=2, metavar=("FRAME", "PNG"),
                    help="draw the first sequence's frame FRAME: its boxes with their "
                         "foreground shares, beside the background model's mask")
    ap.add_argument("--fg-percentiles", action="store_true",
                    help="print the foreground share of people's boxes and the probe's")
    ap.add_argument("--probe", help="X,Y,W,H of a static clutter region in the first sequence")
    ap.add_argument("--detector-sizes", help="comma-separated YOLOX input sizes: the probe "
                    "region's best score at each (needs --probe)")
    ap.add_argument("--every", type=int, default=40, help="frame step for --detector-sizes")
    args = ap.parse_args(argv)
    if args.detector_sizes and not args.probe:
        ap.error("--detector-sizes needs --probe X,Y,W,H (the region whose scores to print)")
    rules = [(m, float(s), float(r)) for m, s, r in (x.split(":") for x in args.rule)]
    print("| rule | " + " | ".join(s.name for s in args.sequences)
          + (" | probe region" if args.probe else "") + " |")
    print("|---" * (len(args.sequences) + 1 + bool(args.probe)) + "|")
    if args.figure:
        figure(Sequence(args.sequences[0]), args.det, args.min_score, int(args.figure[0]),
               args.figure[1])
    per_seq = []
    probe = None
    need_fg = any(m.startswith("fg") for m, _, _ in rules) or args.fg_percentiles
    for i, path in enumerate(args.sequences):
        seq = Sequence(path)
        if need_fg:  # the shares cosmot tune computes (one pass over the frames)
            p = prepare(path, args.det, args.min_score, progress=False, foreground=True)
            dets, fg = p.det, p.foreground
        else:
            dets = read_detections(seq.detections_path(args.det), min_score=args.min_score)
            fg = None
        slices = dets.frame_slices()
        per_seq.append([follow(dets, slices, f, b, fg) for f, b in people(seq)])
        if i == 0 and args.probe:
            region = tlwh_to_xyxy(np.array([float(v) for v in args.probe.split(",")]))
            n = seq.length()
            probe = follow(dets, slices, np.arange(1, n + 1), np.tile(region, (n, 1)), fg)
    if args.fg_percentiles:
        q = (5, 10, 25, 50, 75, 90)
        for path, tracks in zip(args.sequences, per_seq):
            shares = np.concatenate([p[:, 4] for p in tracks if len(p)])
            print(f"foreground share, people, {path.name}: percentiles {q} = "
                  f"{np.round(np.percentile(shares, q), 3).tolist()}")
        if probe is not None:
            print(f"foreground share, probe region: percentiles {q} = "
                  f"{np.round(np.percentile(probe[:, 4], q), 3).tolist()}")
    for mode, s, r in rules:
        cells = []
        for tracks in per_seq:
            held = sum(int(unproven(p, mode, s, r).sum()) for p in tracks)
            total = sum(len(p) for p in tracks)
            cells.append(f"{100 * held / max(total, 1):.1f}% of {total}")
        if probe is not None:
            held = unproven(probe, mode, s, r)
            cells.append(f"{held.sum()} of {len(held)} held back")
        print(f"| {mode} S={s:g} R={r:g} | " + " | ".join(cells) + " |")
    if args.detector_sizes:
        probe_scores_by_size(Sequence(args.sequences[0]),
                             tlwh_to_xyxy(np.array([float(v) for v in args.probe.split(",")])),
                             [int(v) for v in args.detector_sizes.split(",")], args.every)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
