"""tf.data input pipeline (the default transport) over a ClipLoader.

Training elements are ({"waveform", "length", "targets"}, targets) batches of
fixed windows; the random t_c crop and mixup happen later, inside the training
step (erann_tf.data.augment). Decoding runs in parallel through the loader.
"""

import numpy as np

from erann_tf.data.windows import default_hop, sliding_windows


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


def evaluation_batches(loader, window, hop=None, batch_size=32):
    """(clip indices, waveforms) batches of the windows that score each clip.

    Every usable clip is cut as `erann predict` cuts a file (`window_bounds`:
    `window` samples every `hop`, default half a window, and one more ending
    at the last sample, so a 5 s clip gives the 4 s windows 0-4 s and 1-5 s);
    a clip no longer than one window is one window, zero-padded as training
    pads short clips. Every batch has
    `batch_size` rows of `window` samples, the last one filled up with silent
    rows of index -1, so a compiled model sees a single shape.

    Example:
    >>> from erann_tf.data.sources import read_esc10
    >>> from erann_tf.data.loader import ClipLoader
    >>> clips = read_esc10("../shared/data/esc10")
    >>> loader = ClipLoader(clips._with(clips.clips[:2])).scan(progress=False)
    >>> [(i.tolist(), w.shape) for i, w in evaluation_batches(loader, 4 * 44100, batch_size=3)]
    [([0, 0, 1], (3, 176400)), ([1, -1, -1], (3, 176400))]
    """
    hop = hop or default_hop(window)
    indices, waves = [], []
    for index in loader.good:
        for _, _, samples in sliding_windows(loader.blocks(index), window, hop):
            indices.append(index)
            waves.append(samples)
            if len(waves) == batch_size:
                yield np.array(indices), np.stack(waves)
                indices, waves = [], []
    if waves:
        fill = batch_size - len(waves)
        yield (
            np.array(indices + [-1] * fill),
            np.stack(waves + [np.zeros(window, np.float32)] * fill),
        )
