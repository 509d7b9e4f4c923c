"""Time padding before the backbone and clip-level pooling after it."""

import keras
from keras import ops

from erann_tf.checks import check_integer
from erann_tf.data.frontend_config import FRONTEND


@keras.saving.register_keras_serializable(package="erann_tf")
class TimePadding(keras.layers.Layer):
    """Pads axis 1 at the end to a multiple of `multiple` with `value`.

    ERANN pads its log-mel input to a multiple of 16 * t_m frames with the
    frontend's floor (FrontendConfig.floor_db, -100 dB), so that every stride
    divides the time axis.

    Example:
    >>> import numpy as np
    >>> tuple(TimePadding(64)(np.zeros((1, 1279, 128), "float32")).shape)
    (1, 1280, 128)
    """

    def __init__(self, multiple, value=FRONTEND.floor_db, **kwargs):
        super().__init__(**kwargs)
        self.multiple = check_integer("multiple", multiple)
        self.value = float(value)

    def call(self, inputs):
        missing = (-ops.shape(inputs)[1]) % self.multiple
        paddings = [[0, 0], [0, missing]] + [[0, 0]] * (len(inputs.shape) - 2)
        return ops.pad(inputs, paddings, constant_values=self.value)

    def compute_output_shape(self, input_shape):
        time = input_shape[1]
        if time is not None:
            time = -(-time // self.multiple) * self.multiple
        return (input_shape[0], time) + tuple(input_shape[2:])

    def get_config(self):
        config = super().get_config()
        config.update({"multiple": self.multiple, "value": self.value})
        return config


@keras.saving.register_keras_serializable(package="erann_tf")
class ClipPooling(keras.layers.Layer):
    """(batch, time, freq, channels) to (batch, channels): mean over frequency,
    then max over time plus mean over time.

    Example:
    >>> import numpy as np
    >>> tuple(ClipPooling()(np.zeros((2, 20, 8, 40), "float32")).shape)
    (2, 40)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def call(self, inputs):
        per_frame = ops.mean(inputs, axis=2)
        return ops.max(per_frame, axis=1) + ops.mean(per_frame, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[3])
