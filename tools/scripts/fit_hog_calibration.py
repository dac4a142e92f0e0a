"""Fit the HOG people detector's calibration on sequences other than PETS09-S2L1.

Run ``python tools/scripts/fit_hog_calibration.py`` (about 10 minutes on 2 cores); it prints the
constants that ``tools/detectors/hog.py`` holds. The data: MOTChallenge ground truth of
TUD-Stadtmitte (MOT15), KITTI-17 (MOT15) and MOT16-11 (pedestrians only; other classes are
ignored regions), each sampled at about ``--frames`` evenly spaced frames.

Procedure:

1. Box calibration. Collect every window with a positive SVM margin at the original size and
   pair it with the ground-truth box that its current calibrated box overlaps most (IoU >= 0.3
   in the first rounds, 0.5 in the last). The new calibration is the median of
   ``(gt centre - window origin) / window size`` and the exp-median of
   ``log(gt size / window size)``, robust to wrong pairs. Ten rounds from a nominal start
   (the person's central 50% x 75% of the window).
2. Upscale. ``min_person_height`` is the smallest 5th percentile of ground-truth heights over
   the sequences (the smallest people a user of such footage wants); the detector upscales frames
   so that this height fills a window: ``upscale = height * 128 / min_person_height``.
3. NMS and threshold. At that upscale, windows down to margin ``--min-margin`` are calibrated
   and reduced by NMS at each IoU of ``--nms``; the pair (NMS IoU, margin threshold) maximising
   the mean over sequences of ``1 - (FN + FP) / GT`` at IoU 0.5 (the MOTA a perfect tracker
   would reach on these detections) is kept.
4. Scores. A logistic regression of "true positive at IoU 0.5" on the margin of the
   detections kept at that NMS (all sequences pooled, each weighted equally) maps margins to
   probabilities; the margin threshold becomes ``min_score`` on that scale.

Raw windows are cached in ``--cache`` (npz per sequence and upscale) so refits are quick.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from cosmot.tracker.geometry import iou_matrix

from cosmot.evaluation.detection_metrics import PRCurve, gt_by_frame
from cosmot.detectors.hog import BoxCalibration, HOGConfig, HOGPeopleDetector, ScoreCalibration
from cosmot.tracker.geometry import nms
from cosmot.sources.frames import list_images
from cosmot.sources.motchallenge import Sequence, read_ground_truth
from cosmot.paths import mot_sequence

TRAINING = ("TUD-Stadtmitte", "KITTI-17", "MOT16-11")
NOMINAL = BoxCalibration(center_x=0.5, center_y=0.5, width=0.5, height=0.75)


def sample_frames(seq: Sequence, count: int) -> list[tuple[int, np.ndarray]]:
    """About ``count`` evenly spaced frames ``(frame_number, image_bgr)`` of a sequence."""
    n = seq.info.length
    picks = set(np.unique(np.linspace(1, n, min(count, n)).round().astype(int)).tolist())
    if seq.image_dir is not None:
        files = list_images(seq.image_dir)
        return [(k, cv2.imread(str(files[k - 1]), cv2.IMREAD_COLOR)) for k in sorted(picks)]
    return [(k, im) for k, im in seq.frames() if k in picks]


def collect_windows(seq: Sequence, frames: list[tuple[int, np.ndarray]], upscale: float,
                    min_margin: float, cache: Path | None
                    ) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Frame -> (windows_xywh, margins) of every window above ``min_margin`` at ``upscale``."""
    key = f"{seq.name}_n{len(frames)}_up{upscale:.4f}_m{min_margin:.2f}.npz"
    if cache is not None and (cache / key).is_file():
        z = np.load(cache / key)
        return {int(k): (z[f"w{k}"], z[f"m{k}"]) for k in z["frames"]}
    det = HOGPeopleDetector(HOGConfig(min_person_height=0))
    out = {}
    t0 = time.perf_counter()
    for k, image in frames:
        out[k] = det.windows(image, min_margin=min_margin, upscale=upscale)
    print(f"  {seq.name}: {len(frames)} frames at upscale {upscale:.2f} in "
          f"{time.perf_counter() - t0:.0f} s", file=sys.stderr)
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        arrays = {"frames": np.array(sorted(out))}
        for k, (w, m) in out.items():
            arrays[f"w{k}"], arrays[f"m{k}"] = w, m
        np.savez_compressed(cache / key, **arrays)
    return out


