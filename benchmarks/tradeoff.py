"""Accuracy against multiply-adds: what t_m, width and distillation buy.

Reads run folders that `erann train --fold F` (or `erann cv`) wrote and prints
one row per run: the model, its multiply-adds per second of audio (counted on 4
s windows, as the cards do), its teachers, and its validation accuracy (EMA
weights) at an equal budget of epochs: the score at epoch --epochs and the mean
of the validated epochs among the five up to it (one epoch's score on 80 clips
is noisy); a teacher (a run that a student names, or any run of a longer
schedule than the budget, which is no grid point) at its last epoch. A run
still short of --epochs is shown with the epochs it has, marked. Below the
table, the command that trained each run, then per dataset the students' table:
each configuration's mean-of-5 score on each fold, trained alone and distilled,
and with several folds the mean over them (only where every fold has a run);
the grid's runs have seed 0, and a point trained with more seeds gets a row of
its spread below (and a cross per other seed in the plot). With --png, accuracy
against MACs per second of audio, one panel per dataset (means over folds as
lines, each fold's runs as faint ones), with the published anchors that are
comparable: ACDNet's ESC-10 accuracies (its multiply-adds are counted on other
inputs, so they are lines, not points), the ERANN paper's RAVDESS models
trained from scratch (points, on its own split), and YAMNet's cost (0.07 G per
second of audio).

    python benchmarks/tradeoff.py docs/tradeoff/records/* --png docs/tradeoff.png
"""

import argparse
import os

import numpy as np

from erann_tf import plots
from erann_tf.models import complexity
from erann_tf.models.metadata import read_labels
from erann_tf.training.recipes import get_recipe
from erann_tf.training.run_folder import RunDir
from erann_tf.training.run_metadata import training_command

ANCHORS = {  # dataset: (label, accuracy) lines from the papers
    "esc10": [("ACDNet, from scratch", 0.9665), ("ACDNet compressed 97%", 0.9625)],
}
# The ERANN paper's RAVDESS models from scratch (DESIGN.md section 1): (t_m, W, accuracy), at
# the multiply-adds this package counts for them; its own cross-validation, not our folds.
PAPER_POINTS = {
    "ravdess": [(2, 3, 0.731), (1, 4, 0.748), (2, 4, 0.741), (4, 4, 0.722), (4, 5, 0.720)],
}
YAMNET_MACS_PER_SECOND = 0.07e9
# The cards' window: 512 frames, a multiple of 16 t_m for every t_m <= 32, so no
# padding inflates a large t_m's count (at 3.3 s, t_m = 8 pads 422 frames to 512).
COST_SECONDS = 4.0


def macs_per_second(tm, width, classes):
    return complexity(tm, width, classes, seconds=COST_SECONDS).macs / COST_SECONDS


def load_run(folder, epochs):
    run = RunDir(folder)
    try:
        config = run.load_config()
    except (OSError, ValueError) as error:  # not a run folder: say which, no traceback
        raise SystemExit(f"tradeoff.py: {error}") from None
    settings = config.resolved()
    scored = [e for e in run.history() if "val_score" in e and e["epoch"] <= epochs]
    if not scored:
        raise SystemExit(f"{folder}: no validation scores; train with --fold")
    last = scored[-1]["epoch"]
    recent = [e["val_score"] for e in scored if e["epoch"] > last - 5]  # any --validate-every
    classes = len(read_labels(run.path))
    return {
        "run": os.path.basename(folder.rstrip("/")),
        "dataset": get_recipe(settings.recipe).source,
        "fold": config.fold,
        "seed": config.seed,
        "model": f"ERANN-{settings.crop_seconds:g}x{settings.tm}-{settings.width}",
        "tm": settings.tm,
        "width": settings.width,
        "classes": classes,
        "macs_per_second": macs_per_second(settings.tm, settings.width, classes),
        "teachers": [os.path.basename(t.rstrip("/")) for t in config.teacher],
        "schedule": settings.epochs,
        "epochs": last,
        "score": scored[-1]["val_score"],
        "mean5": float(np.mean(recent)),
        "command": training_command(config),
    }


