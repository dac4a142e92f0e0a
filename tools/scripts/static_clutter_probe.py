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
"""

from __future__ import annotations

import argparse
import configparser
from pathlib import Path

import numpy as np

from cosmot.tracker.geometry import iou_matrix


def _xyxy(rows: np.ndarray) -> np.ndarray:
    return np.c_[rows[:, 2], rows[:, 3], rows[:, 2] + rows[:, 4], rows[:, 3] + rows[:, 5]]


def ground_truth(seq: Path) -> np.ndarray:
    """gt.txt rows of people: active rows, and pedestrians (class 1) in the 9-column MOT16 format
    (the 10-column MOT15 format has world coordinates there instead of a class)."""
    g = np.loadtxt(seq / "gt" / "gt.txt", delimiter=",", ndmin=2)
    keep = g[:, 6] != 0
    if g.shape[1] == 9:
        keep &= g[:, 7] == 1
    return g[keep]


def follow(boxes_of_frame: dict[int, np.ndarray], path: list[tuple[int, np.ndarray]]):
    """The detections a perfect tracker would match along ``path`` (frame, xyxy), in order:
    (score, centre x, centre y, height) per matched frame."""
    out = []
    for frame, box in path:
        dets = boxes_of_frame.get(frame)
        if dets is None:
            continue
        iou = iou_matrix(box[None], _xyxy(dets))[0]
        j = int(iou.argmax())
        if iou[j] >= 0.5:
            b = _xyxy(dets[j:j + 1])[0]
            out.append((dets[j, 6], (b[0] + b[2]) / 2, (b[1] + b[3]) / 2, b[3] - b[1]))
    return np.asarray(out, float).reshape(-1, 4)


def unproven(matches: np.ndarray, mode: str, score: float, radius: float) -> np.ndarray:
    """Per matched frame: True while the rule would still hold the track back (latched)."""
    if not len(matches):
        return np.zeros(0, bool)
    s, c, h = matches[:, 0], matches[:, 1:3], matches[:, 3]
    moved = np.linalg.norm(c - c[0], axis=1) > radius * h
    if mode == "max":
        scored = s >= score
    elif mode == "mean":
        n = np.arange(1, len(s) + 1)
        scored = (n >= 3) & (np.cumsum(s) / n >= score)
    else:
        scored = np.zeros(len(s), bool)
    return ~np.logical_or.accumulate(moved | scored)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sequences", nargs="+", type=Path)
    ap.add_argument("--det", default="det-cosmot", help="detection folder in each sequence")
    ap.add_argument("--min-score", type=float, default=0.3)
    ap.add_argument("--rule", action="append", required=True,
                    help="MODE:S:R with MODE max, mean or none (repeatable)")
    ap.add_argument("--probe", help="X,Y,W,H of a static clutter region in the first sequence")
    args = ap.parse_args(argv)
    rules = [(m, float(s), float(r)) for m, s, r in (x.split(":") for x in args.rule)]
    print("| rule | " + " | ".join(s.name for s in args.sequences)
          + (" | probe region" if args.probe else "") + " |")
    print("|---" * (len(args.sequences) + 1 + bool(args.probe)) + "|")
    per_seq = []
    for seq in args.sequences:
        det = np.loadtxt(seq / args.det / "det.txt", delimiter=",", ndmin=2)
        det = det[det[:, 6] >= args.min_score]
        frames = {int(f): det[det[:, 0] == f] for f in np.unique(det[:, 0])}
        gt = ground_truth(seq)
        people = []
        for pid in np.unique(gt[:, 1]):
            rows = gt[gt[:, 1] == pid]
            rows = rows[np.argsort(rows[:, 0])]
            people.append(follow(frames, [(int(r[0]), _xyxy(r[None])[0]) for r in rows]))
        per_seq.append((frames, people))
    probe = None
    if args.probe:
        x, y, w, h = map(float, args.probe.split(","))
        frames = per_seq[0][0]
        ini = configparser.ConfigParser()
        ini.read(args.sequences[0] / "seqinfo.ini")
        n = int(ini["Sequence"]["seqLength"])
        probe = follow(frames, [(f, np.array([x, y, x + w, y + h])) for f in range(1, n + 1)])
    for mode, s, r in rules:
        cells = []
        for _, people in per_seq:
            held = sum(int(unproven(p, mode, s, r).sum()) for p in people)
            total = sum(len(p) for p in people)
            cells.append(f"{100 * held / max(total, 1):.1f}% of {total}")
        if probe is not None:
            held = unproven(probe, mode, s, r)
            cells.append(f"{held.sum()} of {len(held)} held back")
        print(f"| {mode} S={s:g} R={r:g} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
