"""``cosmot tune`` and ``cosmot ablate``: search and compare tracker configurations with TrackEval.

``tune`` runs every combination of ``--grid key=v1,v2,...`` values on the given sequences and
prints a table ranked by ``--metric``. ``ablate`` switches each improvement on alone over plain
Deep SORT, and off alone from the default configuration. Detections, embeddings and camera
motion are computed once per sequence (``--cache DIR`` keeps them on disk between runs).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
from dataclasses import dataclass, field

from cosmot.tracker import PRESETS, TrackerConfig

from cosmot.cli.options import add_config_options, config_from_args
from cosmot.settings import parse_field
from cosmot.evaluation.mot_metrics import EvalResult
from cosmot.pipeline.prepared import prepare, score_config
from cosmot.cli.options import finite_number

METRICS = ("HOTA", "MOTA", "IDF1", "IDSW", "AssA", "DetA")


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("sequences", nargs="+", metavar="SEQ_DIR")
    p.add_argument("--det", default="det", metavar="NAME", help="SEQ_DIR/NAME/det.txt")
    p.add_argument("--min-score", type=finite_number, default=None,
                   help="detections below this score are not used to start or update tracks")
    p.add_argument("--low-score", type=float, default=None,
                   help="also read detections down to this score, for the BYTE stage")
    p.add_argument("--encoder", default="default",
                   help="appearance encoder ('default', 'none' for motion only, a path)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--cache", default=None, metavar="DIR",
                   help="keep embeddings and camera motion here between runs")
    p.add_argument("--csv", default=None, metavar="FILE", help="also write the table as CSV")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tune", help="grid search over tracker settings, ranked by a metric",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_common(p)
    add_config_options(p)
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="values to try for one TrackerConfig field (repeatable)")
    p.add_argument("--cmc", choices=["none", "sparse", "ecc"], default="none")
    p.add_argument("--metric", choices=METRICS, default="HOTA", help="ranking metric")
    p.add_argument("--top", type=int, default=20, help="rows to print")
    p.set_defaults(func=run_tune)

    a = sub.add_parser("ablate", help="each improvement on/off against plain Deep SORT",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_common(a)
    a.add_argument("--base", default="default", choices=sorted(PRESETS),
                   help="the full configuration whose features are switched off one at a time")
    a.set_defaults(func=run_ablate)


def _prepare_all(args, cmc: str, foreground: bool = False):
    from cosmot.appearance.registry import encoder_from_name, encoder_identity

    encoder = encoder_from_name(args.encoder, args.device)
    read_score = args.low_score if args.low_score is not None else args.min_score
    return [prepare(s, args.det, read_score, encoder, encoder_identity(args.encoder), cmc,
                    args.cache, foreground=foreground)
            for s in args.sequences]


@dataclass(frozen=True)
class Trial:
    name: str
    config: TrackerConfig
    use_cmc: bool = False
    interpolate: int = 0
    smooth: bool = False
    settings: dict = field(default_factory=dict)


def _score(prepared, trial: Trial) -> EvalResult:
    runs = prepared if trial.use_cmc else [dataclasses.replace(p, warps=None) for p in prepared]
    return score_config(runs, trial.config, interpolate=trial.interpolate, smooth=trial.smooth)


def _table(rows: list[tuple[str, dict]], key_label: str) -> str:
    width = max([len(key_label)] + [len(n) for n, _ in rows]) + 2
    head = f"{key_label:<{width}}" + "".join(f"{m:>8}" for m in METRICS)
    lines = [head]
    for name, vals in rows:
        lines.append(f"{name:<{width}}" + "".join(
            f"{vals[m]:>8.0f}" if m == "IDSW" else f"{vals[m]:>8.1f}" for m in METRICS))
    return "\n".join(lines)


def _write_csv(path, rows: list[tuple[str, dict]]) -> None:
    with open(path, "w") as f:
        f.write("configuration," + ",".join(METRICS) + "\n")
        for name, vals in rows:
            f.write(f'"{name}",' + ",".join(f"{vals[m]:.4f}" for m in METRICS) + "\n")


def run_tune(args: argparse.Namespace) -> int:
    base = config_from_args(args, **({"min_score": args.min_score}
                                     if args.min_score is not None else {}))
    fields = {f: None for f in TrackerConfig.__dataclass_fields__}
    axes = []
    for g in args.grid:
        if "=" not in g:
            raise ValueError(f"--grid {g!r}: expected KEY=V1,V2,...")
        key, values = g.split("=", 1)
        if key not in fields:
            raise ValueError(f"--grid {key}: not a TrackerConfig field")
        try:
            axes.append((key, [parse_field(TrackerConfig, key, v.strip())
                               for v in values.split(",") if v.strip()]))
        except ValueError as e:
            raise ValueError(f"--grid {g}: {e}") from None
    combos = list(itertools.product(*[v for _, v in axes])) or [()]
    trials = [base.replace(**dict(zip([k for k, _ in axes], c))) for c in combos]
    prepared = _prepare_all(args, args.cmc, foreground=any(
        t.min_foreground > float("-inf") for t in trials))
    results = []
    for combo in combos:
        settings = dict(zip([k for k, _ in axes], combo))
        name = " ".join(f"{k}={v}" for k, v in settings.items()) or args.preset
        trial = Trial(name, base.replace(**settings), use_cmc=args.cmc != "none")
        vals = _score(prepared, trial).rows
        vals = vals.get("COMBINED", next(iter(vals.values())))
        results.append((name, vals))
        print(f"  {name}: {args.metric} {vals[args.metric]:.2f}", file=sys.stderr)
    sign = 1 if args.metric == "IDSW" else -1
    results.sort(key=lambda r: sign * r[1][args.metric])
    print(_table(results[: args.top], f"ranked by {args.metric}"))
    if args.csv:
        _write_csv(args.csv, results)
    return 0


def ablation_trials(base: TrackerConfig, plain: TrackerConfig, has_low: bool
                    ) -> list[Trial]:
    """Plain Deep SORT, each feature alone on top of it, the default configuration, the default
    with each of its features taken out, and the default with the optional extras added."""
    def on(field_name: str, standard):
        """The full configuration's value where it differs from plain, else a standard one."""
        value = getattr(base, field_name)
        return value if value != getattr(plain, field_name) else standard

    features = {
        "IoU-stage appearance veto": dict(iou_max_cosine_distance=on("iou_max_cosine_distance",
                                                                      0.3)),
        "EMA features": dict(feature_mode="ema", ema_alpha=base.ema_alpha),
        "motion in appearance cost": dict(motion_weight=on("motion_weight", 0.02)),
        "global assignment (no cascade)": dict(matching_cascade=False),
        "NSA Kalman": dict(nsa_kalman=True),
        "OC re-update": dict(oc_reupdate=True),
        "lost-track gallery": dict(lost_gallery_seconds=on("lost_gallery_seconds", 10.0)),
        "IoU stage for tracks missed longer": dict(
            iou_max_time_since_update=on("iou_max_time_since_update", 3)),
        "max_age": dict(max_age=on("max_age", 60)),
        "n_init": dict(n_init=on("n_init", 2)),
        "max_cosine_distance": dict(max_cosine_distance=on("max_cosine_distance", 0.3)),
    }
    if has_low:
        features["BYTE stage"] = dict(byte_association=True, low_score=base.low_score)
    features = {k: v for k, v in features.items()
                if any(getattr(plain, f) != x for f, x in v.items())}
    trials = [Trial("Deep SORT (plain)", plain)]
    for name, change in features.items():
        label = ", ".join(f"{k}={v}" for k, v in change.items())
        trials.append(Trial(f"+ {name} ({label})", plain.replace(**change)))
    trials.append(Trial("+ camera-motion compensation", plain, use_cmc=True))
    trials.append(Trial("+ interpolation (offline)", plain, interpolate=10))
    trials.append(Trial("+ RTS smoothing (offline)", plain, smooth=True))
    trials.append(Trial("default", base))
    plain_values = {f: getattr(plain, f) for f in TrackerConfig.__dataclass_fields__}
    for name, change in features.items():
        if all(getattr(base, k) == v for k, v in change.items()):
            undo = {k: plain_values[k] for k in change}
            trials.append(Trial(f"default - {name}", base.replace(**undo)))
    trials.append(Trial("default + camera-motion compensation", base, use_cmc=True))
    trials.append(Trial("default + interpolation + RTS smoothing (offline)", base,
                        interpolate=10, smooth=True))
    return trials


def run_ablate(args: argparse.Namespace) -> int:
    extra = {} if args.min_score is None else {"min_score": args.min_score}
    base = PRESETS[args.base].replace(**extra)
    plain = PRESETS["deepsort"].replace(**extra)
    if args.low_score is not None:
        base = base.replace(low_score=args.low_score)
    prepared = _prepare_all(args, "sparse")
    rows = []
    for trial in ablation_trials(base, plain, args.low_score is not None):
        vals = _score(prepared, trial).rows
        vals = vals.get("COMBINED", next(iter(vals.values())))
        rows.append((trial.name, vals))
        print(f"  {trial.name}: HOTA {vals['HOTA']:.2f}", file=sys.stderr)
    print(_table(rows, "configuration"))
    if args.csv:
        _write_csv(args.csv, rows)
    return 0
