#!/usr/bin/env bash
# The t_m trade-off grid of docs/tradeoff.md, one run at a time, resumable:
# run it again (after a kill, or in the next session) and each finished run is
# skipped, an interrupted one goes on with --resume, the rest start in order.
#
#   scripts/tradeoff_grid.sh esc10 RUNS [FOLD]     # default fold 1
#
# First the fold's teacher (ERANN-4x2-2, the shipped erann-esc10's configuration,
# with the paper's esc10 recipe, 170 epochs, never seeing FOLD), then for W = 1 at
# t_m 1, 2, 4, 8 and for ERANN-4x4-2 a run trained alone and one distilled from
# the teacher, all with the esc10-cpu recipe for 60 epochs. Then
#   python benchmarks/tradeoff.py RUNS/esc10-fold1-* --png docs/tradeoff.png
set -euo pipefail
dataset=$1 runs=$2 fold=${3:-1}
data=${DATA:-../shared/data/$dataset}
mkdir -p "$runs"

run() {  # NAME FLAGS...: train into RUNS/NAME unless it has finished
    local out=$runs/$1
    shift
    if [ -f "$out/metrics.json" ] && python3 -c "
import json, sys; m = json.load(open(sys.argv[1]))
sys.exit(m['epochs'] != m['planned_epochs'])" "$out/metrics.json"; then
        echo "== $out: finished"
    elif [ -f "$out/config.json" ]; then  # a time limit it began with no longer holds
        echo "== $out: resuming"
        erann train --resume --output "$out" --data "$data" --max-minutes 1e9
    else
        echo "== $out: starting"
        erann train --data "$data" --fold "$fold" --output "$out" "$@"
    fi
}

case $dataset in
esc10)
    teacher=$runs/esc10-fold$fold-teacher-4x2-2
    run "$(basename "$teacher")" --recipe esc10 --model ERANN-4x2-2 --epochs 170
    for model in 4x1-1 4x2-1 4x4-1 4x8-1 4x4-2; do
        run "esc10-fold$fold-$model" --recipe esc10-cpu --model "ERANN-$model" --epochs 60
        run "esc10-fold$fold-$model-taught" --recipe esc10-cpu --model "ERANN-$model" \
            --epochs 60 --teacher "$teacher"
    done
    ;;
*)
    echo "tradeoff_grid.sh: dataset $dataset: only esc10 is scripted" >&2
    exit 2
    ;;
esac
