"""Audio input: dataset layouts, decoding, the loader both transports share,
and batch augmentations (erann_tf.data.augment). The transports live in
erann_tf.data.pipeline (tf.data) and erann_tf.data.pydataset (TF-free)."""

from erann_tf.data.audio import SAMPLE_RATE, AudioError, load_audio
from erann_tf.data.clips import Clip, ClipSet, SourceError
from erann_tf.data.loader import BadFiles, ClipLoader
from erann_tf.data.sources import (
    read_audioset,
    read_esc10,
    read_esc50,
    read_folders,
    read_fsdd,
    read_manifest,
    read_ravdess,
)

__all__ = [
    "SAMPLE_RATE",
    "AudioError",
    "BadFiles",
    "Clip",
    "ClipLoader",
    "ClipSet",
    "SourceError",
    "load_audio",
    "read_audioset",
    "read_esc10",
    "read_esc50",
    "read_folders",
    "read_fsdd",
    "read_manifest",
    "read_ravdess",
]
