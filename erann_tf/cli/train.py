"""`erann train`: train an ERANN with one of the package's recipes."""

import argparse
import os
import time

from erann_tf import strict_json

HELP = "train an ERANN with one of the paper's recipes (or a -cpu recipe, for a CPU)"


def add_training_arguments(parser):
    """Flags shared by `erann train` and `erann cv`."""
    from erann_tf.data.layouts import LAYOUTS
    from erann_tf.data.loader import BAD_FILE_POLICIES
    from erann_tf.training.options import PRECISIONS, SCHEDULES, TRANSPORTS
    from erann_tf.training.recipes import RECIPES

    parser.add_argument(
        "--recipe",
        choices=sorted(RECIPES),
        help="the paper's recipe, or one tuned for a CPU (NAME-cpu); sets t_c, LR, loss",
    )
    parser.add_argument("--data", help="dataset folder (or a CSV manifest with --layout manifest)")
    parser.add_argument(
        "--layout", choices=LAYOUTS, help="read --data as this layout (default: the recipe's)"
    )
    parser.add_argument("--model", help="preset name, e.g. ERANN-4x2-3 (sets tm and width)")
    parser.add_argument("--tm", type=int, help="decreasing-temporal-size parameter: 1, 2, 4, 8, 16")
    parser.add_argument("--width", type=int, help="width multiplier W >= 1")
    parser.add_argument("--epochs", type=int, help="epochs (default: the recipe's)")
    parser.add_argument("--init-from", help="a .keras model to fine-tune; its head is replaced")
    parser.add_argument(
        "--on-bad-file",
        choices=BAD_FILE_POLICIES,
        help="error (the default): stop, naming the file; skip: leave it out and report it",
    )
    parser.add_argument(
        "--seed", type=int, help="seed of the weights, data order and augmentations (default 0)"
    )
    parser.add_argument(
        "--precision", choices=sorted(PRECISIONS), help="bf16, fp16: mixed precision (default fp32)"
    )
    parser.add_argument("--batch-size", type=int, help="default 32")
    parser.add_argument("--learning-rate", type=float, help="default: the recipe's")
    parser.add_argument(
        "--schedule", choices=SCHEDULES, help="learning-rate schedule (default: the recipe's)"
    )
    parser.add_argument("--crop-seconds", type=float, help="t_c (default: the recipe's)")
    parser.add_argument("--mixup-alpha", type=float, help="0 turns SPL mixup off")
    parser.add_argument("--time-mask", type=int, help="largest SpecAugment time mask in frames")
    parser.add_argument("--freq-mask", type=int, help="largest SpecAugment frequency mask in bins")
    parser.add_argument(
        "--pitch-shift", type=float, help="largest random pitch shift in semitones (0: off)"
    )
    parser.add_argument(
        "--gain-db", type=float, help="largest random gain in dB either way (0: off)"
    )
    parser.add_argument(
        "--balanced",
        action=argparse.BooleanOptionalAction,
        help="class-balanced sampling, every class equally often (default: the recipe's)",
    )
    parser.add_argument(
        "--max-clips",
        type=int,
        help="at most N clips to train on and N to validate on, spread over them",
    )
    parser.add_argument(
        "--checkpoint-every", type=int, help="epochs between checkpoints (default 1)"
    )
    parser.add_argument(
        "--max-minutes",
        type=float,
        help="stop cleanly after the epoch that passes this time; --resume continues",
    )
    parser.add_argument(
        "--recalibrate-bn",
        type=int,
        metavar="BATCHES",
        help="re-estimate batch-norm statistics for the EMA weights on this many batches of "
        "clean training crops before each validation and the saved models (default: the "
        "recipe's, 4; 0 turns it off; off with --distribute)",
    )
    add_teacher_arguments(parser)
    parser.add_argument(
        "--transport",
        choices=TRANSPORTS,
        help="tfdata (the default) or pydataset (a Keras PyDataset: no TensorFlow needed)",
    )
    parser.add_argument("--no-cache", action="store_true", help="decode every epoch, keep no audio")
    parser.add_argument("--deterministic", action="store_true", help="TF op determinism")


def add_teacher_arguments(parser):
    """Knowledge distillation's flags, shared by `erann train`, `cv` and `tune`."""
    parser.add_argument(
        "--teacher",
        action="append",
        metavar="SPEC",
        help="distil from this model: a shipped model's name, a model or run folder, or a "
        ".keras file with the same classes and frontend; repeat it for an ensemble (averaged); "
        "in erann cv, {fold} becomes each fold's name (a teacher that never saw that fold)",
    )
    parser.add_argument(
        "--distill-weight",
        type=float,
        help="share of the distillation loss, 0-1 (default 0.9; the rest: the labels' loss)",
    )
    parser.add_argument(
        "--temperature",
        type=float,
        help="softmax temperature of teachers and student in the distillation loss (default 2)",
    )


def config_from_args(args, fold, output):
    """A TrainConfig from the shared flags (argparse names are its field names)."""
    from erann_tf.training.trainer import TrainConfig

    for flag in ("recipe", "data"):
        if getattr(args, flag) is None:
            raise ValueError(f"--{flag} is required")
    given = {k: v for k, v in given_settings(args).items() if v is not None}  # else: defaults
    return TrainConfig(**{**given, "fold": fold, "output": output})


def register(subparsers):
    from erann_tf.training.options import STRATEGIES

    parser = subparsers.add_parser("train", help=HELP, description=HELP + ".")
    add_training_arguments(parser)
    parser.add_argument("--fold", help="hold this fold out for validation (default: train on all)")
    parser.add_argument("--output", help="run directory (default: runs/RECIPE-TIME)")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --output; other training flags repeat its config.json, "
        "except --epochs (more), --max-minutes (from now on) and --data (the same clips, moved)",
    )
    parser.add_argument(
        "--distribute",
        choices=STRATEGIES,
        help="none (the default): one device; mirrored: this host's GPUs (or CPU devices); "
        "multiworker: hosts in TF_CONFIG, reading --data as TFRecord shards (docs/scaling.md)",
    )
    parser.set_defaults(run=run)


def run(args):
    from erann_tf.training.trainer import resume_run, train

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
    import dataclasses

    from erann_tf.training.trainer import TrainConfig

    names = [f.name for f in dataclasses.fields(TrainConfig) if hasattr(args, f.name)]
    given = {name: getattr(args, name) for name in names if name != "output"}
    # store_true flags: off means "not given" (on is what can differ from the run)
    return {
        **given,
        "cache": False if args.no_cache else None,
        "deterministic": args.deterministic or None,
    }


def _print_result(result, output):
    summary = {k: result[k] for k in ("recipe", "tm", "width", "fold", "train_clips", "seconds")}
    if result["validation"]:
        from erann_tf.training.evaluation import headline

        summary["validation"] = headline(result["validation"])
    summary["skipped_files"] = len(result["bad_files"])
    print(strict_json.dumps(summary))
    print(f"run directory: {output}")
