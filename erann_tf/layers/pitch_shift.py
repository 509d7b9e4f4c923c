"""Pitch shift on the log-mel axis, for speech."""

import keras
import numpy as np
from keras import ops

from erann_tf.checks import check_number
from erann_tf.data.frontend_config import FRONTEND
from erann_tf.layers.frontend import hz_to_mel, mel_to_hz


@keras.saving.register_keras_serializable(package="erann_tf")
class PitchShift(keras.layers.Layer):
    """Shifts each example's log-mel by a random number of semitones in
    [-max_semitones, +max_semitones]. Training only.

    Duration is kept: output band m reads the input at its centre frequency
    divided by 2^(s / 12), interpolated linearly between mel bands (bands
    beyond the edges repeat the edge). Batched, keras.ops only.

    Args:
        max_semitones: the largest shift; 0 turns the layer off.
        n_mels, fmin, fmax: the frontend's mel scale (a FrontendConfig's).
        seed: integer seed.

    Example:
    >>> import numpy as np
    >>> x = np.random.rand(2, 10, 128).astype("float32")
    >>> tuple(PitchShift(2.0, seed=0)(x, training=True).shape)
    (2, 10, 128)
    """

    def __init__(
        self,
        max_semitones=2.0,
        n_mels=FRONTEND.n_mels,
        fmin=FRONTEND.fmin,
        fmax=FRONTEND.fmax,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.max_semitones = check_number("max_semitones", max_semitones)
        self.n_mels = n_mels
        self.fmin = float(fmin)
        self.fmax = float(fmax)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        edges = np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2)
        self._first_centre, self._step = float(edges[1]), float(edges[1] - edges[0])
        self._centres_hz = mel_to_hz(edges[1:-1]).astype("float32")

    def call(self, inputs, training=None):
        if not training or self.max_semitones == 0:
            return inputs
        batch = ops.shape(inputs)[0]
        semitones = keras.random.uniform(
            (batch, 1), -self.max_semitones, self.max_semitones, seed=self.seed_generator
        )
        source_hz = ops.convert_to_tensor(self._centres_hz)[None, :] / ops.power(
            2.0, semitones / 12
        )
        position = (_hz_to_mel(source_hz) - self._first_centre) / self._step
        position = ops.clip(position, 0.0, self.n_mels - 1.0)
        below = ops.floor(position)
        weight = ops.cast(position - below, inputs.dtype)[:, None, :]
        below = ops.cast(below, "int32")
        above = ops.minimum(below + 1, self.n_mels - 1)
        frames = ops.shape(inputs)[1]
        gather = lambda index: ops.take_along_axis(  # noqa: E731
            inputs, ops.broadcast_to(index[:, None, :], (batch, frames, self.n_mels)), axis=2
        )
        return (1.0 - weight) * gather(below) + weight * gather(above)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "max_semitones": self.max_semitones,
                "n_mels": self.n_mels,
                "fmin": self.fmin,
                "fmax": self.fmax,
                "seed": self.seed,
            }
        )
        return config


def _hz_to_mel(hz):
    """keras.ops version of the Slaney mel scale (frontend.hz_to_mel)."""
    log_part = 15.0 + ops.log(ops.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return ops.where(hz >= 1000.0, log_part, hz * 3.0 / 200.0)
