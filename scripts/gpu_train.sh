#!/usr/bin/env bash
# Train one dataset's shipped model and its cross-validation side by side on one
# GPU, on the JAX backend, without TensorFlow (the PyDataset transport), each
# process stopping cleanly after --max-minutes. Used on the lent GPU machine,
# where the data and the wheels travel in ignored folders of the checkout:
# `scripts/gpu_trip.sh pack DATASET` readies them and prints the command,
# `scripts/gpu_trip.sh unpack FOLDER` brings the runs back into runs/.
#
#   scripts/gpu_train.sh RECIPE DATA MODEL PAPER_MODEL MINUTES OUT [TRAIN FLAGS...]
#
# Runs: RUNS/RECIPE-final (every clip, the model to ship), RUNS/RECIPE-cv (one
# process per fold, `erann cv --folds K`), RUNS/RECIPE-paper-cv (PAPER_MODEL on
# the first fold) and, with BALANCED=1, RUNS/RECIPE-balanced-cv (class-balanced
# sampling, first fold). FOLDS="a b" limits the cross-validation to those folds;
# PAPER_MODEL "-" skips the paper run. OUT receives the run folders without weights
# (RECIPE-runs.tgz) and the final model in 15 MiB parts (RECIPE-final.keras.part-*).
# With BN_CHECK=N, benchmarks/bn_recalibration.py then scores each fold's last
# checkpoint with and without batch norm re-estimated on N batches (RECIPE-bn.txt).
set -uo pipefail
recipe=$1 data=$2 model=$3 paper=$4 minutes=$5 out=$6
shift 6
runs=${RUNS:-/tmp/runs}
mkdir -p "$runs" "$out"
export KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false PYTHONUNBUFFERED=1
erann() { python3 -m erann_tf.cli "$@"; }
common=(--recipe "$recipe" --data "$data" --transport pydataset --precision bf16
    --checkpoint-every 100000 --max-minutes "$minutes" --epochs 100000 "$@")
folds=$(python3 -c "
from erann_tf.data.layouts import read_clips
print(' '.join(read_clips('$recipe', '$data', progress=False).folds()))")
folds=${FOLDS:-$folds}
first=${folds%% *}
echo "folds: $folds"

pids=()
erann train "${common[@]}" --model "$model" --output "$runs/$recipe-final" \
    >"$runs/$recipe-final.log" 2>&1 &
pids+=($!)
for fold in $folds; do
    erann cv "${common[@]}" --model "$model" --folds "$fold" --output "$runs/$recipe-cv" \
        >"$runs/$recipe-cv-$fold.log" 2>&1 &
    pids+=($!)
done
if [ "$paper" != - ]; then
    erann cv "${common[@]}" --model "$paper" --folds "$first" --output "$runs/$recipe-paper-cv" \
        >"$runs/$recipe-paper.log" 2>&1 &
    pids+=($!)
fi
if [ -n "${BALANCED:-}" ]; then
    erann cv "${common[@]}" --model "$model" --balanced --folds "$first" \
        --output "$runs/$recipe-balanced-cv" >"$runs/$recipe-balanced.log" 2>&1 &
    pids+=($!)
fi
for pid in "${pids[@]}"; do wait "$pid" || echo "process $pid exited $?"; done
nvidia-smi --query-gpu=name,memory.used --format=csv || true

for log in "$runs/$recipe"-*.log; do
    echo "== $log"
    tr '\r' '\n' <"$log" | grep -v "^\s*$" | grep -vE "━" | tail -n 12
done
tar czf "$out/$recipe-runs.tgz" -C "$runs" --exclude='*.keras' --exclude='*.npz' --exclude=logs \
    $(cd "$runs" && ls -d "$recipe"-*/)
split -b 15M "$runs/$recipe-final/final.keras" "$out/$recipe-final.keras.part-"
ls -la "$out"

if [ -n "${BN_CHECK:-}" ]; then
    pids=()
    for fold in $folds; do
        python3 benchmarks/bn_recalibration.py "$runs/$recipe-cv/fold-$fold" --batches "$BN_CHECK" \
            >"$runs/bn-$fold.log" 2>&1 &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || echo "process $pid exited $?"; done
    for fold in $folds; do grep "^|" "$runs/bn-$fold.log" || tail -n 5 "$runs/bn-$fold.log"; done \
        | tee "$out/$recipe-bn.txt"
fi
