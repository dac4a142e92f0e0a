"""cosmot against the public trackers on the same boxes: one TrackEval table (issue 19).

    python tools/scripts/compare_peers.py MOT16-11 KITTI-17 PETS09-S2L1 TUD-Stadtmitte \\
        [--det cosmot|NAME] [--thresholds 0.3,0.4,0.5,0.6] [--work DIR] [--max-frames N]

Boxes: ``--det cosmot`` (default) are the default pipeline's own, written once per sequence by
``cosmot track SEQ --encoder none --out-det`` (YOLOX-Nano 416, score >= 0.3); ``--det NAME``
takes ``SEQ/NAME/det.txt`` (e.g. ``det``, ``det-frcnn``). Every tracker gets exactly these boxes,
frame by frame, from one decoding of the frames:

* cosmot at its defaults (``cosmot.integrations.DeepSortTracker``: shipped encoder at its
  calibrated gate, sparse camera motion, the birth score and NSA setting the boxes'
  ``DET.json`` records: the ids ``cosmot track`` gives on these boxes), and motion only
  (``encoder=None``);
* the peers of pip ``trackers`` (Apache-2.0; ``pip install 'cosmot[peers]'``): SORT, ByteTrack,
  OC-SORT, BoT-SORT, C-BIoU, McByte, at their published defaults, each fed all boxes (``all``)
  and the boxes at or above each ``--thresholds`` value (the best is marked: no peer is
  handicapped by our score cut). A peer that is not installed is listed as skipped, with why;
* boxmot's appearance trackers (AGPL-3.0, benchmark use only; ``pip install --no-deps
  boxmot==25.0.0 rich``: its trackers need nothing else of its dependencies, which would pull
  torchvision and a second OpenCV):
  StrongSORT, Deep OC-SORT, BoT-SORT with ReID, BoostTrack, at their published defaults, fed
  the embeddings of each ``--reid`` encoder (default: cosmot's shipped one and OSNet-x0.25's
  ONNX), computed here once per box (boxmot builds no model, downloads nothing), each at every
  score cut; and a cosmot row with each of those encoders, so a gap that is the encoder's shows.

Prints per sequence and combined HOTA / MOTA / IDF1 / IDSW (TrackEval through
``cosmot.evaluation``), each tracker's update seconds per frame measured in this process (for
cosmot: its encoder and camera motion included, as BoT-SORT's and McByte's CMC are), and the
best setting of each tracker by combined HOTA; ``--json`` keeps everything.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from cosmot.evaluation.mot_metrics import evaluate
from cosmot.paths import data_dir
from cosmot.sources.motchallenge import Sequence, read_det_metadata, read_detections
from cosmot.tracker.geometry import tlwh_to_xyxy
from cosmot.writers.mot import MOTWriter
from encoder_contribution import cosmot_track, linked_sequence

PEERS = ("SORTTracker", "ByteTrackTracker", "OCSORTTracker", "BoTSORTTracker", "CBIoUTracker",
         "McByteTracker")
#: boxmot's appearance trackers (AGPL-3.0, benchmark use only), fed the embeddings of an
#: encoder computed here: boxmot builds no ReID model and downloads nothing.
BOXMOT_REID = {"strongsort": "StrongSORT", "deepocsort": "Deep OC-SORT", "botsort": "BoT-SORT",
               "boosttrack": "BoostTrack"}


class Entrant:
    """One tracker at one score cut, writing its own results file."""

    def __init__(self, name: str, cut: float | None, make, feed: str, out: Path,
                 uses_frame: bool = True):
        self.name, self.cut, self.make, self.feed = name, cut, make, feed
        self.uses_frame = uses_frame
        self.out = out
        self.seconds = 0.0
        self.frames = 0

    @property
    def setting(self) -> str:
        return "all" if self.cut is None else f">={self.cut:g}"

    #: for boxmot entrants: the label of the embeddings they are fed (``embeddings`` below)
    reid: str | None = None

    def run_sequence(self, frames, fps: float, path: Path, det_meta: dict | None = None,
                     embeddings: dict | None = None) -> None:
        """Track ``frames`` (``(k, image, dets)``; ``embeddings[self.reid]``: one array per
        frame, a row per box) and write ``path``."""
        tracker = self.make(fps, det_meta or {})
        embs = (embeddings or {}).get(self.reid) if self.reid else None
        with MOTWriter(path) as w:
            for i, (k, image, dets) in enumerate(frames):
                emb = embs[i] if embs is not None else None
                if self.cut is not None:
                    keep = dets[:, 4] >= self.cut
                    dets = dets[keep]
                    emb = emb[keep] if emb is not None else None
                t0 = time.perf_counter()
                ids, boxes, scores = self.step(tracker, dets, image, emb)
                self.seconds += time.perf_counter() - t0
                self.frames += 1
                w.write(k, ids, np.c_[boxes[:, :2], boxes[:, 2:] - boxes[:, :2]], scores)

    def step(self, tracker, dets, image, emb=None):
        if self.feed == "cosmot":  # the Kalman-filtered boxes, as cosmot track writes them
            out = tracker.step(dets[:, :4], dets[:, 4], None, image)
            return out.track_id, out.xyxy, out.score
        if self.feed == "boxmot":
            return _boxmot_step(tracker, dets, image, emb, self.frames)
        import supervision as sv

        d = sv.Detections(xyxy=dets[:, :4].astype(np.float32),
                          confidence=dets[:, 4].astype(np.float32),
                          class_id=np.zeros(len(dets), int))
        out = tracker.update(d, image if self.uses_frame else None)
        keep = out.tracker_id >= 0  # unconfirmed tracks come back with id -1
        return (out.tracker_id[keep] + 1, out.xyxy[keep],
                out.confidence[keep] if out.confidence is not None else np.ones(keep.sum()))


def _boxmot_step(tracker, dets, image, emb, index: int):
    """One boxmot update with the boxes and their embeddings (boxmot's structured input);
    returns ids (from 1), xyxy boxes and scores of the tracks it outputs."""
    import torch
    from boxmot.structures import Boxes, Detections

    d = Detections(geometry=Boxes(torch.from_numpy(np.ascontiguousarray(dets[:, :4],
                                                                       np.float32))),
                   scores=torch.from_numpy(np.clip(dets[:, 4], 0, 1).astype(np.float32)),
                   class_ids=torch.zeros(len(dets), dtype=torch.int64),
                   sample_id=str(index),
                   embeddings=None if emb is None else torch.from_numpy(
                       np.ascontiguousarray(emb, np.float32)))
    out = tracker.update(d, image)
    ids = out.track_ids.numpy().astype(int) + 1  # boxmot counts from 0, MOT files from 1
    return ids, out.geometry.values.numpy().astype(float), out.scores.numpy().astype(float)


def _quiet(tracker):
    import logging

    logging.getLogger("boxmot").setLevel(logging.ERROR)  # per-frame ECC notes, banners
    return tracker


def _boxmot_entrants(work: Path, thresholds, reid: dict) -> tuple[list[Entrant], list[str]]:
    try:
        from boxmot.trackers import TrackerSpec, create_tracker
    except ModuleNotFoundError as e:
        return [], [f"boxmot ({', '.join(BOXMOT_REID.values())}): not installed ({e}); pip "
                    f"install --no-deps boxmot==25.0.0 rich (AGPL-3.0, benchmark use only)"]
    out = []
    for name, label in BOXMOT_REID.items():
        for feature in reid:
            for cut in (None, *thresholds):
                tag = "all" if cut is None else f"{cut:g}"
                e = Entrant(f"{label} + {feature}", cut,
                            lambda fps, meta, n=name: _quiet(create_tracker(TrackerSpec(name=n))),
                            "boxmot", work / f"boxmot-{name}-{feature}_{tag}")
                e.reid = feature
                out.append(e)
    return out, []


def entrants(work: Path, thresholds, reid: dict | None = None
             ) -> tuple[list[Entrant], list[str]]:
    """The trackers: cosmot (with its shipped encoder, with each other ``reid`` encoder, and
    motion only), the pip ``trackers`` peers and boxmot's appearance trackers fed ``reid``'s
    embeddings (label -> encoder name or path)."""
    from cosmot.appearance.registry import encoder_from_name
    from cosmot.integrations import DeepSortTracker

    reid = reid or {}
    out, skipped = [], []
    from cosmot.tracker import TrackerConfig

    def config(fps, meta):  # the score-scale settings the boxes' DET.json records
        return TrackerConfig(fps=fps).with_detector_settings(meta.get("birth_score"),
                                                             meta.get("nsa_kalman"))

    out.append(Entrant("cosmot", None, lambda fps, meta: DeepSortTracker(config(fps, meta)),
                       "cosmot", work / "cosmot_all"))
    for feature, spec in reid.items():
        encoder, _, gate = spec.partition("@")
        if encoder == "default":
            continue  # the row above
        out.append(Entrant(f"cosmot + {feature}", None,
                           lambda fps, meta, e=encoder, g=gate: DeepSortTracker(
                               config(fps, meta).replace(
                                   max_cosine_distance=float(g) if g else None),
                               encoder=encoder_from_name(e)),
                           "cosmot", work / f"cosmot-{feature}_all"))
    out.append(Entrant("cosmot motion only", None,
                       lambda fps, meta: DeepSortTracker(config(fps, meta), encoder=None,
                                                          cmc="none"), "cosmot",
                       work / "cosmot-motion_all"))
    boxmot, why = _boxmot_entrants(work, thresholds, reid)
    skipped += why
    try:
        import trackers
    except ModuleNotFoundError as e:
        return out + boxmot, skipped + [
            f"pip trackers (SORT, ByteTrack, OC-SORT, BoT-SORT, C-BIoU, McByte): not installed "
            f"({e}); pip install 'cosmot[peers]'"]
    out += boxmot
    for name in PEERS:
        cls = getattr(trackers, name, None)
        if cls is None:
            skipped.append(f"{name}: not in this version of trackers")
            continue
        label = name.replace("Tracker", "")
        uses_frame = "enable_cmc" in inspect.signature(cls.__init__).parameters
        for cut in (None, *thresholds):
            tag = "all" if cut is None else f"{cut:g}"
            out.append(Entrant(label, cut, lambda fps, meta, c=cls: c(frame_rate=fps), "sv",
                               work / f"{label}_{tag}", uses_frame))
    return out, skipped


def sequence_frames(seq: Sequence, det_path: Path, max_frames: int | None):
    det = read_detections(det_path)
    slices = det.frame_slices()
    xyxy = tlwh_to_xyxy(det.tlwh)
    frames = []
    for k, image in seq.frames():
        if max_frames and k > max_frames:
            break
        sl = slices.get(k, slice(0, 0))
        frames.append((k, image, np.c_[xyxy[sl], det.scores[sl]]))
    return frames


def _reid_encoders(given: list[str] | None, mot_root: Path) -> dict[str, str]:
    if given is None:
        osnet = mot_root.parent / "models" / "osnet_x0_25_msmt17.onnx"
        # OSNet at the gate the calibration rule chose for it (appearance/README.md, v3 tables)
        return {"v1": "default", **({"osnet": f"{osnet}@0.25"} if osnet.is_file() else {})}
    out = {}
    for item in given:
        label, sep, encoder = item.partition("=")
        if not sep or not label or not encoder:
            raise SystemExit(f"--reid {item}: expected LABEL=ENCODER (e.g. osnet=osnet.onnx)")
        out[label] = encoder
    return out


def _embed_frames(encoder_name: str, frames) -> list[np.ndarray]:
    """One embedding per box of every frame (computed once, shared by the peers fed them)."""
    from cosmot.appearance.registry import encoder_from_name

    encoder = encoder_from_name(encoder_name)
    t0 = time.perf_counter()
    out = [encoder.embed(image, dets[:, :4]) if len(dets) else
           np.zeros((0, encoder.dim), np.float32) for _, image, dets in frames]
    print(f"  embeddings of {encoder_name}: {time.perf_counter() - t0:.1f} s", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sequences", nargs="+", metavar="SEQ")
    ap.add_argument("--det", default="cosmot")
    ap.add_argument("--thresholds", default="0.3,0.4,0.5,0.6")
    ap.add_argument("--data", default=None)
    ap.add_argument("--work", type=Path, default=Path("runs/peers"))
    ap.add_argument("--max-frames", type=int, default=None,
                    help="only the first N frames (a quick check; scores then are not comparable)")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--reid", action="append", default=None, metavar="LABEL=ENCODER[@GATE]",
                    help="embeddings for the appearance peers (boxmot) and a cosmot row with "
                         "the same encoder at cosine gate GATE (default: the encoder's own; "
                         "default: v1=default and osnet=the OSNet-x0.25 ONNX of the data "
                         "folder@0.25, if there)")
    args = ap.parse_args(argv)
    root = Path(args.data) if args.data else data_dir() / "mot"
    thresholds = [float(t) for t in args.thresholds.split(",") if t.strip()]
    work = args.work / args.det
    reid = _reid_encoders(args.reid, root)
    runners, skipped = entrants(work / "results", thresholds, reid)
    seqs = []
    for name in args.sequences:
        src = Path(name) if Path(name).is_dir() else root / name
        seq_dir = linked_sequence(src, args.work / "seqs" / src.name)
        det_name = "det-cosmot" if args.det == "cosmot" else args.det
        det = seq_dir / det_name / "det.txt"
        if args.det == "cosmot" and not det.is_file():
            print(f"{src.name}: detecting (cosmot track --encoder none --out-det)", flush=True)
            cosmot_track(seq_dir, ["--encoder", "none", "--out-det", str(det)],
                         args.work / "logs" / f"{src.name}-det.log")
        seq = Sequence(seq_dir)
        frames = sequence_frames(seq, det, args.max_frames)
        print(f"{seq.name}: {len(frames)} frames, {sum(len(f[2]) for f in frames)} boxes; "
              f"{len(runners)} trackers", flush=True)
        det_meta = read_det_metadata(det)  # DET.json: birth_score, nsa_kalman
        wanted = {r.reid for r in runners if r.reid}
        embeddings = {label: _embed_frames(reid[label].partition("@")[0], frames)
                  for label in sorted(wanted)}
        for r in runners:
            r.run_sequence(frames, seq.info.fps, r.out / f"{seq.name}.txt", det_meta,
                           embeddings)
        seqs.append(seq)
    rows = {}
    for r in runners:
        res = evaluate([s.path for s in seqs], r.out) if not args.max_frames else \
            _evaluate_cut(seqs, r.out, args.max_frames)
        rows[(r.name, r.setting)] = {"scores": res.rows, "ms_per_frame":
                                     1000 * r.seconds / max(r.frames, 1)}
    report = print_table(rows, [s.name for s in seqs], skipped, args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _evaluate_cut(seqs, results_dir, max_frames: int):
    """TrackEval on the first frames only: ground truth cut to them in a temporary copy."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="cosmot-peers-") as tmp:
        dirs = []
        for s in seqs:
            d = Path(tmp) / s.name
            (d / "gt").mkdir(parents=True)
            n = min(s.length(), max_frames)
            (d / "seqinfo.ini").write_text(
                f"[Sequence]\nname={s.name}\nframeRate={s.info.fps}\nseqLength={n}\n")
            lines = [ln for ln in s.gt_path.read_text().splitlines()
                     if ln.strip() and int(float(ln.split(",")[0])) <= n]
            (d / "gt" / "gt.txt").write_text("\n".join(lines) + "\n")
            dirs.append(d)
        return evaluate(dirs, results_dir)


def print_table(rows: dict, names: list[str], skipped: list[str], args) -> dict:
    keys = [*names, "COMBINED"] if len(names) > 1 else names
    print(f"\nSame boxes ({args.det}), TrackEval HOTA / MOTA / IDF1 / IDSW; update ms per frame "
          f"in this process (load average {os.getloadavg()[0]:.1f})")
    head = "| tracker | boxes | " + " | ".join(keys) + " | ms/frame |"
    print(head)
    print("|" + "---|" * (len(keys) + 3))
    best = {}
    for (name, setting), r in rows.items():
        sc = r["scores"]
        key = keys[-1]
        if name not in best or sc[key]["HOTA"] > rows[best[name]]["scores"][key]["HOTA"]:
            best[name] = (name, setting)
    for (name, setting), r in rows.items():
        cells = [f"{r['scores'][k]['HOTA']:.1f} / {r['scores'][k]['MOTA']:.1f} / "
                 f"{r['scores'][k]['IDF1']:.1f} / {r['scores'][k]['IDSW']:.0f}" for k in keys]
        mark = " (best)" if best[name] == (name, setting) and len(
            [1 for n, _ in rows if n == name]) > 1 else ""
        print(f"| {name} | {setting}{mark} | " + " | ".join(cells) +
              f" | {r['ms_per_frame']:.2f} |")
    for line in skipped:
        print(f"skipped: {line}")
    return {"det": args.det, "sequences": names, "skipped": skipped,
            "rows": [{"tracker": n, "boxes": s, **r} for (n, s), r in rows.items()],
            "best": {n: s for n, (_, s) in best.items()}}


if __name__ == "__main__":
    sys.exit(main())
