#!/usr/bin/env bash
# The distillation recipe of appearance/README.md on one fold: train, then judge.
#
#   tools/scripts/encoder_fold.sh train FOLD SEED OUT [EXTRA TRAIN OPTIONS...]
#   tools/scripts/encoder_fold.sh judge FOLD OUT [JSON]
#
# FOLD A trains without PETS09-S2L1 and TUD-Stadtmitte and is judged on them (gates chosen on
# MOT16-11 + KITTI-17); FOLD B the other way round. The recipe: `cosmot reid train --recipe
# v3` (appearance/recipes.py: the multi-similarity 0.1 run of the README, the one every later
# protocol changes one thing against; tests/test_appearance_recipes.py checks it equals that
# run's explicit command). EXTRA adds one change (e.g. --domain-aug, --xbm 2048). Training is
# resumable: `cosmot reid train --resume OUT`.
#
# The crop pool and the held-out crops, once per machine (~3 min; the teacher cache ~4 min on
# the first training):
#   cosmot reid build-crops --preset pool                         # -> pool256.npz
#   cosmot reid build-crops --preset heldout                      # fold A's judging crops
#   cosmot reid build-crops --preset heldout --mot MOT16-11 KITTI-17 \
#       --out ~/.cache/cosmot/reid/heldout-foldB.npz              # fold B's
#
# Judging: tools/scripts/encoder_contribution.py with motion only and the candidate (the v1
# and OSNet rows are deterministic and on record in appearance/README.md), gates 0.02-0.5 by
# the argmax rule on the fold's dev pair, then `cosmot reid eval` on the fold's held-out crops.
set -euo pipefail

CACHE=${COSMOT_CACHE:-$HOME/.cache/cosmot}/reid
PY=${PYTHON:-python}
GATES=0.02,0.05,0.1,0.15,0.2,0.25,0.3,0.4,0.5

fold_sets() {
    case "$1" in
        # ALLOW: fold B trains on the held-out sequences PETS09-S2L1 / TUD-Stadtmitte on purpose
        A) DEV="MOT16-11 KITTI-17"; JUDGE="PETS09-S2L1 TUD-Stadtmitte"; ALLOW=()
           HELDOUT=$CACHE/heldout.npz ;;
        B) DEV="PETS09-S2L1 TUD-Stadtmitte"; JUDGE="MOT16-11 KITTI-17"; ALLOW=(--allow-heldout)
           HELDOUT=$CACHE/heldout-foldB.npz ;;
        *) echo "FOLD must be A or B, got '$1'" >&2; exit 2 ;;
    esac
}

case "${1:-}" in
    train)
        [ $# -ge 4 ] || { echo "usage: $0 train FOLD SEED OUT [EXTRA...]" >&2; exit 2; }
        fold_sets "$2"; SEED=$3; OUT=$4; shift 4
        # shellcheck disable=SC2086
        exec cosmot reid train --recipe v3 --exclude-sources $JUDGE "${ALLOW[@]}" \
            --seed "$SEED" --out "$OUT" --quiet "$@"
        ;;
    judge)
        [ $# -ge 3 ] || { echo "usage: $0 judge FOLD OUT [JSON]" >&2; exit 2; }
        fold_sets "$2"; OUT=$3; JSON=${4:-$OUT/judge.json}
        # shellcheck disable=SC2086
        "$PY" "$(dirname "$0")/encoder_contribution.py" --dev $DEV --judge $JUDGE \
            --encoder none --encoder "$OUT/last.pt" --gates "$GATES" \
            --work runs/contrib --json "$JSON"
        cosmot reid eval --crops "$HELDOUT" --encoders "$OUT/last.pt"
        ;;
    *)
        sed -n '2,24p' "$0" >&2; exit 2 ;;
esac
