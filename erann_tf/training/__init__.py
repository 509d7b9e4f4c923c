"""Training: the paper's recipes, the trainer and its callbacks, evaluation."""

import importlib

_WHERE = {
    "RECIPES": "recipes",
    "Recipe": "recipes",
    "get_recipe": "recipes",
    "TrainConfig": "trainer",
    "resume_run": "trainer",
    "train": "trainer",
}
__all__ = sorted(_WHERE)


def __getattr__(name):
    # Lazy: the recipes and options load without Keras (for `erann --help`).
    if name in _WHERE:
        return getattr(importlib.import_module(f"erann_tf.training.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'erann_tf.training' has no attribute {name!r}")