def fit_box_calibration(windows: list[tuple[np.ndarray, np.ndarray]], rounds: int = 10
                        ) -> tuple[BoxCalibration, int]:
    """``windows``: per frame (windows_xywh (N, 4), target gt boxes xyxy (G, 4)).

    Returns the calibration and the number of pairs of the last round."""
    cal = NOMINAL
    pairs = 0
    for r in range(rounds):
        min_iou = 0.3 if r < rounds // 2 else 0.5
        rel = []
        for win, gt in windows:
            if win.shape[0] == 0 or gt.shape[0] == 0:
                continue
            iou = iou_matrix(cal.apply(win), gt)
            best = iou.argmax(axis=1)
            ok = iou[np.arange(win.shape[0]), best] >= min_iou
            if not ok.any():
                continue
            w, g = win[ok], gt[best[ok]]
            gc = (g[:, :2] + g[:, 2:]) / 2
            gs = g[:, 2:] - g[:, :2]
            rel.append(np.c_[(gc - w[:, :2]) / w[:, 2:], np.log(gs / w[:, 2:])])
        rel = np.concatenate(rel)
        pairs = rel.shape[0]
        med = np.median(rel, axis=0)
        cal = BoxCalibration(center_x=float(med[0]), center_y=float(med[1]),
                             width=float(np.exp(med[2])), height=float(np.exp(med[3])))
    return cal, pairs


def fit_logistic(x: np.ndarray, y: np.ndarray, weight: np.ndarray, iters: int = 50
                 ) -> tuple[float, float]:
    """Weighted logistic regression ``P(y=1) = sigmoid(a x + b)`` by Newton's method."""
    X = np.c_[x, np.ones_like(x)]
    beta = np.zeros(2)
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-(X @ beta)))
        g = X.T @ (weight * (y - p))
        H = (X * (weight * p * (1 - p))[:, None]).T @ X + 1e-9 * np.eye(2)
        step = np.linalg.solve(H, g)
        beta += step
        if np.abs(step).max() < 1e-10:
            break
    return float(beta[0]), float(beta[1])


