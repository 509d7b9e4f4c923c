"""`erann predict` and `erann --help`: wall time and peak memory, LiteRT against Keras.

Each command runs as a fresh process, as a user runs it, `--repeats` times;
the table gives the median wall time and the largest peak RSS (of the process
and its children, from getrusage). The predict rows use a shipped model on a
5 s clip: `--runtime litert` (model_float16.tflite, no TensorFlow or Keras)
beside `--runtime keras` (model.keras on TensorFlow, the path every predict
took before), and check that their clip scores agree within the float16
parity bound (0.01). The help rows time `erann --help` and each verb's.

    python benchmarks/cli_startup.py [--model erann-esc10] [--clip examples/audio/rain.wav]
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

VERBS = ("summary", "prepare", "train", "evaluate", "cv", "tune", "export", "predict")
FLOAT16_BOUND = 0.01


def run(command, repeats):
    """(median wall seconds, peak RSS in MB of the children so far, last stdout)."""
    walls, out = [], ""
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        walls.append(time.perf_counter() - started)
        out = done.stdout
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return statistics.median(walls), peak_kb / 1024, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="erann-esc10")
    parser.add_argument("--clip", default="examples/audio/rain.wav")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    erann = [sys.executable, "-m", "erann_tf.cli"]
    predict = [*erann, "predict", args.clip, "--model", args.model, "--json", "--top-k", "100"]

    # RUSAGE_CHILDREN keeps the largest child so far: run the light commands first.
    rows, scores = [], {}
    for label, command in [("erann --help", [*erann, "--help"])] + [
        (f"erann {verb} --help", [*erann, verb, "--help"]) for verb in VERBS
    ]:
        wall, rss, _ = run(command, args.repeats)
        rows.append((label, wall, rss))
    for runtime in ("litert", "keras"):
        wall, rss, out = run([*predict, "--runtime", runtime], args.repeats)
        scores[runtime] = {e["label"]: e["score"] for e in json.loads(out)["top"]}
        rows.append((f"erann predict --runtime {runtime}", wall, rss))

    print(f"{args.model} on {args.clip}, {os.cpu_count()} CPUs, median of {args.repeats} runs")
    print(f"{'command':<34} {'wall s':>8} {'peak RSS MB':>12}")
    for label, wall, rss in rows:
        print(f"{label:<34} {wall:8.2f} {rss:12.0f}")
    lite, keras = rows[-2], rows[-1]
    print(f"predict: LiteRT takes {lite[1] / keras[1]:.2f} of the Keras path's wall time")
    worst = max(abs(scores["litert"][k] - scores["keras"][k]) for k in scores["keras"])
    top = [max(s, key=s.get) for s in scores.values()]
    verdict = "ok" if worst <= FLOAT16_BOUND and top[0] == top[1] else "DIFFERENT"
    print(f"clip scores: max |litert - keras| = {worst:.2e}, top-1 {top[0]} / {top[1]}: {verdict}")


if __name__ == "__main__":
    main()
