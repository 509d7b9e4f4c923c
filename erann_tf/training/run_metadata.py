"""A training run's facts as model metadata: a run folder's final.keras can be
exported or used for prediction as it is, its config.json and metrics.json
saying what a model folder's metadata.json says."""

import dataclasses
import json
import os

from erann_tf.models.metadata import Metadata
from erann_tf.training.trainer import RunDir


def is_run_folder(folder):
    """Whether `folder` is a training run's output (config.json and metrics.json)."""
    return os.path.isfile(os.path.join(folder, "config.json")) and os.path.isfile(
        os.path.join(folder, "metrics.json")
    )


def run_metadata(run_dir, name=None):
    """Metadata of the model a training run wrote (its config.json and metrics.json)."""
    config = RunDir(run_dir).load_config()
    with open(os.path.join(run_dir, "metrics.json"), encoding="utf-8") as handle:
        result = json.load(handle)
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
            "seconds": result["seconds"],
            "backend": result["backend"],
            "precision": config.precision,
        },
        metrics=metrics,
        command=training_command(dataclasses.asdict(config)),
    )


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
        if key == "cache":
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
