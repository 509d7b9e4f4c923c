"""The resume policy: what a command that resumes a run may repeat or
change, from each setting's declaration (training/config.py)."""

import dataclasses
import os

from erann_tf.training.config import declared, names
from erann_tf.training.run_folder import RunDir
from erann_tf.training.settings import LEARNED, RUN, flag


def resumed_config(output, **given):
    """(RunDir, TrainConfig): the run in `output` and its config, with the
    changes `given` makes, checked.

    `given` may repeat the run's settings (a command run again with --resume;
    a value that differs is a ValueError) and change those whose declaration
    says `resume_may_change`: epochs (more of them, on a constant schedule:
    a one-cycle rate follows the planned epochs), max_minutes (the limit from
    now on) and data (the dataset moved: it must hold the clips the run began
    with, as its clips.json records). config.json keeps the changes for the
    next resume.
    """
    run = RunDir(output)
    config = run.load_config()
    given = {name: value for name, value in given.items() if value is not None}
    unknown = sorted(set(given) - set(declared()))
    if unknown:
        raise ValueError(f"{unknown[0]} is not a training setting")
    changeable = names(resume_may_change=True)
    repeated = {k: v for k, v in given.items() if k not in changeable and k != "output"}
    _check_repeated(run, config, repeated)
    changes = {k: v for k, v in given.items() if k in changeable}
    if changes:
        config = _changed(run, config, changes)
    return run, config


def _check_repeated(run, config, repeated):
    check_same_training(config, dataclasses.replace(config, **repeated), run.path)
    allowed = ", ".join(flag(name) for name in names(resume_may_change=True))
    for name in names(kind=RUN):
        if name in repeated and getattr(config, name) != repeated[name]:
            raise ValueError(
                f"{run.path}: started with {flag(name)} {getattr(config, name)}, "
                f"this command gives {repeated[name]}; a resumed run changes only {allowed}"
            )


def _changed(run, config, changes):
    changed = dataclasses.replace(config, **changes)
    if changed.data != config.data and not os.path.isfile(run.clips):
        raise ValueError(
            f"{run.path}: started with --data {config.data} and has no clips.json to check "
            f"--data {changed.data} against; give its --data"
        )
    epochs, planned = changed.resolved().epochs, config.resolved()
    if epochs == planned.epochs:
        return changed
    if config.distribute == "multiworker":
        raise ValueError("--epochs cannot change when a multiworker run resumes")
    if planned.schedule != "constant":
        raise ValueError(
            f"--epochs cannot change when a {planned.schedule} run resumes: "
            "its learning rate follows the epochs it planned"
        )
    trained = len(run.history())
    if epochs < trained:
        raise ValueError(f"--epochs {epochs} is not allowed; {run.path} has trained {trained}")
    return changed


def check_same_training(stored, config, where):
    """A ValueError unless `config` trains what the `stored` config did:
    every LEARNED setting's effective value (the recipe's where no flag gives
    one). Where the data lives, the transport and the time limit may differ."""
    before, now = stored.resolved(), config.resolved()
    for name in names(kind=LEARNED):
        if getattr(now, name) != getattr(before, name):
            raise ValueError(
                f"{where}: trained with {flag(name)} {getattr(before, name)}, this command gives "
                f"{getattr(now, name)}; give the run's settings (its config.json) or another "
                "--output"
            )
