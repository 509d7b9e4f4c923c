"""Argument checks shared across the package: one rule, one message."""


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
