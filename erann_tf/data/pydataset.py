"""A TF-free keras.utils.PyDataset over a ClipLoader, for the JAX and PyTorch
backends without TensorFlow. Same clips, windows and order as the tf.data
pipeline."""

import keras
import numpy as np

from erann_tf.data.pipeline import steps_per_epoch


class ClipPyDataset(keras.utils.PyDataset):
    """Training batches ({"waveform", "length", "targets"}, targets) in numpy.

    Epoch k (counted from `first_epoch`) follows `loader.epoch_order(seed, k)`.

    Example:
    >>> from erann_tf.data.sources import read_esc10
    >>> from erann_tf.data.loader import ClipLoader
    >>> loader = ClipLoader(read_esc10("../shared/data/esc10"), window_seconds=1.0, cache=False)
    >>> x, y = ClipPyDataset(loader, batch_size=4, seed=0)[0]
    >>> x["waveform"].shape, y.shape
    ((4, 44100), (4, 10))
    """

    def __init__(self, loader, batch_size, seed, first_epoch=0, balanced=False, **kwargs):
        super().__init__(**kwargs)
        self.loader = loader
        self.batch_size = batch_size
        self.seed = seed
        self.balanced = balanced
        self.steps = steps_per_epoch(loader, batch_size)
        self.epoch = first_epoch
        self._order = loader.epoch_order(seed, first_epoch, balanced)

    def __len__(self):
        return self.steps

    def __getitem__(self, step):
        indices = self._order[step * self.batch_size : (step + 1) * self.batch_size]
        windows = [
            self.loader.window(i, self.loader.clip_rng(self.seed, self.epoch, i)) for i in indices
        ]
        waves = np.stack([w for w, _ in windows]).astype(np.float32)
        lengths = np.array([n for _, n in windows], dtype=np.int32)
        targets = self.loader.targets[indices]
        return {"waveform": waves, "length": lengths, "targets": targets}, targets

    def on_epoch_end(self):
        self.epoch += 1
        self._order = self.loader.epoch_order(self.seed, self.epoch, self.balanced)
