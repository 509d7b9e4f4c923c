"""ERANN models: the architecture, the Keras model, paper presets and complexity."""

from erann_tf.models.complexity import Complexity, complexity
from erann_tf.models.erann import ERANN
from erann_tf.models.presets import PaperResult, Preset, paper_results, parse_preset

__all__ = [
    "ERANN",
    "Complexity",
    "PaperResult",
    "Preset",
    "complexity",
    "paper_results",
    "parse_preset",
]