def print_table(rows, epochs):
    print(
        f"| run | model | G MACs / s of audio | teacher | epochs | accuracy at {epochs} | "
        "mean of 5 |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        short = " (short)" if row["epochs"] < epochs else ""
        print(
            f"| {row['run']} | {row['model']} | {row['macs_per_second'] / 1e9:.3f} | "
            f"{', '.join(row['teachers']) or '-'} | {row['epochs']}{short} | {row['score']:.3f} | "
            f"{row['mean5']:.3f} |"
        )
    print()
    for row in rows:
        print(f"{row['run']}: {row['command']}")


def students(rows, dataset):
    """{(tm, width): {taught: {fold: row}}} for a dataset's students (no teachers), one seed:
    the grid's (0); other seeds measure the spread (`print_seeds`)."""
    table = {}
    for row in rows:
        if row["dataset"] == dataset and not row.get("is_teacher") and row["seed"] == 0:
            configuration = table.setdefault((row["tm"], row["width"]), {False: {}, True: {}})
            configuration[bool(row["teachers"])][row["fold"]] = row
    return dict(sorted(table.items(), key=lambda item: macs_of(item[1])))


def iter_runs(configuration):
    return (row for by_fold in configuration.values() for row in by_fold.values())


def macs_of(configuration):
    """Multiply-adds per second of audio: every run of a configuration has the same."""
    return next(iter_runs(configuration))["macs_per_second"]


def folds_of(table):
    return sorted(
        {row["fold"] for configuration in table.values() for row in iter_runs(configuration)}
    )


def fold_mean(by_fold, folds):
    """The mean of the folds' mean-of-5 scores, or None unless every fold has a run."""
    if not folds or any(fold not in by_fold for fold in folds):
        return None
    return float(np.mean([by_fold[fold]["mean5"] for fold in folds]))


def print_students(rows, dataset, epochs):
    table = students(rows, dataset)
    folds = folds_of(table)
    columns = [f"fold {fold}" for fold in folds] + (["mean"] if len(folds) > 1 else [])
    header = [f"student ({dataset}, {epochs} epochs)", "G multiply-adds per s of audio"]
    header += [f"{kind}, {column}" for kind in ("alone", "distilled") for column in columns]
    print(f"\n| {' | '.join(header)} |")
    print("|" + " --- |" * len(header))

    def cell(score):
        return "-" if score is None else f"{score:.3f}"

    for (tm, width), configuration in table.items():
        cells = [f"t_m = {tm}, W = {width}", f"{macs_of(configuration) / 1e9:.3f}"]
        for taught in (False, True):
            by_fold = configuration[taught]
            cells += [cell(by_fold[f]["mean5"] if f in by_fold else None) for f in folds]
            cells += [cell(fold_mean(by_fold, folds))] if len(folds) > 1 else []
        print(f"| {' | '.join(cells)} |")


def print_seeds(rows, epochs):
    """A row per point trained with several seeds: each seed's mean-of-5 score and the spread."""
    points = {}
    for row in rows:
        if not row.get("is_teacher"):
            key = (row["dataset"], row["fold"], row["tm"], row["width"], bool(row["teachers"]))
            points.setdefault(key, []).append(row)
    points = {key: runs for key, runs in sorted(points.items()) if len(runs) > 1}
    if not points:
        return
    print(f"\n| seeds ({epochs} epochs) | fold | teacher | scores by seed | mean | max - min |")
    print("| --- | --- | --- | --- | --- | --- |")
    for (dataset, fold, tm, width, taught), runs in points.items():
        runs = sorted(runs, key=lambda row: row["seed"])
        scores = [row["mean5"] for row in runs]
        by_seed = ", ".join(f"{row['seed']}: {row['mean5']:.3f}" for row in runs)
        print(
            f"| {dataset}, t_m = {tm}, W = {width} | {fold} | {'yes' if taught else 'no'} | "
            f"{by_seed} | {np.mean(scores):.3f} | {max(scores) - min(scores):.3f} |"
        )


def plot_paper_points(axis, dataset, classes):
    points = PAPER_POINTS.get(dataset, [])
    for rank, (tm, width, accuracy) in enumerate(points):
        macs = macs_per_second(tm, width, classes) / 1e9
        label = "ERANN paper, from scratch (its own split)" if rank == 0 else None
        axis.plot(macs, accuracy, "x", color="grey", label=label)
        axis.annotate(
            f"{tm}-{width}",
            (macs, accuracy),
            (4, 4),
            textcoords="offset points",
            fontsize=7,
            color="grey",
        )


def plot(rows, path):
    plt = plots.pyplot()
    datasets = sorted({row["dataset"] for row in rows})
    figure, axes = plt.subplots(1, len(datasets), figsize=(6 * len(datasets), 4.5), squeeze=False)
    for axis, dataset in zip(axes[0], datasets, strict=True):
        runs = [r for r in rows if r["dataset"] == dataset]
        table = students(rows, dataset)
        folds = folds_of(table)
        for taught, marker, color, name, offset in (
            (False, "o", "C0", "trained alone", 4),  # label offset in points
            (True, "^", "C1", "distilled", -10),  # labels below, clear of the points alone
        ):
            for rank, fold in enumerate(folds if len(folds) > 1 else []):  # each fold, faint
                runs_of_fold = [c[taught][fold] for c in table.values() if fold in c[taught]]
                x = [row["macs_per_second"] / 1e9 for row in runs_of_fold]
                y = [row["mean5"] for row in runs_of_fold]
                label = f"{name}, each fold" if rank == 0 else None
                axis.plot(x, y, marker=marker, color=color, alpha=0.3, markersize=4, label=label)
            points = []  # (MACs, mean over folds, label) where every fold has a run
            for (tm, width), configuration in table.items():
                mean = fold_mean(configuration[taught], folds)
                if mean is not None:
                    points.append((macs_of(configuration) / 1e9, mean, f"{tm}-{width}"))
            if not points:
                continue
            x, y, _ = zip(*points, strict=True)
            names = ", ".join(str(fold) for fold in folds)
            where = f"fold {names}" if len(folds) == 1 else f"mean of folds {names}"
            axis.plot(x, y, marker=marker, color=color, label=f"{name}, {where}")
            for xi, yi, label in points:
                axis.annotate(label, (xi, yi), (4, offset), textcoords="offset points", fontsize=7)
        others = [r for r in runs if r["seed"] != 0 and not r.get("is_teacher")]
        seed_folds = sorted({r["fold"] for r in others})
        for r in others:  # the spread of seeds, beside the grid's seed 0; a marker a fold
            color = "C1" if r["teachers"] else "C0"
            marker = "x+12"[seed_folds.index(r["fold"]) % 4]
            label = f"other seeds (fold {r['fold']})"
            labelled = label in axis.get_legend_handles_labels()[1]
            x, y = r["macs_per_second"] / 1e9, r["mean5"]
            axis.plot(x, y, marker, color=color, label=None if labelled else label)
        for r in [r for r in runs if r.get("is_teacher")]:
            x, y = r["macs_per_second"] / 1e9, r["mean5"]
            axis.plot(x, y, "k*", markersize=10)
            label = f"teacher, fold {r['fold']}:\n{r['model']}, {r['epochs']} epochs"
            axis.annotate(label, (x, y), (8, -8), textcoords="offset points", fontsize=7)
        plot_paper_points(axis, dataset, classes=runs[0]["classes"])
        axis.set_xscale("log")
        axis.set_xlim(0.05, 8.0 if dataset in PAPER_POINTS else 3.0)
        for (label, accuracy), align in zip(
            ANCHORS.get(dataset, []), ("bottom", "top"), strict=False
        ):
            axis.axhline(accuracy, linestyle="--", linewidth=0.8, color="grey")
            axis.text(0.055, accuracy, f"{label} {accuracy:.4f}", fontsize=7, va=align)
        axis.axvline(YAMNET_MACS_PER_SECOND / 1e9, linestyle=":", color="grey")
        axis.text(YAMNET_MACS_PER_SECOND / 1e9, axis.get_ylim()[0], " YAMNet's cost", fontsize=7)
        axis.set_xlabel("G multiply-adds per second of audio (log)")
        axis.set_ylabel("validation accuracy (mean of 5 epochs)")
        axis.set_title(f"{dataset}: t_m x W (labels: t_m-W)")
        axis.legend(fontsize=7)
    plots.save(figure, path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run folders with a validation fold")
    parser.add_argument("--epochs", type=int, default=60, help="the budget (default 60)")
    parser.add_argument("--png", help="write the plot here")
    args = parser.parse_args()
    rows = [load_run(folder, args.epochs) for folder in args.runs]
    named = {name for row in rows for name in row["teachers"]}  # an ensemble's too
    rows = [  # a teacher as it taught: all its epochs
        {**load_run(folder, 10**9), "is_teacher": True}
        if row["run"] in named or row["schedule"] > args.epochs
        else row
        for folder, row in zip(args.runs, rows, strict=True)
    ]
    rows.sort(key=lambda r: (r["dataset"], r["fold"] or "", r["teachers"], r["macs_per_second"]))
    print_table(rows, args.epochs)
    for dataset in sorted({row["dataset"] for row in rows}):
        print_students(rows, dataset, args.epochs)
    print_seeds(rows, args.epochs)
    if args.png:
        plot(rows, args.png)


if __name__ == "__main__":
    main()
