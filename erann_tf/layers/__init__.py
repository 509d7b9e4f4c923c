"""Keras 3 layers of ERANN; backend-agnostic (keras.ops only, with one fused
TensorFlow kernel in FastBatchNormalization's training pass) and serializable."""

from erann_tf.layers.batch_norm import FastBatchNormalization
from erann_tf.layers.blocks import TimeFrequencyBlock
from erann_tf.layers.frontend import LogMelSpectrogram
from erann_tf.layers.pitch_shift import PitchShift
from erann_tf.layers.pooling import ClipPooling, TimePadding
from erann_tf.layers.random_gain import RandomGain
from erann_tf.layers.spec_augment import SpecAugment

__all__ = [
    "ClipPooling",
    "FastBatchNormalization",
    "LogMelSpectrogram",
    "PitchShift",
    "RandomGain",
    "SpecAugment",
    "TimeFrequencyBlock",
    "TimePadding",
]
