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

--labels names the runs where recipe and model do not tell them apart;
--epochs compares them at equal epochs instead, for runs that did not have
the machine alike (side by side for a while, then alone).
"""

import argparse

import numpy as np

from erann_tf import plots
from erann_tf.training.recipes import get_recipe
from erann_tf.training.run_folder import RunDir


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


def within(axis, scores, budget):
    """(epochs, last score, mean of the last three) inside `budget` (minutes,
    or epochs where `axis` counts epochs)."""
    done = int(np.searchsorted(axis, budget, side="right"))
    if done == 0:
        return 0, float("nan"), float("nan")
    return done, scores[done - 1], scores[max(0, done - 3) : done].mean()


def plot(runs, path, unit, ymin=0.0):
    figure, axes = plots.pyplot().subplots(figsize=(7, 4))
    for label, axis, scores in runs:
        axes.plot(axis, scores, marker=".", label=label)
    axes.set_xlabel(
        "epochs" if unit == "epochs" else "training minutes (this machine, validation not counted)"
    )
    axes.set_ylabel("validation accuracy (EMA weights)")
    axes.set_ylim(ymin, 1)
    axes.grid(alpha=0.3)
    axes.legend(loc="lower right")
    plots.save(figure, path, dpi=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run folders trained with --fold")
    parser.add_argument("--minutes", default="15,30,45,60", help="budgets, comma-separated")
    parser.add_argument(
        "--epochs", help="budgets in epochs instead, comma-separated (the plot too)"
    )
    parser.add_argument("--png", help="write the scores against minutes (or epochs) here")
    parser.add_argument("--ymin", type=float, default=0.0, help="the plot's lowest score")
    parser.add_argument(
        "--labels", help="the runs' names, comma-separated (default: recipe and model)"
    )
    args = parser.parse_args()
    unit = "epochs" if args.epochs else "minutes"
    budgets = [float(value) for value in (args.epochs or args.minutes).split(",")]
    runs = [load_run(folder) for folder in args.runs]
    if unit == "epochs":
        runs = [(label, np.arange(1, len(scores) + 1), scores) for label, _, scores in runs]
    if args.labels:
        labels = args.labels.split(",")
        if len(labels) != len(runs):
            raise SystemExit(f"--labels gives {len(labels)} names for {len(runs)} runs")
        runs = [(label, *run[1:]) for label, run in zip(labels, runs, strict=True)]
    print(f"| run | budget ({unit}) | epochs | last epoch | mean of last 3 |")
    print("| --- | --- | --- | --- | --- |")
    for label, axis, scores in runs:
        for budget in budgets:
            epochs, last, mean = within(axis, scores, budget)
            print(f"| {label} | {budget:g} | {epochs} | {last:.3f} | {mean:.3f} |")
    if args.png:
        plot(runs, args.png, unit, args.ymin)
        print(f"plot: {args.png}")


if __name__ == "__main__":
    main()
