"""Adam whose weight EMA warms up, so short runs evaluate sensible weights."""

import keras
import numpy as np
from keras import ops


@keras.saving.register_keras_serializable(package="erann_tf")
class EMAAdam(keras.optimizers.Adam):
    """keras.optimizers.Adam(use_ema=True) whose EMA decay at step n is
    min(ema_momentum, (1 + n) / (10 + n)), as TensorFlow's
    ExponentialMovingAverage with num_updates. Keras's own EMA uses the full
    decay from step 1: with 0.999, a run of a few hundred steps would be
    evaluated on weights close to their initial values.

    Example:
    >>> optimizer = EMAAdam(2e-4, ema_momentum=0.999)
    >>> optimizer.use_ema
    True
    """

    def __init__(self, learning_rate=0.001, ema_momentum=0.999, **kwargs):
        kwargs["use_ema"] = True
        super().__init__(learning_rate, ema_momentum=ema_momentum, **kwargs)

    def _update_model_variables_moving_average(self, trainable_variables):
        step = ops.cast(self.iterations, "float32")
        warm = ops.minimum(self.ema_momentum, (1.0 + step) / (10.0 + step))
        for var, average in zip(
            trainable_variables, self._model_variables_moving_average, strict=True
        ):
            if average is not None:
                momentum = ops.cast(warm, var.dtype)
                average.assign(momentum * average + (1.0 - momentum) * var)

    def averages(self, variables):
        """Numpy copies of the moving averages of `variables` (copies: on JAX an
        assigned buffer can be donated, and the average must not go with it)."""
        return [
            np.array(self._model_variables_moving_average[self._get_variable_index(v)].value)
            for v in variables
        ]
