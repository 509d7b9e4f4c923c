"""erann_tf: Efficient Residual Audio Neural Networks in Keras 3.

Example:
>>> from erann_tf import ERANN
>>> model = ERANN(tm=4, width=1, num_classes=10)
"""

from erann_tf.lazy import lazy_attributes

__version__ = "0.1.0"
__all__ = ["ERANN", "complexity", "paper_results", "parse_preset", "__version__"]


# Lazy, so that `erann --help` and `import erann_tf.cli` do not load Keras.
__getattr__ = lazy_attributes(__name__, dict.fromkeys(__all__[:-1], "models"))
