"""Batch-norm statistics re-estimated for the EMA weights (training.batchnorm)."""

import keras
import numpy as np
import pytest

from erann_tf import ERANN
from erann_tf.data.loader import ClipLoader
from erann_tf.data.sources import read_ravdess
from erann_tf.training.batchnorm import BatchNormRecalibration, recalibration_for
from erann_tf.training.loading import load_data


def _norms(model):
    return {
        layer.name: (np.array(layer.moving_mean), np.array(layer.moving_variance))
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    }


@pytest.fixture(scope="module")
def ravdess_loader(shared):
    clips = read_ravdess(shared / "data" / "ravdess")
    return ClipLoader(clips.subset(6), window_seconds=3.0).scan(progress=False)


def test_statistics_are_the_clean_crops_running_mean_and_come_back(ravdess_loader):
    """bn0 (on the log-mel, after the pitch shift) gets the mean of the batch
    means and variances of clean crops: no pitch shift while re-estimating.
    Outside the context every statistic and momentum is as before."""
    model = ERANN(tm=4, width=1, num_classes=8, activation="softmax", pitch_shift=2.0, seed=0)
    recalibration = BatchNormRecalibration(ravdess_loader, 44100, batches=2, batch_size=3)
    crops = list(recalibration.crops())
    assert [c.shape for c in crops] == [(3, 44100)] * 2
    before = _norms(model)
    bn0_input = keras.Model(model.input, model.get_layer("bn0").input)
    logmel = [np.asarray(bn0_input(c, training=False)) for c in crops]  # no augmentation
    mean = np.mean([x.mean(axis=(0, 1)) for x in logmel], axis=0)
    variance = np.mean([x.var(axis=(0, 1)) for x in logmel], axis=0)

    with recalibration.applied(model):
        inside = _norms(model)
        np.testing.assert_allclose(inside["bn0"][0], mean, rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(inside["bn0"][1], variance, rtol=1e-3)
        assert all(not np.allclose(inside[name][0], before[name][0]) for name in before)
    after = _norms(model)
    for name, (mean_before, variance_before) in before.items():
        np.testing.assert_array_equal(after[name][0], mean_before)
        np.testing.assert_array_equal(after[name][1], variance_before)
    assert model.get_layer("bn0").momentum == 0.9
    assert model.get_layer("pitch_shift").max_semitones == 2.0
    assert model.get_layer("spec_augment").time_masks == 2


def test_crops_are_the_same_at_every_call(ravdess_loader):
    recalibration = BatchNormRecalibration(ravdess_loader, 22050, batches=2, batch_size=4, seed=3)
    first, second = list(recalibration.crops()), list(recalibration.crops())
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])  # 6 clips: the second batch repeats others


def test_the_same_weights_reuse_their_estimates(ravdess_loader):
    """A run's last epoch is scored, then saved, with the same EMA weights:
    the second re-estimate is the first one's, and changed weights get new ones."""
    model = ERANN(tm=4, width=1, num_classes=8, activation="softmax", seed=0)
    recalibration = BatchNormRecalibration(ravdess_loader, 22050, batches=1, batch_size=3)
    passes = []
    estimate = recalibration._estimate
    recalibration._estimate = lambda *args: passes.append(1) or estimate(*args)
    with recalibration.applied(model):
        first = _norms(model)
    with recalibration.applied(model):
        again = _norms(model)
    assert len(passes) == 1
    for name, (mean, variance) in first.items():
        np.testing.assert_array_equal(again[name][0], mean)
        np.testing.assert_array_equal(again[name][1], variance)
    kernel = model.get_layer("fc1").kernel
    kernel.assign(kernel * 2.0)
    with recalibration.applied(model):
        pass
    assert len(passes) == 2


def test_a_run_saves_statistics_re_estimated_for_its_ema_weights(tiny_run):
    """final.keras holds the EMA weights with the statistics that
    re-estimating on the run's own crops gives for exactly those weights."""
    run, config, result = tiny_run
    assert config.recalibrate_bn == 2 and result["validation"]["clips"] > 0
    final = keras.models.load_model(run / "final.keras")
    saved = _norms(final)
    settings = config.resolved()
    loader, _ = load_data(config, settings, progress=False)
    with recalibration_for(loader, settings, config.seed).applied(final):
        again = _norms(final)
    for name, (mean, variance) in saved.items():
        np.testing.assert_allclose(again[name][0], mean, rtol=1e-3, atol=1e-4, err_msg=name)
        np.testing.assert_allclose(again[name][1], variance, rtol=1e-3, atol=1e-4, err_msg=name)
