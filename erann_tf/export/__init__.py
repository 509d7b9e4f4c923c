"""Export: SavedModel and TFLite files with their metadata, and parity checks."""

from erann_tf.export.savedmodel import write_savedmodel
from erann_tf.export.tflite import FILENAMES, QUANTIZATIONS, check_builtin_only, convert

__all__ = [
    "FILENAMES",
    "QUANTIZATIONS",
    "check_builtin_only",
    "convert",
    "write_savedmodel",
]
