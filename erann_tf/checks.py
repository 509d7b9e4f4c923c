"""Argument checks shared across the package: one rule, one message."""

import numbers


def check_integer(name, value, low=1):
    """`value`, or a ValueError naming `name` unless it is an integer >= `low`
    (a bool is not an integer here).

    Example:
    >>> check_integer("filters", 0)
    Traceback (most recent call last):
    ...
    ValueError: filters=0 is not allowed; filters must be an integer >= 1
    """
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
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
    real = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not (real and low <= value < float("inf")):
        raise ValueError(
            f"{name}={value!r} is not allowed; {name} must be a finite number >= {low}"
        )
    return float(value)
