"""Full training state in one file, written atomically: every variable of the
trainer (weights, batch-norm statistics, random-seed states) and of the
optimizer (moments, EMA weights, step count), plus the epoch."""

import os
import re
import zipfile
import zlib

import numpy as np

from erann_tf.atomic import atomic_path


def state_variables(trainer):
    return list(trainer.checkpointed_variables) + list(trainer.optimizer.variables)


def save_state(path, trainer, epoch):
    """Saves the state after `epoch` epochs (atomic), with each variable's
    path, so that a state saved on one backend loads on another."""
    variables = state_variables(trainer)
    values = {f"v{i}": np.asarray(v.value) for i, v in enumerate(variables)}
    paths = np.array([v.path for v in variables])
    with atomic_path(path) as tmp:
        np.savez(tmp, epoch=np.int64(epoch), paths=paths, **values)


def load_state(path, trainer):
    """Restores a state saved by `save_state`; returns the epochs done."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no checkpoint to resume from")
    variables = state_variables(trainer)
    try:
        with np.load(path) as saved:
            count = len(set(saved.files) - {"epoch", "paths"})
            values = [saved[f"v{i}"] for i in range(count)]
            epoch = int(saved["epoch"])
            paths = saved["paths"].tolist()
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError, ValueError) as error:
        raise ValueError(
            f"{path}: the checkpoint is damaged ({type(error).__name__}); it cannot be resumed"
        ) from None
    if len(values) != len(variables) or len(paths) != len(variables):
        raise ValueError(f"{path}: checkpoint does not match this model and optimizer")
    for name, variable in zip(paths, variables, strict=True):
        if _owner_unnumbered(name) != _owner_unnumbered(variable.path):  # not just same shapes
            raise ValueError(f"{path}: checkpoint has {name} where this model has {variable.path}")
    for value, variable in zip(values, variables, strict=True):
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"{path}: checkpoint does not match this model ({variable.path})")
    for value, variable in zip(values, variables, strict=True):
        variable.assign(value)  # only once all of it has been read and checked
    return epoch


def _owner_unnumbered(path):
    """`path` without the number Keras appends to an unnamed owner, which
    counts the owners made before it in the process (seed_generator_3/...,
    ema_adam_1/...): the same run's variables in a fresh process or another."""
    return re.sub(r"^([^/]*?)_\d+/", r"\1/", path)
