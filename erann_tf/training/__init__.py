"""Training: the settings (config.py) and recipes, the fit driver, its callbacks, evaluation."""

from erann_tf.lazy import lazy_attributes

_WHERE = {
    "RECIPES": "recipes",
    "Recipe": "recipes",
    "get_recipe": "recipes",
    "TrainConfig": "config",
    "resume_run": "fit",
    "train": "fit",
}
__all__ = sorted(_WHERE)


# Lazy: the recipes and options load without Keras (for `erann --help`).
__getattr__ = lazy_attributes(__name__, _WHERE)
