"""Parameter and multiply-add counts of an ERANN, computed from its unit list.

Counting analytically (not by building the model) makes a budget check free,
e.g. for rejecting hyper-parameter configurations before training.
"""

import dataclasses

import numpy as np

from erann_tf.data.frontend_config import FRONTEND
from erann_tf.models.architecture import time_multiple, unit_specs, validate

PAPER_EXTRA_REASON = (
    "the authors' implementation carries 2 + 240*W batch-norm weights that its "
    "forward pass never uses; paper_params adds them back to match the paper's Table 4"
)


@dataclasses.dataclass(frozen=True)
class Complexity:
    """Size and cost of one ERANN configuration for one clip.

    trainable_params: weights trained by gradient descent.
    paper_params: trainable_params + 2 + 240 * width, comparable to the paper.
    total_params: trainable plus batch-norm moving statistics.
    macs: multiply-adds of every Conv2D (1x1 shortcuts included) and both
        Dense layers for one clip of `seconds` (not BN, pooling or frontend).
    pooled_shape: (time, freq, channels) before pooling.

    Example:
    >>> c = complexity(tm=4, width=4)
    >>> c.trainable_params, c.paper_params
    (24503887, 24504849)
    """

    tm: int
    width: int
    num_classes: int
    seconds: float
    frames: int
    trainable_params: int
    paper_params: int
    total_params: int
    macs: int
    pooled_shape: tuple

    def to_dict(self):
        return dataclasses.asdict(self) | {"pooled_shape": list(self.pooled_shape)}


def clip_frames(seconds, tm, frontend=FRONTEND):
    """Frames the backbone sees for a clip: 1 + samples // hop, padded to 16 * tm.

    Example:
    >>> clip_frames(10.0, tm=4)
    1280
    """
    if not 0 < seconds < float("inf"):
        raise ValueError(f"seconds={seconds!r} is not allowed; seconds must be a finite number > 0")
    frames = frontend.num_frames(round(seconds * frontend.sample_rate))
    multiple = time_multiple(tm)
    return -(-frames // multiple) * multiple


@dataclasses.dataclass(frozen=True)
class UnitCost:
    """One unit's weights (convolutions and shortcut), batch-norm weights,
    multiply-adds and output shape (time, freq, channels) for one clip."""

    name: str
    weights: int
    norms: int
    macs: int
    out_shape: tuple


def unit_costs(tm, width, seconds=10.0, frontend=FRONTEND):
    """A UnitCost for each of the 20 units of ERANN(tm, width), in order.

    Example:
    >>> [round(u.macs / 1e6) for u in unit_costs(tm=4, width=1, seconds=4.0)][:2]
    [43, 75]
    """
    from erann_tf.quiet import import_keras_quietly

    import_keras_quietly()  # the layers import Keras; the package itself loads without it
    from erann_tf.layers.blocks import KERNELS

    time, freq, channels = clip_frames(seconds, tm, frontend), frontend.n_mels, 1
    costs = []
    for unit in unit_specs(tm, width):
        k1_time, k2_time, _ = KERNELS[unit.time_stride]
        k1_freq, k2_freq, _ = KERNELS[unit.freq_stride]
        filters = unit.filters
        out_time, out_freq = -(-time // unit.time_stride), -(-freq // unit.freq_stride)
        weights = k1_time * k1_freq * channels * filters + k2_time * k2_freq * filters * filters
        if unit.time_stride != 1 or unit.freq_stride != 1 or channels != filters:
            weights += channels * filters  # 1x1 projection shortcut
        norms = 2 * filters + (2 * channels if unit.preactivate else 0)
        shape = (out_time, out_freq, filters)
        costs.append(UnitCost(unit.name, weights, norms, weights * out_time * out_freq, shape))
        time, freq, channels = shape
    return tuple(costs)


def complexity(tm, width, num_classes=527, seconds=10.0, frontend=FRONTEND):
    """Counts parameters and multiply-adds of ERANN(tm, width, num_classes)
    behind `frontend` (a FrontendConfig) for a clip of `seconds`.

    Example:
    >>> c = complexity(tm=4, width=5)
    >>> round(c.macs / 1e9, 3), c.pooled_shape
    (40.928, (20, 8, 640))
    """
    validate(tm, width, num_classes)
    frames = clip_frames(seconds, tm, frontend)
    trainable = moving = 2 * frontend.n_mels  # bn0: gamma, beta; moving mean, variance
    macs = 0
    units = unit_costs(tm, width, seconds, frontend)
    for unit in units:
        trainable += unit.weights + unit.norms
        moving += unit.norms
        macs += unit.macs
    time, freq, channels = units[-1].out_shape
    trainable += 2 * channels  # final batch norm
    moving += 2 * channels
    embedding = 128 * width
    dense = channels * embedding + embedding * num_classes
    trainable += dense + embedding + num_classes
    macs += dense
    return Complexity(
        tm=tm,
        width=width,
        num_classes=num_classes,
        seconds=float(seconds),
        frames=frames,
        trainable_params=trainable,
        paper_params=trainable + 2 + 240 * width,
        total_params=trainable + moving,
        macs=macs,
        pooled_shape=(time, freq, channels),
    )


def min_training_bytes(tm, width, batch_size, seconds, num_classes=10, frontend=FRONTEND):
    """A lower bound on the memory that training ERANN(tm, width) takes:
    float32 weights with their gradients and Adam's two moments, and one
    output of every unit for a batch of `seconds` crops (what backpropagation
    keeps at the least). Real use is higher; a configuration above this
    cannot train at all.

    Example:
    >>> round(min_training_bytes(tm=4, width=1, batch_size=32, seconds=4.0) / 1e9, 2)
    0.39
    """
    size = complexity(tm, width, num_classes, seconds, frontend)
    kept = sum(
        np.prod(unit.out_shape, dtype=np.float64)
        for unit in unit_costs(tm, width, seconds, frontend)
    )
    return int(4 * (4 * size.trainable_params + batch_size * kept))
