"""The `erann` command line: `erann <verb> --help` for each verb.

Verbs live in their own modules, each with `register(subparsers)`; this module
only dispatches and turns expected errors into one line on stderr.
"""

import argparse
import os
import sys

from erann_tf.cli import cv, evaluate, export, predict, prepare, summary, train, tune

VERBS = (summary, prepare, train, evaluate, cv, tune, export, predict)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="erann", description="Efficient Residual Audio Neural Networks (ERANNs) in Keras 3."
    )
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb in VERBS:
        verb.register(subparsers)
    return parser


def main(argv=None):
    """Entry point of the `erann` console script; returns the exit status.

    Example (shell):
        $ erann summary ERANN-8x4-5 --json
    """
    _import_keras_quietly()  # first: registering the verbs imports Keras too
    from erann_tf.training.distribute import WorkerLost

    args = build_parser().parse_args(argv)
    try:
        return args.run(args) or 0
    except (ValueError, OSError, WorkerLost) as error:
        print(f"erann {args.verb}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"erann {args.verb}: interrupted", file=sys.stderr)
        return 130


def _import_keras_quietly():
    # TensorFlow prints start-up lines from C++ before its logging is set up, and
    # no environment variable silences them: mute stderr while Keras loads it.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import keras  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
