"""The setup both training loops share: the model, its trainer, the run
folder's start and end. `trainer._run` drives it with keras fit (one device or
mirrored), `multiworker.run_multiworker` with its own loop over strategy.run;
the tuner builds its trials from the same pieces."""

import dataclasses
import os
import time

import keras

from erann_tf.atomic import write_json
from erann_tf.models import ERANN
from erann_tf.models.erann import load_erann
from erann_tf.models.metadata import write_labels
from erann_tf.training import evaluation
from erann_tf.training.augmented import AugmentedTrainer
from erann_tf.training.callbacks import EpochEnd
from erann_tf.training.checkpoint import load_state
from erann_tf.training.distribute import synchronize_batchnorm
from erann_tf.training.optimizers import EMAAdam
from erann_tf.training.schedules import OneCycle


@dataclasses.dataclass
class Started:
    """What `start` hands the loop: the model, its trainer, the per-epoch
    callback and the epoch to go on from."""

    model: object
    trainer: object
    epoch_end: EpochEnd
    first_epoch: int


def start(run, config, settings, distribution, resume, data, started, write=True):
    """The model and trainer built in the strategy's scope (batch norm summed
    over replicas), the run folder created (`write`, a new run) or its
    checkpoint loaded (`resume`), and the EpochEnd callback, whose time limit
    counts from `started`. `data`: classes (names), steps (per epoch), val_loader (or
    None), bad_files and, optionally, recalibration (a BatchNormRecalibration)
    of the loop's data, clips (the fingerprints a resume is checked against)
    and teaching (a distillation.Teaching)."""
    with distribution.scope():
        model = build_model(settings, len(data["classes"]), config.init_from, config.seed)
        trainer = compile_trainer(model, settings, data["steps"], config.seed, data.get("teaching"))
    plain = None  # a replica-free twin to evaluate with, under a strategy
    if distribution.strategy is not None:
        synchronize_batchnorm(model)
        if data["val_loader"] is not None:
            plain = build_model(settings, len(data["classes"]), seed=config.seed)
    if resume:
        run.check_clips(data.get("clips"), config.data)
        if write:  # with the resume's changes, once they are checked
            write_json(run.config, dataclasses.asdict(config))
    if write and not resume:
        run.create(config)  # only now: a run that cannot start leaves nothing behind
    if write and data.get("clips") and not resume:
        write_json(run.clips, data["clips"])
    if write:  # a run's models name their classes while it trains (evaluate best.keras)
        write_labels(run.path, data["classes"])
    first_epoch, history = 0, []
    if resume and os.path.isfile(run.checkpoint):
        first_epoch = load_state(run.checkpoint, trainer)
        history = run.history()[:first_epoch]
    deadline = started + 60 * config.max_minutes if config.max_minutes else None
    epoch_end = EpochEnd(
        run, model, data["val_loader"], settings.recipe.multi_label, data["bad_files"], history,
        settings.crop_samples, plain, config.checkpoint_every, deadline,
        data.get("recalibration"),
    )  # fmt: skip
    epoch_end.set_model(trainer)
    epoch_end.set_params({"epochs": settings.epochs})  # as fit does: the last epoch checkpoints
    return Started(model, trainer, epoch_end, first_epoch)


def build_model(settings, num_classes, init_from=None, seed=0):
    """A fresh ERANN for the recipe, or `init_from` with a new head when its
    classes differ (fine-tuning: nothing is frozen)."""
    recipe = settings.recipe
    model = ERANN(
        tm=settings.tm,
        width=settings.width,
        num_classes=num_classes,
        activation=recipe.activation,
        time_mask=settings.time_mask,
        freq_mask=settings.freq_mask,
        pitch_shift=settings.pitch_shift,
        gain_db=settings.gain_db,
        seed=seed,
    )
    if init_from is None:
        return model
    source = load_erann(init_from, "--init-from")
    if (source.tm, source.width) != (settings.tm, settings.width):
        raise ValueError(
            f"{init_from}: tm={source.tm}, width={source.width} differ from the run's "
            f"tm={settings.tm}, width={settings.width}; give --tm/--width to match"
        )
    head = {"fc2", "scores"} if source.num_classes != num_classes else {"scores"}
    for layer in model.layers:
        if layer.name not in head and layer.weights:
            layer.set_weights(source.get_layer(layer.name).get_weights())
    return model


def jit_compiles():
    """Whether training steps are jit-compiled on the present backend. Not on
    TensorFlow, whose oneDNN CPU kernels are faster than XLA's; on JAX, or
    Keras runs the step op by op (measured 1.3 s a step on an H200)."""
    return keras.backend.backend() != "tensorflow"


def compile_trainer(model, settings, steps, seed, teaching=None):
    """The AugmentedTrainer with Adam (EMA of the weights), the recipe's loss,
    schedule and metric, its optimizer variables created; with `teaching`
    (a distillation.Teaching), the distillation loss."""
    recipe = settings.recipe
    learning_rate = settings.learning_rate
    if settings.schedule == "one_cycle":
        learning_rate = OneCycle(learning_rate, total_steps=steps * settings.epochs)
    optimizer = EMAAdam(learning_rate, ema_momentum=recipe.ema_decay)
    trainer = AugmentedTrainer(
        model, settings.crop_samples, settings.mixup_alpha, seed=seed, teaching=teaching
    )
    if recipe.multi_label:
        loss, metrics = (
            keras.losses.BinaryCrossentropy(),
            [keras.metrics.AUC(name="auc", multi_label=True)],
        )
    else:
        loss, metrics = (
            keras.losses.CategoricalCrossentropy(),
            [keras.metrics.CategoricalAccuracy(name="accuracy")],
        )
    trainer.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit_compiles())
    trainer.optimizer.build(trainer.trainable_variables)
    return trainer


def finish(run, config, settings, begun, data, val_loader, started, write=True):
    """The run's metrics (`data`: train_clips, classes, missing_clips,
    bad_files) after the loop that `begun` (from `start`) drove; with `write`,
    also final.keras (EMA weights, batch-norm statistics re-estimated for them
    with a recalibration), the evaluation plot and metrics.json.
    Distributed workers other than the chief do not write."""
    model, epoch_end = begun.model, begun.epoch_end
    # The last epoch's evaluation already used these EMA weights; a resumed run
    # that had nothing left to train evaluates here.
    final = epoch_end.result
    with epoch_end.averaged():
        if write:
            run.save_model(model, "final.keras")
        if val_loader is not None and final is None:
            final = epoch_end.evaluate()
    result = {
        "recipe": settings.recipe.name,
        "tm": settings.tm,
        "width": settings.width,
        "fold": config.fold,
        "validation_clips": len(val_loader) if val_loader else 0,
        **data,
        "epochs": len(epoch_end.history),  # fewer than planned after a time limit
        "planned_epochs": settings.epochs,
        "seconds": round(time.time() - started, 1),
        "history": epoch_end.history,
        "validation": final,
        "backend": keras.backend.backend(),
        "compute_dtype": model.get_layer("fc1").compute_dtype,  # the precision it trained in
        "distribute": config.distribute,
    }
    if write:
        if final is not None:
            evaluation.plot(final, data["classes"], os.path.join(run.path, "evaluation.png"))
        write_json(run.metrics, result)
    return result
