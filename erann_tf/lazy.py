"""Lazy package attributes: a package's names load their module on first use,
so `erann --help` and `erann predict` on LiteRT do not import Keras."""

import importlib


def lazy_attributes(package, where):
    """A module `__getattr__` for `package` that imports `package.where[name]`
    when `name` is first asked for.

    Example:
    >>> __getattr__ = lazy_attributes("erann_tf.training", {"RECIPES": "recipes"})
    >>> "esc10" in __getattr__("RECIPES")
    True
    """

    def __getattr__(name):
        if name in where:
            return getattr(importlib.import_module(f"{package}.{where[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
