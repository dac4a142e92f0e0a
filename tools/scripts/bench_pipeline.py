"""End-to-end speed of ``cosmot track`` with its defaults, stage by stage.

    python tools/scripts/bench_pipeline.py INPUT [INPUT ...] [--max-frames N] [--detector auto]
                                   [--detector-size N] [--encoder default] [--det-threads T]
                                   [--torch-threads T] [--no-write]

Runs what ``cosmot track INPUT --out-video V.mp4 --out-mot R.txt`` runs (the default detector,
the shipped encoder, camera-motion compensation, the default preset; outputs to a temporary
folder) and prints per input: frames/s end to end, and the wall time per frame of each stage:
decode (reading the next frame), detect, embed (appearance encoder), cmc (camera-motion
estimation), track (``Tracker.update``), write (annotated video + MOT rows). Also the process's
CPU time per frame (above the wall time when stages run on several threads) and the load
average before and after, since the machine may be shared. Not a test: numbers depend on the
machine and its load.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


class Timed:
    """Wraps a callable and sums the wall time of its calls."""

    def __init__(self, fn):
        self.fn = fn
        self.seconds = 0.0
        for attr in ("name", "config", "class_names", "dim"):
            if hasattr(fn, attr):
                setattr(self, attr, getattr(fn, attr))

    def __call__(self, *args):
        t0 = time.perf_counter()
        out = self.fn(*args)
        self.seconds += time.perf_counter() - t0
        return out


class TimedEncoder:
    """An encoder whose ``embed`` calls are timed."""

    def __init__(self, encoder):
        self.encoder = encoder
        self.dim = encoder.dim
        self.seconds = 0.0

    def embed(self, image, boxes):
        t0 = time.perf_counter()
        out = self.encoder.embed(image, boxes)
        self.seconds += time.perf_counter() - t0
        return out


def timed_frames(frames, counter: dict):
    it = iter(frames)
    while True:
        t0 = time.perf_counter()
        try:
            item = next(it)
        except StopIteration:
            return
        counter["decode"] += time.perf_counter() - t0
        yield item


def bench(input_path: str, args: argparse.Namespace) -> dict:
    import torch

    from cosmot.tracker import Tracker, preset

    from cosmot.pipeline.camera_motion import CameraMotionEstimator
    from cosmot.detectors import create_detector
    from cosmot.cli.mot import load_encoder_arg
    from cosmot.sources.inputs import open_input
    from cosmot.pipeline.stream import StreamTimes, TrackOutputs, track_stream

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    source = open_input(input_path, args.fps)
    options = {}
    if args.detector_size:
        options["size"] = str(args.detector_size)
    if args.det_threads:
        options["threads"] = str(args.det_threads)
    detector = Timed(create_detector(args.detector, options))
    encoder = load_encoder_arg(args.encoder, "cpu")
    enc = TimedEncoder(encoder) if encoder is not None else None
    cmc = Timed(CameraMotionEstimator("sparse")) if encoder is not None else None
    tracker = Tracker(preset("default").replace(fps=source.fps))
    counter = {"decode": 0.0, "write": 0.0}
    times = StreamTimes()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="cosmot-bench-") as tmp:
        video = None if args.no_write else Path(tmp) / "tracked.mp4"
        mot = None if args.no_write else Path(tmp) / "results.txt"
        cpu0, t0 = time.process_time(), time.perf_counter()
        with TrackOutputs(video, mot, None, fps=source.fps) as outputs:
            for step in track_stream(timed_frames(source.frames(), counter), detector, tracker,
                                     enc, max_frames=args.max_frames, times=times,
                                     camera_motion=cmc):
                tw = time.perf_counter()
                outputs.write(step)
                counter["write"] += time.perf_counter() - tw
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    n = times.frames
    return {"input": source.description, "frames": n, "wall": wall, "cpu": cpu,
            "decode": counter["decode"], "detect": detector.seconds,
            "embed": enc.seconds if enc else 0.0, "cmc": cmc.seconds if cmc else 0.0,
            "track": times.track, "write": counter["write"],
            "load": (load_before, os.getloadavg()),
            "threads": (detector.config.threads if hasattr(detector, "config") else None,
                        torch.get_num_threads())}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/scripts/bench_pipeline.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("--max-frames", type=int, default=None)
    p.add_argument("--detector", default="auto")
    p.add_argument("--detector-size", type=int, default=None)
    p.add_argument("--encoder", default="default")
    p.add_argument("--det-threads", type=int, default=0,
                   help="onnxruntime threads of the detector (0: its default)")
    p.add_argument("--torch-threads", type=int, default=0,
                   help="torch threads of the encoder (0: its default)")
    p.add_argument("--fps", type=float, default=None)
    p.add_argument("--no-write", action="store_true", help="no video or MOT output")
    args = p.parse_args(argv)
    stages = ("decode", "detect", "embed", "cmc", "track", "write")
    print(f"{'input':<44}{'frames':>7}{'frames/s':>9}  ms/frame: "
          + "".join(f"{s:>8}" for s in stages) + f"{'other':>8}{'CPU':>8}  load before/after")
    for path in args.inputs:
        r = bench(path, args)
        n = max(r["frames"], 1)
        other = r["wall"] - sum(r[s] for s in stages)
        cells = "".join(f"{1000 * r[s] / n:>8.1f}" for s in stages)
        print(f"{r['input'][:43]:<44}{r['frames']:>7}{r['frames'] / r['wall']:>9.1f}  "
              f"{'':10}{cells}{1000 * other / n:>8.1f}{1000 * r['cpu'] / n:>8.1f}  "
              f"{r['load'][0][0]:.2f}/{r['load'][1][0]:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
