"""`tune`: a KerasTuner search over ERANNHyperModel, with its table, plot and
best model. The tuner's own directory makes an interrupted search resume."""

import contextlib
import csv
import dataclasses
import math
import os
import shutil

import keras_tuner

from erann_tf import plots
from erann_tf.atomic import atomic_path, check_not_an_input, write_json
from erann_tf.choices import SCHEDULES, TUNERS
from erann_tf.models import complexity
from erann_tf.training.config import TrainConfig
from erann_tf.tuning.hypermodel import DISTILLATION, NAMES, OBJECTIVE, ERANNHyperModel


@dataclasses.dataclass(frozen=True)
class TuneConfig:
    """One search. `fixed` pins hyper-parameters: (("tm", 4), ("width", 1));
    `space` narrows them: (("learning_rate", (1e-4, 3e-3)), ("tm", [4, 8])).

    Example:
    >>> TuneConfig(recipe="fsdd", data="d", output="o", max_trials=2).tuner
    'random'
    """

    recipe: str
    data: str
    output: str
    tuner: str = "random"
    max_trials: int = 10
    max_macs: float | None = None
    epochs: int | None = None
    layout: str | None = None
    fold: str | None = None
    max_clips: int | None = None
    seed: int = 0
    fixed: tuple = ()
    space: tuple = ()
    teacher: tuple = ()  # models every trial distils from (see erann train --teacher)


def tune(config, progress=True):
    """Runs (or resumes) the search; returns the summary written to summary.json.

    Example:
        config = TuneConfig(recipe="fsdd", data="data/fsdd", output="runs/t", max_trials=8)
        summary = tune(config)
    """
    _check_config(config)
    hypermodel = ERANNHyperModel(
        config.recipe,
        config.data,
        layout=config.layout,
        fold=config.fold,
        max_macs=config.max_macs,
        epochs=config.epochs,
        max_clips=config.max_clips,
        seed=config.seed,
        space=dict(config.space),
        models_dir=os.path.join(config.output, "models"),
        progress=progress,
        teacher=config.teacher,
    )
    hypermodel.check_teachers()  # before any audio is decoded
    if config.max_macs is not None:
        hypermodel.narrow_to_budget(config.max_macs, config.fixed)
    os.makedirs(hypermodel.models_dir, exist_ok=True)
    tuner = _tuner(config, hypermodel)
    with _quiet_failures():
        try:
            tuner.search(verbose=1 if progress else 0)
        except RuntimeError as error:  # KerasTuner gives up after too many failed trials
            if "consecutive failures" not in str(error):
                raise
    classes = len(hypermodel._clipset().classes)
    rows = write_trials(tuner, os.path.join(config.output, "trials.csv"), classes)
    plot_pareto(rows, os.path.join(config.output, "pareto.png"), config.max_macs)
    done = [r for r in rows if r["val_score"] is not None]
    if not done:
        raise ValueError(
            "no trial finished: every configuration failed or exceeded --max-macs "
            f"(see {os.path.join(config.output, 'trials.csv')})"
        )
    best = max(done, key=lambda r: r["val_score"])
    best_trial = tuner.oracle.trials[best["trial_id"]]
    with atomic_path(os.path.join(config.output, "best.keras")) as tmp:
        shutil.copyfile(hypermodel.model_path(best_trial.hyperparameters), tmp)
    summary = {"best": best, "trials": len(rows), "finished": len(done), "tuner": config.tuner}
    write_json(os.path.join(config.output, "summary.json"), summary)
    return summary


def _check_config(config):
    """A ValueError naming the first argument of `config` that is not allowed."""
    if config.tuner not in TUNERS:
        raise ValueError(f"tuner={config.tuner!r} is not allowed; use {', '.join(TUNERS)}")
    if config.max_trials < 1:
        raise ValueError(f"max_trials={config.max_trials} is not allowed; it must be >= 1")
    check_not_an_input("--output", config.output, {"--data": config.data})
    macs = config.max_macs
    if macs is not None and not (math.isfinite(macs) and macs > 0):
        raise ValueError(f"--max-macs {macs} is not allowed; it must be a number > 0")
    for name, _ in config.fixed + config.space:
        if name in DISTILLATION and not config.teacher:
            raise ValueError(f"{name} is searched or fixed with --teacher only")
    for name, value in config.fixed:
        _check_values("--fix", name, [value])
    for name, values in config.space:
        _check_values("--space", name, values)
        if isinstance(values, tuple) and not (len(values) == 2 and values[0] < values[1]):
            raise ValueError(f"--space {name}: a range is LOW:HIGH with LOW below HIGH")


