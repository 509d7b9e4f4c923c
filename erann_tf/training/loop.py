"""What both training loops share: a run's start (model, trainer, run folder,
checkpoint, callbacks) and its end (final model and metrics). `fit.py`
drives them with keras fit (one device or mirrored), `multiworker.py` with
its own loop over strategy.run."""

import dataclasses
import os
import time

import keras
import numpy as np

from erann_tf.atomic import write_json
from erann_tf.models.metadata import write_labels
from erann_tf.training import callbacks as cb
from erann_tf.training import evaluation
from erann_tf.training.build import build_model, compile_trainer
from erann_tf.training.checkpoint import load_state
from erann_tf.training.distribute import synchronize_batchnorm
from erann_tf.training.recipes import get_recipe


@dataclasses.dataclass
class RunInputs:
    """What a loop's data gives `start`."""

    classes: tuple  # class names
    steps: int  # per epoch
    val_loader: object  # a ClipLoader, or None without a validation fold
    bad_files: object  # the BadFiles report
    recalibration: object = None  # a BatchNormRecalibration, or None
    clips: dict | None = None  # the fingerprints a resume is checked against
    teaching: object = None  # a distillation.Teaching, or None


@dataclasses.dataclass
class DataReport:
    """What a loop says of its data in the run's metrics."""

    train_clips: int
    classes: list
    missing_clips: list
    bad_files: list


@dataclasses.dataclass
class Started:
    """What `start` hands the loop."""

    model: object
    trainer: object
    callbacks: list  # keras callbacks, in the order they run
    scorer: cb.Scorer  # scores nothing without a validation fold, but averages
    history: list  # the run's epochs so far (the callbacks append to it)
    first_epoch: int

    @property
    def result(self):
        """The latest evaluation, or None."""
        found = [c.result for c in self.callbacks if isinstance(c, cb.Validation)]
        return found[0] if found else None


def start(run, config, settings, distribution, inputs, *, resume, started, write=True):
    """The model and trainer built in the strategy's scope (batch norm summed
    over replicas), the run folder created (`write`, a new run) or its
    checkpoint loaded (`resume`), and the callbacks, whose time limit counts
    from `started`. A worker that does not `write` gets no callbacks."""
    with distribution.scope():
        model = build_model(settings, len(inputs.classes), config.init_from, config.seed)
        trainer = compile_trainer(model, settings, inputs.steps, config.seed, inputs.teaching)
    plain = None  # a replica-free twin to evaluate with, under a strategy
    if distribution.strategy is not None:
        synchronize_batchnorm(model)
        if inputs.val_loader is not None:
            plain = build_model(settings, len(inputs.classes), seed=config.seed)
    if write:
        _write_start(run, config, inputs, resume=resume)
    first_epoch, history = 0, []
    if resume and os.path.isfile(run.checkpoint):
        first_epoch = load_state(run.checkpoint, trainer)
        history = run.history()[:first_epoch]
    scorer = cb.Scorer(
        model,
        trainer.optimizer,
        inputs.val_loader,
        get_recipe(settings.recipe).multi_label,
        settings.crop_samples,
        recalibration=inputs.recalibration,
        plain=plain,
    )
    deadline = started + 60 * config.max_minutes if config.max_minutes else None
    callbacks = (
        _callbacks(run, config, scorer, inputs.bad_files, history, deadline) if write else []
    )
    return Started(model, trainer, callbacks, scorer, history, first_epoch)


def _write_start(run, config, inputs, *, resume):
    if resume:
        run.check_clips(inputs.clips, config.data)
        write_json(run.config, dataclasses.asdict(config))  # with the resume's changes
    else:
        run.create(config)  # only now: a run that cannot start leaves nothing behind
        if inputs.clips:
            write_json(run.clips, inputs.clips)
    write_labels(run.path, inputs.classes)  # a run's models name their classes while it trains


def _callbacks(run, config, scorer, bad_files, history, deadline):
    every = config.checkpoint_every
    callbacks = []
    if scorer.val_loader is not None:
        best = max((h.get("val_score", -np.inf) for h in history), default=-np.inf)
        callbacks += [
            cb.Validation(scorer, config.validate_every),
            cb.RunHistory(history),
            cb.BestModel(run, scorer, best),
        ]
    else:
        callbacks.append(cb.RunHistory(history))
    callbacks.append(cb.BadFileReport(bad_files))
    if deadline is not None:
        callbacks.append(cb.TimeLimit(deadline))
    callbacks += [
        cb.Checkpoint(run, history, every),
        cb.LearningCurves(run, history, scorer.scored_with, every),
    ]
    return callbacks


def finish(run, config, settings, begun, report, *, started, write=True):
    """The run's metrics (with `report`, a DataReport) after the loop that
    `begun` (from `start`) drove; with `write`, also final.keras (EMA
    weights, batch norm re-estimated for them), the evaluation plot and
    metrics.json."""
    # The last epoch's evaluation already used these EMA weights; a resumed run
    # that had nothing left to train evaluates here.
    final, scorer = begun.result, begun.scorer
    with scorer.averaged():
        if write:
            run.save_model(begun.model, "final.keras")
        if scorer.val_loader is not None and final is None:
            final = scorer.evaluate()
    result = {
        "recipe": settings.recipe,
        "tm": settings.tm,
        "width": settings.width,
        "fold": config.fold,
        "validation_clips": len(scorer.val_loader) if scorer.val_loader else 0,
        **dataclasses.asdict(report),
        "epochs": len(begun.history),  # fewer than planned after a time limit
        "planned_epochs": settings.epochs,
        "seconds": round(time.time() - started, 1),
        "history": begun.history,
        "validation": final,
        "backend": keras.backend.backend(),
        "compute_dtype": begun.model.get_layer("fc1").compute_dtype,  # what it trained in
        "distribute": config.distribute,
    }
    if write:
        if final is not None:
            evaluation.plot(final, report.classes, os.path.join(run.path, "evaluation.png"))
        write_json(run.metrics, result)
    return result
