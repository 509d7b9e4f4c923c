"""The package's one way of importing late: a package's names, or a module,
load on first use, so that `erann --help` and `erann predict` on LiteRT do not
import Keras, and reading audio from a folder does not import TensorFlow."""

import importlib

from erann_tf.quiet import import_keras_quietly


def lazy_attributes(package, where, *, needs_keras=False):
    """A module `__getattr__` for `package` that imports `package.where[name]`
    when `name` is first asked for; with `needs_keras`, Keras first, with
    TensorFlow's C++ start-up lines muted (they are no news to a user).

    Example:
    >>> __getattr__ = lazy_attributes("erann_tf.training", {"RECIPES": "recipes"})
    >>> "esc10" in __getattr__("RECIPES")
    True
    """

    def __getattr__(name):
        if name in where:
            if needs_keras:
                import_keras_quietly()
            return getattr(importlib.import_module(f"{package}.{where[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__


class LazyModule:
    """A module imported when one of its attributes is first used.

    Example:
    >>> json = LazyModule("json")
    >>> json.dumps([1])
    '[1]'
    """

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        return getattr(importlib.import_module(self._name), attr)
