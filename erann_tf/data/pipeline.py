"""tf.data input pipeline (the default transport) over a ClipLoader.

Training elements are ({"waveform", "length", "targets"}, targets) batches of
fixed windows; the random t_c crop and mixup happen later, inside the training
step (erann_tf.data.augment). Decoding runs in parallel through the loader.
"""

import numpy as np


def training_dataset(loader, batch_size, seed, first_epoch, epochs, balanced=False):
    """Batches for epochs first_epoch .. epochs - 1, one epoch after another.

    Each epoch is `steps_per_epoch(loader, batch_size)` full batches in the
    order `loader.epoch_order(seed, epoch)`, so a run resumed at any epoch sees
    exactly the batches an uninterrupted run would.

    Example:
    >>> from erann_tf.data.sources import read_esc10
    >>> from erann_tf.data.loader import ClipLoader
    >>> loader = ClipLoader(read_esc10("../shared/data/esc10"), window_seconds=1.0, cache=False)
    >>> ds = training_dataset(loader, batch_size=4, seed=0, first_epoch=0, epochs=1)
    >>> x, y = next(iter(ds))
    >>> tuple(x["waveform"].shape), tuple(y.shape)
    ((4, 44100), (4, 10))
    """
    import tensorflow as tf

    steps = steps_per_epoch(loader, batch_size)
    orders = [
        loader.epoch_order(seed, e, balanced)[: steps * batch_size]
        for e in range(first_epoch, epochs)
    ]
    epoch_ids = [np.full(steps * batch_size, e) for e in range(first_epoch, epochs)]
    window = loader.window_samples
    classes = loader.targets.shape[1]

    def load(index, epoch):
        wave, length = loader.window(int(index), loader.clip_rng(seed, int(epoch), int(index)))
        return wave.astype(np.float32), np.int32(length), loader.targets[int(index)]

    def decode(index, epoch):
        wave, length, target = tf.numpy_function(
            load, [index, epoch], [tf.float32, tf.int32, tf.float32], stateful=False
        )
        wave.set_shape([window])
        length.set_shape([])
        target.set_shape([classes])
        return {"waveform": wave, "length": length, "targets": target}, target

    dataset = tf.data.Dataset.from_tensor_slices(
        (np.concatenate(orders), np.concatenate(epoch_ids))
    )
    dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def steps_per_epoch(loader, batch_size):
    """Full batches per epoch; the remainder of each epoch's order is dropped."""
    if len(loader) < batch_size:
        raise ValueError(
            f"batch_size={batch_size} is larger than the {len(loader)} training clips; "
            "use a smaller --batch-size"
        )
    return len(loader) // batch_size


def evaluation_batches(loader, batch_size=32, min_samples=0):
    """(clip indices, waveforms) batches of whole clips of exactly equal length
    (length buckets), so no padding changes a clip's pooled statistics.

    A clip shorter than `min_samples` (the training crop t_c) is zero-padded
    to it, as the training pipeline pads it: the model learned its pooled
    statistics with that silence in.

    Example:
    >>> from erann_tf.data.sources import read_esc10
    >>> from erann_tf.data.loader import ClipLoader
    >>> loader = ClipLoader(read_esc10("../shared/data/esc10")).scan(progress=False)
    >>> batches = list(evaluation_batches(loader))
    >>> sorted(i for indices, _ in batches for i in indices) == list(range(320))
    True
    >>> max(waves.shape[0] for _, waves in batches)
    32
    """
    by_length = {}
    for index in loader.good:
        length = max(loader.whole(index).shape[0], min_samples)
        by_length.setdefault(length, []).append(index)
    for length in sorted(by_length):
        group = by_length[length]
        for start in range(0, len(group), batch_size):
            indices = group[start : start + batch_size]
            waves = [loader.whole(i) for i in indices]
            yield np.array(indices), np.stack([np.pad(w, (0, length - len(w))) for w in waves])
