"""What an appearance encoder adds to the default pipeline: the contribution table of issue 18.

    python tools/scripts/encoder_contribution.py --dev MOT16-11 KITTI-17 \\
        --judge PETS09-S2L1 TUD-Stadtmitte --encoder none --encoder v1 \\
        --encoder $DATA/models/osnet_x0_25_msmt17.onnx --encoder runs/enc/foldA/last.pt \\
        --work runs/contrib/foldA [--data DIR] [--json FILE]

Each encoder runs at its own gate (``max_cosine_distance``), calibrated by the rule written in
appearance/README.md ("Shipping rule") before any result: the value of ``--gates`` with the
best mean HOTA on the ``--dev`` sequences, which must be other than the judging ones and, for a
fold, the sequences whose crops trained the candidate (never the judging ones); with
``--gate-rule plateau``, the middle of the gates within ``--plateau-delta`` HOTA of that best.
The gate is chosen on the default pipeline's own boxes: ``cosmot track SEQ --out-det`` writes
them once per sequence, and each gate replays them through the tracker alone
(:func:`cosmot.pipeline.prepared.score_config`, camera motion as ``cosmot track`` does; the
replay equals ``cosmot track`` byte for byte, tests/test_track_command.py).

Judging runs the real command, ``cosmot track SEQ --encoder E --set max_cosine_distance=G
--out-mot ...``, on every ``--judge`` sequence, scored with TrackEval (``cosmot eval``'s
rules), and prints per sequence HOTA / IDF1 / IDSW / MOTA with the encoder's seconds (from the
command's own timing line), then the means, then the shipping rule's verdict for every
encoder that is not ``none``/``v1``/an ``osnet`` file. The load average is printed beside the
timings: they drift with the machine's load, compare within one run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from cosmot.evaluation.mot_metrics import evaluate
from cosmot.pipeline.calibration import best_gate
from cosmot.paths import data_dir

DEFAULT_GATES = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
TIMING = re.compile(r"(\d+) frames in ([\d.]+) s .*?encoder ([\d.]+) s, tracker ([\d.]+) s")


def label(encoder: str) -> str:
    p = Path(encoder)
    if p.suffix in (".pt", ".onnx", ".pth"):
        return f"{p.parent.name}/{p.name}" if p.parent.name else p.name
    return encoder


def is_reference(encoder: str) -> bool:
    return encoder in ("none", "v1", "default") or "osnet" in Path(encoder).name.lower()


def linked_sequence(src: Path, dst: Path) -> Path:
    """``dst``: a folder whose entries link to ``src``'s (images, video, gt, seqinfo.ini), so
    that a detection folder can be added beside them without touching ``src``."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        link = dst / entry.name
        if not link.exists():
            link.symlink_to(entry.resolve())
    return dst


