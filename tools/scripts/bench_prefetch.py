"""End-to-end ``cosmot track`` on one sequence, with and without the background decoder.

Runs ``cosmot track SEQ`` in fresh processes, alternately ``--prefetch 0`` (decode, detect,
embed, track in series) and ``--prefetch 4`` (frames decoded in a background thread), and prints
frames/s with the stage breakdown the command reports (detector, encoder + camera motion,
tracker; the rest is decoding, writing and overhead), the process's CPU time, the load average,
and whether the two track files are byte-identical. Run from the checkout::

    python tools/scripts/bench_prefetch.py [--sequences MOT16-11,TUD-Stadtmitte]
        [--max-frames 300] [--detector det.txt|hog|...] [--repeats 2]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

SUMMARY = re.compile(r"(\d+) frames in ([\d.]+) s \(([\d.]+) frames/s; detector ([\d.]+) s, "
                     r"encoder ([\d.]+) s, tracker ([\d.]+) s\)")


def run_once(cmd: list[str]) -> tuple[dict, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-3000:])
    m = SUMMARY.search(proc.stderr)
    if not m:
        raise SystemExit(f"no summary in: {proc.stderr[-2000:]}")
    keys = ("frames", "wall", "fps", "detect", "embed", "track")
    out = dict(zip(keys, map(float, m.groups())))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out, cpu


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sequences", default="MOT16-11,TUD-Stadtmitte")
    p.add_argument("--detector", default="det.txt",
                   help="'det.txt' (the sequence's det/det.txt) or a --detector name")
    p.add_argument("--encoder", default="default")
    p.add_argument("--max-frames", type=int, default=300)
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args(argv)
    from cosmot.paths import mot_sequence

    cosmot = str(Path(sys.executable).with_name("cosmot"))
    work = Path(tempfile.mkdtemp(prefix="cosmot-bench-pipe-"))
    print(f"cosmot track, detector {args.detector}, encoder {args.encoder}, first "
          f"{args.max_frames} frames, best of {args.repeats} per mode (alternating)")
    print(f"{'sequence':<16}{'prefetch':>9}{'frames/s':>10}{'detect s':>10}{'embed s':>9}"
          f"{'track s':>9}{'other s':>9}{'wall s':>8}{'CPU s':>7}  load")
    for name in [s for s in args.sequences.split(",") if s]:
        seq = mot_sequence(name)
        det = (["--detections", str(seq / "det" / "det.txt")] if args.detector == "det.txt"
               else ["--detector", args.detector])
        best: dict[int, tuple] = {}
        outs = {}
        for _ in range(args.repeats):
            for depth in (0, 4):
                out = work / f"{name}-{depth}.txt"
                cmd = [cosmot, "track", str(seq), *det, "--encoder", args.encoder,
                       "--max-frames", str(args.max_frames), "--out-mot", str(out),
                       "--no-progress", "--prefetch", str(depth)]
                load = os.getloadavg()[0]
                res, cpu = run_once(cmd)
                if depth not in best or res["wall"] < best[depth][0]["wall"]:
                    best[depth] = (res, cpu, load)
                outs[depth] = out.read_bytes()
        for depth, (r, cpu, load) in sorted(best.items()):
            other = r["wall"] - r["detect"] - r["embed"] - r["track"]
            print(f"{name:<16}{depth:>9}{r['fps']:>10.2f}{r['detect']:>10.1f}{r['embed']:>9.1f}"
                  f"{r['track']:>9.2f}{other:>9.1f}{r['wall']:>8.1f}{cpu:>7.1f}  {load:.1f}")
        print(f"{name:<16}speed-up {best[0][0]['wall'] / best[4][0]['wall']:.2f}x, track files "
              f"{'identical' if outs[0] == outs[4] else 'DIFFERENT'}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
