#!/usr/bin/env bash
# The t_m trade-off grid of docs/tradeoff.md, resumable: run it again (after a
# kill, or in the next session) and each finished run is skipped (a student
# also when RECORDS holds it: a new machine has no run folders), an interrupted
# one goes on with --resume, the rest start in order.
#
#   scripts/tradeoff_grid.sh esc10|ravdess RUNS [FOLD]     # default fold 1
#
# First the fold's teacher (unless every taught student is done), never seeing
# FOLD: the shipped big model's configuration and recipe, on the students' crops
# (ESC-10: ERANN-4x2-2, one-cycle at 5e-4, 80 epochs; RAVDESS: ERANN-3x1-2, 130
# epochs in bfloat16). Then for each student (ESC-10: W = 1 at t_m 1, 2, 4, 8 and ERANN-4x4-2;
# RAVDESS: W = 1 at t_m 2 and 4) a run distilled from the teacher and, once every
# student is taught, one trained alone, with the CPU recipe (esc10-cpu,
# ravdess-cpu) for 60 epochs. Then (docs/tradeoff.md)
#   python benchmarks/tradeoff.py docs/tradeoff/records/esc10-fold* --png docs/tradeoff.png
#
# Environment (defaults for this CPU, one run at a time):
#   DATA      the dataset's folder (../shared/data/DATASET)
#   ERANN     the command (erann; on the GPU machine "python3 -m erann_tf.cli")
#   FLAGS     flags for every run, e.g. "--transport pydataset --precision bf16"
#   PARALLEL  1: the students all at once once the teacher has finished (a GPU),
#             each logging to RUNS/logs/NAME.log
#   MODELS    the students' configurations, in the order to train them
#   ALONE     1: only the students alone, no teacher (a fold whose teacher is
#             beyond this sitting's compute)
#   TEACHER_ONLY  1: only the fold's teacher, whatever is recorded (a longer run
#             taught by it, on a machine without its folder), then stop
#   SEED      the students' seed (default 0); another adds "-seedN" to their
#             names, to measure the spread of a point (the teacher keeps seed 0)
#   EPOCHS, TEACHER_EPOCHS   the students' and the teacher's epochs
#   TEACHER_FLAGS   more flags for the teacher alone
#   RECORDS   copy each finished run's small files (config, history, metrics,
#             clips, labels: what tradeoff.py reads) to RECORDS/NAME, e.g.
#             docs/tradeoff/records, so the table outlives the run folders
#
# On the lent GPU (JAX, no TensorFlow), after `scripts/gpu_trip.sh pack esc10`,
# one call of about 9 minutes with carry [".whl", ".gpudata"]:
#   python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
#   export PYTHONPATH=/tmp/site KERAS_BACKEND=jax XLA_PYTHON_CLIENT_PREALLOCATE=false
#   DATA=.gpudata/esc10 ERANN="python3 -m erann_tf.cli" PARALLEL=1 RECORDS=$OUT/records \
#     FLAGS="--transport pydataset --precision bf16" timeout 520 \
#     scripts/tradeoff_grid.sh esc10 /tmp/tradeoff 1
#   split -b 15M /tmp/tradeoff/esc10-fold1-teacher-4x2-2/final.keras \
#     $OUT/esc10-fold1-teacher-4x2-2-final.keras.part-
set -euo pipefail
dataset=$1 runs=$2 fold=${3:-1}
data=${DATA:-../shared/data/$dataset}
read -ra erann <<<"${ERANN:-erann}"
read -ra flags <<<"${FLAGS:-}"
mkdir -p "$runs"

finished() {  # FOLDER: a run folder (or its records) that trained all its planned epochs
    python3 -c "
import json, sys; m = json.load(open(sys.argv[1]))
sys.exit(m['epochs'] != m['planned_epochs'])" "$1/metrics.json" 2>/dev/null
}

recorded() {  # NAME: RECORDS holds NAME's finished run
    [ -n "${RECORDS:-}" ] && finished "$RECORDS/$1"
}

