"""SpecAugment time and frequency masking."""

import keras
from keras import ops

from erann_tf.checks import check_integer


@keras.saving.register_keras_serializable(package="erann_tf")
class SpecAugment(keras.layers.Layer):
    """Masks random time and frequency stripes of (batch, frames, bins) features.

    Active only with training=True; at inference the input passes unchanged.
    Each mask has a width drawn uniformly from 0..max width (capped at the axis
    size) and a uniformly drawn start, independently per example.

    Args:
        time_masks: number of time masks per example.
        time_mask_width: largest time mask, in frames (0 turns time masking off).
        freq_masks: number of frequency masks per example.
        freq_mask_width: largest frequency mask, in bins (0 turns it off).
        mask_value: value written into masked cells. Inside ERANN the layer sits
            after the per-mel-bin batch norm, where 0 is the training mean.
        seed: integer seed for reproducible masks.

    Example:
    >>> import numpy as np
    >>> layer = SpecAugment(seed=0)
    >>> x = np.ones((4, 100, 128), "float32")
    >>> bool((np.asarray(layer(x, training=True)) == 0).any())
    True
    >>> bool((np.asarray(layer(x)) == x).all())
    True
    """

    def __init__(
        self,
        time_masks=2,
        time_mask_width=64,
        freq_masks=2,
        freq_mask_width=16,
        mask_value=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in [
            ("time_masks", time_masks),
            ("time_mask_width", time_mask_width),
            ("freq_masks", freq_masks),
            ("freq_mask_width", freq_mask_width),
        ]:
            check_integer(name, value, low=0)
        self.time_masks = time_masks
        self.time_mask_width = time_mask_width
        self.freq_masks = freq_masks
        self.freq_mask_width = freq_mask_width
        self.mask_value = float(mask_value)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.input_spec = keras.layers.InputSpec(ndim=3)

    def call(self, inputs, training=None):
        if not training:
            return inputs
        return self.apply_masks(inputs, self.draw_masks(ops.shape(inputs)))

    def draw_masks(self, shape):
        """Boolean (batch, frames, bins) of a fresh random draw for a batch
        of `shape`: True where a cell is masked. Distillation draws once and
        masks the student's and the teachers' features alike."""
        time = self._stripes(shape[0], shape[1], self.time_masks, self.time_mask_width)
        freq = self._stripes(shape[0], shape[2], self.freq_masks, self.freq_mask_width)
        return ops.logical_or(time[:, :, None], freq[:, None, :])

    def apply_masks(self, inputs, masked):
        """`inputs` with the cells where `masked` is True set to mask_value."""
        return ops.where(masked, ops.cast(self.mask_value, inputs.dtype), inputs)

    def _stripes(self, batch, size, count, max_width):
        """Boolean (batch, size): True inside any of `count` random stripes."""
        positions = ops.cast(ops.arange(size), "float32")[None, :]
        masked = ops.zeros_like(positions, dtype="bool")
        if count == 0 or max_width == 0:
            return ops.logical_and(masked, ops.ones((batch, 1), dtype="bool"))
        size = ops.cast(size, "float32")
        draws = keras.random.uniform((batch, count, 2), seed=self.seed_generator)
        width = ops.minimum(ops.floor(draws[..., 0] * (max_width + 1)), size)
        start = ops.floor(draws[..., 1] * (size - width + 1))
        for i in range(count):
            inside = ops.logical_and(
                positions >= start[:, i : i + 1], positions < (start + width)[:, i : i + 1]
            )
            masked = ops.logical_or(masked, inside)
        return masked

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "time_masks": self.time_masks,
                "time_mask_width": self.time_mask_width,
                "freq_masks": self.freq_masks,
                "freq_mask_width": self.freq_mask_width,
                "mask_value": self.mask_value,
                "seed": self.seed,
            }
        )
        return config
