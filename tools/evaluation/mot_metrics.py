"""MOTChallenge evaluation (HOTA, CLEAR MOT, Identity) through TrackEval.

Ground-truth folders may mix MOT15 (every row counts) and MOT16/17 layouts (only pedestrians
count; distractor classes are ignored regions): each group is evaluated with TrackEval's own
preprocessing for its benchmark, and the combined row merges all sequences with TrackEval's
``combine_sequences``.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cosmot.sources.motchallenge import MOTFormatError, Sequence, load_rows, read_ground_truth

#: Columns reported, as (label, metric family, field). HOTA is averaged over alpha.
COLUMNS = (
    ("HOTA", "HOTA", "HOTA"),
    ("DetA", "HOTA", "DetA"),
    ("AssA", "HOTA", "AssA"),
    ("MOTA", "CLEAR", "MOTA"),
    ("MOTP", "CLEAR", "MOTP"),
    ("IDF1", "Identity", "IDF1"),
    ("IDSW", "CLEAR", "IDSW"),
    ("FP", "CLEAR", "CLR_FP"),
    ("FN", "CLEAR", "CLR_FN"),
    ("Frag", "CLEAR", "Frag"),
)


@dataclass(frozen=True)
class EvalResult:
    """Scores per sequence and combined: ``rows[name][label]`` (percentages for ratios)."""

    rows: dict[str, dict[str, float]]

    def table(self) -> str:
        labels = [c[0] for c in COLUMNS]
        width = max(12, max(len(n) for n in self.rows) + 2)
        lines = [f"{'sequence':<{width}}" + "".join(f"{lab:>8}" for lab in labels)]
        for name, vals in self.rows.items():
            cells = []
            for lab in labels:
                v = vals[lab]
                cells.append(f"{v:>8.0f}" if lab in ("IDSW", "FP", "FN", "Frag") else f"{v:>8.1f}")
            lines.append(f"{name:<{width}}" + "".join(cells))
        return "\n".join(lines)

    def to_csv(self, path: str | os.PathLike) -> None:
        labels = [c[0] for c in COLUMNS]
        with open(path, "w") as f:
            f.write("sequence," + ",".join(labels) + "\n")
            for name, vals in self.rows.items():
                f.write(name + "," + ",".join(f"{vals[lab]:.4f}" for lab in labels) + "\n")


def _metric_values(res: dict) -> dict[str, float]:
    out = {}
    for label, family, field in COLUMNS:
        v = res[family][field]
        v = float(np.mean(v)) if np.ndim(v) else float(v)
        if label not in ("IDSW", "FP", "FN", "Frag"):
            v *= 100.0
        out[label] = v
    return out


class ResultsEndEarlyWarning(UserWarning):
    """A results file stops well before the sequence's last frame."""


def _check_results(path: Path, length: int) -> None:
    """A results file's rows: numbers, >= 6 columns, whole frames in 1..length, whole ids,
    finite boxes, no id twice in a frame; ``MOTFormatError`` naming the file and line."""
    rows, lines = load_rows(path, 6, with_lines=True)
    if not len(rows):
        return
    if rows.shape[1] < 7:
        raise MOTFormatError(f"{path}, row {int(lines[0])}: {rows.shape[1]} columns, expected "
                             f"10 (frame,id,left,top,width,height,score,-1,-1,-1)")

    def fail(i: int, text: str) -> None:
        raise MOTFormatError(f"{path}, row {int(lines[i])}: {text}")

    bad = np.flatnonzero(~np.isfinite(rows[:, :6]).all(axis=1))
    if bad.size:
        fail(bad[0], "frame, id or box is not a finite number")
    for col, name in ((0, "frame"), (1, "id")):
        bad = np.flatnonzero(rows[:, col] != np.round(rows[:, col]))
        if bad.size:
            fail(bad[0], f"{name} {float(rows[bad[0], col])!r} is not a whole number")
    bad = np.flatnonzero((rows[:, 0] < 1) | (rows[:, 0] > length))
    if bad.size:
        fail(bad[0], f"frame {int(rows[bad[0], 0])} is outside the sequence's 1..{length}")
    bad = np.flatnonzero(rows[:, 1] < 1)
    if bad.size:
        fail(bad[0], f"id {int(rows[bad[0], 1])}: ids must be >= 1")
    last = int(rows[:, 0].max())
    if last < 0.9 * length:
        warnings.warn(ResultsEndEarlyWarning(
            f"{path}: results end at frame {last} of the sequence's {length}: frames after it "
            f"count as missed (was the run cut short?)"), stacklevel=3)
    order = np.lexsort((np.arange(len(rows)), rows[:, 1], rows[:, 0]))
    key = rows[order, :2]
    again = order[1:][(key[1:] == key[:-1]).all(axis=1)]
    if again.size:
        i = int(again.min())
        fail(i, f"id {int(rows[i, 1])} appears twice in frame {int(rows[i, 0])}")


