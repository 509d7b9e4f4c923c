"""ERANN models: the architecture, the Keras model, paper presets and complexity.

`ERANN` is imported on first use: the rest (complexity, presets and the
model-folder contract in `metadata`) loads without Keras, so `erann --help`
and `erann predict` on a TFLite file stay light.
"""

from erann_tf.lazy import lazy_attributes
from erann_tf.models.complexity import Complexity, complexity
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


__getattr__ = lazy_attributes(__name__, {"ERANN": "erann"}, needs_keras=True)
