"""Whole-epoch time of `erann train`, validation included: the wall time
between Keras's "Epoch k/N" lines of a real run, for one or more copies of
the package (to compare commits) and one or more sets of extra flags.

The first epoch (tracing) and the last (final evaluation and files) are
reported apart; "epoch" is the median of the others, so give --epochs 4 or more.
A copy of an older commit is made with `git archive COMMIT erann_tf | tar -x -C DIR`.

    python benchmarks/train_epoch.py --code /tmp/before --code . \\
        --variant "" --variant "--validate-every 5" -- \\
        --recipe esc10-cpu --data ../shared/data/esc10 --fold 1 --epochs 5
"""

import argparse
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

EPOCH_LINE = re.compile(r"\s*Epoch \d+/\d+")


def epoch_laps(code, train_args):
    """Seconds from each "Epoch k/N" line to the next (the last to the exit)."""
    env = dict(os.environ, PYTHONPATH=os.path.abspath(code), PYTHONUNBUFFERED="1")
    # -P: the working directory's erann_tf must not shadow `code`'s
    command = [sys.executable, "-P", "-m", "erann_tf.cli", "train", *train_args]
    marks, line, last = [], "", ""
    with subprocess.Popen(
        command, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as process:
        for char in iter(lambda: process.stdout.read(1), ""):
            if char in "\r\n":
                if EPOCH_LINE.match(line):
                    marks.append(time.perf_counter())
                last, line = line or last, ""
            else:
                line += char
    if process.returncode:
        raise SystemExit(f"erann train {shlex.join(train_args)} failed: {last}")
    if not marks:
        raise SystemExit(f"erann train {shlex.join(train_args)} printed no epochs: {last}")
    return [b - a for a, b in zip(marks, [*marks[1:], time.perf_counter()], strict=True)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", action="append", help="a copy of the package (default: .)")
    parser.add_argument("--variant", action="append", help='extra flags, e.g. "--precision bf16"')
    parser.add_argument("train_args", nargs=argparse.REMAINDER, help="-- then erann train's flags")
    args = parser.parse_args()
    train_args = [a for a in args.train_args if a != "--"]
    print("| code | flags | first epoch s | epoch s (median of the middle) | last epoch s |")
    print("| --- | --- | --- | --- | --- |")
    for code in args.code or ["."]:
        for variant in args.variant or [""]:
            with tempfile.TemporaryDirectory() as output:
                flags = [*train_args, *shlex.split(variant), "--output", f"{output}/run"]
                laps = epoch_laps(code, flags)
            middle = statistics.median(laps[1:-1]) if len(laps) > 2 else float("nan")
            print(f"| {code} | {variant} | {laps[0]:.1f} | {middle:.1f} | {laps[-1]:.1f} |")


if __name__ == "__main__":
    main()