def detections_after_nms(raw: dict[int, tuple[np.ndarray, np.ndarray]], cal: BoxCalibration,
                         nms_iou: float) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for k, (win, margin) in raw.items():
        boxes = cal.apply(win)
        keep = nms(boxes, margin, nms_iou)
        out[k] = (boxes[keep], margin[keep])
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/scripts/fit_hog_calibration.py",
                                description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sequences", nargs="+", default=list(TRAINING),
                   help="training sequence names under $COSMOT_DATA/mot or folders")
    p.add_argument("--frames", type=int, default=60, help="frames sampled per sequence")
    p.add_argument("--min-margin", type=float, default=-0.5,
                   help="lowest SVM margin collected (the threshold search starts there)")
    p.add_argument("--nms", default="0.3,0.4,0.5,0.6,0.7", help="NMS IoU values to try")
    p.add_argument("--cache", default="/tmp/cosmot-hog-cache", help="window cache ('' for none)")
    args = p.parse_args(argv)
    if any("PETS09" in s for s in args.sequences):
        print("refusing to fit on PETS09-S2L1: it is the test sequence", file=sys.stderr)
        return 2
    cache = Path(args.cache) if args.cache else None

    seqs, frames, gts = [], {}, {}
    for name in args.sequences:
        path = Path(name) if Path(name).is_dir() else mot_sequence(name)
        s = Sequence(path)
        seqs.append(s)
        frames[s.name] = sample_frames(s, args.frames)
        gts[s.name] = gt_by_frame(read_ground_truth(s.gt_path))
    empty = (np.zeros((0, 4)), np.zeros((0, 4)))

    # 1. box calibration on windows with a positive margin at the original size
    print("1. box calibration (upscale 1)", file=sys.stderr)
    pairs = []
    for s in seqs:
        raw = collect_windows(s, frames[s.name], 1.0, args.min_margin, cache)
        for k, (win, margin) in raw.items():
            pairs.append((win[margin > 0], gts[s.name].get(k, empty)[0]))
    box, n_pairs = fit_box_calibration(pairs)
    print(f"   {box} from {n_pairs} window/gt pairs", file=sys.stderr)

    # 2. upscale from the smallest people of the training footage
    p5 = {}
    for s in seqs:
        heights = np.concatenate([g[0][:, 3] - g[0][:, 1] for g in gts[s.name].values()])
        p5[s.name] = float(np.percentile(heights, 5))
    min_h = float(np.floor(min(p5.values())))
    upscale = HOGConfig(min_person_height=min_h, box=box).upscale
    print("2. 5th percentile of gt heights: "
          + ", ".join(f"{k} {v:.0f}" for k, v in p5.items())
          + f" -> min_person_height {min_h:.0f} px, upscale {upscale:.3f}", file=sys.stderr)

    # 3. NMS IoU and margin threshold
    raws = {s.name: collect_windows(s, frames[s.name], upscale, args.min_margin, cache)
            for s in seqs}
    best = None
    print("3. NMS IoU, best margin threshold, mean 1-(FN+FP)/GT over sequences", file=sys.stderr)
    for nms_iou in [float(v) for v in args.nms.split(",")]:
        curves = {}
        for s in seqs:
            dets = detections_after_nms(raws[s.name], box, nms_iou)
            g = gts[s.name]
            curves[s.name] = PRCurve.from_frames(
                (d[0], d[1], *g.get(k, empty)) for k, d in dets.items())
        margins = np.unique(np.concatenate([c.scores for c in curves.values()]))
        grid = np.unique(np.quantile(margins, np.linspace(0, 1, 400)))
        mean = np.array([np.mean([c.mota_proxy(t) for c in curves.values()]) for t in grid])
        i = int(mean.argmax())
        per = ", ".join(f"{k} {c.mota_proxy(grid[i]):.3f} (R {c.recall_precision(grid[i])[0]:.2f}"
                        f" P {c.recall_precision(grid[i])[1]:.2f})" for k, c in curves.items())
        print(f"   nms {nms_iou:.2f}: margin >= {grid[i]:.3f}: mean {mean[i]:.3f}; {per}",
              file=sys.stderr)
        if best is None or mean[i] > best[0]:
            best = (float(mean[i]), nms_iou, float(grid[i]), curves)
    _, nms_iou, thr, curves = best

    # 4. logistic score calibration on the detections kept at that NMS
    xs, ys, ws = [], [], []
    for c in curves.values():
        xs.append(c.scores)
        ys.append(c.tp.astype(np.float64))
        ws.append(np.full(c.scores.size, 1.0 / max(c.scores.size, 1)))
    a, b = fit_logistic(np.concatenate(xs), np.concatenate(ys), np.concatenate(ws))
    score = ScoreCalibration(slope=a, intercept=b)
    min_score = float(score.apply(np.array([thr]))[0])
    print(f"4. logistic: score = sigmoid({a:.4f} * margin + {b:.4f}); margin {thr:.3f} -> "
          f"min_score {min_score:.4f}", file=sys.stderr)

    print("\n# paste into tools/detectors/hog.py")
    print(f"FITTED_BOX = BoxCalibration(center_x={box.center_x:.4f}, center_y={box.center_y:.4f}, "
          f"width={box.width:.4f}, height={box.height:.4f})")
    print(f"FITTED_SCORE = ScoreCalibration(slope={a:.4f}, intercept={b:.4f})")
    print(f"FITTED_MIN_PERSON_HEIGHT = {min_h:.1f}")
    print(f"FITTED_MIN_SCORE = {min_score:.4f}")
    print(f"FITTED_NMS_IOU = {nms_iou:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
