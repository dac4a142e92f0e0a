"""Byte identity of every output of ``cosmot mot`` and ``cosmot track`` across a code change.

Runs a fixed list of cases (each a real command line, or a library call where the case needs
one: a run stopped part-way and resumed, the tune/ablate path over prepared sequences) and
writes the SHA-256 of every file each case wrote::

    python tools/scripts/output_identity.py --data ../shared/data/mot --out runs/identity/after
    python tools/scripts/output_identity.py --compare runs/identity/before/hashes.json \
        runs/identity/after/hashes.json

Run it on the commit before a refactor (a ``git worktree`` of it) and after; ``--compare``
prints each case and file, "same" or "DIFFERENT", and exits 1 on any difference, missing
file or missing case. Needs the four development sequences (``--data``); about 5 minutes on
2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def cases(d: Path) -> dict[str, list[str] | str]:
    """name -> a ``cosmot`` argument list (``OUT`` replaced by the case's folder) or the name
    of a library case below."""
    kitti, tud, pets, mot16 = (str(d / n) for n in ("KITTI-17", "TUD-Stadtmitte", "PETS09-S2L1",
                                                    "MOT16-11"))
    return {
        "mot-motion-only": ["mot", kitti, tud, pets, mot16, "--encoder", "none", "--out", "OUT"],
        "mot-default": ["mot", kitti, tud, "--out", "OUT"],
        "mot-deepsort-nocmc": ["mot", tud, "--preset", "deepsort", "--cmc", "none",
                               "--out", "OUT"],
        "mot-offline-detection-box": ["mot", kitti, "--encoder", "none", "--interpolate", "20",
                                      "--smooth", "--output-box", "detection", "--out", "OUT"],
        "mot-min-score-frcnn": ["mot", tud, "--det", "det-frcnn", "--min-score", "0.5",
                                "--encoder", "none", "--out", "OUT"],
        "mot-workers": ["mot", kitti, tud, "--encoder", "none", "--workers", "2", "--out", "OUT"],
        "mot-resume": "mot_resume",
        "tune-prepared": "tune_prepared",
        "track-files": ["track", tud, "--max-frames", "60", "--out-mot", "OUT/t.txt",
                        "--out-json", "OUT/t.jsonl", "--out-det", "OUT/det.txt",
                        "--no-progress"],
        "track-video": ["track", kitti, "--max-frames", "30", "--out-video", "OUT/k.avi",
                        "--out-mot", "OUT/k.txt", "--trails", "10", "--no-progress"],
        "track-replay-detections": ["track", tud, "--detections", str(d / "TUD-Stadtmitte" /
                                                                     "det" / "det.txt"),
                                    "--out-mot", "OUT/r.txt", "--encoder", "none",
                                    "--no-progress"],
    }


class Stopped(Exception):
    pass


class StopAfter:
    """Like the command line's signal flag (cosmot.cli.signals.StopFlag): true once ``n``
    frames are done (the loop reads it after each frame); ``raise_if_set`` then raises."""

    def __init__(self, n: int):
        self.reads, self.n = 0, n

    def __bool__(self) -> bool:
        self.reads += 1
        return self.reads >= self.n

    def raise_if_set(self) -> None:
        if self.reads >= self.n:
            raise Stopped


def mot_resume(d: Path, out: Path) -> None:
    """TUD-Stadtmitte with the default encoder, stopped after 70 frames with checkpoints every
    25, then resumed to the end."""
    from cosmot.appearance import load_encoder
    from cosmot.pipeline.sequence import track_sequence
    from cosmot.sources.motchallenge import Sequence
    from cosmot.tracker import TrackerConfig

    seq = Sequence(d / "TUD-Stadtmitte")
    enc = load_encoder("default", threads=2)
    cfg = TrackerConfig(fps=seq.info.fps)
    path = out / "TUD-Stadtmitte.txt"
    kw = dict(encoder=enc, cmc="sparse", progress=False, checkpoint_every=25,
              run={"case": "identity"})
    try:
        track_sequence(seq, "det", None, cfg, path, stop=StopAfter(70), **kw)
        raise SystemExit("mot-resume: the run was not stopped")
    except Stopped:
        pass
    shutil.copy(path, out / "stopped.txt")
    if not path.with_name(path.name + ".ckpt.npz").is_file():
        raise SystemExit("mot-resume: no checkpoint after the stop")
    track_sequence(seq, "det", None, cfg, path, resume=True, **kw)


def tune_prepared(d: Path, out: Path) -> None:
    """The tune/ablate path: sequences prepared once (embeddings, camera motion), then two
    configurations run over them."""
    from cosmot.appearance import load_encoder
    from cosmot.pipeline.prepared import prepare, run_config
    from cosmot.tracker import TrackerConfig

    enc = load_encoder("default", threads=2)
    prepared = [prepare(d / n, encoder=enc, encoder_id="default", cmc="sparse", progress=False)
                for n in ("KITTI-17", "TUD-Stadtmitte")]
    run_config(prepared, TrackerConfig(), out / "a")
    run_config(prepared, TrackerConfig(max_age=60, n_init=2), out / "b", interpolate=10)


def run_case(name: str, spec, d: Path, out: Path, track_extra: list[str] = ()) -> dict[str, str]:
    out.mkdir(parents=True)
    if isinstance(spec, str):
        globals()[spec](d, out)
    else:
        args = [a.replace("OUT", str(out)) for a in spec]
        if args[0] == "track":
            args += list(track_extra)
        cmd = [sys.executable, "-m", "cosmot", *args]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"{name}: exit {r.returncode}\n{r.stderr[-2000:]}")
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*")) if p.is_file()}


def compare(a_path: Path, b_path: Path) -> int:
    a, b = json.loads(a_path.read_text()), json.loads(b_path.read_text())
    bad = 0
    for case in sorted(set(a) | set(b)):
        fa, fb = a.get(case), b.get(case)
        if fa is None or fb is None:
            print(f"{case}: only in {a_path if fb is None else b_path}")
            bad += 1
            continue
        for f in sorted(set(fa) | set(fb)):
            same = fa.get(f) == fb.get(f)
            bad += not same
            print(f"{case:28s} {f:32s} {'same' if same else 'DIFFERENT'}")
    print(f"{bad} difference(s)" if bad else "all outputs byte-identical")
    return 1 if bad else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=Path("../shared/data/mot"))
    p.add_argument("--out", type=Path, help="folder for the cases' outputs and hashes.json")
    p.add_argument("--only", nargs="*", help="run only these cases")
    p.add_argument("--compare", nargs=2, type=Path, metavar=("BEFORE", "AFTER"))
    p.add_argument("--track-extra", default="",
                   help="options appended to the cosmot track cases, e.g. '--set "
                        "birth_score=-inf' to hold a deliberate change of default apart")
    args = p.parse_args()
    if args.compare:
        return compare(*args.compare)
    if args.out is None:
        p.error("--out is needed (or --compare)")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if args.out.exists():
        shutil.rmtree(args.out)
    hashes = {}
    for name, spec in cases(args.data.resolve()).items():
        if args.only and name not in args.only:
            continue
        print(f"{name} ...", flush=True)
        hashes[name] = run_case(name, spec, args.data.resolve(), args.out / name,
                                args.track_extra.split())
    (args.out / "hashes.json").write_text(json.dumps(hashes, indent=1, sort_keys=True))
    print(f"{sum(len(v) for v in hashes.values())} files hashed -> {args.out / 'hashes.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
