"""Export: SavedModel and TFLite files with their metadata, and parity checks."""

import importlib

_WHERE = {
    "FILENAMES": "tflite",
    "QUANTIZATIONS": "options",
    "check_builtin_only": "tflite",
    "convert": "tflite",
    "write_savedmodel": "savedmodel",
}
__all__ = sorted(_WHERE)


def __getattr__(name):
    # Lazy: `erann export --help` reads the options without TensorFlow.
    if name in _WHERE:
        return getattr(importlib.import_module(f"erann_tf.export.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'erann_tf.export' has no attribute {name!r}")
