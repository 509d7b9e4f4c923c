"""ERANN models: the architecture, the Keras model, paper presets and complexity.

`ERANN` is imported on first use: the rest (complexity, presets and the
model-folder contract in `metadata`) loads without Keras, so `erann --help`
and `erann predict` on a TFLite file stay light.
"""

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


def __getattr__(name):
    if name == "ERANN":
        from erann_tf.quiet import import_keras_quietly

        import_keras_quietly()  # TensorFlow's C++ start-up lines are no news to a user
        from erann_tf.models.erann import ERANN

        return ERANN
    raise AttributeError(f"module 'erann_tf.models' has no attribute {name!r}")
