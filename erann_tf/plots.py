"""PNG figures written to files: matplotlib without a display, saved atomically."""

from erann_tf.atomic import atomic_path


def pyplot():
    """matplotlib.pyplot on the Agg backend (files only, no display), imported
    on first use: most commands never draw.

    Example:
    >>> figure, axes = pyplot().subplots()
    >>> pyplot().close(figure)
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as module

    return module


def save(figure, path, dpi):
    """Lays `figure` out, writes it to `path` as PNG in one rename, and closes it."""
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, dpi=dpi)
    pyplot().close(figure)
