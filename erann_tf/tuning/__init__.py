"""Hyper-parameter search with KerasTuner: accuracy against multiply-adds."""

from erann_tf.lazy import lazy_attributes

_WHERE = {"ERANNHyperModel": "hypermodel", "TuneConfig": "search", "tune": "search"}
__all__ = sorted(_WHERE)


# Lazy: `erann tune --help` reads the options without KerasTuner.
__getattr__ = lazy_attributes(__name__, _WHERE)
