import numpy as np
import pytest

from erann_tf.layers import LogMelSpectrogram
from erann_tf.layers.frontend import mel_filterbank


def _max_error_in_range(out, ref, dynamic_range=100.0):
    within = ref >= ref.max() - dynamic_range
    return np.abs(out - ref)[within].max()


@pytest.mark.parametrize("name", ["", "_rain"])
def test_matches_golden_files(golden, name):
    reference = golden[name]
    layer = LogMelSpectrogram(
        sample_rate=int(reference["sample_rate"]),
        n_fft=int(reference["n_fft"]),
        hop_length=int(reference["hop_length"]),
        n_mels=int(reference["n_mels"]),
        fmin=float(reference["fmin"]),
        fmax=float(reference["fmax"]),
        amin=float(reference["amin"]),
    )
    out = np.asarray(layer(reference["waveform"][None]))[0]
    assert out.shape == reference["logmel"].shape
    assert _max_error_in_range(out, reference["logmel"]) <= 0.01


def test_defaults_are_the_design_values(golden):
    reference = golden["_rain"]
    config = LogMelSpectrogram().get_config()
    for key in ("sample_rate", "n_fft", "hop_length", "n_mels", "fmin", "fmax", "amin"):
        assert config[key] == reference[key], key


@pytest.mark.parametrize("samples, frames", [(441000, 1279), (220500, 640), (691, 3), (1380, 5)])
def test_frame_count(samples, frames):
    layer = LogMelSpectrogram()
    assert layer.num_frames(samples) == frames
    assert layer.compute_output_shape((1, samples)) == (1, frames, 128)
    assert layer(np.zeros((1, samples), "float32")).shape == (1, frames, 128)


def test_each_clip_depends_on_itself_alone(golden):
    chirp = golden[""]["waveform"]
    rain = golden["_rain"]["waveform"][: chirp.shape[0]]
    layer = LogMelSpectrogram()
    together = np.asarray(layer(np.stack([chirp, rain])))
    alone = np.asarray(layer(rain[None]))[0]
    # XLA on CPU sums a batch of 2 in another order than a batch of 1: up to
    # 0.005 dB near the -100 dB floor on JAX; the golden bound is 0.01 dB.
    np.testing.assert_allclose(together[1], alone, atol=0.01)


def test_has_no_weights_and_stays_float32():
    layer = LogMelSpectrogram(dtype="float16")
    layer.build((None, None))
    assert layer.weights == []
    assert layer.compute_dtype == "float32"


def test_filterbank_is_slaney_normalised():
    bank = mel_filterbank(44100, 1380, 128, 50.0, 14000.0)
    assert bank.shape == (691, 128)
    assert (bank >= 0).all()
    # Slaney norm: each triangle has area 1 over frequency in Hz (checked where
    # triangles span many 32 Hz bins; the golden files pin the narrow ones).
    area = bank.sum(axis=0) * (44100 / 1380)
    np.testing.assert_allclose(area[64:], 1.0, rtol=0.05)


def test_config_round_trip(golden):
    layer = LogMelSpectrogram(fmax=11000.0, name="frontend")
    clone = LogMelSpectrogram.from_config(layer.get_config())
    wave = golden[""]["waveform"][None, :20000]
    np.testing.assert_array_equal(np.asarray(layer(wave)), np.asarray(clone(wave)))
    assert clone.name == "frontend"


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"n_fft": 1000}, "n_fft"),
        ({"fmax": 30000.0}, "fmax"),
        ({"n_mels": 0}, "n_mels"),
        ({"amin": 0.0}, "amin"),
    ],
)
def test_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word):
        LogMelSpectrogram(**kwargs)


def test_too_short_waveform_is_refused():
    layer = LogMelSpectrogram()
    with pytest.raises(ValueError, match="at least 691 samples"):
        layer(np.zeros((1, 690), "float32"))


@pytest.mark.tf_only
def test_runs_in_tflite_with_builtin_ops_only(golden):
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    wave = golden["_rain"]["waveform"][None, :44100]
    layer = LogMelSpectrogram()
    function = tf.function(layer, input_signature=[tf.TensorSpec(wave.shape, tf.float32)])
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function.get_concrete_function()])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    interpreter = Interpreter(model_content=converter.convert())
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert not any(op.startswith("Flex") or "FFT" in op for op in ops), ops
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], wave)
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    expected = np.asarray(layer(wave))
    assert _max_error_in_range(out[0], expected[0]) <= 0.01
