"""Strict JSON (RFC 8259) for every file and line the package writes: no NaN
or Infinity, which Python's json writes by default and other parsers refuse."""

import json
import math


def finite(payload):
    """`payload` with every non-finite float replaced by None (null).

    Example:
    >>> finite({"a": float("nan"), "b": [1.0, float("inf")]})
    {'a': None, 'b': [1.0, None]}
    """
    if isinstance(payload, float):
        return payload if math.isfinite(payload) else None
    if isinstance(payload, dict):
        return {key: finite(value) for key, value in payload.items()}
    if isinstance(payload, list | tuple):
        return [finite(value) for value in payload]
    return payload


def dumps(payload, **kwargs):
    """json.dumps of `finite(payload)`, refusing anything else non-standard.

    Example:
    >>> dumps({"mean_auc": float("nan")})
    '{"mean_auc": null}'
    """
    return json.dumps(finite(payload), allow_nan=False, **kwargs)
