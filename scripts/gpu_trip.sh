#!/usr/bin/env bash
# Ready the checkout for a trip to the lent GPU machine, and put it back after.
#
#   scripts/gpu_trip.sh pack DATASET...     e.g. pack ravdess
#   scripts/gpu_trip.sh unpack FOLDER       the folder the run's files came back to
#
# What travels is the working tree, at most 64 MiB: the machine has no network,
# no TensorFlow and no ../shared. `pack` therefore fetches the cp312 wheels the
# JAX transport needs into .whl/, copies ../shared/data/DATASET into .gpudata/
# (both ignored through .git/info/exclude, never committed), and takes the
# committed savedmodels/ (about 95 MB) out of the working tree; it prints the
# command to run there, with `carry` [".whl", ".gpudata"].
# `unpack` restores savedmodels/ from git, removes .gpudata/, unpacks every
# RECIPE-runs.tgz into runs/, joins RECIPE-final.keras.part-* into
# runs/RECIPE-final/final.keras, and points the runs' config.json at
# ../shared/data/DATASET and runs/... again, so exported metadata and the
# commands it records name no machine's paths.
set -euo pipefail
cd "$(dirname "$0")/.."

exclude() { grep -qxF "$1" .git/info/exclude 2>/dev/null || echo "$1" >>.git/info/exclude; }

wheels() {  # the versions setup.py pins, and what they need that the machine lacks
    local pins pin fresh=1
    pins=$(grep -oE '"(keras|soundfile|soxr)==[^"]+"' setup.py | tr -d '"')
    for pin in $pins; do
        ls .whl/"${pin%%==*}-${pin##*==}"-*.whl >/dev/null 2>&1 || fresh=0
    done
    [ $fresh = 1 ] && return  # two versions of one package would stop the install there
    rm -rf .whl
    # shellcheck disable=SC2086
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any \
        -d .whl $pins cffi pycparser optree namex
}

pack() {
    [ $# -gt 0 ] || { echo "gpu_trip.sh pack: name at least one dataset of ../shared/data" >&2; exit 2; }
    if [ -d savedmodels ] && ! git diff --quiet HEAD -- savedmodels; then
        echo "gpu_trip.sh pack: savedmodels/ has uncommitted changes; commit them first" >&2
        exit 1
    fi  # (no savedmodels/: packed already, for another dataset)
    exclude /.whl/
    exclude /.gpudata/
    wheels
    mkdir -p .gpudata
    for name in "$@"; do
        [ -d "../shared/data/$name" ] || { echo "gpu_trip.sh pack: ../shared/data/$name: no such folder" >&2; exit 2; }
        rm -rf ".gpudata/$name"
        cp -r "../shared/data/$name" ".gpudata/$name"
    done
    rm -rf savedmodels
    python3 - <<'EOF'
import os, subprocess
listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                        capture_output=True, check=True).stdout.decode().split("\0")
carried = [os.path.join(top, name) for folder in (".whl", ".gpudata")
           for top, _, names in os.walk(folder) for name in names]
size = sum(os.path.getsize(path) for path in listed + carried if os.path.isfile(path))
print(f'travels: {size / 2**20:.1f} MiB of 64 (carry [".whl", ".gpudata"])')
EOF
    echo "run there, for example:"
    echo "python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade" \
        "--target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site || exit;" \
        "RUNS=runs scripts/gpu_train.sh $1 .gpudata/$1 MODEL - MINUTES \$OUT [TRAIN FLAGS]"
}

unpack() {
    local back=${1:?gpu_trip.sh unpack: give the folder the files came back to}
    git checkout -- savedmodels
    rm -rf .gpudata
    [ -d "$back" ] || { echo "gpu_trip.sh unpack: $back: no such folder (savedmodels/ is back)" >&2; exit 2; }
    mkdir -p runs
    for tgz in "$back"/*-runs.tgz; do
        [ -e "$tgz" ] && tar xzf "$tgz" -C runs
    done
    for first in "$back"/*-final.keras.part-aa; do
        [ -e "$first" ] || continue
        local run
        run=$(basename "$first" .keras.part-aa)
        cat "${first%aa}"* >"runs/$run/final.keras.partial"
        mv "runs/$run/final.keras.partial" "runs/$run/final.keras"
    done
    python3 - <<'EOF'
import json, pathlib
for path in pathlib.Path("runs").glob("**/config.json"):
    config = json.loads(path.read_text())
    data = config.get("data") or ""
    if data.startswith(".gpudata/"):  # and its output, where the run now is
        config["data"] = "../shared/data/" + data.removeprefix(".gpudata/")
        config["output"] = str(path.parent)
        path.with_suffix(".partial").write_text(json.dumps(config, indent=2))
        path.with_suffix(".partial").replace(path)
        print(f"{path}: data {config['data']}, output {config['output']}")
EOF
}

case "${1:-}" in
    pack) shift; pack "$@" ;;
    unpack) shift; unpack "$@" ;;
    *) echo "usage: scripts/gpu_trip.sh pack DATASET... | unpack FOLDER" >&2; exit 2 ;;
esac
