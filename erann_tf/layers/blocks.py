"""The Time Frequency Block, one residual unit of ERANN."""

import keras
from keras import ops

from erann_tf.checks import check_integer
from erann_tf.layers.batch_norm import FastBatchNormalization

NEGATIVE_SLOPE = 0.01
BN_EPSILON = 1e-5
# (K1, K2, P) by stride: conv1 kernel, conv2 kernel, conv2 padding.
KERNELS = {1: (3, 3, 1), 2: (3, 3, 1), 4: (6, 5, 2)}


@keras.saving.register_keras_serializable(package="erann_tf")
class TimeFrequencyBlock(keras.layers.Layer):
    """Pre-activation residual unit TFB(freq_stride, time_stride, filters).

    On (batch, time, freq, channels):
    a = x if not preactivate else LeakyReLU(BN1(x));
    h = Conv1(a) with kernel K1 per axis, the unit's strides and zero padding 1;
    h = Conv2(LeakyReLU(BN2(h))) with kernel K2 and padding P, stride 1;
    out = h + shortcut, where the shortcut is x when shapes match and otherwise
    a 1x1 convolution of `a` subsampled by the strides.
    (K1, K2, P) is (3, 3, 1) for stride 1 or 2 and (6, 5, 2) for stride 4.
    Padding is explicit and symmetric ("same" would pad stride-2 convolutions
    on one side only). The projection is subsample-then-1x1 because strided
    1x1 convolutions crash TF 2.21's oneDNN CPU backward pass.

    Args:
        filters: output channels.
        time_stride: 1, 2 or 4.
        freq_stride: 1, 2 or 4.
        preactivate: False only for the network's first unit.
        negative_slope: LeakyReLU slope.
        epsilon, momentum: batch-norm settings (momentum 0.9 is PyTorch's 0.1).
        kernel_initializer, kernel_regularizer: for the three convolutions.

    Example:
    >>> import numpy as np
    >>> unit = TimeFrequencyBlock(16, time_stride=4, freq_stride=2)
    >>> tuple(unit(np.zeros((1, 64, 128, 8), "float32")).shape)
    (1, 16, 64, 16)
    """

    def __init__(
        self,
        filters,
        time_stride=1,
        freq_stride=1,
        preactivate=True,
        negative_slope=NEGATIVE_SLOPE,
        epsilon=BN_EPSILON,
        momentum=0.9,
        kernel_initializer="glorot_uniform",
        kernel_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_integer("filters", filters)
        for name, stride in [("time_stride", time_stride), ("freq_stride", freq_stride)]:
            if stride not in KERNELS:
                raise ValueError(f"{name}={stride!r} is not allowed; {name} must be 1, 2 or 4")
        self.filters = filters
        self.time_stride = time_stride
        self.freq_stride = freq_stride
        self.preactivate = bool(preactivate)
        self.negative_slope = float(negative_slope)
        self.epsilon = float(epsilon)
        self.momentum = float(momentum)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def _conv(self, kernel_size, strides, name):
        return keras.layers.Conv2D(
            self.filters,
            kernel_size,
            strides=strides,
            padding="valid",
            use_bias=False,
            kernel_initializer=self.kernel_initializer,
            kernel_regularizer=self.kernel_regularizer,
            dtype=self.dtype_policy,
            name=name,
        )

    def _batch_norm(self, name):
        return FastBatchNormalization(
            epsilon=self.epsilon, momentum=self.momentum, dtype=self.dtype_policy, name=name
        )

    def build(self, input_shape):
        k1_time, k2_time, self._pad_time = KERNELS[self.time_stride]
        k1_freq, k2_freq, self._pad_freq = KERNELS[self.freq_stride]
        strides = (self.time_stride, self.freq_stride)
        batch, time, freq, channels = input_shape
        self.bn1 = self._batch_norm("bn1") if self.preactivate else None
        if self.bn1 is not None:
            self.bn1.build(input_shape)
        self.conv1 = self._conv((k1_time, k1_freq), strides, "conv1")
        self.conv1.build((batch, _grow(time, 2), _grow(freq, 2), channels))
        hidden_shape = self.compute_output_shape(input_shape)
        self.bn2 = self._batch_norm("bn2")
        self.bn2.build(hidden_shape)
        self.conv2 = self._conv((k2_time, k2_freq), 1, "conv2")
        self.conv2.build(
            (
                batch,
                _grow(hidden_shape[1], 2 * self._pad_time),
                hidden_shape[2] + 2 * self._pad_freq,
                self.filters,
            )
        )
        self.shortcut = None
        if strides != (1, 1) or channels != self.filters:
            self.shortcut = self._conv(1, 1, "shortcut")
            self.shortcut.build((batch, hidden_shape[1], hidden_shape[2], channels))

    def call(self, inputs, training=None):
        a = inputs
        if self.bn1 is not None:
            a = ops.leaky_relu(self.bn1(a, training=training), self.negative_slope)
        h = self.conv1(ops.pad(a, [[0, 0], [1, 1], [1, 1], [0, 0]]))
        h = ops.leaky_relu(self.bn2(h, training=training), self.negative_slope)
        pad = [[0, 0], [self._pad_time] * 2, [self._pad_freq] * 2, [0, 0]]
        h = self.conv2(ops.pad(h, pad))
        if self.shortcut is None:
            return h + inputs
        return h + self.shortcut(a[:, :: self.time_stride, :: self.freq_stride, :])

    def compute_output_shape(self, input_shape):
        batch, time, freq, _ = input_shape
        return (
            batch,
            _shrink(time, self.time_stride),
            _shrink(freq, self.freq_stride),
            self.filters,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "time_stride": self.time_stride,
                "freq_stride": self.freq_stride,
                "preactivate": self.preactivate,
                "negative_slope": self.negative_slope,
                "epsilon": self.epsilon,
                "momentum": self.momentum,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
            }
        )
        return config


def _grow(size, amount):
    return None if size is None else size + amount


def _shrink(size, stride):
    # conv1 with padding 1: (size + 2 - K1) // stride + 1, which is ceil(size / stride)
    # for (K1, stride) in {(3, 1), (3, 2), (6, 4)}.
    return None if size is None else -(-size // stride)
