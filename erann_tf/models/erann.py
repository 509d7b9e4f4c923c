"""The ERANN model."""

import os
import zipfile

import keras

from erann_tf.data.audio import first_line
from erann_tf.data.frontend_config import FRONTEND, FrontendConfig
from erann_tf.layers import (
    ClipPooling,
    LogMelSpectrogram,
    PitchShift,
    RandomGain,
    SpecAugment,
    TimeFrequencyBlock,
    TimePadding,
)
from erann_tf.layers.blocks import BN_EPSILON, NEGATIVE_SLOPE
from erann_tf.models.architecture import time_multiple, unit_specs, validate
from erann_tf.models.presets import parse_preset, shipped_model_dir

FRONTEND_LAYER = "logmel"  # the frontend's layer name (TFLite export keeps its ops in float)


@keras.saving.register_keras_serializable(package="erann_tf")
class ERANN(keras.Model):
    """Efficient Residual Audio Neural Network (Verbitskiy and Vyshegorodtsev).

    A functional keras.Model with one output, the class scores. With the
    frontend its input is a mono waveform (batch, samples) at the frontend's
    sample rate of any length of at least `frontend.min_samples` samples;
    without it, log-mel in dB (batch, frames, n_mels). Time is padded at the
    end to a multiple of 16 * tm frames with the frontend's floor (-100 dB).
    The layer named `embedding` gives the 128 * width clip embedding.

    Args:
        tm: decreasing-temporal-size parameter, one of 1, 2, 4, 8, 16.
        width: width multiplier W >= 1 (channels 8W, 16W, 32W, 64W, 128W).
        num_classes: number of output scores.
        activation: "sigmoid" (multi-label tagging), "softmax" (classification)
            or None (logits).
        include_frontend: whether the input is a waveform (True) or log-mel.
        frontend: a FrontendConfig (or its dict): sample rate, STFT, mel bands
            and dB floor; default FRONTEND, which every shipped model uses.
        time_mask, freq_mask: largest SpecAugment masks in frames and mel bins
            (two of each, training only; 0 turns one kind off).
        pitch_shift: largest random pitch shift in semitones, training only
            (0, the default, turns it off; the speech recipe uses 2).
        gain_db: largest random gain in dB either way, training only (0, the
            default, turns it off).
        seed: seed of the SpecAugment masks, pitch shifts and gains.
        name: model name.
        dtype: dtype policy of the layers after the frontend (None: global
            policy). The frontend and the output stay float32.

    Example:
    >>> import numpy as np
    >>> model = ERANN(tm=4, width=1, num_classes=10, activation="softmax")
    >>> tuple(model(np.zeros((2, 44100), "float32")).shape)
    (2, 10)
    >>> model.get_layer("embedding").output.shape
    (None, 128)
    """

    def __init__(
        self,
        tm=4,
        width=5,
        num_classes=527,
        activation="sigmoid",
        include_frontend=True,
        frontend=None,
        time_mask=64,
        freq_mask=16,
        pitch_shift=0.0,
        gain_db=0.0,
        seed=None,
        name=None,
        dtype=None,
        **kwargs,
    ):
        validate(tm, width, num_classes, activation)
        frontend = FrontendConfig.from_dict(frontend or FRONTEND)
        inputs, x = _input_stage(frontend, include_frontend, gain_db, pitch_shift, seed, dtype)
        x = TimePadding(time_multiple(tm), frontend.floor_db, name="time_padding", dtype=dtype)(x)
        x = _batch_norm("bn0", dtype)(x)
        x = SpecAugment(
            time_mask_width=time_mask,
            freq_mask_width=freq_mask,
            seed=seed,
            name="spec_augment",
            dtype=dtype,
        )(x)
        x = keras.layers.Reshape((-1, frontend.n_mels, 1), name="add_channel", dtype=dtype)(x)
        x = _blocks(x, tm, width, dtype)
        outputs = _head(x, width, num_classes, activation, dtype)
        super().__init__(
            inputs=inputs, outputs=outputs, name=name or f"erann_tm{tm}_w{width}", **kwargs
        )
        self.tm = tm
        self.width = width
        self.num_classes = num_classes
        self.activation = activation
        self.include_frontend = include_frontend
        self.frontend = frontend
        self.time_mask = time_mask
        self.freq_mask = freq_mask
        self.pitch_shift = pitch_shift
        self.gain_db = gain_db
        self.seed = seed
        self._dtype_arg = dtype

    @property
    def sample_rate(self):
        return self.frontend.sample_rate

    @classmethod
    def from_name(cls, name, **kwargs):
        """Builds the architecture of a paper preset such as "ERANN-8x4-5".

        t_m and W come from the name; t_c (the training crop) belongs to the
        training recipe. Keyword arguments go to the constructor.

        Example:
        >>> ERANN.from_name("ERANN-4x2-3", num_classes=50).tm
        2
        """
        preset = parse_preset(name)
        return cls(tm=preset.tm, width=preset.width, **kwargs)

    @classmethod
    def from_preset(cls, name):
        """Loads a trained model the package ships, e.g. "erann-esc10".

        Its folder (see `erann_tf.models.presets.shipped_model_dir`) also holds
        labels.txt, metadata.json and TFLite versions.

        Example:
        >>> model = ERANN.from_preset("erann-esc10")
        >>> model.output.shape[-1]
        10
        """
        return load_erann(os.path.join(shipped_model_dir(name), "model.keras"))

    def get_config(self):
        return {
            "tm": self.tm,
            "width": self.width,
            "num_classes": self.num_classes,
            "activation": self.activation,
            "include_frontend": self.include_frontend,
            "frontend": self.frontend.to_dict(),
            "time_mask": self.time_mask,
            "freq_mask": self.freq_mask,
            "pitch_shift": self.pitch_shift,
            "gain_db": self.gain_db,
            "seed": self.seed,
            "name": self.name,
            "dtype": self._dtype_arg,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def load_erann(path, flag=None):
    """The ERANN saved in the .keras file `path`, or a ValueError in one line
    that names the file (and `flag`, the argument that gave it) and says why:
    missing, damaged, or a Keras model that is not an ERANN.

    Example:
    >>> load_erann("README.md", "--teacher")
    Traceback (most recent call last):
    ...
    ValueError: --teacher README.md: not a .keras file
    """
    where = f"{flag} {path}" if flag else str(path)
    if not str(path).endswith(".keras"):
        raise ValueError(f"{where}: not a .keras file")
    if not os.path.isfile(path):
        raise ValueError(f"{where}: no such file")
    if not zipfile.is_zipfile(path):
        damaged = "not a zip archive: truncated or damaged"
        raise ValueError(f"{where}: not a readable Keras model ({damaged})")
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises many kinds for a damaged file
        raise ValueError(f"{where}: not a readable Keras model ({first_line(error)})") from None
    if not isinstance(model, ERANN):
        raise ValueError(f"{where}: a Keras model, but not an ERANN ({type(model).__name__})")
    return model


def _input_stage(frontend, include_frontend, gain_db, pitch_shift, seed, dtype):
    """(inputs, log-mel frames): the waveform through the frontend (or
    log-mel frames given), then the training-only random gain and pitch shift."""
    n_mels = frontend.n_mels
    if include_frontend:
        inputs = keras.Input((None,), name="waveform")
        x = LogMelSpectrogram.from_frontend(frontend, name=FRONTEND_LAYER)(inputs)
    else:
        inputs = keras.Input((None, n_mels), name=FRONTEND_LAYER)
        x = inputs
    if gain_db:
        floor = frontend.floor_db
        x = RandomGain(gain_db, floor, seed=seed, name="random_gain", dtype=dtype)(x)
    if pitch_shift:
        mel_scale = {"n_mels": n_mels, "fmin": frontend.fmin, "fmax": frontend.fmax}
        x = PitchShift(pitch_shift, **mel_scale, seed=seed, name="pitch_shift", dtype=dtype)(x)
    return inputs, x


def _blocks(x, tm, width, dtype):
    """The Time Frequency Blocks of `unit_specs`."""
    for unit in unit_specs(tm, width):
        x = TimeFrequencyBlock(
            unit.filters,
            time_stride=unit.time_stride,
            freq_stride=unit.freq_stride,
            preactivate=unit.preactivate,
            name=unit.name,
            dtype=dtype,
        )(x)
    return x


def _head(x, width, num_classes, activation, dtype):
    """Final batch norm and activation, clip pooling, the embedding and the scores."""
    x = _batch_norm("bn_final", dtype)(x)
    x = keras.layers.LeakyReLU(NEGATIVE_SLOPE, name="final_activation", dtype=dtype)(x)
    x = ClipPooling(name="pooling", dtype=dtype)(x)
    x = keras.layers.Dense(128 * width, name="fc1", dtype=dtype)(x)
    x = keras.layers.LeakyReLU(NEGATIVE_SLOPE, name="embedding", dtype=dtype)(x)
    x = keras.layers.Dense(num_classes, name="fc2", dtype=dtype)(x)
    return keras.layers.Activation(activation or "linear", name="scores", dtype="float32")(x)


def _batch_norm(name, dtype):
    # momentum 0.9 is PyTorch's default 0.1, as in the authors' implementation.
    return keras.layers.BatchNormalization(epsilon=BN_EPSILON, momentum=0.9, name=name, dtype=dtype)
