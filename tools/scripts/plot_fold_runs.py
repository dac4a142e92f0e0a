"""Every judged student of one fold on one picture: mean HOTA against mean IDF1.

    python tools/scripts/plot_fold_runs.py --out docs/images/foldB_runs.png \\
        --json runs/contrib/foldB-*.json --point "recipe s0=52.0,70.1" ... \\
        --ref "OSNet-x0.25=53.27,72.46" --bar 52.38,69.59

Each ``--json`` is an ``encoder_contribution.py`` / ``encoder_fold.sh judge`` result: its
candidates become points, its motion-only row (``none``) a reference cross. ``--point
LABEL=HOTA,IDF1`` adds a run whose JSON is not at hand, from its record in
appearance/README.md; ``--rename RUN=LABEL`` names a JSON's run (its folder without the ``foldB-`` prefix) on the
picture; ``--ref`` adds a labelled reference (drawn as a star), ``--bar`` the
"promising" bars as dashed lines. Points are coloured by the label's family: the text before
its last `` s<N>`` seed suffix, so the seeds of one change share a colour. Needs matplotlib
(``cosmot[eval]``).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path


def parse_pair(text: str, option: str) -> tuple[float, float]:
    try:
        hota, idf1 = (float(v) for v in text.split(","))
    except ValueError:
        sys.exit(f"{option}: expected HOTA,IDF1 (two numbers), got {text!r}")
    return hota, idf1


def parse_labelled(text: str, option: str) -> tuple[str, float, float]:
    label, sep, pair = text.rpartition("=")
    if not sep or not label:
        sys.exit(f"{option}: expected LABEL=HOTA,IDF1, got {text!r}")
    return (label, *parse_pair(pair, option))


def read_judged(path: Path) -> tuple[list[tuple[str, float, float]], tuple[float, float] | None]:
    """(candidates as (label, HOTA, IDF1), motion-only (HOTA, IDF1) or None) of one judge JSON."""
    try:
        encoders = json.loads(path.read_text())["encoders"]
    except (OSError, ValueError, KeyError) as err:
        sys.exit(f"{path}: not an encoder_contribution.py result ({err}); "
                 "make it with tools/scripts/encoder_fold.sh judge FOLD RUN JSON")
    points, motion = [], None
    for name, row in encoders.items():
        pair = (row["mean_HOTA"], row["mean_IDF1"])
        if name == "none":
            motion = pair
        else:  # "foldB-rel1-s1/last.pt" -> "rel1 s1"
            run = name.split("/")[0]
            run = re.sub(r"^fold[AB]-", "", run)
            points.append((re.sub(r"-s(\d+)$", r" s\1", run), *pair))
    return points, motion


def family(label: str) -> str:
    return re.sub(r" s\d+$", "", label)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", nargs="*", default=[], type=Path, help="judge results")
    ap.add_argument("--point", action="append", default=[], help="LABEL=HOTA,IDF1")
    ap.add_argument("--rename", action="append", default=[], help="RUN=LABEL for a JSON's run")
    ap.add_argument("--ref", action="append", default=[], help="LABEL=HOTA,IDF1 (a star)")
    ap.add_argument("--bar", help="HOTA,IDF1: the promising bars (dashed lines)")
    ap.add_argument("--title", default="")
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args(argv)

    rename = {}
    for text in args.rename:
        old, sep, new = text.partition("=")
        if not sep or not old or not new:
            sys.exit(f"--rename: expected RUN=LABEL, got {text!r}")
        rename[old] = new
    points, motion = [], None
    for path in args.json:
        found, none = read_judged(path)
        points += [(rename.get(label, label), h, f) for label, h, f in found]
        motion = motion or none
    points += [parse_labelled(p, "--point") for p in args.point]
    refs = [parse_labelled(r, "--ref") for r in args.ref]
    if not points:
        sys.exit("nothing to plot: give --json judge results or --point LABEL=HOTA,IDF1")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("plotting needs matplotlib: pip install 'cosmot[eval]'")

    fig, ax = plt.subplots(figsize=(8, 5.5))
    families = sorted({family(label) for label, _, _ in points})
    colours = plt.get_cmap("tab10")
    xs = [h for _, h, _ in points] + [h for _, h, _ in refs]
    ys = [f for _, _, f in points] + [f for _, _, f in refs]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    # a label goes to the side of its point (right-up, left-down, right-down, left-up) whose
    # corner is farthest from every other point, so labels in a cluster do not overlap them
    sides = [((4, 3), "left", 1, 1), ((-4, -10), "right", -1, -1),
             ((4, -10), "left", 1, -1), ((-4, 3), "right", -1, 1)]
    for i, fam in enumerate(families):
        mine = [(label, h, f) for label, h, f in points if family(label) == fam]
        ax.scatter([h for _, h, _ in mine], [f for _, _, f in mine], color=colours(i % 10),
                   s=40, label=fam, zorder=3)
        for label, h, f in mine:
            def room(side):
                cx, cy = h / span_x + 0.04 * side[2], f / span_y + 0.03 * side[3]
                return min(((x / span_x - cx) ** 2 + (y / span_y - cy) ** 2
                            for x, y in zip(xs, ys) if (x, y) != (h, f)), default=1.0)
            offset, align, _, _ = max(sides, key=room)
            ax.annotate(label, (h, f), textcoords="offset points", fontsize=7,
                        xytext=offset, ha=align)
    for label, h, f in refs + ([("motion only", *motion)] if motion else []):
        ax.scatter([h], [f], marker="*" if label != "motion only" else "x", s=120,
                   color="black", zorder=4)
        ax.annotate(label, (h, f), textcoords="offset points", xytext=(5, -10), fontsize=8)
    if args.bar:
        bar_h, bar_f = parse_pair(args.bar, "--bar")
        ax.axvline(bar_h, ls="--", color="grey", lw=1)
        ax.axhline(bar_f, ls="--", color="grey", lw=1)
        ax.annotate("promising: right of and above the dashed lines", (bar_h, bar_f),
                    textcoords="offset points", xytext=(4, -12), fontsize=7, color="grey")
    ax.set_xlabel("mean HOTA on the judging pair")
    ax.set_ylabel("mean IDF1 on the judging pair")
    if args.title:
        ax.set_title(args.title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"-> {args.out} ({len(points)} runs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
