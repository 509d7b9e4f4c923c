import keras
import numpy as np
import pytest

from erann_tf.layers import ClipPooling, SpecAugment, TimeFrequencyBlock, TimePadding


def _round_trip(layer, x):
    """Serializes a layer inside a model to .keras in memory and back."""
    inputs = keras.Input(x.shape[1:])
    model = keras.Model(inputs, layer(inputs))
    clone = keras.Model.from_config(model.get_config())
    clone.set_weights(model.get_weights())
    return np.asarray(model(x)), np.asarray(clone(x))


# --- SpecAugment ---------------------------------------------------------------


def test_spec_augment_is_identity_at_inference():
    x = np.random.default_rng(0).normal(size=(3, 200, 128)).astype("float32")
    layer = SpecAugment(seed=1)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)


def test_spec_augment_masks_within_limits():
    x = np.ones((16, 300, 128), "float32")
    out = np.asarray(SpecAugment(mask_value=-1.0, seed=3)(x, training=True))
    masked = out == -1.0
    time_masked = masked.all(axis=2).sum(axis=1)
    freq_masked = masked.all(axis=1).sum(axis=1)
    assert (time_masked <= 2 * 64).all() and (freq_masked <= 2 * 16).all()
    assert time_masked.sum() > 0 and freq_masked.sum() > 0
    # Every masked cell lies in a fully masked row or column.
    covered = masked.all(axis=2)[:, :, None] | masked.all(axis=1)[:, None, :]
    np.testing.assert_array_equal(masked, covered)
    assert len({tuple(row) for row in masked.all(axis=2)}) > 1  # differs across examples


def test_spec_augment_is_seeded():
    x = np.ones((4, 100, 128), "float32")
    first = np.asarray(SpecAugment(seed=7)(x, training=True))
    again = np.asarray(SpecAugment(seed=7)(x, training=True))
    other = np.asarray(SpecAugment(seed=8)(x, training=True))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_spec_augment_off_and_config():
    x = np.ones((2, 50, 128), "float32")
    off = SpecAugment(time_mask_width=0, freq_mask_width=0)
    np.testing.assert_array_equal(np.asarray(off(x, training=True)), x)
    layer = SpecAugment(time_masks=1, time_mask_width=10, freq_masks=3, freq_mask_width=5, seed=2)
    assert SpecAugment.from_config(layer.get_config()).get_config() == layer.get_config()
    with pytest.raises(ValueError, match="time_mask_width"):
        SpecAugment(time_mask_width=-1)


# --- TimeFrequencyBlock against a numpy reference --------------------------------


def _conv(x, kernel, strides, padding):
    """Plain cross-correlation with symmetric zero padding, (B, T, F, C) layout."""
    (st, sf), (pt, pf) = strides, padding
    kt, kf = kernel.shape[:2]
    x = np.pad(x, ((0, 0), (pt, pt), (pf, pf), (0, 0)))
    out_t = (x.shape[1] - kt) // st + 1
    out_f = (x.shape[2] - kf) // sf + 1
    out = 0.0
    for i in range(kt):
        for j in range(kf):
            patch = x[:, i : i + st * (out_t - 1) + 1 : st, j : j + sf * (out_f - 1) + 1 : sf]
            out = out + patch @ kernel[i, j]
    return out


def _bn(x, layer):
    gamma, beta, mean, variance = (np.asarray(w) for w in layer.weights)
    return (x - mean) / np.sqrt(variance + layer.epsilon) * gamma + beta


def _leaky(x):
    return np.where(x > 0, x, 0.01 * x)


def _reference_unit(unit, x):
    kernels = {1: (3, 3, 1), 2: (3, 3, 1), 4: (6, 5, 2)}
    strides = (unit.time_stride, unit.freq_stride)
    p2 = (kernels[unit.time_stride][2], kernels[unit.freq_stride][2])
    a = _leaky(_bn(x, unit.bn1)) if unit.preactivate else x
    h = _conv(a, np.asarray(unit.conv1.kernel), strides, (1, 1))
    h = _conv(_leaky(_bn(h, unit.bn2)), np.asarray(unit.conv2.kernel), (1, 1), p2)
    if unit.shortcut is None:
        return h + x
    return h + _conv(a, np.asarray(unit.shortcut.kernel), strides, (0, 0))


def _randomise_batch_norms(unit, rng):
    for bn in (unit.bn1, unit.bn2):
        if bn is not None:
            size = bn.gamma.shape
            bn.set_weights(
                [
                    rng.uniform(0.5, 1.5, size),
                    rng.normal(0, 0.1, size),
                    rng.normal(0, 0.1, size),
                    rng.uniform(0.5, 2.0, size),
                ]
            )


