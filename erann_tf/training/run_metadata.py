"""A training run's facts as model metadata: a run folder's final.keras can be
exported or used for prediction as it is, its config.json and metrics.json
saying what a model folder's metadata.json says (and its best.keras can be
evaluated while the run trains, from config.json and labels.txt)."""

import dataclasses
import os

from erann_tf.models.metadata import Metadata, read_labels
from erann_tf.training.trainer import RunDir


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
        activation=settings.recipe.activation,
        training={
            "recipe": settings.recipe.name,
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
        command=training_command(dataclasses.asdict(config)),
    )


def _so_far(run):
    """What a run still training can say: its classes and epochs so far."""
    classes, epochs = read_labels(run.path), len(run.history())
    return dict(classes=classes, epochs=epochs, train_clips=None, backend=None)


def recipe_settings(settings):
    """Every effective training setting of a Settings but the model and the
    planned epochs (batch, schedule, augmentations, batch-norm re-estimation)."""
    skip = ("recipe", "tm", "width", "epochs")
    return {
        field.name: getattr(settings, field.name)
        for field in dataclasses.fields(settings)
        if field.name not in skip
    }


def training_command(config):
    """The `erann train` command line that a run's config.json describes.

    Example:
    >>> training_command({"recipe": "fsdd", "data": "d", "output": "o", "tm": 4, "cache": True})
    'erann train --recipe fsdd --data d --output o --tm 4'
    """
    words = ["erann", "train"]
    for key, value in config.items():
        flag = "--" + key.replace("_", "-")
        if key == "teacher_sha256":
            continue  # recorded by the run, not a flag
        if isinstance(value, list | tuple):
            words += [word for item in value for word in (flag, str(item))]
        elif key == "cache":
            words += [] if value else ["--no-cache"]
        elif key == "balanced" and value is False:
            words.append("--no-balanced")  # explicitly off, whatever the recipe says
        elif key == "checkpoint_every" and value == 1:
            continue  # the default
        elif value is True:
            words.append(flag)
        elif value not in (None, False) and not (key == "on_bad_file" and value == "error"):
            words += [flag, str(value)]
    return " ".join(words)
