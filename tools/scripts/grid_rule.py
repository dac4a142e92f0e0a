"""Apply the tuning / confirmation rule of docs/accuracy.md to per-sequence ``cosmot tune`` CSVs.

    python tools/scripts/grid_rule.py --tune PETS09-S2L1 KITTI-17 \\
        --confirm MOT16-11 TUD-Stadtmitte --csv 'runs/i19/grid-{seq}.csv' \\
        --default 'min_score=0.3 feature_mode=gallery matching_cascade=True \\
                   max_cosine_distance=0.25 motion_weight=0.0'

Each CSV is one sequence tracked alone (``cosmot tune SEQ --grid ... --csv F``). The rule: the
configuration with the highest mean HOTA over the tuning sequences is chosen; it is adopted only
if, on the confirmation sequences, its mean HOTA and mean IDF1 are not below the default's. The
confirmation sequences are read only for the chosen configuration and the default (and the
top of the tuning ranking, printed for the record, not for choosing).
"""

from __future__ import annotations

import argparse
import csv
import sys

import numpy as np


def read(path: str) -> dict[str, dict[str, float]]:
    with open(path, newline="") as f:
        return {row["configuration"]: {k: float(v) for k, v in row.items() if k != "configuration"}
                for row in csv.DictReader(f)}


def canonical(config: str) -> str:
    return " ".join(config.split())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tune", nargs="+", required=True)
    ap.add_argument("--confirm", nargs="+", required=True)
    ap.add_argument("--csv", required=True, help="path pattern with {seq}")
    ap.add_argument("--default", required=True, help="the default configuration's row name")
    ap.add_argument("--top", type=int, default=8)
    args = ap.parse_args(argv)
    if set(args.tune) & set(args.confirm):
        raise SystemExit("--tune and --confirm must not share a sequence")
    tables = {s: read(args.csv.format(seq=s)) for s in [*args.tune, *args.confirm]}
    configs = set.intersection(*(set(t) for t in tables.values()))
    default = canonical(args.default)
    if default not in configs:
        raise SystemExit(f"--default {default!r}: not a row of every CSV (rows look like "
                         f"{next(iter(configs))!r})")

    def mean(config: str, seqs: list[str], metric: str) -> float:
        return float(np.mean([tables[s][config][metric] for s in seqs]))

    def cells(config: str, seqs: list[str]) -> str:
        return " | ".join(f"{tables[s][config]['HOTA']:.1f} / {tables[s][config]['MOTA']:.1f} / "
                          f"{tables[s][config]['IDF1']:.1f} / {tables[s][config]['IDSW']:.0f}"
                          for s in seqs)

    ranked = sorted(configs, key=lambda c: (-mean(c, args.tune, "HOTA"), c))
    chosen = ranked[0]
    print(f"tuning ranking (mean HOTA on {', '.join(args.tune)}), top {args.top} of "
          f"{len(ranked)}; HOTA / MOTA / IDF1 / IDSW:")
    print("| configuration | " + " | ".join(args.tune) + " | mean HOTA |")
    print("|---|" + "---|" * len(args.tune) + "---:|")
    for c in ranked[:args.top] + ([default] if default not in ranked[:args.top] else []):
        mark = " (default)" if c == default else ""
        print(f"| {c}{mark} | {cells(c, args.tune)} | {mean(c, args.tune, 'HOTA'):.2f} |")
    print(f"\nconfirmation ({', '.join(args.confirm)}):")
    print("| configuration | " + " | ".join(args.confirm) + " | mean HOTA | mean IDF1 |")
    print("|---|" + "---|" * len(args.confirm) + "---:|---:|")
    for c in (default, chosen):
        print(f"| {c} | {cells(c, args.confirm)} | {mean(c, args.confirm, 'HOTA'):.2f} | "
              f"{mean(c, args.confirm, 'IDF1'):.2f} |")
    ok = (mean(chosen, args.confirm, "HOTA") >= mean(default, args.confirm, "HOTA") and
          mean(chosen, args.confirm, "IDF1") >= mean(default, args.confirm, "IDF1"))
    verdict = "no change (the default is chosen)" if chosen == default else (
        "ADOPT" if ok else "REJECT (below the default on the confirmation pair)")
    print(f"\nchosen: {chosen}\nverdict: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
