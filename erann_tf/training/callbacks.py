"""Callbacks of a training run: evaluation with EMA weights, the per-epoch
checkpoint, the best model, and the bad-file report."""

import contextlib
import time

import keras
import numpy as np

from erann_tf.training import evaluation
from erann_tf.training.checkpoint import save_state


class EpochEnd(keras.callbacks.Callback):
    """At the end of every epoch: evaluate `model` on `val_loader` with the
    optimizer's EMA weights swapped in (if there is a validation fold; with
    `recalibration`, batch-norm statistics re-estimated for them), save
    the best model, append to `history`, report skipped files, and write the
    full training state atomically (every `checkpoint_every` epochs and at the
    last one). Past `deadline` (a time.time() value) training stops cleanly.

    Example:
    >>> EpochEnd  # doctest: +ELLIPSIS
    <class '...EpochEnd'>
    """

    def __init__(
        self,
        run,
        model,
        val_loader,
        multi_label,
        bad_files,
        history,
        window,
        plain=None,
        checkpoint_every=1,
        deadline=None,
        recalibration=None,
    ):
        super().__init__()
        self.run = run
        self.erann = model
        self.plain = plain  # a copy built outside the distribution strategy, to evaluate on
        self.val_loader = val_loader
        self.multi_label = multi_label
        self.bad_files = bad_files
        self.history = history
        self.window = window  # samples: validation clips are scored over windows of the crop
        self.checkpoint_every = checkpoint_every
        self.deadline = deadline  # time.time() after which training stops at an epoch's end
        self.recalibration = recalibration  # a BatchNormRecalibration for the EMA weights, or None
        self.scored_with = "EMA weights" + (", batch norm re-estimated" if recalibration else "")
        self.result = None  # the latest evaluation, with EMA weights
        self.best = -np.inf if not history else max(h.get("val_score", -np.inf) for h in history)
        self._started = time.time()

    def on_epoch_begin(self, epoch, logs=None):
        self._started = time.time()

    def on_epoch_end(self, epoch, logs=None):
        entry = {"epoch": epoch + 1, "seconds": round(time.time() - self._started, 2)}
        entry.update({k: float(v) for k, v in (logs or {}).items()})
        if self.val_loader is not None:
            with self.averaged():
                self.result = self.evaluate()
                entry["val_score"] = evaluation.headline(self.result)
                if entry["val_score"] > self.best:
                    self.best = entry["val_score"]
                    self.run.save_model(self.erann, "best.keras")
            score = entry["val_score"]
            self._say(f"epoch {epoch + 1}: validation {score:.4f} ({self.scored_with})")
        if len(self.bad_files):
            self._say(self.bad_files.report())
        self.history.append(entry)
        out_of_time = self.deadline is not None and time.time() > self.deadline
        if out_of_time:
            self._say(f"epoch {epoch + 1}: time limit reached; --resume continues the run")
            self.model.stop_training = True
        last = out_of_time or epoch + 1 == (self.params or {}).get("epochs")
        if (epoch + 1) % self.checkpoint_every == 0 or last:
            save_state(self.run.checkpoint, self.model, epoch + 1)
            self.run.write_history(self.history)
            evaluation.plot_history(self.history, self.run.curves, self.scored_with)

    def _say(self, line):
        # Keras finishes its progress bar's line after this callback: start a new one.
        verbose = (self.params or {}).get("verbose")
        print(("\n" if verbose else "") + line)

    def averaged(self):
        """Context: the model holds the weights it is evaluated and saved with."""
        return averaged_weights(self.model.optimizer, self.erann, self.recalibration)

    def evaluate(self):
        """Evaluates the model's current weights on the validation clips; on
        `plain` when given (a distributed model's own predict would need every
        worker to take part)."""
        model = self.erann
        if self.plain is not None:
            self.plain.set_weights(model.get_weights())
            model = self.plain
        return evaluation.evaluate(model, self.val_loader, self.multi_label, self.window)


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
