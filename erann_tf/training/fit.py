"""`train` and `resume_run`: one training run from a TrainConfig to a run
folder (training/run_folder.py says what it holds), driven by keras fit on
one device or mirrored; multiworker.py drives the multi-host loop."""

import dataclasses
import os
import time

import keras

from erann_tf.choices import PRECISIONS
from erann_tf.data.pipeline import steps_per_epoch
from erann_tf.models.complexity import min_training_bytes
from erann_tf.training import distillation
from erann_tf.training.batchnorm import recalibration_for
from erann_tf.training.distribute import close_distribution, open_distribution
from erann_tf.training.loading import clip_fingerprints, decode, read_split, training_data
from erann_tf.training.loop import DataReport, RunInputs, finish, start
from erann_tf.training.multiworker import run_multiworker
from erann_tf.training.recipes import get_recipe
from erann_tf.training.resume import resumed_config
from erann_tf.training.run_folder import RunDir


def train(config, *, resume=False, progress=True):
    """Runs one training run; returns its metrics dict. With `resume`, only
    `config.output` counts: the run there goes on (`resume_run`).

    Example:
        config = TrainConfig(recipe="esc10", data="../shared/data/esc10", fold="4", output="runs/a")
        metrics = train(config)
    """
    if resume:
        return resume_run(config.output, progress=progress)
    return _locked(RunDir(config.output), config, resume=False, progress=progress)


def resume_run(output, *, progress=True, **given):
    """Continues the run in `output` from its config.json and last checkpoint;
    `given`: settings the command repeats or changes (resume.resumed_config).

    Example:
        metrics = resume_run("runs/a", max_minutes=30)
        metrics = resume_run("runs/a", data="/mnt/copy/esc10")  # trained elsewhere
    """
    run, config = resumed_config(output, **given)
    return _locked(run, config, resume=True, progress=progress)


def check_memory(settings):
    """A ValueError before any data is read where training these settings
    needs more memory than this machine has available (a lower bound:
    `min_training_bytes`)."""
    needed = min_training_bytes(
        settings.tm, settings.width, settings.batch_size, settings.crop_seconds
    )
    available = available_memory_bytes()
    if available is not None and needed > available:
        raise ValueError(
            f"--width {settings.width} with --batch-size {settings.batch_size} needs at least "
            f"{needed / 1e9:.3g} GB to train (weights, gradients, Adam's moments and one "
            f"batch's activations); this machine has {available / 1e9:.3g} GB available"
        )


def available_memory_bytes():
    """MemAvailable of /proc/meminfo (Linux), else the physical memory, else None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _locked(run, config, *, resume, progress):
    """Checks everything, then holds the run folder's lock (one writer) while it trains."""
    settings = config.resolved()  # before touching the disk
    check_memory(settings)
    if resume and config.distribute != "multiworker":
        run.lock.acquire()  # `RunDir.create` takes it for a new run
    try:
        return _in_strategy(run, config, settings, resume=resume, progress=progress)
    finally:
        run.lock.release()


def _in_strategy(run, config, settings, *, resume, progress):
    """Opens the distribution strategy and the precision policy, runs the
    loop, and restores both."""
    distribution = open_distribution(config.distribute)  # before any TF op
    caller_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(PRECISIONS[config.precision])
    try:
        if not resume and distribution.is_chief:
            run.check_free()
        loop = run_multiworker if config.distribute == "multiworker" else _fit
        return loop(run, config, settings, distribution, resume=resume, progress=progress)
    finally:
        keras.mixed_precision.set_global_policy(caller_policy)
        close_distribution(distribution)


def _fit(run, config, settings, distribution, *, resume, progress):
    """The single-host loop: keras fit over the run's data."""
    started = time.time()
    _seed(config)
    train_clips, val_clips = read_split(config, settings, progress=progress)
    config, teaching = teaching_for(config, settings, train_clips.classes, distribution)
    loader, val_loader = decode(config, settings, train_clips, val_clips, progress=progress)
    batch = settings.batch_size * distribution.replicas  # the global batch
    inputs = RunInputs(
        classes=tuple(loader.class_names),
        steps=steps_per_epoch(loader, batch),
        val_loader=val_loader,
        bad_files=loader.bad_files,
        recalibration=recalibration_for(loader, settings, config.seed),
        clips=clip_fingerprints(config.data, loader, val_loader),
        teaching=teaching,
    )
    begun = start(run, config, settings, distribution, inputs, resume=resume, started=started)
    callbacks = list(begun.callbacks)
    if keras.backend.backend() == "tensorflow":
        callbacks.append(keras.callbacks.TensorBoard(run.logs, write_graph=False, profile_batch=0))
    first, epochs = begun.first_epoch, settings.epochs
    if progress:
        _say_where(run, config, first, epochs, resume=resume)
    if first < epochs:
        begun.trainer.fit(
            training_data(config.transport, loader, settings, batch, config.seed, first),
            epochs=epochs,
            initial_epoch=first,
            steps_per_epoch=inputs.steps,
            callbacks=callbacks,
            verbose=1 if progress else 0,
            shuffle=False,  # the order is already shuffled, from the seed and the epoch
        )
    report = DataReport(
        train_clips=len(loader),
        classes=list(loader.class_names),
        missing_clips=loader.clips.missing,
        bad_files=[reason for _, reason in loader.bad_files.entries],
    )
    return finish(run, config, settings, begun, report, started=started)


def _seed(config):
    keras.utils.set_random_seed(config.seed)
    if config.deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf  # only here: the PyDataset transport runs without TensorFlow

        tf.config.experimental.enable_op_determinism()


def _say_where(run, config, first, epochs, *, resume):
    if first >= epochs:
        print(f"{run.path}: all {epochs} epochs were trained before; nothing to resume")
    elif resume and first > 0:
        limit = f", for at most {config.max_minutes:g} minutes" if config.max_minutes else ""
        print(f"{run.path}: resuming after epoch {first} of {epochs}{limit}")


def teaching_for(config, settings, classes, distribution):
    """(config, Teaching or None): the run's teachers loaded (in the
    strategy's scope) and checked against the student's `classes`, before any
    audio is decoded. A new run's config gains their files' SHA-256; a
    resumed run's teachers must be the files it recorded."""
    if not config.teacher:
        return config, None
    files = distillation.teacher_files(config.teacher)
    if config.teacher_sha256:
        distillation.check_unchanged(files, config.teacher_sha256)
    else:
        config = dataclasses.replace(config, teacher_sha256=tuple(t.sha256 for t in files))
    student = (get_recipe(settings.recipe).activation, settings.crop_seconds)
    with distribution.scope():
        loaded = [distillation.load_teacher(t, classes, *student) for t in files]
    return config, distillation.Teaching.for_settings(loaded, settings)
