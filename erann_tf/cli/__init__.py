"""The `erann` command line: `erann <verb> --help` for each verb.

Verbs live in their own modules, each with `register(subparsers)`; this module
only dispatches and turns expected errors into one line on stderr.
"""

import argparse
import sys

from erann_tf.cli import cv, evaluate, export, predict, prepare, summary, train, tune
from erann_tf.quiet import import_keras_quietly
from erann_tf.strict_json import printable

VERBS = (summary, prepare, train, evaluate, cv, tune, export, predict)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="erann", description="Efficient Residual Audio Neural Networks (ERANNs) in Keras 3."
    )
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    for verb in VERBS:
        verb.register(subparsers)
    for choice in subparsers.choices.values():  # a verb may run without Keras (predict)
        if choice.get_default("needs_keras") is None:
            choice.set_defaults(needs_keras=lambda args: True)
    return parser


def main(argv=None):
    """Entry point of the `erann` console script; returns the exit status.

    Example (shell):
        $ erann summary ERANN-8x4-5 --json
    """
    args = build_parser().parse_args(argv)  # no Keras yet: --help answers at once
    if args.needs_keras(args):
        import_keras_quietly()
    try:
        return args.run(args) or 0
    except (ValueError, OSError) as error:  # a lost worker is a ConnectionError
        print(f"erann {args.verb}: error: {printable(str(error))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"erann {args.verb}: interrupted", file=sys.stderr)
        return 130
