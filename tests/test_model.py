import glob
import os

import keras
import numpy as np
import pytest

from erann_tf import ERANN
from erann_tf.data import load_audio
from erann_tf.models import complexity
from erann_tf.training.build import jit_compiles

# DESIGN.md §1: trainable parameters for 527 classes (paper Table 4 minus 2 + 240 W)
# and multiply-adds for one 10 s clip (1280 frames), per (tm, width).
PAPER = {
    (4, 4): (24_503_887, 26.204e9),
    (4, 5): (38_197_343, 40.928e9),
    (1, 6): (54_434_031, 126.538e9),
    (2, 6): (54_530_799, 77.181e9),
    (4, 6): (54_917_871, 58.920e9),
    (8, 6): (56_466_159, 52.999e9),
}


@pytest.mark.parametrize("tm, width", sorted(PAPER))
def test_parameters_and_macs_match_the_paper(tm, width):
    trainable, macs = PAPER[tm, width]
    result = complexity(tm, width, num_classes=527, seconds=10.0)
    assert result.frames == 1280
    assert result.trainable_params == trainable
    assert result.paper_params == trainable + 2 + 240 * width
    assert abs(result.macs - macs) / macs <= 0.0003


@pytest.mark.parametrize("tm, width, classes", [(4, 1, 10), (1, 2, 8), (16, 1, 527), (8, 6, 527)])
def test_built_model_has_the_counted_parameters(tm, width, classes):
    model = ERANN(tm=tm, width=width, num_classes=classes)
    expected = complexity(tm, width, num_classes=classes)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == expected.trainable_params
    assert model.count_params() == expected.total_params


@pytest.mark.parametrize("tm, pooled", [(1, (80, 8)), (2, (40, 8)), (4, (20, 8)), (8, (10, 8))])
def test_shape_before_pooling(tm, pooled):
    model = ERANN(tm=tm, width=1, num_classes=3, include_frontend=False)
    backbone = keras.Model(model.input, model.get_layer("final_activation").output)
    out = backbone(np.full((1, 1279, 128), -50.0, "float32"))
    assert tuple(out.shape) == (1, *pooled, 128)
    assert complexity(tm, 1, seconds=10.0).pooled_shape == (*pooled, 128)


def test_macs_grow_linearly_with_clip_length():
    ten, twenty = complexity(4, 2, seconds=10.0), complexity(4, 2, seconds=20.0)
    dense = 256 * 256 + 256 * 527
    assert twenty.frames == 2 * ten.frames
    assert twenty.macs - dense == 2 * (ten.macs - dense)


def test_outputs_and_embedding():
    # Compared with the logits of the same weights: a random initialisation can
    # give logits past 17, where a float32 sigmoid is exactly 1.
    wave = np.random.default_rng(0).normal(0, 0.1, (2, 22050)).astype("float32")
    logits = ERANN(tm=4, width=1, num_classes=5, activation=None)
    assert logits.get_layer("scores").get_config()["activation"] == "linear"
    default = ERANN(tm=4, width=1, num_classes=5).get_layer("scores")
    assert default.get_config()["activation"] == "sigmoid"
    assert len(logits.outputs) == 1
    assert logits.get_layer("embedding").output.shape == (None, 128)
    z = np.asarray(logits(wave), "float64")
    for activation, expected in [
        ("sigmoid", 1 / (1 + np.exp(-z))),
        ("softmax", np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)),
    ]:
        model = ERANN(tm=4, width=1, num_classes=5, activation=activation)
        model.set_weights(logits.get_weights())
        np.testing.assert_allclose(model(wave), expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("samples", [691, 44100, 441000])
def test_any_waveform_length_of_at_least_one_frame(samples):
    model = ERANN(tm=8, width=1, num_classes=2)
    assert model(np.zeros((1, samples), "float32")).shape == (1, 2)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"tm": 3}, "tm"),
        ({"tm": True}, "tm"),
        ({"width": 0}, "width"),
        ({"width": 1.5}, "width"),
        ({"num_classes": 0}, "num_classes"),
        ({"activation": "relu"}, "activation"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, word):
    with pytest.raises(ValueError, match=rf"^{word}=.* is not allowed; {word} must be"):
        ERANN(**kwargs)


@pytest.mark.parametrize("include_frontend", [True, False])
def test_keras_file_round_trip(tmp_path, include_frontend):
    model = ERANN(
        tm=4,
        width=1,
        num_classes=4,
        activation="softmax",
        include_frontend=include_frontend,
        time_mask=32,
        pitch_shift=1.5,
        gain_db=6.0,
        seed=5,
    )
    shape = (2, 30000) if include_frontend else (2, 87, 128)
    x = np.random.default_rng(1).normal(0, 0.1, shape).astype("float32")
    rng = np.random.default_rng(2)  # every weight non-default, moving statistics included
    model.set_weights([np.abs(rng.normal(1.0, 0.1, w.shape)) for w in model.get_weights()])
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    assert isinstance(loaded, ERANN)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(model(x)))


def test_from_name():
    model = ERANN.from_name("ERANN-3x1-4", num_classes=8, activation="softmax")
    assert (model.tm, model.width, model.num_classes) == (1, 4, 8)
    with pytest.raises(ValueError, match="not a preset name"):
        ERANN.from_name("resnet-50")


def _fsdd_batch(shared, size=32, seconds=1.0):
    """`size` real FSDD recordings (digits 0..9 in turn), 44.1 kHz, cropped or
    zero-padded to `seconds`."""
    paths = sorted(glob.glob(str(shared / "data" / "fsdd" / "recordings" / "*.wav")))
    by_digit = [[p for p in paths if os.path.basename(p).startswith(f"{d}_")] for d in range(10)]
    length = int(seconds * 44100)
    waves, labels = [], []
    for i in range(size):
        digit = i % 10
        wave = load_audio(by_digit[digit][i // 10 * 7])[:length]
        waves.append(np.pad(wave, (0, length - wave.shape[0])))
        labels.append(digit)
    return np.stack(waves), np.array(labels)


def test_trains_on_real_clips(shared):
    """Real training steps at batch 32 on real clips: the loss goes down.

    On TF this runs the default oneDNN CPU kernels without XLA, where strided
    1x1 convolutions would crash the backward pass (DESIGN.md §4); jitted or
    not as the trainer compiles it."""
    waves, labels = _fsdd_batch(shared)
    model = ERANN(tm=4, width=1, num_classes=10, activation="softmax", seed=0)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        jit_compile=jit_compiles(),
    )
    losses = [float(model.train_on_batch(waves, labels)) for _ in range(12)]
    assert all(np.isfinite(losses))
    assert np.mean(losses[-3:]) < 0.8 * losses[0], losses
