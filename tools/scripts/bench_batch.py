"""Batch throughput: the same short inputs serially, on 2 worker processes and as Ray tasks.

The inputs are development sequences cut in parts (``cut_sequence``: the frames linked,
det.txt renumbered), eight by default: KITTI-17 and TUD-Stadtmitte in halves, MOT16-11 in
quarters (PETS09-S2L1 is stored as a video here, so it is not cut). Every
mode runs ``cosmot mot`` in a fresh process (as a user would), one after another in the same
run, so the ratios against the serial run are what counts on a shared machine; the load
average (at the start of each) and the CPU time of the command and its worker processes are
printed with each (Ray's workers are not the command's children: not counted). Outputs of
every mode are compared byte for byte with the serial run's. Run from the checkout::

    python tools/scripts/bench_batch.py [--encoder default] [--modes serial,w2,ray2]
"""

from __future__ import annotations

import argparse
import filecmp
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def cut_sequence(src: str | os.PathLike, dst: str | os.PathLike, start: int, stop: int,
                 name: str, det_names: tuple[str, ...] = ("det", "det-frcnn")) -> Path:
    """A MOTChallenge sequence folder ``dst`` holding frames ``start..stop`` (1-based,
    inclusive) of ``src``: images linked (renumbered from 1), det/gt files cut and renumbered,
    seqinfo.ini with the new name and length."""
    from cosmot.sources.motchallenge import read_seqinfo

    src, dst = Path(src), Path(dst)
    info = read_seqinfo(src)
    images = sorted((src / info.im_dir).iterdir())[start - 1:stop]
    (dst / info.im_dir).mkdir(parents=True, exist_ok=True)
    for k, image in enumerate(images, start=1):
        link = dst / info.im_dir / f"{k:06d}{image.suffix}"
        if not link.exists():
            link.symlink_to(image.resolve())
    for sub in (*det_names, "gt"):
        path = src / sub / ("gt.txt" if sub == "gt" else "det.txt")
        if not path.is_file():
            continue
        rows = []
        for line in path.read_text().splitlines():
            parts = line.split(",")
            if line.strip() and start <= int(float(parts[0])) <= stop:
                parts[0] = str(int(float(parts[0])) - start + 1)
                rows.append(",".join(parts))
        (dst / sub).mkdir(exist_ok=True)
        (dst / sub / path.name).write_text("\n".join(rows) + ("\n" if rows else ""))
    (dst / "seqinfo.ini").write_text(
        f"[Sequence]\nname={name}\nimDir={info.im_dir}\nframeRate={info.fps:g}\n"
        f"seqLength={len(images)}\nimWidth={info.width}\nimHeight={info.height}\n"
        f"imExt={info.im_ext}\n")
    return dst


def cut_parts(mot_dir: Path, spec: str, out: Path) -> list[Path]:
    """``spec`` = ``NAME:PARTS,...``: each sequence cut in PARTS consecutive parts."""
    from cosmot.sources.motchallenge import read_seqinfo

    seqs = []
    for item in spec.split(","):
        name, parts = item.split(":") if ":" in item else (item, "2")
        n = read_seqinfo(mot_dir / name).length
        bounds = [round(i * n / int(parts)) for i in range(int(parts) + 1)]
        for i in range(int(parts)):
            part = f"{name}-{'abcdefgh'[i]}"
            seqs.append(cut_sequence(mot_dir / name, out / part, bounds[i] + 1, bounds[i + 1],
                                     part))
    return seqs


#: mode -> (extra arguments, environment). "serial" is the plain command (one input after
#: another, frames decoded in a background thread, torch on every core); "serial1" one thread
#: and no background decoder, the single-core baseline that worker processes multiply.
MODES = {"serial": ([], {}), "serial1": (["--prefetch", "0"], {"OMP_NUM_THREADS": "1"}),
         "w2": (["--workers", "2"], {}), "ray2": (["--ray", "--workers", "2"], {})}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sequences", default="KITTI-17:2,TUD-Stadtmitte:2,MOT16-11:4",
                   help="NAME:PARTS,... development sequences and in how many parts to cut them")
    p.add_argument("--det", default="det", help="detections sub-folder (default det)")
    p.add_argument("--encoder", default="default", help="encoder (default: the shipped one)")
    p.add_argument("--modes", default="serial,serial1,w2,ray2",
                   help=f"comma-separated, from {', '.join(MODES)} (the first is the baseline)")
    p.add_argument("--work", default=None, help="folder for the cut inputs and outputs")
    args = p.parse_args(argv)
    from cosmot.paths import mot_sequence

    work = Path(args.work or tempfile.mkdtemp(prefix="cosmot-bench-batch-"))
    seqs = cut_parts(mot_sequence("MOT16-11").parent, args.sequences, work / "inputs")
    cosmot = Path(sys.executable).with_name("cosmot")
    print(f"{len(seqs)} inputs ({', '.join(s.name for s in seqs)}), encoder {args.encoder}, "
          f"det {args.det}, {os.cpu_count()} cores")
    print(f"{'mode':<8}{'wall s':>9}{'vs first':>10}{'CPU s':>8}{'outputs':>10}   load average")
    first = None
    for mode in [m for m in args.modes.split(",") if m]:
        out = work / f"out-{mode}"
        shutil.rmtree(out, ignore_errors=True)
        load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
        cmd = [str(cosmot), "mot", *map(str, seqs), "--det", args.det, "--encoder",
               args.encoder, "--out", str(out), *MODES[mode][0]]
        t0 = time.perf_counter()
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              env={**os.environ, **MODES[mode][1]})
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall = time.perf_counter() - t0
        # CPU of the command and the workers it waited for (Ray's workers are not counted)
        cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
        if proc.returncode != 0:
            print(proc.stderr[-3000:], file=sys.stderr)
            return 1
        if first is None:
            first, same = (mode, wall, out), "(ref.)"
        else:
            files = sorted(f.name for f in first[2].iterdir())
            match, mismatch, errors = filecmp.cmpfiles(first[2], out, files, shallow=False)
            same = "same" if len(match) == len(files) else f"{len(mismatch + errors)} DIFF"
        print(f"{mode:<8}{wall:>9.1f}{first[1] / wall:>9.2f}x{cpu:>8.1f}{same:>10}   {load}",
              flush=True)
    print(f"inputs and outputs: {work}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
