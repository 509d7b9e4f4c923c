"""Hyper-parameter search with KerasTuner: accuracy against multiply-adds."""

import importlib

_WHERE = {"ERANNHyperModel": "hypermodel", "TuneConfig": "search", "tune": "search"}
__all__ = sorted(_WHERE)


def __getattr__(name):
    # Lazy: `erann tune --help` reads the options without KerasTuner.
    if name in _WHERE:
        return getattr(importlib.import_module(f"erann_tf.tuning.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'erann_tf.tuning' has no attribute {name!r}")