@pytest.mark.parametrize(
    "filters, time_stride, freq_stride, preactivate, channels",
    [
        (8, 1, 1, False, 1),  # the network's first unit: no pre-activation, projection
        (8, 1, 1, True, 8),  # identity shortcut
        (16, 2, 2, True, 8),
        (16, 4, 2, True, 8),
    ],
)
def test_unit_matches_numpy_reference(filters, time_stride, freq_stride, preactivate, channels):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 16, 12, channels)).astype("float32")
    unit = TimeFrequencyBlock(filters, time_stride, freq_stride, preactivate=preactivate)
    out = np.asarray(unit(x))
    _randomise_batch_norms(unit, rng)
    out = np.asarray(unit(x))
    expected = _reference_unit(unit, x.astype("float64"))
    assert out.shape == (2, 16 // time_stride, 12 // freq_stride, filters)
    assert out.shape == unit.compute_output_shape(x.shape)
    np.testing.assert_allclose(out, expected, atol=2e-4, rtol=1e-4)
    assert (unit.shortcut is None) == (channels == filters and time_stride == freq_stride == 1)


def test_unit_round_trip_and_training_mode():
    x = np.random.default_rng(1).normal(size=(2, 16, 8, 4)).astype("float32")
    unit = TimeFrequencyBlock(8, time_stride=4, freq_stride=2, name="tfb")
    before, after = _round_trip(unit, x)
    np.testing.assert_allclose(before, after)
    assert not np.allclose(np.asarray(unit(x, training=True)), before)  # batch statistics


@pytest.mark.parametrize(
    "kwargs, word",
    [({"filters": 0}, "filters"), ({"filters": 8, "time_stride": 3}, "time_stride")],
)
def test_unit_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        TimeFrequencyBlock(**kwargs)


# --- TimePadding and ClipPooling ---------------------------------------------------


def test_time_padding():
    x = np.zeros((2, 1279, 128), "float32")
    out = np.asarray(TimePadding(64)(x))
    assert out.shape == (2, 1280, 128)
    assert (out[:, -1] == -100.0).all() and (out[:, :-1] == 0).all()
    assert TimePadding(64)(np.zeros((1, 128, 4), "float32")).shape == (1, 128, 4)
    assert TimePadding(16).compute_output_shape((None, 17, 128)) == (None, 32, 128)
    before, after = _round_trip(TimePadding(32, value=-80.0), x[:, :100])
    np.testing.assert_array_equal(before, after)
    with pytest.raises(ValueError, match="multiple"):
        TimePadding(0)


def test_clip_pooling():
    x = np.random.default_rng(2).normal(size=(3, 20, 8, 5)).astype("float32")
    per_frame = x.mean(axis=2)
    expected = per_frame.max(axis=1) + per_frame.mean(axis=1)
    np.testing.assert_allclose(np.asarray(ClipPooling()(x)), expected, rtol=1e-5, atol=1e-6)
    before, after = _round_trip(ClipPooling(), x)
    np.testing.assert_array_equal(before, after)


@pytest.mark.tf_only  # elsewhere the layer is Keras's own
@pytest.mark.parametrize("shape", [(4, 50, 16, 8), (4, 60, 128), (16, 32)])
def test_fast_batch_norm_trains_as_keras_does(shape):
    """FastBatchNormalization (TensorFlow's fused kernel in training on that
    backend, Keras's own ops elsewhere) gives Keras's outputs, gradients and
    moving statistics to float32 rounding, and its inference is Keras's."""
    import tensorflow as tf

    from erann_tf.layers import FastBatchNormalization

    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(3.0, 2.0, shape).astype("float32"))
    weights = tf.constant(rng.normal(0.0, 1.0, shape).astype("float32"))
    layers = [
        kind(momentum=0.9, epsilon=1e-5)
        for kind in (keras.layers.BatchNormalization, FastBatchNormalization)
    ]
    results = []
    for layer in layers:
        layer.build(shape)
        layer.gamma.assign(np.linspace(0.5, 2.0, shape[-1]))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            loss = tf.reduce_sum(y * weights)
        grads = tape.gradient(loss, [x, layer.gamma, layer.beta])
        results.append([y, *grads, layer.moving_mean, layer.moving_variance, layer(x)])
    for ours, theirs in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=2e-3, atol=2e-3)
    restored = keras.layers.deserialize(keras.layers.serialize(layers[1]))
    assert isinstance(restored, FastBatchNormalization)
