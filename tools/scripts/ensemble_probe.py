"""Would a student that copies two teachers beat both? The two encoders' distances, mixed.

    python tools/scripts/ensemble_probe.py --dev MOT16-11 KITTI-17 \\
        --judge PETS09-S2L1 TUD-Stadtmitte --a v1 --b $DATA/models/osnet_x0_25_msmt17.onnx \\
        --mix 0.25,0.5,0.75 --work runs/contrib

Concatenating ``sqrt(w) * a`` and ``sqrt(1 - w) * b`` (both unit vectors) gives a unit vector
whose cosine distance is ``w * d_a + (1 - w) * d_b``: the embedding a student regressing both
teachers would aim at. Every row (a alone, b alone, each mix) is tracked the same way, in this
process, on the default pipeline's boxes that ``encoder_contribution.py`` wrote under
``--work/seqs`` (run it first), with the gate chosen on ``--dev`` by the rule of
appearance/README.md (best mean HOTA over the grid) and judged on ``--judge``. A probe for a
training decision, not a shipping table: the contribution table runs ``cosmot track`` itself.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import numpy as np

from cosmot.appearance import load_encoder
from cosmot.appearance.registry import encoder_identity
from cosmot.pipeline.prepared import prepare, score_config
from cosmot.tracker import TrackerConfig

GATES = (0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


def prepared_for(encoder: str, seqs: dict[str, Path], cache: Path) -> dict:
    enc = load_encoder(encoder)
    return {n: prepare(s, "det-cosmot", None, enc, encoder_identity(encoder), "sparse", cache,
                       progress=False) for n, s in seqs.items()}


def mixed(pa, pb, w: float):
    emb = np.concatenate([np.sqrt(w) * pa.embeddings, np.sqrt(1 - w) * pb.embeddings], axis=1)
    return dataclasses.replace(pa, embeddings=emb.astype(np.float32), gate=None)


def judge_row(prep: dict, dev: list[str], judge: list[str]) -> dict:
    scores = {}
    for g in GATES:
        res = score_config([prep[n] for n in dev], TrackerConfig(max_cosine_distance=g))
        scores[g] = float(np.mean([res.rows[n]["HOTA"] for n in dev]))
    gate = max(GATES, key=lambda g: (scores[g], -abs(g - 0.25)))
    res = score_config([prep[n] for n in judge], TrackerConfig(max_cosine_distance=gate))
    return {"gate": gate, "dev_sweep": scores,
            "judge": {n: {k: float(res.rows[n][k]) for k in ("HOTA", "IDF1", "IDSW")}
                      for n in judge}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dev", nargs="+", required=True)
    ap.add_argument("--judge", nargs="+", required=True)
    ap.add_argument("--a", required=True, help="first encoder (name, .pt or .onnx)")
    ap.add_argument("--b", required=True, help="second encoder")
    ap.add_argument("--mix", default="0.25,0.5,0.75", help="weights of a's distance")
    ap.add_argument("--work", type=Path, required=True,
                    help="encoder_contribution.py's --work (its seqs/ and cache/)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if set(args.dev) & set(args.judge):
        raise SystemExit("--dev and --judge must not share a sequence")
    seqs = {}
    for n in [*args.dev, *args.judge]:
        seqs[n] = args.work / "seqs" / n
        if not (seqs[n] / "det-cosmot" / "det.txt").is_file():
            raise SystemExit(f"{seqs[n]}/det-cosmot/det.txt missing: run "
                             f"encoder_contribution.py with --work {args.work} first")
    pa = prepared_for(args.a, seqs, args.work / "cache")
    pb = prepared_for(args.b, seqs, args.work / "cache")
    rows = {"a": judge_row(pa, args.dev, args.judge), "b": judge_row(pb, args.dev, args.judge)}
    for w in (float(x) for x in args.mix.split(",")):
        rows[f"mix {w:.2f}"] = judge_row({n: mixed(pa[n], pb[n], w) for n in seqs},
                                         args.dev, args.judge)
    print(f"a = {args.a}, b = {args.b}; gate chosen on {', '.join(args.dev)}; "
          f"HOTA / IDF1 / IDSW")
    print("| row | gate | " + " | ".join(args.judge) + " | mean HOTA | mean IDF1 |")
    print("|---|---|" + "---|" * len(args.judge) + "---:|---:|")
    for name, r in rows.items():
        j = r["judge"]
        cells = [f"{j[n]['HOTA']:.1f} / {j[n]['IDF1']:.1f} / {j[n]['IDSW']:.0f}"
                 for n in args.judge]
        r["mean_HOTA"] = float(np.mean([j[n]["HOTA"] for n in args.judge]))
        r["mean_IDF1"] = float(np.mean([j[n]["IDF1"] for n in args.judge]))
        print(f"| {name} | {r['gate']:.2f} | " + " | ".join(cells) +
              f" | {r['mean_HOTA']:.1f} | {r['mean_IDF1']:.1f} |")
    if args.json:
        args.json.write_text(json.dumps({"a": args.a, "b": args.b, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