run() {  # NAME FLAGS...: train into RUNS/NAME unless it has finished (a student: or is recorded)
    local name=$1 out=$runs/$1
    shift
    if finished "$out"; then
        echo "== $out: finished"
    elif [ "$name" != "$teacher" ] && recorded "$name"; then
        echo "== $RECORDS/$name: finished in an earlier session"
    elif [ -f "$out/config.json" ]; then  # a time limit it began with no longer holds
        echo "== $out: resuming"
        "${erann[@]}" train --resume --output "$out" --data "$data" --max-minutes 1e9 "${flags[@]}"
    else
        echo "== $out: starting"
        "${erann[@]}" train --data "$data" --fold "$fold" --output "$out" "$@" "${flags[@]}"
    fi
    finished "$out" && keep "$name"
    return 0
}

keep() {  # NAME: RUNS/NAME's records to RECORDS/NAME, when RECORDS is set
    [ -n "${RECORDS:-}" ] || return 0
    mkdir -p "$RECORDS/$1"
    cp "$runs/$1"/{config,history,metrics,clips}.json "$runs/$1/labels.txt" "$RECORDS/$1/"
}

student() {  # NAME FLAGS...: `run`, in the background with its own log when PARALLEL=1
    if [ "${PARALLEL:-0}" = 1 ]; then
        mkdir -p "$runs/logs"
        run "$@" >"$runs/logs/$1.log" 2>&1 &
    else
        run "$@"
    fi
}

# Per dataset: the teacher's configuration and recipe flags (the shipped big
# model's, and --deterministic: a session on a new machine that must train the
# teacher again should get the same one; compare its validation scores with the
# record's history), its epochs, the students' recipe and configurations.
case $dataset in
esc10)  # the teacher trains on the students' 3.3 s crops, which it sees when it teaches
    teacher_model=4x2-2 teacher_epochs=80
    teacher_recipe=(--recipe esc10 --crop-seconds 3.3 --schedule one_cycle --learning-rate 5e-4
        --validate-every 5 --deterministic)
    student_recipe=esc10-cpu models="4x1-1 4x2-1 4x4-1 4x8-1 4x4-2"
    ;;
ravdess)  # bf16: oneDNN's AMX kernels pay at W = 2 (docs/tradeoff.md, RAVDESS)
    teacher_model=3x1-2 teacher_epochs=130
    teacher_recipe=(--recipe ravdess --recalibrate-bn 8 --pitch-shift 3 --gain-db 6
        --precision bf16 --validate-every 5 --deterministic)
    student_recipe=ravdess-cpu models="3x2-1 3x4-1"
    ;;
*)
    echo "tradeoff_grid.sh: dataset $dataset: esc10 or ravdess" >&2
    exit 2
    ;;
esac

teacher=$dataset-fold$fold-teacher-$teacher_model
read -ra teacher_flags <<<"${TEACHER_FLAGS:-}"
untaught=0  # taught students neither finished here nor recorded: they need the teacher
suffix="" seed_flags=()
if [ "${SEED:-0}" != 0 ]; then suffix=-seed$SEED seed_flags=(--seed "$SEED"); fi
taught=${MODELS:-$models}
[ "${ALONE:-0}" = 1 ] && taught=""
for model in $taught; do
    name=$dataset-fold$fold-$model-taught$suffix
    finished "$runs/$name" || recorded "$name" || untaught=$((untaught + 1))
done
if [ $untaught -gt 0 ] || [ "${TEACHER_ONLY:-0}" = 1 ]; then
    run "$teacher" "${teacher_recipe[@]}" --model "ERANN-$teacher_model" \
        --epochs "${TEACHER_EPOCHS:-$teacher_epochs}" "${teacher_flags[@]}"
    finished "$runs/$teacher" || { echo "tradeoff_grid.sh: $runs/$teacher has not finished" >&2; exit 1; }
fi
[ "${TEACHER_ONLY:-0}" = 1 ] && exit 0
# The taught students first, while the teacher's folder exists (a new machine has none);
# the students alone need no teacher.
for model in $taught; do
    student "$dataset-fold$fold-$model-taught$suffix" --recipe "$student_recipe" \
        --model "ERANN-$model" --epochs "${EPOCHS:-60}" "${seed_flags[@]}" \
        --teacher "$runs/$teacher"
done
for model in ${MODELS:-$models}; do
    student "$dataset-fold$fold-$model$suffix" --recipe "$student_recipe" --model "ERANN-$model" \
        --epochs "${EPOCHS:-60}" "${seed_flags[@]}"
done
failed=0
for pid in $(jobs -p); do wait "$pid" || failed=1; done
[ $failed = 0 ] || { echo "tradeoff_grid.sh: a student failed; see RUNS/logs/" >&2; exit 1; }