def cosmot_track(seq: Path, extra: list[str], log: Path) -> dict:
    """Run ``cosmot track`` (the installed command, as a user would); the timing line parsed."""
    cmd = [sys.executable, "-m", "cosmot", "track", str(seq), "--no-progress", *extra]
    t0 = time.perf_counter()
    run = subprocess.run(cmd, capture_output=True, text=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(" ".join(cmd) + "\n" + run.stdout + run.stderr)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (exit {run.returncode}); see {log}")
    m = TIMING.search(run.stderr)
    if m is None:
        raise RuntimeError(f"no timing line in the output of {' '.join(cmd)}; see {log}")
    return {"frames": int(m.group(1)), "wall_s": float(m.group(2)),
            "encoder_s": float(m.group(3)), "tracker_s": float(m.group(4)),
            "run_s": time.perf_counter() - t0, "load_avg_1min": os.getloadavg()[0],
            "command": " ".join(["cosmot", *cmd[3:]])}


#: the rule in force: the grid gate with the best dev score (ties: the one nearest 0.25)
argmax_gate = best_gate


def plateau_gate(scores: dict[float, float], delta: float = 0.5) -> float:
    """The middle of the dev plateau: the contiguous run of grid gates around the argmax whose
    score is within ``delta`` of the best, and its midpoint ``(lo + hi) / 2`` (not snapped to
    the grid). appearance/README.md, "The gate from the middle of the dev plateau"."""
    gates = sorted(scores)
    best = gates.index(argmax_gate(scores))
    top = scores[gates[best]]
    lo = hi = best
    while lo > 0 and scores[gates[lo - 1]] >= top - delta:
        lo -= 1
    while hi < len(gates) - 1 and scores[gates[hi + 1]] >= top - delta:
        hi += 1
    return round((gates[lo] + gates[hi]) / 2, 4)


def sweep_gates(encoder: str, dev: list[Path], gates, cache: Path) -> dict[float, float]:
    """The mean HOTA of every gate of ``gates`` on the ``dev`` sequences' default-pipeline
    boxes (``det-cosmot``)."""
    from cosmot.appearance import load_encoder
    from cosmot.appearance.registry import encoder_identity
    from cosmot.pipeline.calibration import sweep_gates as sweep
    from cosmot.pipeline.prepared import prepare

    enc = load_encoder(encoder)
    prepared = [prepare(s, "det-cosmot", None, enc, encoder_identity(encoder), "sparse", cache,
                        progress=False) for s in dev]  # cache keyed by the weights' SHA-256
    names = ", ".join(s.name for s in dev)
    return sweep(prepared, gates, progress=lambda g, v: print(
        f"  gate {g:.2f}: mean HOTA {v:.2f} on {names}", flush=True))


def recorded_sweep(report: Path, encoder: str, gates) -> dict[float, float] | None:
    """The sweep an earlier ``--json`` report holds for ``encoder`` over the same ``gates``
    (None if it holds none): the judging runs are redone, the sweep is not."""
    entry = json.loads(report.read_text())["encoders"].get(label(encoder), {})
    scores = {float(g): v for g, v in entry.get("gate_scores", {}).items()}
    if entry.get("encoder") != encoder or sorted(scores) != sorted(gates):
        return None
    return scores


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dev", nargs="+", required=True, metavar="SEQ",
                    help="sequences the gates are calibrated on (never the judging ones)")
    ap.add_argument("--judge", nargs="+", required=True, metavar="SEQ")
    ap.add_argument("--encoder", action="append", required=True,
                    help="none, a weights name, a .pt or .onnx (repeatable; the table's rows)")
    ap.add_argument("--gates", default=",".join(map(str, DEFAULT_GATES)))
    ap.add_argument("--gate-rule", choices=["argmax", "plateau"], default="argmax",
                    help="argmax: the best dev gate; plateau: the middle of the gates within "
                         "--plateau-delta HOTA of it (appearance/README.md)")
    ap.add_argument("--plateau-delta", type=float, default=0.5)
    ap.add_argument("--gate-scores-from", type=Path, default=None, metavar="JSON",
                    help="reuse the dev sweeps an earlier --json report holds (same encoder "
                         "file, same --gates); encoders it lacks are swept")
    ap.add_argument("--data", default=None, help="MOT sequences folder (default: shared data)")
    ap.add_argument("--work", required=True, type=Path, help="results, logs and caches")
    ap.add_argument("--json", type=Path, default=None, help="write everything measured here")
    args = ap.parse_args(argv)
    overlap = set(args.dev) & set(args.judge)
    if overlap:
        raise SystemExit(f"--dev and --judge share {sorted(overlap)}: a gate chosen on a "
                         f"judging sequence would judge itself")
    gates = [float(g) for g in args.gates.split(",")]
    root = Path(args.data) if args.data else data_dir() / "mot"
    work = args.work
    seqs = {}
    for name in [*args.dev, *args.judge]:
        seq = linked_sequence(root / name, work / "seqs" / name)
        det = seq / "det-cosmot" / "det.txt"
        if not det.is_file():  # the default pipeline's boxes, once per sequence
            print(f"{name}: detecting (cosmot track --encoder none --out-det)", flush=True)
            cosmot_track(seq, ["--encoder", "none", "--out-det", str(det)],
                         work / "logs" / f"{name}-det.log")
        seqs[name] = seq
    report = {"dev": args.dev, "judge": args.judge, "gates": gates,
              "gate_rule": args.gate_rule, "encoders": {}}
    for encoder in args.encoder:
        entry = report["encoders"][label(encoder)] = {"encoder": encoder}
        if encoder != "none":
            scores = (recorded_sweep(args.gate_scores_from, encoder, gates)
                      if args.gate_scores_from else None)
            if scores is None:
                print(f"{label(encoder)}: calibrating the gate on {', '.join(args.dev)}",
                      flush=True)
                scores = sweep_gates(encoder, [seqs[n] for n in args.dev], gates,
                                     work / "cache")
            else:
                print(f"{label(encoder)}: dev sweep from {args.gate_scores_from}", flush=True)
            gate = (plateau_gate(scores, args.plateau_delta) if args.gate_rule == "plateau"
                    else argmax_gate(scores))
            entry.update(gate=gate, gate_rule=args.gate_rule,
                         gate_scores={str(g): v for g, v in scores.items()})
        out = work / "results" / label(encoder).replace("/", "_")
        entry["runs"] = {}
        for name in args.judge:
            extra = ["--encoder", encoder, "--out-mot", str(out / f"{name}.txt")]
            if encoder != "none":
                extra += ["--set", f"max_cosine_distance={entry['gate']}"]
            print(f"{label(encoder)}: cosmot track {name}", flush=True)
            entry["runs"][name] = cosmot_track(seqs[name], extra,
                                               work / "logs" / f"{out.name}-{name}.log")
        res = evaluate([seqs[n] for n in args.judge], out)
        for name in args.judge:
            entry["runs"][name].update({k: res.rows[name][k] for k in
                                        ("HOTA", "IDF1", "IDSW", "MOTA")})
    print_table(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"-> {args.json}")
    return 0


