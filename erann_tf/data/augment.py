"""Batch augmentations of waveforms, in keras.ops, run inside the training step.

They take and return batched tensors on the accelerator, on every backend;
none of them loops over examples in numpy. SpecAugment and pitch shift work on
the log-mel and live inside the model (erann_tf.layers).
"""

import keras
from keras import ops

GAIN_FRAME = 2048
GAIN_HOP = 1024


def random_crop(waveform, length, crop_samples, seed=None):
    """A random `crop_samples` window inside each clip's valid `length`.

    `waveform` (batch, samples) is zero-padded beyond `length` (batch,), and
    at least `crop_samples` long; a clip shorter than the crop keeps its start
    and the padding after it.

    Example:
    >>> import numpy as np
    >>> x = np.arange(20, dtype="float32").reshape(2, 10)
    >>> tuple(random_crop(x, np.array([10, 4]), 3, seed=0).shape)
    (2, 3)
    """
    batch = ops.shape(waveform)[0]
    length = ops.cast(length, "float32")
    room = ops.maximum(length - crop_samples, 0.0) + 1.0
    start = ops.floor(keras.random.uniform((batch,), seed=seed) * room)
    index = ops.cast(start, "int32")[:, None] + ops.arange(crop_samples, dtype="int32")[None, :]
    return ops.take_along_axis(waveform, index, axis=1)


def frame_level_db(waveform):
    """Level in dB of each clip: the maximum over 2048-sample frames (hop 1024)
    of 10 * log10(mean(x^2) + 1e-10). A clip shorter than a frame uses its mean.

    Example:
    >>> import numpy as np
    >>> round(float(frame_level_db(np.ones((1, 4096), "float32"))[0]), 3)
    0.0
    """
    samples = waveform.shape[1]
    if samples < GAIN_FRAME:
        power = ops.mean(ops.square(waveform), axis=1, keepdims=True)
    else:
        hops = samples // GAIN_HOP
        chunks = ops.reshape(waveform[:, : hops * GAIN_HOP], (-1, hops, GAIN_HOP))
        chunk_power = ops.mean(ops.square(chunks), axis=2)
        power = (chunk_power[:, :-1] + chunk_power[:, 1:]) / 2.0  # frames of two chunks
    return ops.max(10.0 * ops.log10(power + 1e-10), axis=1)


def spl_mixup(waveform, targets, alpha=1.0, seed=None):
    """Mixup that respects sound pressure level (Tokozume et al.):
    each clip is mixed by `mix_pair` with a random partner of the batch and
    r ~ Beta(alpha, alpha).

    Example:
    >>> import numpy as np
    >>> x, y = np.random.rand(4, 4096).astype("float32"), np.eye(4, dtype="float32")
    >>> mixed, target = spl_mixup(x, y, seed=0)
    >>> np.allclose(np.asarray(target).sum(axis=1), 1.0)
    True
    """
    batch = ops.shape(waveform)[0]
    partner = keras.random.shuffle(ops.arange(batch), seed=seed)
    r = keras.random.beta((batch,), alpha, alpha, seed=seed)
    other, other_targets = ops.take(waveform, partner, axis=0), ops.take(targets, partner, axis=0)
    return mix_pair(waveform, other, targets, other_targets, r)


def mix_pair(x1, x2, y1, y2, r):
    """SPL-aware mix of clips x1 and x2 (batch, samples) with ratios r (batch,).

    With levels G1, G2 (`frame_level_db`):
    p = 1 / (1 + 10^((G1 - G2) / 20) * (1 - r) / r),
    mixed = (p x1 + (1 - p) x2) / sqrt(p^2 + (1 - p)^2),
    target = r y1 + (1 - r) y2. G1 - G2 is clipped to [-100, 100] dB and r to
    [1e-6, 1 - 1e-6], so silent clips give finite numbers.

    Example:
    >>> import numpy as np
    >>> x = np.ones((1, 4096), "float32")
    >>> y = np.eye(1, dtype="float32")
    >>> mixed, _ = mix_pair(x, x, y, y, np.array([0.5]))
    >>> round(float(np.asarray(mixed)[0, 0]), 4)
    1.4142
    """
    r = ops.clip(ops.cast(r, "float32"), 1e-6, 1.0 - 1e-6)
    difference = ops.clip(frame_level_db(x1) - frame_level_db(x2), -100.0, 100.0)
    p = (1.0 / (1.0 + ops.power(10.0, difference / 20.0) * (1.0 - r) / r))[:, None]
    mixed = (p * x1 + (1.0 - p) * x2) / ops.sqrt(ops.square(p) + ops.square(1.0 - p))
    r_target = ops.cast(r, y1.dtype)[:, None]
    return mixed, r_target * y1 + (1.0 - r_target) * y2
