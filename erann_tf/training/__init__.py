"""Training: the paper's recipes, the trainer and its callbacks, evaluation."""

from erann_tf.training.recipes import RECIPES, Recipe, get_recipe
from erann_tf.training.trainer import TrainConfig, resume_run, train

__all__ = ["RECIPES", "Recipe", "TrainConfig", "get_recipe", "resume_run", "train"]
