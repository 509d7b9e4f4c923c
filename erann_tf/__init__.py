"""erann_tf: Efficient Residual Audio Neural Networks in Keras 3.

Example:
>>> from erann_tf import ERANN
>>> model = ERANN(tm=4, width=1, num_classes=10)
"""

__version__ = "0.1.0"
__all__ = ["ERANN", "complexity", "paper_results", "parse_preset", "__version__"]


def __getattr__(name):
    # Lazy, so that `erann --help` and `import erann_tf.cli` do not load Keras.
    if name in __all__:
        from erann_tf import models

        return getattr(models, name)
    raise AttributeError(f"module 'erann_tf' has no attribute {name!r}")
