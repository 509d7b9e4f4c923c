"""Silencing the start-up lines that C++ libraries write to stderr.

TensorFlow (CUDA probes, CPU feature notes) and LiteRT (the XNNPACK delegate)
print from C++ before any Python logging is set up, and no environment
variable silences all of them. Python exceptions still carry real errors.
"""

import contextlib
import os
import sys


@contextlib.contextmanager
def quiet_stderr():
    """Points file descriptor 2 at /dev/null for the duration of the block.

    Example:
    >>> with quiet_stderr():
    ...     print("not shown", file=sys.stderr)
    """
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