def _check_values(flag, name, values):
    """A ValueError naming the flag where a value does not fit its name."""
    if name not in NAMES:
        raise ValueError(f"{flag} {name}: unknown hyper-parameter; known: {', '.join(NAMES)}")
    for value in values:
        if name == "schedule" and value not in SCHEDULES:
            raise ValueError(f"{flag} schedule={value}: use {', '.join(SCHEDULES)}")
        if name != "schedule" and isinstance(value, str):
            raise ValueError(f"{flag} {name}={value}: the value must be a number")
        # The checks `erann train` makes of the same setting, before any trial.
        teacher = ("any",) if name in DISTILLATION else ()
        try:
            TrainConfig("fsdd", "", "", teacher=teacher, **{name: value}).resolved()
        except ValueError as error:
            raise ValueError(f"{flag} {name}={value}: {error}") from None


@contextlib.contextmanager
def _quiet_failures():
    # KerasTuner 1.4.8 prints a traceback for every failed trial (config.DEBUG is
    # True): a budget rejection is expected, and the HyperModel reports it in one line.
    from keras_tuner.src import config as tuner_config

    debug, tuner_config.DEBUG = tuner_config.DEBUG, False
    try:
        yield
    finally:
        tuner_config.DEBUG = debug


def _tuner(config, hypermodel):
    hyperparameters = keras_tuner.HyperParameters()
    for name, value in config.fixed:
        hyperparameters.Fixed(name, value)
    common = dict(
        hypermodel=hypermodel,
        objective=OBJECTIVE,
        hyperparameters=hyperparameters,
        directory=config.output,
        project_name="tuner",
        overwrite=False,
        seed=config.seed,
        max_consecutive_failed_trials=config.max_trials,  # budget rejections are failures
    )
    if config.tuner == "hyperband":
        epochs = hypermodel.epochs
        return keras_tuner.Hyperband(max_epochs=epochs, factor=3, **common)
    search = (
        keras_tuner.RandomSearch if config.tuner == "random" else keras_tuner.BayesianOptimization
    )
    return search(max_trials=config.max_trials, **common)


def write_trials(tuner, path, classes):
    """trials.csv: a row per trial with its values, parameters and multiply-adds
    (counted for rejected trials too), objective, status and seconds. Trials are
    numbered from 1, as KerasTuner shows them ("Running Trial #1"); trial_id is
    its folder, tuner/trial_<id>."""
    rows = []
    for trial in sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id):
        values = tuner.hypermodel.values(trial.hyperparameters)
        cost = complexity(values["tm"], values["width"], classes, seconds=values["crop_seconds"])
        seconds = (
            trial.metrics.get_last_value("seconds") if trial.metrics.exists("seconds") else None
        )
        rows.append(
            {"trial": int(trial.trial_id) + 1, "trial_id": trial.trial_id, "status": trial.status}
            | {name: values[name] for name in NAMES}
            | {
                "params": cost.trainable_params,
                "macs": cost.macs,
                "val_score": trial.score,
                "seconds": seconds,
            }
        )
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["trial"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def pareto_front(rows):
    """The finished trials no other beats on both score (higher) and MACs (lower).

    Example:
    >>> rows = [{"macs": m, "val_score": s} for m, s in [(1, 0.5), (2, 0.4), (3, 0.9)]]
    >>> [r["macs"] for r in pareto_front(rows)]
    [1, 3]
    """
    done = sorted(
        (r for r in rows if r["val_score"] is not None), key=lambda r: (r["macs"], -r["val_score"])
    )
    front, best = [], -float("inf")
    for row in done:
        if row["val_score"] > best:
            front.append(row)
            best = row["val_score"]
    return front


def plot_pareto(rows, path, max_macs=None):
    """PNG: validation score against multiply-adds, the Pareto front circled
    and joined, the --max-macs budget as a dashed line."""
    done = [r for r in rows if r["val_score"] is not None]
    figure, axes = plots.pyplot().subplots(figsize=(7, 4.5))
    axes.scatter([r["macs"] / 1e9 for r in done], [r["val_score"] for r in done], label="trials")
    for row in done:
        axes.annotate(
            f"tm{row['tm']} W{row['width']}",
            (row["macs"] / 1e9, row["val_score"]),
            fontsize=7,
            xytext=(3, 3),
            textcoords="offset points",
        )
    front = pareto_front(rows)
    front_macs, front_scores = [r["macs"] / 1e9 for r in front], [r["val_score"] for r in front]
    axes.step(front_macs, front_scores, where="post", color="tab:red")
    axes.scatter(
        front_macs,
        front_scores,
        s=150,
        facecolors="none",
        edgecolors="tab:red",
        label="Pareto front",
    )
    if max_macs is not None:
        axes.axvline(max_macs / 1e9, color="grey", linestyle="--", label="--max-macs budget")
    axes.set_xscale("log")
    axes.set_xlabel("multiply-adds per crop (G)")
    axes.set_ylabel("validation score (accuracy or mAP)")
    axes.legend()
    plots.save(figure, path, dpi=100)
