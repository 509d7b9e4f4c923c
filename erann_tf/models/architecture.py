"""The ERANN architecture as data.

Both the Keras builder (`erann.py`) and the analytic complexity count
(`complexity.py`) read the unit list made here, so the two can never disagree.
"""

import dataclasses

from erann_tf.checks import check_integer

# Time strides of the first units of blocks 2..5 for each t_m (product 16 * t_m).
TIME_STRIDES = {
    1: (2, 2, 2, 2),
    2: (4, 2, 2, 2),
    4: (4, 4, 2, 2),
    8: (4, 4, 4, 2),
    16: (4, 4, 4, 4),
}
CHANNEL_MULTIPLIERS = (8, 16, 32, 64, 128)
UNITS_PER_BLOCK = 4
ACTIVATIONS = ("sigmoid", "softmax", None)


@dataclasses.dataclass(frozen=True)
class UnitSpec:
    """One Time Frequency Block (the paper's TFB(x, y, c)).

    Example:
    >>> unit_specs(tm=4, width=1)[4]
    UnitSpec(name='block2_unit1', filters=16, time_stride=4, freq_stride=2, preactivate=True)
    """

    name: str
    filters: int
    time_stride: int
    freq_stride: int
    preactivate: bool


def validate(tm, width, num_classes=527, activation="sigmoid"):
    """Raises a ValueError naming the first bad argument and what is allowed.

    Example:
    >>> validate(tm=3, width=1)
    Traceback (most recent call last):
    ...
    ValueError: tm=3 is not allowed; tm must be one of 1, 2, 4, 8, 16
    """
    if isinstance(tm, bool) or tm not in TIME_STRIDES:
        raise ValueError(f"tm={tm!r} is not allowed; tm must be one of 1, 2, 4, 8, 16")
    check_integer("width", width)
    check_integer("num_classes", num_classes)
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"activation={activation!r} is not allowed; activation must be one of "
            "'sigmoid' (tagging), 'softmax' (classification) or None (logits)"
        )


def unit_specs(tm, width):
    """The 20 units of an ERANN in order: block 1 then blocks 2..5.

    Example:
    >>> [u.time_stride for u in unit_specs(tm=8, width=2)][::4]
    [1, 4, 4, 4, 2]
    """
    validate(tm, width)
    strides = (1,) + TIME_STRIDES[tm]
    units = []
    for block, (multiplier, time_stride) in enumerate(
        zip(CHANNEL_MULTIPLIERS, strides, strict=True), 1
    ):
        for index in range(1, UNITS_PER_BLOCK + 1):
            first_of_block = index == 1 and block > 1
            units.append(
                UnitSpec(
                    name=f"block{block}_unit{index}",
                    filters=multiplier * width,
                    time_stride=time_stride if first_of_block else 1,
                    freq_stride=2 if first_of_block else 1,
                    preactivate=bool(units),  # every unit but the network's first
                )
            )
    return tuple(units)


def time_multiple(tm):
    """The model pads time to a multiple of this (the product of the time strides).

    Example:
    >>> time_multiple(4)
    64
    """
    validate(tm, 1)
    return 16 * tm
