"""`erann train`: train an ERANN with one of the package's recipes."""

import argparse
import dataclasses
import os
import time

from erann_tf import strict_json
from erann_tf.training.config import TrainConfig, declared, names, value_type
from erann_tf.training.settings import RECORDED, flag

HELP = "train an ERANN with one of the paper's recipes (or a -cpu recipe, for a CPU)"


def add_training_arguments(parser, *, leave_out=()):
    """A flag for every training setting (training/config.py declares them),
    but those in `leave_out`."""
    recorded = names(kind=RECORDED)  # written by the run, not given
    for name in declared():
        if name not in leave_out and name not in recorded:
            add_setting_flag(parser, name)


def add_setting_flag(parser, name):
    """The flag of one training setting, from its declaration. Every flag
    defaults to None: "not given" (the recipe's or the setting's default)."""
    meta, kind = declared()[name], value_type(name)
    default = {f.name: f.default for f in dataclasses.fields(TrainConfig)}[name]
    if meta.from_recipe:
        default = "the recipe's"
    suffix = "" if default in (None, ()) else f" (default: {default})"
    options = dict(help=meta.help + suffix, metavar=meta.metavar)
    if kind is bool:
        options.update(action=argparse.BooleanOptionalAction)
    elif kind is tuple:
        options.update(action="append")
    else:
        options.update(type=kind, choices=meta.choices)
    parser.add_argument(flag(name), **options)


def config_from_args(args, fold, output):
    """A TrainConfig from the shared flags (argparse names are its field names)."""
    for name in ("recipe", "data"):
        if getattr(args, name) is None:
            raise ValueError(f"--{name} is required")
    given = {k: v for k, v in given_settings(args).items() if v is not None}  # else: defaults
    return TrainConfig(**{**given, "fold": fold, "output": output})


def register(subparsers):
    parser = subparsers.add_parser("train", help=HELP, description=HELP + ".")
    add_training_arguments(parser)
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --output; other training flags repeat its config.json, "
        f"except {', '.join(flag(n) for n in names(resume_may_change=True))} "
        "(the same clips, moved; more epochs; a time limit from now on)",
    )
    parser.set_defaults(run=run)


def run(args):
    from erann_tf.training.fit import resume_run, train  # loads Keras: not for --help

    if args.resume:
        if not args.output:
            raise ValueError("--resume needs --output RUN_DIR")
        result = resume_run(args.output, **given_settings(args))
    else:
        output = args.output or os.path.join(
            "runs", f"{args.recipe}-{time.strftime('%Y%m%d-%H%M%S')}"
        )
        result = train(config_from_args(args, args.fold, output))
    _print_result(result, args.output or output)
    return 0


def given_settings(args):
    """The TrainConfig values the command's flags give, None where a flag is
    left out (a resume checks the given ones against the run's config.json)."""
    return {
        name: getattr(args, name) for name in declared() if name != "output" and hasattr(args, name)
    }


def _print_result(result, output):
    summary = {k: result[k] for k in ("recipe", "tm", "width", "fold", "train_clips", "seconds")}
    if result["validation"]:
        from erann_tf.training.evaluation import headline

        summary["validation"] = headline(result["validation"])
    summary["skipped_files"] = len(result["bad_files"])
    print(strict_json.dumps(summary))
    print(f"run directory: {output}")
