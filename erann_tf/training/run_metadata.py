"""A training run's facts as model metadata: a run folder's final.keras can be
exported or used for prediction as it is, its config.json and metrics.json
saying what a model folder's metadata.json says (and its best.keras can be
evaluated while the run trains, from config.json and labels.txt)."""

import dataclasses
import os

from erann_tf.models.metadata import Metadata, read_labels
from erann_tf.training.config import names
from erann_tf.training.recipes import get_recipe
from erann_tf.training.run_folder import RunDir
from erann_tf.training.settings import RECORDED, flag


def run_metadata(run_dir, name=None):
    """Metadata of the model a training run wrote (its config.json and
    metrics.json); of a run still training, from its labels.txt and history."""
    run = RunDir(run_dir)
    config = run.load_config()
    result = run.result() or _so_far(run)
    settings = config.resolved()
    metrics = {"validation": result["validation"]} if result.get("validation") else {}
    return Metadata(
        name or os.path.basename(os.path.normpath(run_dir)),
        tm=settings.tm,
        width=settings.width,
        window_s=settings.crop_seconds,
        classes=tuple(result["classes"]),
        activation=get_recipe(settings.recipe).activation,
        training={
            "recipe": settings.recipe,
            "data": config.data,
            "clips": result["train_clips"],
            "held_out_fold": config.fold,
            "epochs": result["epochs"],  # trained, fewer than planned after a time limit
            **recipe_settings(settings),
            # every invocation's epochs (resumes too), validation excluded
            "seconds": round(sum(entry["seconds"] for entry in run.history()), 1),
            "backend": result["backend"],
            "precision": config.precision,
            **({"teacher": list(config.teacher)} if config.teacher else {}),
        },
        metrics=metrics,
        command=training_command(config),
    )


def _so_far(run):
    """What a run still training can say: its classes and epochs so far."""
    classes, epochs = read_labels(run.path), len(run.history())
    return dict(classes=classes, epochs=epochs, train_clips=None, backend=None)


def recipe_settings(settings):
    """Every effective setting a recipe gives but the planned epochs (batch,
    schedule, augmentations, batch-norm re-estimation, distillation)."""
    return {name: getattr(settings, name) for name in names(from_recipe=True) if name != "epochs"}


def training_command(config):
    """The `erann train` command line that a run's TrainConfig describes:
    a flag for every setting that is not its default, but the time limit,
    which bounds one sitting (`--resume` may give another), not what is trained.

    Example:
    >>> from erann_tf.training.config import TrainConfig
    >>> training_command(
    ...     TrainConfig(recipe="fsdd", data="d", output="o", tm=4, cache=False, max_minutes=9)
    ... )
    'erann train --recipe fsdd --data d --output o --tm 4 --no-cache'
    """
    words = ["erann", "train"]
    defaults = {field.name: field.default for field in dataclasses.fields(config)}
    recorded = names(kind=RECORDED)
    for name in names():
        value = getattr(config, name)
        if name in recorded or name == "max_minutes" or value == defaults[name]:
            continue
        if isinstance(value, tuple):
            words += [word for item in value for word in (flag(name), str(item))]
        elif isinstance(value, bool):
            words.append(flag(name) if value else "--no-" + flag(name)[2:])
        else:
            words += [flag(name), str(value)]
    return " ".join(words)
