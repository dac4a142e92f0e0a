"""End-to-end speed of ``cosmot track`` with its defaults, stage by stage.

    python tools/scripts/bench_pipeline.py INPUT [INPUT ...] [--max-frames N] [--detector auto]
                                   [--detector-size N] [--encoder default] [--prefetch N]
                                   [--detect-ahead N] [--no-write] [--compare]

Runs :func:`cosmot.track_video` — the call ``cosmot track INPUT --out-video V.mp4 --out-mot
R.txt`` makes (default detector, shipped encoder, camera-motion compensation, default preset,
decoding and detection ahead in their threads, outputs in a writer thread; outputs to a
temporary folder; detector and encoder are made before the clock starts) — and prints per
input: frames/s end to end, then the busy time per frame of each stage in its thread: decode
(reading frames), detect, embed (appearance encoder), cmc (camera-motion estimation),
foreground (the background model, only with ``--set min_foreground=...``), track
(``Tracker.update``), write (drawing + encoding the video, MOT rows). The stages overlap, so they add up to more than the wall time. Also the process's CPU
time per frame and the load average before and after, since the machine may be shared.
``--compare`` also runs each input with everything in one thread (``--prefetch 0
--detect-ahead 0`` and outputs written in the loop), in the same process, and prints the ratio.
Not a test: numbers depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

STAGES = ("decode", "detect", "embed", "cmc", "foreground", "track", "write")


def bench(input_path: str, args: argparse.Namespace, threaded: bool = True) -> dict:
    from cosmot import track_video
    from cosmot.detectors import create_detector, takes_threads
    from cosmot.pipeline.stream import StreamTimes
    from cosmot.pipeline.video import thread_split

    detect_ahead = args.detect_ahead if threaded else 0
    options = {"size": str(args.detector_size)} if args.detector_size else {}
    if takes_threads(args.detector):
        options["threads"] = str(thread_split(detect_ahead)[0])
    detector = create_detector(args.detector, options)
    encoder = None
    if args.encoder != "none":  # loaded before the clock starts, like the detector
        from cosmot.appearance import load_encoder

        encoder = load_encoder(args.encoder, threads=thread_split(detect_ahead)[1])
    config = None
    if args.set:  # tracker settings on top of the default, as ``cosmot track --set`` gives them
        from cosmot.sources.open_input import open_input
        from cosmot.tracker import TrackerConfig

        config = TrackerConfig(fps=open_input(input_path).fps).replace(**args.settings)
    times = StreamTimes()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="cosmot-bench-") as tmp:
        video = None if args.no_write else Path(tmp) / "tracked.mp4"
        mot = None if args.no_write else Path(tmp) / "results.txt"
        cpu0, t0 = time.process_time(), time.perf_counter()
        track_video(input_path, detector, encoder, config, out_video=video, out_mot=mot,
                    max_frames=args.max_frames, prefetch=args.prefetch if threaded else 0,
                    detect_ahead=detect_ahead, background_writer=threaded, times=times)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    return {"frames": times.frames, "wall": wall, "cpu": cpu,
            **{s: getattr(times, s) for s in STAGES},
            "load": (load_before, os.getloadavg())}


def row(name: str, r: dict) -> str:
    n = max(r["frames"], 1)
    cells = "".join(f"{1000 * r[s] / n:>8.1f}" for s in STAGES)
    return (f"{name[:43]:<44}{r['frames']:>7}{r['frames'] / r['wall']:>9.1f}  {'':10}{cells}"
            f"{1000 * r['cpu'] / n:>8.1f}  {r['load'][0][0]:.2f}/{r['load'][1][0]:.2f}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/scripts/bench_pipeline.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("--max-frames", type=int, default=None)
    p.add_argument("--detector", default="auto")
    p.add_argument("--detector-size", type=int, default=None)
    p.add_argument("--encoder", default="default")
    p.add_argument("--prefetch", type=int, default=4)
    p.add_argument("--detect-ahead", type=int, default=2)
    p.add_argument("--no-write", action="store_true", help="no video or MOT output")
    p.add_argument("--compare", action="store_true",
                   help="also run everything in one thread and print the speed-up")
    p.add_argument("--cv-threads", type=int, default=None,
                   help="cv2.setNumThreads(N) before running (default: OpenCV's own)")
    p.add_argument("--plot", default=None, metavar="PNG",
                   help="also draw the figures: per run, the wall time per frame beside the "
                        "busy time of each stage (needs matplotlib: cosmot[eval])")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a TrackerConfig field for the runs (repeatable), e.g. "
                        "min_foreground=0.02")
    args = p.parse_args(argv)
    from cosmot.settings import parse_field
    from cosmot.tracker import TrackerConfig

    args.settings = {}
    for item in args.set:
        key, _, value = item.partition("=")
        args.settings[key] = parse_field(TrackerConfig, key, value)
    from cosmot.runtime import limit_blas_threads

    limit_blas_threads()  # as the cosmot command does
    if args.cv_threads is not None:
        import cv2

        cv2.setNumThreads(args.cv_threads)
    print(f"{'input':<44}{'frames':>7}{'frames/s':>9}  ms/frame: "
          + "".join(f"{s if s != 'foreground' else 'fg':>8}" for s in STAGES) + f"{'CPU':>8}  load before/after")
    runs = []
    for path in args.inputs:
        name = Path(path).name
        r = bench(path, args)
        print(row(name, r), flush=True)
        runs.append((name, r))
        if args.compare:
            base = bench(path, args, threaded=False)
            print(row(f"{name} (one thread)", base), flush=True)
            runs.append((f"{name}, one thread", base))
            print(f"{'':44}speed-up {base['wall'] / r['wall']:.2f}x "
                  f"(frames/s {r['frames'] / r['wall']:.1f} vs "
                  f"{base['frames'] / base['wall']:.1f})",
                  flush=True)
    if args.plot:
        plot(runs, args.plot, "annotated .mp4 + MOT" if not args.no_write else "no outputs")
        print(f"figure: {args.plot}")
    return 0


def plot(runs: list[tuple[str, dict]], path: str, outputs: str) -> None:
    """Two bars per run: the wall time per frame, and the stages' busy times stacked (they run
    in several threads, so the stack may be longer than the wall time)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = dict(zip(STAGES, ("#9e9e9e", "#1f77b4", "#ff7f0e", "#2ca02c", "#8c564b",
                                "#d62728", "#9467bd")))
    fig, ax = plt.subplots(figsize=(9, 0.9 + 0.75 * len(runs)))
    for i, (name, r) in enumerate(runs):
        n = max(r["frames"], 1)
        y = len(runs) - 1 - i
        wall = 1000 * r["wall"] / n
        ax.barh(y + 0.18, wall, height=0.32, color="black")
        ax.text(wall + 0.5, y + 0.18, f"{wall:.1f} ms = {1000 / wall:.1f} frames/s", va="center",
                fontsize=8)
        left = 0.0
        for s in STAGES:
            ms = 1000 * r[s] / n
            ax.barh(y - 0.18, ms, left=left, height=0.32, color=colours[s],
                    label=s if i == 0 else None)
            left += ms
    ax.set_yticks(range(len(runs)), [name for name, _ in reversed(runs)], fontsize=8)
    ax.set_xlabel("ms per frame: wall (black) and busy time per stage (stacked)")
    ax.set_title(f"cosmot track, defaults, {outputs}: decode, detect, track and write threads "
                 f"share the cores", fontsize=9)
    ax.legend(ncol=len(STAGES), fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18 -
              0.1 / max(1, len(runs))), frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
