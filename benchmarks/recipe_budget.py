"""Accuracy per hour of training: runs' validation scores against wall time.

Reads the run folders `erann train --fold F` wrote (history.json: seconds and
val_score per epoch, config.json: recipe and model) and prints, per run, the
validation score (EMA weights) reached within each time budget: the last
epoch that finished inside it, and the mean of the last three epochs there
(one epoch's score is noisy). With --png, the scores against minutes as a plot.
Minutes are training time: history.json's epoch seconds leave out the validation
after each epoch and the decoding before the first. Runs compared this way
should share the machine, the fold and the validation clips.

    python benchmarks/recipe_budget.py runs/esc10-cpu-fold1 runs/esc10-fold1 \
        --minutes 15,30,45 --png recipe_budget.png

--labels names the runs where recipe and model do not tell them apart.
"""

import argparse

import numpy as np

from erann_tf import plots
from erann_tf.training.recipes import get_recipe
from erann_tf.training.trainer import RunDir


def load_run(folder):
    """(label, cumulative minutes per epoch, validation score per epoch)."""
    run = RunDir(folder)
    config = run.load_config()
    history = [entry for entry in run.history() if "val_score" in entry]
    if not history:
        raise SystemExit(f"{folder}: history.json has no validation scores; train with --fold")
    label = f"{config.recipe} {config.model or get_recipe(config.recipe).model}"
    minutes = np.cumsum([entry["seconds"] for entry in history]) / 60
    return label, minutes, np.array([entry["val_score"] for entry in history])


def within(minutes, scores, budget):
    """(epochs, last score, mean of the last three) inside `budget` minutes."""
    done = int(np.searchsorted(minutes, budget, side="right"))
    if done == 0:
        return 0, float("nan"), float("nan")
    return done, scores[done - 1], scores[max(0, done - 3) : done].mean()


def plot(runs, path):
    figure, axes = plots.pyplot().subplots(figsize=(7, 4))
    for label, minutes, scores in runs:
        axes.plot(minutes, scores, marker=".", label=label)
    axes.set_xlabel("training minutes (this machine, validation not counted)")
    axes.set_ylabel("validation accuracy (EMA weights)")
    axes.set_ylim(0, 1)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    plots.save(figure, path, dpi=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run folders trained with --fold")
    parser.add_argument("--minutes", default="15,30,45,60", help="budgets, comma-separated")
    parser.add_argument("--png", help="write the scores against minutes here")
    parser.add_argument(
        "--labels", help="the runs' names, comma-separated (default: recipe and model)"
    )
    args = parser.parse_args()
    budgets = [float(value) for value in args.minutes.split(",")]
    runs = [load_run(folder) for folder in args.runs]
    if args.labels:
        labels = args.labels.split(",")
        if len(labels) != len(runs):
            raise SystemExit(f"--labels gives {len(labels)} names for {len(runs)} runs")
        runs = [(label, *run[1:]) for label, run in zip(labels, runs, strict=True)]
    print("| run | minutes | epochs | last epoch | mean of last 3 |")
    print("| --- | --- | --- | --- | --- |")
    for label, minutes, scores in runs:
        for budget in budgets:
            epochs, last, mean = within(minutes, scores, budget)
            print(f"| {label} | {budget:g} | {epochs} | {last:.3f} | {mean:.3f} |")
    if args.png:
        plot(runs, args.png)
        print(f"plot: {args.png}")


if __name__ == "__main__":
    main()
