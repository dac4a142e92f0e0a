"""Reproduce the choice of the default detector's input size and score threshold (YOLOX-Nano).

    python tools/scripts/select_detector.py [--data DIR] [--work DIR] [--sizes 416,640]
                                    [--thresholds 0.3,0.4,0.5,0.6,0.7] [--floor 0.01]

For each development sequence and input size, the shipped YOLOX-Nano runs once over every frame
with a low score floor and its boxes are written as ``WORK/seqs/<seq>/det-yolox<size>/det.txt``
(the sequence's other files are linked beside it). Keeping the boxes above a threshold t of that
file is exactly what the detector gives at ``min_score`` t (greedy NMS only lets higher scores
suppress a box). Then, like ``cosmot track`` with its defaults, every threshold is tracked with
the shipped encoder, camera-motion compensation and the default preset, and scored by TrackEval.

Protocol (as for the default tracker preset, docs/accuracy.md): the size and threshold are
chosen on the tuning sequences (MOT16-11, PETS09-S2L1) by the highest mean HOTA, 640 only when
it beats 416 by more than 1 HOTA point (it costs about twice the detector time), and the choice is then
checked on the held-out ones (KITTI-17, TUD-Stadtmitte), whose scores play no part in it.
It also prints detection quality (AP50, recall and precision at each threshold) per sequence.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

from cosmot.tracker import preset
from cosmot.tracker.geometry import xyxy_to_tlwh

from cosmot.evaluation.detection_metrics import PRCurve, gt_by_frame
from cosmot.detectors.yolox import YOLOXConfig, YOLOXDetector
from cosmot.pipeline.prepared import PreparedSequence, prepare, score_config
from cosmot.sources.motchallenge import Sequence, read_detections, read_ground_truth
from cosmot.writers.mot import MOTWriter
from cosmot.paths import data_dir

TUNE = ("MOT16-11", "PETS09-S2L1")
HELD_OUT = ("KITTI-17", "TUD-Stadtmitte")


def link_sequence(src: Path, dst: Path) -> None:
    """``dst`` with links to everything in ``src`` (so det-* folders can be added beside)."""
    dst.mkdir(parents=True, exist_ok=True)
    for item in src.iterdir():
        link = dst / item.name
        if not link.exists():
            link.symlink_to(item.resolve())


def write_detections(seq_dir: Path, size: int, floor: float, out: Path) -> float:
    """Run the shipped YOLOX-Nano over the sequence; rows ``frame,-1,l,t,w,h,score,...``.
    Returns seconds per frame spent in the detector."""
    det = YOLOXDetector(None, YOLOXConfig(size=size, min_score=floor))
    seq = Sequence(seq_dir)
    seconds, n = 0.0, 0
    out.parent.mkdir(parents=True, exist_ok=True)
    with MOTWriter(out) as w:
        for k, image in seq.frames():
            t0 = time.perf_counter()
            d = det(image)
            seconds += time.perf_counter() - t0
            n += 1
            w.write(k, np.full(len(d), -1), xyxy_to_tlwh(d.boxes_xyxy), d.scores)
    return seconds / max(n, 1)


def detection_curve(seq_dir: Path, det_path: Path, min_score: float | None = None) -> PRCurve:
    """Precision/recall of a det.txt against the sequence's gt (IoU 0.5)."""
    seq = Sequence(seq_dir)
    gts = gt_by_frame(read_ground_truth(seq.gt_path))
    det = read_detections(det_path, min_score=min_score)
    xyxy = np.c_[det.tlwh[:, :2], det.tlwh[:, :2] + det.tlwh[:, 2:]]
    slices = det.frame_slices()
    empty = (np.zeros((0, 4)), np.zeros((0, 4)))
    frames = []
    for k in range(1, seq.info.length + 1):
        sl = slices.get(k, slice(0, 0))
        frames.append((xyxy[sl], det.scores[sl], *gts.get(k, empty)))
    return PRCurve.from_frames(frames)


def above(p: PreparedSequence, t: float) -> PreparedSequence:
    """The prepared sequence restricted to detections scoring >= t."""
    keep = p.det.scores >= t
    det = p.det.filter(keep)
    return dataclasses.replace(p, det=det, xyxy=p.xyxy[keep],
                               embeddings=None if p.embeddings is None else p.embeddings[keep],
                               slices=det.frame_slices())


#: det.txt files and the score at which the README's tables use them
DET_FILES = {"MOT16-11": [("det", 0.0)],
             "PETS09-S2L1": [("det", None), ("det-frcnn", 0.5)],
             "KITTI-17": [("det", None), ("det-frcnn", 0.5)],
             "TUD-Stadtmitte": [("det", None), ("det-frcnn", 0.5)]}


