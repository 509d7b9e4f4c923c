"""erann_tf: Efficient Residual Audio Neural Networks in Keras 3.

Example:
>>> from erann_tf import ERANN
>>> model = ERANN(tm=4, width=1, num_classes=10)
"""

from erann_tf.models import ERANN, complexity, paper_results, parse_preset

__version__ = "0.1.0"
__all__ = ["ERANN", "complexity", "paper_results", "parse_preset", "__version__"]
