"""Two component measurements behind the pipeline's thread and camera-motion settings.

    python tools/scripts/bench_components.py detector-threads SEQ [--frames 80]
    python tools/scripts/bench_components.py cmc SEQ [--frames 300]

``detector-threads``: the shipped YOLOX-Nano at 416 alone on the first frames of SEQ (a
MOTChallenge sequence folder), with 1 and 2 ONNX Runtime threads: wall and CPU ms per frame,
and whether the detections are identical (``cosmot.pipeline.video.thread_split`` runs it on
one thread beside the rest of the frame).

``cmc``: the sparse camera-motion estimate (``CameraMotionEstimator``) with its defaults, with
corners searched at full resolution, and with the first setting (600 corners, 21 px window):
CPU ms per frame of this process, and agreement with a full-resolution, 1,000-corner, 21 px
estimate (median / 95th percentile / max over frames of the largest displacement difference
on a 9x9 grid of the frame, in pixels). No boxes are masked.
Not tests: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import glob
import sys
import time


def frames_of(seq: str, n: int):
    import cv2

    files = sorted(glob.glob(f"{seq}/img1/*.jpg"))[:n]
    if not files:
        raise SystemExit(f"{seq}: no img1/*.jpg frames")
    return [cv2.imread(f) for f in files]


def detector_threads(args) -> None:
    import numpy as np

    from cosmot.detectors.yolox import YOLOXConfig, YOLOXDetector

    images = frames_of(args.seq, args.frames)
    found = {}
    for threads in (1, 2):
        det = YOLOXDetector(None, YOLOXConfig(size=416, threads=threads))
        det(images[0])  # the session for this shape
        cpu0, t0 = time.process_time(), time.perf_counter()
        found[threads] = [det(im) for im in images]
        n = len(images)
        print(f"{threads} thread(s): wall {1000 * (time.perf_counter() - t0) / n:.1f} ms, "
              f"CPU {1000 * (time.process_time() - cpu0) / n:.1f} ms per frame ({n} frames)")
    same = all(np.array_equal(a.boxes_xyxy, b.boxes_xyxy) and np.array_equal(a.scores, b.scores)
               for a, b in zip(found[1], found[2]))
    print(f"detections identical with 1 and 2 threads: {same}")


def cmc(args) -> None:
    import numpy as np

    from cosmot.pipeline.camera_motion import CameraMotionEstimator

    images = frames_of(args.seq, args.frames)
    h, w = images[0].shape[:2]
    gx, gy = np.meshgrid(np.linspace(0, w, 9), np.linspace(0, h, 9))
    grid = np.stack([gx.ravel(), gy.ravel(), np.ones(gx.size)])

    def run(**settings):
        est = CameraMotionEstimator("sparse", **settings)
        cpu0 = time.process_time()
        warps = [est(im) for im in images]
        return warps, 1000 * (time.process_time() - cpu0) / len(images)

    ref, _ = run(max_side=max(h, w), max_corners=1000, window=21, half_res_corners=False)
    for label, settings in (("defaults", {}),
                            ("corners at full resolution", {"half_res_corners": False}),
                            ("first setting (600 corners, 21 px, full resolution)",
                             {"max_corners": 600, "window": 21, "half_res_corners": False})):
        warps, ms = run(**settings)
        err = np.array([np.linalg.norm(a @ grid - r @ grid, axis=0).max()
                        for a, r in zip(warps, ref)])
        print(f"{label}: CPU {ms:.1f} ms per frame; against the reference median "
              f"{np.median(err):.2f} / p95 {np.percentile(err, 95):.2f} / max {err.max():.2f} px")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/scripts/bench_components.py",
                                description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    d = sub.add_parser("detector-threads")
    d.add_argument("seq")
    d.add_argument("--frames", type=int, default=80)
    c = sub.add_parser("cmc")
    c.add_argument("seq")
    c.add_argument("--frames", type=int, default=300)
    args = p.parse_args(argv)
    from cosmot.runtime import limit_blas_threads

    limit_blas_threads()
    detector_threads(args) if args.what == "detector-threads" else cmc(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
