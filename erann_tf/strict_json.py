"""Strict JSON (RFC 8259) and one-line text for every file and line the
package writes: no NaN or Infinity, which Python's json writes by default and
other parsers refuse, and no lone surrogates, which a file name that is not
UTF-8 becomes in Python (os.fsdecode) and which no UTF-8 encoder accepts. And
the one reader of the JSON files it reads, whose errors name the file."""

import json
import math
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def unsurrogate(text):
    r"""`text` with the bytes of a non-UTF-8 file name as \xNN escapes.

    Example:
    >>> print(unsurrogate("bad\udcffname.wav"))
    bad\xffname.wav
    """
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that no file name's byte made
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def printable(text):
    r"""`text` as one line that any terminal and UTF-8 log takes: non-UTF-8
    bytes and control characters (a newline in a file name) escaped.

    Example:
    >>> print(printable("new\nline.wav: no such file"))
    new\nline.wav: no such file
    """
    text = unsurrogate(text)
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)


def finite(payload):
    """`payload` with every non-finite float replaced by None (null) and every
    string made valid UTF-8 (`unsurrogate`).

    Example:
    >>> finite({"a": float("nan"), "b": [1.0, float("inf")]})
    {'a': None, 'b': [1.0, None]}
    """
    if isinstance(payload, float):
        return payload if math.isfinite(payload) else None
    if isinstance(payload, str):
        return unsurrogate(payload)
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


def parse(text, source):
    """The JSON value in `text`, or a ValueError in one line naming `source`
    (the file it came from) where it is not JSON, even JSON nested deeper than
    Python's parser recurses.

    Example:
    >>> parse('{"a": 1}', "x.json")
    {'a': 1}
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{source}: not valid JSON ({error})") from None
    except RecursionError:
        raise ValueError(f"{source}: not valid JSON (nested too deeply to read)") from None


def load(path):
    """`parse` of the UTF-8 text file at `path`."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not valid JSON (not UTF-8 at byte {error.start})") from None
    return parse(text, path)
