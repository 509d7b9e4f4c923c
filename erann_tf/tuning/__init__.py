"""Hyper-parameter search with KerasTuner: accuracy against multiply-adds."""

from erann_tf.tuning.hypermodel import ERANNHyperModel
from erann_tf.tuning.search import TuneConfig, tune

__all__ = ["ERANNHyperModel", "TuneConfig", "tune"]
