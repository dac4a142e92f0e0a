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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cosmot.sources.motchallenge import Sequence, read_ground_truth

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


def evaluate(seq_dirs: list[str | os.PathLike], results_dir: str | os.PathLike) -> EvalResult:
    """Score ``results_dir/<sequence name>.txt`` against each sequence's ``gt/gt.txt``.

    Sequences without a result file raise ``FileNotFoundError`` naming the expected path.
    """
    import trackeval

    results_dir = Path(results_dir)
    seqs = [Sequence(d) for d in seq_dirs]
    if not seqs:
        raise ValueError("no sequences given to evaluate")
    for s in seqs:
        if not s.gt_path.is_file():
            raise FileNotFoundError(f"{s.gt_path}: no ground truth for sequence {s.name}")
        if not (results_dir / f"{s.name}.txt").is_file():
            raise FileNotFoundError(f"{results_dir / (s.name + '.txt')}: no results for "
                                    f"sequence {s.name} (run `cosmot mot` first)")
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
            dataset = trackeval.datasets.MotChallenge2DBox(dataset_config)
            with contextlib.redirect_stdout(io.StringIO()):
                raw, _ = evaluator.evaluate([dataset], metrics)
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
