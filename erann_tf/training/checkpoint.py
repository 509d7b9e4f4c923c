"""Full training state in one file, written atomically: every variable of the
trainer (weights, batch-norm statistics, random-seed states) and of the
optimizer (moments, EMA weights, step count), plus the epoch."""

import os
import zipfile
import zlib

import numpy as np

from erann_tf.atomic import atomic_path


def state_variables(trainer):
    return list(trainer.variables) + list(trainer.optimizer.variables)


def save_state(path, trainer, epoch):
    """Saves the state after `epoch` epochs (atomic)."""
    values = {f"v{i}": np.asarray(v.value) for i, v in enumerate(state_variables(trainer))}
    with atomic_path(path) as tmp:
        np.savez(tmp, epoch=np.int64(epoch), **values)


def load_state(path, trainer):
    """Restores a state saved by `save_state`; returns the epochs done."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: no checkpoint to resume from")
    variables = state_variables(trainer)
    try:
        with np.load(path) as saved:
            names = set(saved.files)
            values = [saved[f"v{i}"] for i in range(len(names) - 1)]
            epoch = int(saved["epoch"])
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError, ValueError) as error:
        raise ValueError(
            f"{path}: the checkpoint is damaged ({type(error).__name__}); it cannot be resumed"
        ) from None
    if len(values) != len(variables):
        raise ValueError(f"{path}: checkpoint does not match this model and optimizer")
    for value, variable in zip(values, variables, strict=True):
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"{path}: checkpoint does not match this model ({variable.path})")
    for value, variable in zip(values, variables, strict=True):
        variable.assign(value)  # only once all of it has been read and checked
    return epoch
