"""Argument checks shared across the package: one rule, one message.

`check_integer` and `check_number` check a Python argument (`name=value`);
a `Rule` checks a command-line flag's value (`--flag value`): the training
settings declare theirs (erann_tf.training.config).
"""

import dataclasses
import math
import numbers
from collections.abc import Callable


def is_integer(value):
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value):
    """A finite real number that is not a bool (or a string)."""
    real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    return real and math.isfinite(value)


def check_integer(name, value, low=1):
    """`value`, or a ValueError naming `name` unless it is an integer >= `low`
    (a bool is not an integer here).

    Example:
    >>> check_integer("filters", 0)
    Traceback (most recent call last):
    ...
    ValueError: filters=0 is not allowed; filters must be an integer >= 1
    """
    if not is_integer(value) or value < low:
        raise ValueError(f"{name}={value!r} is not allowed; {name} must be an integer >= {low}")
    return value


def check_number(name, value, low=0.0):
    """`value` as a float, or a ValueError naming `name` unless it is a finite
    real number >= `low` (a bool or a string is not a number here).

    Example:
    >>> check_number("max_db", "6")
    Traceback (most recent call last):
    ...
    ValueError: max_db='6' is not allowed; max_db must be a finite number >= 0.0
    """
    if not (is_number(value) and value >= low):
        raise ValueError(
            f"{name}={value!r} is not allowed; {name} must be a finite number >= {low}"
        )
    return float(value)


@dataclasses.dataclass(frozen=True)
class Rule:
    """What a flag allows: a test of its value and the words that say it.

    Example:
    >>> integer(1).check("--epochs", 0)
    Traceback (most recent call last):
    ...
    ValueError: --epochs 0 is not allowed; it must be an integer >= 1
    """

    test: Callable
    allowed: str

    def check(self, flag, value):
        """`value`, or a ValueError naming `flag` and what it allows."""
        if not self.test(value):
            raise ValueError(f"{flag} {value} is not allowed; it must be {self.allowed}")
        return value


def integer(low, note=""):
    return Rule(lambda v: is_integer(v) and v >= low, f"an integer >= {low}{note}")


def number(low, note=""):
    """A finite number >= `low`."""
    return Rule(lambda v: is_number(v) and v >= low, f"a number >= {low:g}{note}")


def positive(note=""):
    return Rule(lambda v: is_number(v) and v > 0, f"a number > 0{note}")


def between(low, high, unit=""):
    return Rule(lambda v: is_number(v) and low <= v <= high, f"between {low:g} and {high:g}{unit}")


def one_of(choices):
    return Rule(lambda v: v in choices, f"one of {', '.join(map(str, choices))}")


def optional(rule):
    """`rule`, or None."""
    return Rule(lambda v: v is None or rule.test(v), rule.allowed)


def boolean():
    return Rule(lambda v: isinstance(v, bool), "True or False")
