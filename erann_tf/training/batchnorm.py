"""Batch-norm statistics for the EMA weights.

A run is evaluated and saved with the optimizer's moving average of the
weights (decay 0.999: about the last thousand steps), but batch norm's moving
statistics (momentum 0.9) follow the raw weights of the last ten steps or so,
on mixed and masked batches. `BatchNormRecalibration` re-estimates the
statistics for the weights in place, on clean crops of the training clips (as
SWA's update_bn does), and puts the old ones back afterwards.
"""

import contextlib
import hashlib

import keras
import numpy as np

from erann_tf.data.augment import random_crop


class BatchNormRecalibration:
    """Re-estimates every BatchNormalization's moving mean and variance of a
    model from `batches` batches of `batch_size` random `crop_samples` crops
    of the training clips, with augmentation off (SpecAugment, pitch shift).
    The crops are the same at every call: a pure function of `seed`, so the
    estimates are a function of the weights, and weights seen at the last call
    reuse its estimates (a run's last epoch evaluates, then saves, the same
    EMA weights).

    Example:
    >>> from erann_tf import ERANN
    >>> from erann_tf.data.loader import ClipLoader
    >>> from erann_tf.data.sources import read_esc10
    >>> clips = read_esc10("../shared/data/esc10")
    >>> loader = ClipLoader(clips._with(clips.clips[:4]), window_seconds=1.0).scan(False)
    >>> model = ERANN(tm=4, width=1, num_classes=10)
    >>> recalibration = BatchNormRecalibration(loader, 44100, batches=1, batch_size=4)
    >>> before = model.get_layer("bn0").moving_mean.numpy().copy()
    >>> with recalibration.applied(model):
    ...     changed = not np.allclose(model.get_layer("bn0").moving_mean.numpy(), before)
    >>> changed, np.allclose(model.get_layer("bn0").moving_mean.numpy(), before)
    (True, True)
    """

    def __init__(self, loader, crop_samples, batches, batch_size, seed=0):
        self.loader = loader
        self.crop_samples = int(crop_samples)
        self.batches = int(batches)
        self.batch_size = int(batch_size)
        self.seed = seed
        self._compiled = None  # (model, its compiled forward pass)
        self._last = None  # (the weights' fingerprint, their estimates)

    def crops(self):
        """The batches of clean crops, [batch_size, crop_samples] each."""
        rng = np.random.default_rng([self.seed, 7])
        count = self.batches * self.batch_size
        order = np.resize(rng.permutation(self.loader.good), count)  # repeats a small set
        for start in range(0, count, self.batch_size):
            windows = [self.loader.window(i, rng) for i in order[start : start + self.batch_size]]
            waves = np.stack([w for w, _ in windows]).astype("float32")
            lengths = np.array([n for _, n in windows], "int32")
            seed = int(rng.integers(2**31))
            yield np.asarray(random_crop(waves, lengths, self.crop_samples, seed))

    @contextlib.contextmanager
    def applied(self, model):
        """Inside: `model`'s batch norms hold statistics re-estimated for its
        current weights (the mean over the batches of each batch's mean and
        variance); outside: the statistics they had before."""
        norms = [
            layer
            for layer in model._flatten_layers()
            if isinstance(layer, keras.layers.BatchNormalization)
        ]
        saved = [(np.array(n.moving_mean), np.array(n.moving_variance)) for n in norms]
        try:
            estimates = self._estimates_for(model, norms)
            for norm, (mean, variance) in zip(norms, estimates, strict=True):
                norm.moving_mean.assign(mean)
                norm.moving_variance.assign(variance)
            yield model
        finally:
            for norm, (mean, variance) in zip(norms, saved, strict=True):
                norm.moving_mean.assign(mean)
                norm.moving_variance.assign(variance)

    def _estimates_for(self, model, norms):
        """_estimate, or the last call's estimates when the weights are the same."""
        fingerprint = hashlib.blake2b(str(id(model)).encode())
        for variable in model.trainable_variables:
            fingerprint.update(np.ascontiguousarray(variable.value).tobytes())
        key = fingerprint.digest()
        if self._last is None or self._last[0] != key:
            self._last = (key, self._estimate(model, norms))
        return self._last[1]

    def _estimate(self, model, norms):
        """Each norm's (mean, variance), averaged over the batches."""
        variables = model.non_trainable_variables
        position = {id(v): i for i, v in enumerate(variables)}
        where = [(position[id(n.moving_mean)], position[id(n.moving_variance)]) for n in norms]
        forward = self._forward(model, norms)
        trainable = [v.value for v in model.trainable_variables]
        current = [v.value for v in variables]
        per_batch = []
        for crops in self.crops():
            _, updated = forward(trainable, current, crops)
            per_batch.append([(np.asarray(updated[m]), np.asarray(updated[v])) for m, v in where])
        return [
            tuple(np.mean(values, axis=0) for values in zip(*norm, strict=True))
            for norm in zip(*per_batch, strict=True)
        ]

    def _forward(self, model, norms):
        """(trainable, non-trainable, crops) -> (scores, non-trainable after
        one training-mode pass with momentum 0, i.e. the batch's statistics),
        with augmentation off; compiled once per model under JAX and
        TensorFlow (op by op it took seconds a batch, docs/batchnorm.md)."""
        if self._compiled is not None and self._compiled[0] is model:
            return self._compiled[1]

        def forward(trainable, non_trainable, crops):
            with _augmentation_off(model), _momentum_zero(norms):
                return model.stateless_call(trainable, non_trainable, crops, training=True)

        if keras.backend.backend() == "jax":
            import jax

            forward = jax.jit(forward)
        elif keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            forward = tf.function(forward)
        self._compiled = (model, forward)
        return forward


def recalibration_for(loader, settings, seed):
    """The BatchNormRecalibration a run with these Settings uses on `loader`
    (its crop, batch size and `recalibrate_bn` batches), or None when off."""
    if not settings.recalibrate_bn:
        return None
    return BatchNormRecalibration(
        loader, settings.crop_samples, settings.recalibrate_bn, settings.batch_size, seed
    )


@contextlib.contextmanager
def _momentum_zero(norms):
    """A training-mode pass leaves each norm's batch statistics as its moving ones."""
    saved = [norm.momentum for norm in norms]
    for norm in norms:
        norm.momentum = 0.0
    try:
        yield
    finally:
        for norm, momentum in zip(norms, saved, strict=True):
            norm.momentum = momentum


@contextlib.contextmanager
def _augmentation_off(model):
    """SpecAugment and pitch shift do nothing inside, although training=True."""
    switches = ("time_masks", "freq_masks", "max_semitones")
    saved = []
    for layer in model._flatten_layers():
        for name in switches:
            if hasattr(layer, name):
                saved.append((layer, name, getattr(layer, name)))
                setattr(layer, name, 0)
    try:
        yield
    finally:
        for layer, name, value in saved:
            setattr(layer, name, value)
