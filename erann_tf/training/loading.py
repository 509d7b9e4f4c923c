"""A run's data: its clips listed, split, decoded and checked, and the
batches of the transport it trains on."""

import os

from erann_tf.data.layouts import read_clips
from erann_tf.data.loader import BadFiles, ClipLoader
from erann_tf.data.pipeline import training_dataset
from erann_tf.data.pydataset import ClipPyDataset
from erann_tf.training.recipes import get_recipe


def load_data(config, settings, *, progress=True):
    """Decoded, checked training and validation loaders (validation: None
    without a fold), sharing one bad-file report."""
    train_clips, val_clips = read_split(config, settings, progress=progress)
    return decode(config, settings, train_clips, val_clips, progress=progress)


def read_split(config, settings, *, progress=True):
    """The training and validation ClipSets (validation: None without a
    fold), listed but not decoded."""
    clips = read_clips(config.layout or get_recipe(config.recipe).source, config.data, progress)
    train_clips, val_clips = clips.split(config.fold) if config.fold is not None else (clips, None)
    if config.max_clips:  # after the split: at most N to train on and N to validate on
        train_clips = train_clips.subset(config.max_clips)
        if val_clips is not None:
            val_clips = val_clips.subset(config.max_clips)
    return train_clips, val_clips


def decode(config, settings, train_clips, val_clips, *, progress=True):
    """ClipLoaders of `read_split`'s clips, decoded and checked."""
    window = max(get_recipe(config.recipe).window_seconds, settings.crop_seconds)
    bad = BadFiles()
    loader = ClipLoader(train_clips, window, config.cache, config.on_bad_file, bad_files=bad)
    loader.scan(progress)
    if val_clips is None:
        return loader, None
    val_loader = ClipLoader(val_clips, None, config.cache, config.on_bad_file, bad_files=bad)
    return loader, val_loader.scan(progress)


def clip_fingerprints(data, loader, val_loader):
    """The training and validation clips' fingerprints, paths taken relative
    to the dataset folder (a manifest's: the folder it is in)."""
    root = data if os.path.isdir(data) else os.path.dirname(os.path.abspath(data))
    parts = {"training": loader, "validation": val_loader}  # ClipLoaders
    return {
        part: None if clips is None else clips.clips.fingerprint(root)
        for part, clips in parts.items()
    }


def training_data(transport, loader, settings, batch, seed, first_epoch):
    """Batches of `batch` clips from epoch `first_epoch` on: tf.data or the TF-free PyDataset."""
    balanced = settings.balanced
    if transport == "pydataset":
        return ClipPyDataset(loader, batch, seed, first_epoch, balanced)
    return training_dataset(loader, batch, seed, first_epoch, settings.epochs, balanced)
