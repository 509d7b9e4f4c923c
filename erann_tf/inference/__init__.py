"""Inference: any model format behind one runner, sliding windows, predictions."""

from erann_tf.data.windows import sliding_windows, window_bounds
from erann_tf.inference.predict import REDUCTIONS, predict_file
from erann_tf.inference.runners import EnsembleRunner, load_ensemble, load_runner, resolve

__all__ = [
    "EnsembleRunner",
    "REDUCTIONS",
    "load_ensemble",
    "load_runner",
    "predict_file",
    "resolve",
    "sliding_windows",
    "window_bounds",
]
