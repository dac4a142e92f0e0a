"""Detector recall and precision against a sequence's ground truth (IoU 0.5, greedy by score).

``python tools/scripts/detector_eval.py SEQ_DIR --detector hog [--every 1]`` prints one line per
detector: TP, FP, FN, recall, precision, ``1 - (FN + FP) / GT`` and average precision.
``--detector`` takes the names of :func:`tools.detectors.create_detector`, ``hog-raw``
(OpenCV's HOG as commonly used: original size, OpenCV's grouping, raw windows), ``hog-windows``
(the calibrated HOG pipeline, upscaling, threshold and NMS included, but returning the windows
instead of calibrated boxes), or a det.txt path (``--min-score`` filters it). Stateful
detectors (bgsub) see every frame even with ``--every``; only the scoring is subsampled.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time

import numpy as np

from cosmot.evaluation.detection_metrics import PRCurve, gt_by_frame
from cosmot.detectors import create_detector
from cosmot.detectors.hog import CALIBRATED, BoxCalibration, HOGPeopleDetector, opencv_default_people
from cosmot.sources.motchallenge import Sequence, read_ground_truth


def evaluate_detector(seq: Sequence, spec: str, every: int = 1,
                      min_score: float | None = None) -> tuple[PRCurve, float, int]:
    """``(curve, seconds spent detecting, frames scored)``."""
    gts = gt_by_frame(read_ground_truth(seq.gt_path))
    stateful = spec == "bgsub"
    if spec == "hog-raw":
        det = opencv_default_people
    elif spec == "hog-windows":
        det = HOGPeopleDetector(dataclasses.replace(CALIBRATED, box=BoxCalibration()))
    else:
        det = create_detector(spec, min_score=min_score)
    empty = (np.zeros((0, 4)), np.zeros((0, 4)))
    frames, seconds = [], 0.0
    for k, image in seq.frames():
        scored = (k - 1) % every == 0
        if not scored and not stateful and not spec.endswith(".txt"):
            continue
        t0 = time.perf_counter()
        d = det(image)
        seconds += time.perf_counter() - t0
        if scored:
            frames.append((d.boxes_xyxy, d.scores, *gts.get(k, empty)))
    return PRCurve.from_frames(frames), seconds, len(frames)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/scripts/detector_eval.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("sequence", metavar="SEQ_DIR")
    p.add_argument("--detector", nargs="+", required=True)
    p.add_argument("--every", type=int, default=1, help="score every N-th frame")
    p.add_argument("--min-score", type=float, default=None, help="for det.txt files")
    args = p.parse_args(argv)
    seq = Sequence(args.sequence)
    print(f"{'detector':<28}{'frames':>7}{'TP':>7}{'FP':>7}{'FN':>7}{'recall':>8}{'prec.':>8}"
          f"{'1-(FN+FP)/GT':>14}{'AP':>7}{'s/frame':>9}")
    for spec in args.detector:
        curve, seconds, n = evaluate_detector(seq, spec, args.every, args.min_score)
        tp, fp, fn = curve.counts()
        r, pr = curve.recall_precision()
        label = spec if len(spec) <= 27 else "..." + spec[-24:]
        print(f"{label:<28}{n:>7}{tp:>7}{fp:>7}{fn:>7}{r:>8.3f}{pr:>8.3f}"
              f"{curve.mota_proxy():>14.3f}{curve.average_precision():>7.3f}"
              f"{seconds / max(n, 1):>9.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
