"""Export: SavedModel and TFLite files, their metadata, and parity checks."""

from erann_tf.export.metadata import Metadata, find_metadata, from_run, write_metadata
from erann_tf.export.savedmodel import write_savedmodel
from erann_tf.export.tflite import FILENAMES, QUANTIZATIONS, check_builtin_only, convert

__all__ = [
    "FILENAMES",
    "Metadata",
    "QUANTIZATIONS",
    "check_builtin_only",
    "convert",
    "find_metadata",
    "from_run",
    "write_metadata",
    "write_savedmodel",
]