def evaluate(seq_dirs: list[str | os.PathLike], results_dir: str | os.PathLike) -> EvalResult:
    """Score ``results_dir/<sequence name>.txt`` against each sequence's ``gt/gt.txt``.

    Sequences without a result file raise ``FileNotFoundError`` naming the expected path.
    """
    import trackeval

    results_dir = Path(results_dir)
    if results_dir.is_file():
        raise ValueError(f"results {results_dir}: is a file; give the folder holding "
                         f"<sequence name>.txt (here {results_dir.parent})")
    seqs = [Sequence(d) for d in seq_dirs]
    if not seqs:
        raise ValueError("no sequences given to evaluate")
    for s in seqs:
        if not s.gt_path.is_file():
            raise FileNotFoundError(f"{s.gt_path}: no ground truth for sequence {s.name}")
        if not (results_dir / f"{s.name}.txt").is_file():
            raise FileNotFoundError(f"{results_dir / (s.name + '.txt')}: no results for "
                                    f"sequence {s.name} (run `cosmot mot` first)")
    for s in seqs:  # TrackEval's own errors name neither the file nor the row
        _check_results(results_dir / f"{s.name}.txt", s.length())
    groups: dict[str, list[Sequence]] = {}
    for s in seqs:
        bench = "MOT15" if read_ground_truth(s.gt_path).mot15_format else "MOT16"
        groups.setdefault(bench, []).append(s)

    quiet = {"PRINT_CONFIG": False}
    metrics = [trackeval.metrics.HOTA(quiet), trackeval.metrics.CLEAR(quiet),
               trackeval.metrics.Identity(quiet)]
    per_seq: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="cosmot-eval-") as tmp:
        for bench, group in groups.items():
            gt_root = Path(tmp) / bench / "gt"
            tr_root = Path(tmp) / bench / "trackers" / "cosmot" / "data"
            tr_root.mkdir(parents=True)
            for s in group:
                (gt_root / s.name / "gt").mkdir(parents=True)
                os.symlink(s.gt_path.resolve(), gt_root / s.name / "gt" / "gt.txt")
                os.symlink((results_dir / f"{s.name}.txt").resolve(), tr_root / f"{s.name}.txt")
            dataset_config = {
                "GT_FOLDER": str(gt_root),
                "TRACKERS_FOLDER": str(Path(tmp) / bench / "trackers"),
                "TRACKERS_TO_EVAL": ["cosmot"],
                "BENCHMARK": bench,
                "SKIP_SPLIT_FOL": True,
                "SEQ_INFO": {s.name: s.info.length for s in group},
                "PRINT_CONFIG": False,
                "OUTPUT_FOLDER": str(Path(tmp) / bench / "out"),
            }
            eval_config = {"USE_PARALLEL": False, "PRINT_RESULTS": False, "PRINT_CONFIG": False,
                           "TIME_PROGRESS": False, "DISPLAY_LESS_PROGRESS": True,
                           "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False,
                           "PLOT_CURVES": False, "OUTPUT_EMPTY_CLASSES": False,
                           "BREAK_ON_ERROR": True, "RETURN_ON_ERROR": False, "LOG_ON_ERROR": None}
            evaluator = trackeval.Evaluator(eval_config)
            try:
                dataset = trackeval.datasets.MotChallenge2DBox(dataset_config)
                with contextlib.redirect_stdout(io.StringIO()):
                    raw, _ = evaluator.evaluate([dataset], metrics)
            except Exception as e:  # TrackEval raises bare exceptions without the file
                names = ", ".join(f"{results_dir / (s.name + '.txt')} against {s.gt_path}"
                                  for s in group)
                first = str(e).splitlines()[0] if str(e) else ""
                raise ValueError(f"TrackEval failed on {names}: {type(e).__name__}: {first} "
                                 f"(check both files are MOTChallenge rows "
                                 f"frame,id,left,top,width,height,...)") from None
            seq_res = raw["MotChallenge2DBox"]["cosmot"]
            for s in group:
                per_seq[s.name] = seq_res[s.name]["pedestrian"]

    rows = {name: _metric_values(res) for name, res in per_seq.items()}
    if len(per_seq) > 1:
        combined = {}
        for metric in metrics:
            fam = metric.get_name()
            combined[fam] = metric.combine_sequences({k: v[fam] for k, v in per_seq.items()})
        rows["COMBINED"] = _metric_values(combined)
    return EvalResult(rows)