def det_file_table(mot: Path) -> int:
    """AP50 over all rows, recall and precision at the score the README's tables use."""
    print(f"{'sequence':<16}{'file':<12}{'AP50':>7}{'at score':>10}{'recall':>8}{'prec.':>8}")
    for name, files in DET_FILES.items():
        for det_name, t in files:
            curve = detection_curve(mot / name, mot / name / det_name / "det.txt")
            r, pr = curve.recall_precision(-np.inf if t is None else t)
            print(f"{name:<16}{det_name:<12}{curve.average_precision():>7.3f}"
                  f"{'all' if t is None else f'>= {t:g}':>10}{r:>8.3f}{pr:>8.3f}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python tools/scripts/select_detector.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=None, help="data folder (default $COSMOT_DATA or "
                                                "../shared/data)")
    p.add_argument("--work", default=".cache/select_detector", help="detections and caches")
    p.add_argument("--sizes", default="416,640")
    p.add_argument("--thresholds", default="0.3,0.4,0.5,0.6,0.7")
    p.add_argument("--floor", type=float, default=0.01, help="score floor of the det files")
    p.add_argument("--byte-highs", default="",
                   help="also track the first size's boxes with the tracker's BYTE stage: "
                        "min_score (high) values, comma-separated, e.g. 0.3,0.4,0.5,0.6")
    p.add_argument("--byte-low", type=float, default=0.1,
                   help="the BYTE stage's low score (default 0.1, ByteTrack's)")
    p.add_argument("--births", default="",
                   help="also choose the threshold and the tracker's birth score together "
                        "(first size, NSA on): birth scores, comma-separated, e.g. 0.4,0.5,0.6")
    p.add_argument("--current", default="0.3,0.5",
                   help="with --births: the current min_score,birth_score (the reference)")
    p.add_argument("--det-files", action="store_true",
                   help="only print the quality of the sequences' det.txt files and stop")
    args = p.parse_args(argv)
    mot = Path(args.data) / "mot" if args.data else data_dir() / "mot"
    if args.det_files:
        return det_file_table(mot)
    work = Path(args.work)
    sizes = [int(s) for s in args.sizes.split(",")]
    thresholds = [float(t) for t in args.thresholds.split(",")]

    from cosmot.appearance import load_encoder

    from cosmot.appearance.registry import encoder_identity

    encoder = load_encoder("default")
    config = preset("default")
    seqs = TUNE + HELD_OUT
    print(f"{'sequence':<16}{'size':>5}{'s/frame':>9}{'AP50':>7}  recall/precision at "
          + " ".join(f"{t:g}" for t in thresholds), flush=True)
    prepared: dict[tuple[str, int], PreparedSequence] = {}
    for name in seqs:
        link_sequence(mot / name, work / "seqs" / name)
        for size in sizes:
            det_name = f"det-yolox{size}"
            det_path = work / "seqs" / name / det_name / "det.txt"
            spf = float("nan")
            if not det_path.is_file():
                spf = write_detections(mot / name, size, args.floor, det_path)
            curve = detection_curve(mot / name, det_path)
            rp = " ".join("%.3f/%.3f" % curve.recall_precision(t) for t in thresholds)
            print(f"{name:<16}{size:>5}{spf:>9.3f}{curve.average_precision():>7.3f}  {rp}",
                  flush=True)
            prepared[name, size] = prepare(work / "seqs" / name, det_name, args.floor, encoder,
                                           encoder_identity("default"), "sparse",
                                           cache_dir=work / "cache", progress=False)

    print("\nTracking (default preset, shipped encoder, sparse CMC): HOTA / MOTA / IDF1 / IDSW",
          flush=True)
    scores: dict[tuple[int, float], dict[str, dict[str, float]]] = {}
    for size in sizes:
        for t in thresholds:
            res = score_config([above(prepared[n, size], t) for n in seqs], config)
            scores[size, t] = res.rows
            cells = "  ".join(f"{n} {r['HOTA']:.1f}/{r['MOTA']:.1f}/{r['IDF1']:.1f}/"
                              f"{int(r['IDSW'])}" for n in seqs for r in [res.rows[n]])
            print(f"size {size} min_score {t:g}: {cells}", flush=True)

    def mean_hota(key, names):
        return float(np.mean([scores[key][n]["HOTA"] for n in names]))

    best = {size: max(thresholds, key=lambda t: mean_hota((size, t), TUNE)) for size in sizes}
    choice = (sizes[0], best[sizes[0]])
    for size in sizes[1:]:
        if mean_hota((size, best[size]), TUNE) > mean_hota(choice, TUNE) + 1.0:
            choice = (size, best[size])
    print(f"\nchosen on {', '.join(TUNE)}: size {choice[0]}, min_score {choice[1]:g} "
          f"(tuning mean HOTA {mean_hota(choice, TUNE):.1f})")
    for size in sizes:
        for t in thresholds:
            mark = " <- chosen" if (size, t) == choice else ""
            print(f"  size {size} min_score {t:g}: tuning mean HOTA "
                  f"{mean_hota((size, t), TUNE):.1f}, held-out ({', '.join(HELD_OUT)}) mean "
                  f"HOTA {mean_hota((size, t), HELD_OUT):.1f}{mark}")
    held = {key: mean_hota(key, HELD_OUT) for key in scores}
    best_held = max(held, key=held.get)
    print(f"best on the held-out sequences: size {best_held[0]}, min_score {best_held[1]:g} "
          f"({held[best_held]:.1f}); the choice gives {held[choice]:.1f}")
    if args.byte_highs:
        byte_table(prepared, sizes[0], [float(h) for h in args.byte_highs.split(",")],
                   args.byte_low, config)
    if args.births:
        birth_table(prepared, sizes[0], thresholds, [float(b) for b in args.births.split(",")],
                    config, args.current)
    return 0


def birth_table(prepared: dict, size: int, thresholds: list[float], births: list[float],
                config, current: str) -> None:
    """The detector's threshold and the tracker's birth score chosen together (the shipped
    detector's NSA Kalman on, as ``cosmot track`` runs it): every (min_score, birth_score)
    with birth >= min_score; the highest mean HOTA on the tuning sequences is adopted only if
    the held-out sequences' mean HOTA and IDF1 are not below ``current``'s (docs/accuracy.md,
    the rule written before the results)."""
    seqs = TUNE + HELD_OUT
    print(f"\nDetector threshold x birth score (size {size}, NSA on): HOTA / MOTA / IDF1 / IDSW",
          flush=True)
    rows = {}
    for t in thresholds:
        for b in births:
            if b < t:
                continue
            cfg = config.replace(birth_score=b, nsa_kalman=True)
            rows[t, b] = score_config([above(prepared[n, size], t) for n in seqs], cfg).rows
            cells = "  ".join(f"{n} {rows[t, b][n]['HOTA']:.1f}/{rows[t, b][n]['MOTA']:.1f}/"
                              f"{rows[t, b][n]['IDF1']:.1f}/{int(rows[t, b][n]['IDSW'])}"
                              for n in seqs)
            print(f"  min_score {t:g} birth {b:g}: {cells}", flush=True)

    def mean(key, names, metric="HOTA"):
        return float(np.mean([rows[key][n][metric] for n in names]))

    choice = max(rows, key=lambda k: mean(k, TUNE))
    ref = tuple(float(x) for x in current.split(","))
    for key in rows:
        mark = " <- chosen" if key == choice else (" <- current" if key == ref else "")
        print(f"  min_score {key[0]:g} birth {key[1]:g}: tuning mean HOTA {mean(key, TUNE):.2f}"
              f", held-out mean HOTA / IDF1 {mean(key, HELD_OUT):.2f} / "
              f"{mean(key, HELD_OUT, 'IDF1'):.2f}{mark}")
    if ref not in rows:
        print(f"current setting {current} not in the grid: no verdict")
        return
    passes = (mean(choice, HELD_OUT) >= mean(ref, HELD_OUT)
              and mean(choice, HELD_OUT, "IDF1") >= mean(ref, HELD_OUT, "IDF1"))
    verdict = "keep the current setting" if choice == ref else (
        "adopt it" if passes else "not adopted: below the current setting on the held-out "
                                  "sequences")
    print(f"chosen on {', '.join(TUNE)}: min_score {choice[0]:g}, birth {choice[1]:g}; "
          f"{verdict}")


def byte_table(prepared: dict, size: int, highs: list[float], low: float, config) -> None:
    """The default preset plus ByteTrack's second stage: boxes >= ``low`` reach the tracker,
    those >= high (the tracker's ``min_score``) start and match tracks as usual, the others
    only extend tracks seen in the last frame (IoU). Same protocol: chosen on the tuning
    sequences, checked on the held-out ones."""
    seqs = TUNE + HELD_OUT
    print(f"\nBYTE stage (size {size}, low {low:g}): HOTA / MOTA / IDF1 / IDSW", flush=True)
    for h in highs:
        cfg = config.replace(byte_association=True, min_score=h, low_score=low)
        rows = score_config([above(prepared[n, size], low) for n in seqs], cfg).rows
        cells = "  ".join(f"{n} {rows[n]['HOTA']:.1f}/{rows[n]['MOTA']:.1f}/"
                          f"{rows[n]['IDF1']:.1f}/{int(rows[n]['IDSW'])}" for n in seqs)
        tune = np.mean([rows[n]["HOTA"] for n in TUNE])
        held = np.mean([rows[n]["HOTA"] for n in HELD_OUT])
        print(f"  high {h:g}: tuning mean HOTA {tune:.1f}, held-out mean HOTA {held:.1f}  "
              f"{cells}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
