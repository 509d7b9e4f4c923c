"""The callbacks of a training run, one job each, in the order they run at
an epoch's end: score the validation clips with the EMA weights, record the
epoch, keep the best model, report skipped files, stop at the time limit,
then checkpoint and plot. Both loops (keras fit, and the multiworker loop)
drive them through keras.callbacks.CallbackList.

Keras's SwapEMAWeights and BackupAndRestore do not serve here: scoring needs
the EMA weights and batch norm re-estimated for them in one context, with the
raw weights back before the checkpoint is written; and the checkpoint is one
atomic file of every trainer variable by path (seed states included), which
loads across backends and resumes bit-exact under --deterministic.
"""

import contextlib
import time

import keras
import numpy as np

from erann_tf.training import evaluation
from erann_tf.training.checkpoint import save_state


class Scorer:
    """Scores `model` on the validation clips (over windows of `window`
    samples) with the `optimizer`'s (an EMAAdam's) EMA weights and, with `recalibration`,
    batch-norm statistics re-estimated for them. Under a distribution
    strategy it scores on `plain`, a replica-free twin.

    Example:
    >>> Scorer  # doctest: +ELLIPSIS
    <class '...Scorer'>
    """

    def __init__(
        self, model, optimizer, val_loader, multi_label, window, *, recalibration=None, plain=None
    ):
        self.model, self.optimizer, self.plain = model, optimizer, plain
        self.val_loader, self.multi_label, self.window = val_loader, multi_label, window
        self.recalibration = recalibration
        self.scored_with = "EMA weights" + (", batch norm re-estimated" if recalibration else "")

    def averaged(self):
        """Context: the model holds the weights it is scored and saved with."""
        return averaged_weights(self.optimizer, self.model, self.recalibration)

    def evaluate(self):
        """The evaluation of the model's current weights."""
        model = self.model
        if self.plain is not None:
            self.plain.set_weights(model.get_weights())
            model = self.plain
        return evaluation.evaluate(model, self.val_loader, self.multi_label, self.window)


class _Say(keras.callbacks.Callback):
    def say(self, line):
        # Keras finishes its progress bar's line after the callbacks: start a new one.
        print(("\n" if (self.params or {}).get("verbose") else "") + line)


class _Every(_Say):
    """Acts every `every` epochs, at the planned last one and at a stop."""

    def __init__(self, every=1):
        super().__init__()
        self.every = every

    def due(self, epoch):
        last = epoch + 1 == (self.params or {}).get("epochs")
        return (epoch + 1) % self.every == 0 or last or self.model.stop_training


class Validation(_Every):
    """Scores the validation clips at the end of every `every` epochs (and
    the last): logs["val_score"] and logs["val_seconds"] (the time it took),
    and `result`, the latest evaluation. It runs before TimeLimit: a run
    stopped by its time limit scores on resuming (finish) if it skipped here."""

    def __init__(self, scorer, every=1):
        super().__init__(every)
        self.scorer, self.result = scorer, None

    def on_epoch_end(self, epoch, logs=None):
        if not self.due(epoch):
            self.result = None  # older than the weights now
            return
        started = time.time()
        with self.scorer.averaged():
            self.result = self.scorer.evaluate()
        logs["val_score"] = score = evaluation.headline(self.result)
        logs["val_seconds"] = round(time.time() - started, 2)
        self.say(f"epoch {epoch + 1}: validation {score:.4f} ({self.scorer.scored_with})")


class BestModel(keras.callbacks.Callback):
    """Saves the model with its EMA weights as `name` in the run folder when
    logs["val_score"] beats every earlier epoch's (`best`)."""

    def __init__(self, run, scorer, best=-np.inf, name="best.keras"):
        super().__init__()
        self.run, self.scorer, self.best, self.name = run, scorer, best, name

    def on_epoch_end(self, epoch, logs=None):
        if logs.get("val_score", -np.inf) > self.best:
            self.best = logs["val_score"]
            with self.scorer.averaged():
                self.run.save_model(self.scorer.model, self.name)


class BadFileReport(_Say):
    """Says which files were skipped, after every epoch that has any."""

    def __init__(self, bad_files):
        super().__init__()
        self.bad_files = bad_files

    def on_epoch_end(self, epoch, logs=None):
        if len(self.bad_files):
            self.say(self.bad_files.report())


class RunHistory(keras.callbacks.Callback):
    """Appends each epoch's number, seconds of training (validation left out)
    and logs to `history` (a list, the run's so far), as history.json records it."""

    def __init__(self, history):
        super().__init__()
        self.history = history
        self._started = time.time()

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.time()

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: float(v) for k, v in (logs or {}).items()}
        seconds = time.time() - self._started - logs.get("val_seconds", 0.0)
        self.history.append({"epoch": epoch + 1, "seconds": round(seconds, 2)} | logs)


class TimeLimit(_Say):
    """Stops training cleanly at the end of the first epoch past `deadline`
    (a time.time() value)."""

    def __init__(self, deadline):
        super().__init__()
        self.deadline = deadline

    def on_epoch_end(self, epoch, logs=None):
        if time.time() > self.deadline:
            self.say(f"epoch {epoch + 1}: time limit reached; --resume continues the run")
            self.model.stop_training = True


class Checkpoint(_Every):
    """Writes the full training state and the history so far, atomically."""

    def __init__(self, run, history, every=1):
        super().__init__(every)
        self.run, self.history = run, history

    def on_epoch_end(self, epoch, logs=None):
        if self.due(epoch):
            save_state(self.run.checkpoint, self.model, epoch + 1)
            self.run.write_history(self.history)


class LearningCurves(_Every):
    """Plots the history so far as the run folder's learning_curves.png."""

    def __init__(self, run, history, scored_with, every=1):
        super().__init__(every)
        self.run, self.history, self.scored_with = run, history, scored_with

    def on_epoch_end(self, epoch, logs=None):
        if self.due(epoch):
            evaluation.plot_history(self.history, self.run.curves, self.scored_with)


def averaged_weights(optimizer, model, recalibration=None):
    """Context: `model` holds the EMA weights and, with `recalibration` (a
    BatchNormRecalibration), batch-norm statistics re-estimated for them."""
    stack = contextlib.ExitStack()
    stack.enter_context(ema_weights(optimizer, model))
    if recalibration is not None:
        stack.enter_context(recalibration.applied(model))
    return stack


class ema_weights:
    """Context manager: `model`'s trainable weights are the EMAAdam optimizer's
    exponential moving average inside, and restored after."""

    def __init__(self, optimizer, model):
        # A LossScaleOptimizer (fp16) keeps the EMA in its inner optimizer.
        self.optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        self.variables = model.trainable_variables

    def __enter__(self):
        self.saved = [np.array(v.value) for v in self.variables]
        for variable, average in zip(
            self.variables, self.optimizer.averages(self.variables), strict=True
        ):
            variable.assign(average)

    def __exit__(self, *exc):
        for variable, value in zip(self.variables, self.saved, strict=True):
            variable.assign(value)
