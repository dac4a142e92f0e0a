"""``cosmot eval``: HOTA, MOTA, IDF1, IDSW per sequence and combined, computed by TrackEval."""

from __future__ import annotations

import argparse

from cosmot.evaluation.mot_metrics import evaluate


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="score results against ground truth (TrackEval)",
                       description=__doc__ + " MOT16/17 ground truth: only pedestrians count and "
                       "distractor classes are ignored regions; MOT15: every row counts.")
    p.add_argument("--gt", nargs="+", required=True, metavar="SEQ_DIR",
                   help="sequence folders with gt/gt.txt and seqinfo.ini")
    p.add_argument("--results", required=True, metavar="DIR",
                   help="folder with <sequence name>.txt results")
    p.add_argument("--csv", default=None, metavar="FILE", help="also write the table as CSV")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    result = evaluate(args.gt, args.results)
    print(result.table())
    if args.csv:
        result.to_csv(args.csv)
    return 0
