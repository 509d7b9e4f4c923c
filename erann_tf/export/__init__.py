"""Export: SavedModel and TFLite files with their metadata, and parity checks."""

from erann_tf.lazy import lazy_attributes

_WHERE = {
    "FILENAMES": "tflite",
    "QUANTIZATIONS": "options",
    "check_builtin_only": "tflite",
    "convert": "tflite",
    "write_savedmodel": "savedmodel",
}
__all__ = sorted(_WHERE)


# Lazy: `erann export --help` reads the options without TensorFlow.
__getattr__ = lazy_attributes(__name__, _WHERE)
