"""Full training state in one file, written atomically: every variable of the
trainer (weights, batch-norm statistics, random-seed states) and of the
optimizer (moments, EMA weights, step count), plus the epoch."""

import os

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
    with np.load(path) as saved:
        if len(saved.files) - 1 != len(variables):
            raise ValueError(f"{path}: checkpoint does not match this model and optimizer")
        for i, variable in enumerate(variables):
            value = saved[f"v{i}"]
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(f"{path}: checkpoint does not match this model ({variable.path})")
            variable.assign(value)
        return int(saved["epoch"])