def print_table(report: dict) -> None:
    judge = report["judge"]
    print(f"\nContribution table: cosmot track defaults, judged on {', '.join(judge)}; gates "
          f"calibrated on {', '.join(report['dev'])} ({report.get('gate_rule', 'argmax')} of "
          f"the mean HOTA over {report['gates']})")
    head = "| encoder | gate | " + " | ".join(f"{n} HOTA / IDF1 / IDSW" for n in judge) + \
        " | mean HOTA | mean IDF1 | encoder s (load) |"
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    for name, e in report["encoders"].items():
        runs = e["runs"]
        cells = [f"{runs[n]['HOTA']:.1f} / {runs[n]['IDF1']:.1f} / {runs[n]['IDSW']:.0f}"
                 for n in judge]
        enc_s = sum(runs[n]["encoder_s"] for n in judge)
        load = max(runs[n]["load_avg_1min"] for n in judge)
        e["mean_HOTA"] = float(np.mean([runs[n]["HOTA"] for n in judge]))
        e["mean_IDF1"] = float(np.mean([runs[n]["IDF1"] for n in judge]))
        gate = "-" if "gate" not in e else (
            f"{e['gate']:.2f}" if round(e["gate"], 2) == e["gate"] else f"{e['gate']:.3f}")
        print(f"| {name} | {gate} | " + " | ".join(cells) +
              f" | {e['mean_HOTA']:.1f} | {e['mean_IDF1']:.1f} | {enc_s:.1f} ({load:.1f}) |")
    enc = report["encoders"]
    v1 = next((e for n, e in enc.items() if n in ("v1", "default")), None)
    osnet = next((e for n, e in enc.items() if "osnet" in n.lower()), None)
    for name, e in enc.items():
        if is_reference(e["encoder"]) or v1 is None or osnet is None:
            continue
        above_v1 = all(e["runs"][n]["HOTA"] > v1["runs"][n]["HOTA"] and
                       e["runs"][n]["IDF1"] > v1["runs"][n]["IDF1"] for n in judge)
        vs_osnet = e["mean_HOTA"] >= osnet["mean_HOTA"] and e["mean_IDF1"] >= osnet["mean_IDF1"]
        e["tracking_rule"] = {"above_v1_every_sequence": above_v1, "at_least_osnet_mean": vs_osnet}
        print(f"{name}: HOTA and IDF1 above v1 on every judging sequence: "
              f"{'yes' if above_v1 else 'NO'}; mean HOTA and IDF1 at least OSNet's: "
              f"{'yes' if vs_osnet else 'NO'} (ReID mAP and speed: cosmot reid eval / bench)")


if __name__ == "__main__":
    sys.exit(main())
