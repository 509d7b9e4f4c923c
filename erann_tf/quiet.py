"""Silencing the start-up lines that C++ libraries write to stderr.

TensorFlow (CUDA probes, CPU feature notes) and LiteRT (the XNNPACK delegate)
print from C++ before any Python logging is set up, and no environment
variable silences all of them. Python exceptions still carry real errors.
"""

import contextlib
import os
import sys
import tempfile
import threading

_STDERR = threading.Lock()  # file descriptor 2 is the process's: one capture at a time


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


@contextlib.contextmanager
def captured_stderr():
    """Collects what C libraries write to file descriptor 2 during the block:
    the list it yields holds those lines once the block ends.

    Example:
    >>> with captured_stderr() as lines:
    ...     _ = os.write(2, b"Note: from C\\n")
    >>> lines
    ['Note: from C']
    """
    lines = []
    with _STDERR, tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            yield lines
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", "replace")
            lines.extend(line for line in text.splitlines() if line.strip())


def import_keras_quietly():
    """Imports Keras (and its backend) with TensorFlow's and JAX's start-up
    lines muted: those printed at import and when TensorFlow first looks for
    devices (the CUDA probe), so that later lines on stderr are real errors."""
    if "keras" in sys.modules:
        return  # too late to mute, or done already
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with quiet_stderr():
        import keras

        if keras.backend.backend() == "jax":
            import jax

            jax.devices()
        if "tensorflow" in sys.modules:  # the JAX backend imports it too (tf.data)
            sys.modules["tensorflow"].config.list_physical_devices()
