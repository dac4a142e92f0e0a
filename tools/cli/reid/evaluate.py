"""``cosmot reid eval``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from cosmot.paths import data_dir
from cosmot.sources.reid_crops import shrink_crops
from cosmot.cli.reid.common import CACHE, OSNET, repo_relative


def _default_eval_encoders() -> list[str]:
    names = ["default", "histogram"]
    osnet = data_dir() / OSNET
    if osnet.is_file():
        names.append(str(osnet))
    return names


def _label(name: str) -> str:
    """Short table label: 'default', 'histogram', X.onnx, or <folder>/<file>.pt."""
    if name in ("default", "histogram"):
        return name
    p = Path(name)
    return p.name if p.suffix == ".onnx" else f"{p.parent.name}/{p.name}"


def run_eval(encoders: list[str], crops_path: Path, min_gap_seconds: float,
             val_fraction: float = 0.0, split_seed: int = 0, shrink: float = 1.0,
             sources: list[str] | None = None) -> dict[str, list]:
    """Evaluate each encoder on a crop file; returns {encoder: [SourceScores, ...]}.

    sources: only the crops of these sources (e.g. the source a leave-one-source-out model
    validated on). val_fraction > 0: only the identities that ``train --val-fraction F
    --split-seed S`` held out for validation. shrink < 1: crops degraded to that resolution first."""
    from dataclasses import replace

    from cosmot.appearance import load_encoder
    from cosmot.appearance.crops import CropSet, split_by_identity
    from cosmot.appearance.reid_eval import evaluate_encoder

    crops = CropSet.load(crops_path)
    if sources:
        crops = crops.select_sources(sources)
    if val_fraction > 0:
        crops = split_by_identity(crops, val_fraction, split_seed)[1]
    if shrink < 1:
        crops = replace(crops, images=shrink_crops(crops.images, shrink))
    results = {}
    for name in encoders:
        enc = load_encoder(name)
        results[name] = evaluate_encoder(enc, crops, 10, min_gap_seconds)
    return results


def format_eval_table(results: dict[str, list]) -> str:
    """Markdown table: one row per encoder and evaluation group, then the mean over groups."""
    from cosmot.appearance.reid_eval import mean_scores

    lines = ["| encoder | set | ids | queries | rank-1 | rank-5 | rank-10 | mAP |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for name, res in results.items():
        for r in res:
            sc = r.scores
            lines.append(f"| {_label(name)} | {r.name} | {r.num_identities} | "
                         f"{sc.num_queries} | {100 * sc.rank(1):.1f} | {100 * sc.rank(5):.1f} | "
                         f"{100 * sc.rank(10):.1f} | {100 * sc.mAP:.1f} |")
        r1, m = mean_scores(res)
        lines.append(f"| {_label(name)} | mean of sets | | | {100 * r1:.1f} | | | "
                     f"{100 * m:.1f} |")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    crops_path = args.crops or CACHE / "heldout.npz"
    encoders = args.encoders or _default_eval_encoders()
    results = run_eval(encoders, crops_path, args.min_gap_seconds, args.val_fraction,
                       args.split_seed, args.shrink, args.sources)
    print(format_eval_table(results))
    if args.json:
        payload = {_label(n): {r.name: {"rank1": r.scores.rank(1), "rank5": r.scores.rank(5),
                                        "rank10": r.scores.rank(10), "mAP": r.scores.mAP,
                                        "queries": r.scores.num_queries,
                                        "identities": r.num_identities} for r in res}
                   for n, res in results.items()}
        payload["protocol"] = {"crops": repo_relative(crops_path),
                               "min_gap_seconds": args.min_gap_seconds,
                               "val_fraction": args.val_fraction,
                               "split_seed": args.split_seed, "shrink": args.shrink,
                               "sources": args.sources}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(payload, indent=2))
    return 0


def register(sub) -> None:
    p = sub.add_parser("eval", help="CMC rank-1/5/10 and mAP of encoders on a crop set",
                       description="Compare encoders on held-out identities of a crop file. "
                                   "Video sources: all-vs-all with a time gap; */query + "
                                   "*/gallery sources: query vs gallery across cameras.")
    p.add_argument("--crops", type=Path, help=f"crop .npz (default {CACHE}/heldout.npz, "
                                              f"made by 'build-crops --preset heldout')")
    p.add_argument("--encoders", nargs="*", help="'default', 'histogram', .pt or .onnx paths "
                                                 "(default: default, histogram, OSNet-x0.25)")
    p.add_argument("--min-gap-seconds", type=float, default=2.0,
                   help="video queries ignore same-identity crops closer in time than this")
    p.add_argument("--json", type=Path, help="also write the scores here")
    p.add_argument("--val-fraction", type=float, default=0.0,
                   help="score only the validation identities that 'train --val-fraction' "
                        "split off (same --split-seed); for choosing hyper-parameters")
    p.add_argument("--split-seed", type=int, default=0)
    p.add_argument("--sources", nargs="+", help="score only the crops of these sources")
    p.add_argument("--shrink", type=float, default=1.0,
                   help="degrade crops to this fraction of their resolution first")
    p.set_defaults(func=run)
