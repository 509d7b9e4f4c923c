"""Dataset layouts: the one registry of readers that every verb reads --data with.

A layout names how a dataset is laid out on disk; its reader returns the
ClipSet. Adding a layout is a reader in `sources` and a line here. A folder
made by `erann prepare` (TFRecord shards) is read as the clips it holds,
whatever the layout.
"""

import dataclasses
import os

from erann_tf.data import shards, sources


def read_audioset_folder(data):
    """DIR with class_labels_indices.csv, *_segments.csv and the clips in DIR/audio."""
    names = (
        sorted(n for n in os.listdir(data) if n.endswith("segments.csv"))
        if os.path.isdir(data)
        else []
    )
    if not names:
        raise sources.SourceError(f"{data}: no *segments.csv files (AudioSet layout)")
    audio = os.path.join(data, "audio") if os.path.isdir(os.path.join(data, "audio")) else data
    classes = os.path.join(data, "class_labels_indices.csv")
    parts = [sources.read_audioset(os.path.join(data, n), audio, classes) for n in names]
    return dataclasses.replace(
        parts[0], clips=sum((p.clips for p in parts), ()), missing=sum(p.missing for p in parts)
    )


LAYOUTS = {
    "esc50": sources.read_esc50,
    "esc10": sources.read_esc10,
    "ravdess": sources.read_ravdess,
    "fsdd": sources.read_fsdd,
    "audioset": read_audioset_folder,
    "folders": sources.read_folders,
    "manifest": sources.read_manifest,
}


def read_clips(layout, data, progress=True):
    """The ClipSet of `data` read as `layout` (one of LAYOUTS).

    Example:
    >>> len(read_clips("esc10", "../shared/data/esc10"))
    320
    """
    if shards.is_shard_dir(data):
        return shards.read_shard_clips(data, progress)
    if layout not in LAYOUTS:
        raise ValueError(f"layout={layout!r} is not allowed; use {', '.join(LAYOUTS)}")
    return LAYOUTS[layout](data)
