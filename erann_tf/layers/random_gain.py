"""Random gain on log-mel in dB, against recordings of unequal loudness."""

import keras
from keras import ops

from erann_tf.checks import check_number
from erann_tf.data.frontend_config import FRONTEND


@keras.saving.register_keras_serializable(package="erann_tf")
class RandomGain(keras.layers.Layer):
    """Adds a random gain in [-max_db, +max_db] dB to each example's log-mel
    (batch, frames, n_mels). Training only.

    A gain of g dB scales the waveform by 10^(g / 20) and adds g to every
    log-mel value above the floor. Values at the floor (digital silence, or
    anything below it) stay there, and none is lowered past it, as the
    frontend would have computed from the scaled waveform. Batched,
    keras.ops only.

    Args:
        max_db: the largest gain in dB either way; 0 turns the layer off.
        floor_db: the frontend's floor (a FrontendConfig's `floor_db`).
        seed: integer seed.

    Example:
    >>> import numpy as np
    >>> x = np.full((2, 10, 128), -40.0, "float32")
    >>> y = np.asarray(RandomGain(6.0, seed=0)(x, training=True))
    >>> bool((np.abs(y - x) <= 6.0).all() and (y[0] == y[0, 0, 0]).all())
    True
    """

    def __init__(self, max_db=6.0, floor_db=FRONTEND.floor_db, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.max_db = check_number("max_db", max_db)
        self.floor_db = float(floor_db)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def call(self, inputs, training=None):
        if not training or self.max_db == 0:
            return inputs
        batch = ops.shape(inputs)[0]
        gain = keras.random.uniform(
            (batch, 1, 1), -self.max_db, self.max_db, seed=self.seed_generator
        )
        floor = ops.cast(self.floor_db, inputs.dtype)
        gained = ops.maximum(inputs + ops.cast(gain, inputs.dtype), floor)
        return ops.where(inputs <= floor, inputs, gained)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"max_db": self.max_db, "floor_db": self.floor_db, "seed": self.seed})
        return config
