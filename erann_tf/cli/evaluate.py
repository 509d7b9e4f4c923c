"""`erann evaluate`: a trained model's metrics on a dataset, in any format."""

import os
import sys

from erann_tf import strict_json
from erann_tf.atomic import check_not_an_input

HELP = "evaluate a trained model (any format) on a dataset"


def register(subparsers):
    from erann_tf.data.layouts import LAYOUTS
    from erann_tf.data.loader import BAD_FILE_POLICIES
    from erann_tf.training.recipes import RECIPES

    parser = subparsers.add_parser(
        "evaluate",
        help=HELP,
        description=HELP + ". Each clip is scored as `erann predict` scores a file: the mean "
        "over windows of the training crop every half window. The data's labels are matched "
        "to the model's class names by name.",
    )
    parser.add_argument(
        "model",
        nargs="+",
        help="a shipped model's name, a model or run folder, a .keras or .tflite file, "
        "or a SavedModel folder; several are scored as one ensemble, the mean of their "
        "scores (to judge a --teacher ensemble before it teaches)",
    )
    parser.add_argument("--recipe", required=True, choices=sorted(RECIPES))
    parser.add_argument("--data", required=True, help="dataset folder or CSV manifest")
    parser.add_argument("--layout", choices=LAYOUTS, help="read --data as this layout")
    parser.add_argument("--fold", help="evaluate on this fold only (default: every clip)")
    parser.add_argument("--on-bad-file", choices=BAD_FILE_POLICIES, default="error")
    parser.add_argument(
        "--max-clips", type=int, help="evaluate at most N clips (of --fold), spread over them"
    )
    parser.add_argument(
        "--crop-seconds",
        type=float,
        help="the scoring window (default: the model's training crop t_c)",
    )
    parser.add_argument(
        "--predictions",
        metavar="CSV",
        help="also write each clip's path, labels, top class and class scores to this CSV",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def run(args):
    from erann_tf.data.layouts import read_clips
    from erann_tf.data.loader import ClipLoader
    from erann_tf.inference import load_ensemble
    from erann_tf.training.evaluation import evaluate
    from erann_tf.training.recipes import get_recipe

    recipe = get_recipe(args.recipe)
    if args.predictions and os.path.isdir(args.predictions):
        raise ValueError(f"--predictions {args.predictions} is a folder; give a CSV file's path")
    inputs = {"--data": args.data, **{f"MODEL {m}": m for m in args.model}}
    check_not_an_input("--predictions", args.predictions, inputs)
    runner = load_ensemble(args.model)
    if runner.warning:
        print(f"erann evaluate: warning: {strict_json.printable(runner.warning)}", file=sys.stderr)
    info = runner.metadata
    clips = read_clips(args.layout or recipe.source, args.data)
    if args.fold is not None:
        clips = clips.split(args.fold)[1]
    if args.max_clips:  # of the clips evaluated, as `erann train` caps each side
        clips = clips.subset(args.max_clips)
    clips = clips.onto_classes(info.classes)
    window = info.window_samples
    if args.crop_seconds is not None:
        if runner.fixed_window and abs(args.crop_seconds - info.window_s) > 1e-6:
            raise ValueError(
                f"--crop-seconds {args.crop_seconds:g}: {runner.path} takes windows of "
                f"{info.window_s:g} s only"
            )
        window = int(round(args.crop_seconds * info.sample_rate))
    loader = ClipLoader(clips, on_bad_file=args.on_bad_file, frontend=info.frontend)
    loader.scan(progress=not args.json)
    result = evaluate(
        runner,
        loader,
        recipe.multi_label,
        window,
        progress=not args.json,
        predictions=args.predictions,
    )
    result.update(
        {
            "model": args.model[0] if len(args.model) == 1 else args.model,
            "format": runner.format,
            "fold": args.fold,
            "window_s": window / info.sample_rate,
            "classes_without_clips": clips.absent_classes(),
            "skipped_files": len(loader.bad_files),
        }
    )
    if args.json:
        print(strict_json.dumps(result))
    else:
        _print_table(result)
    return 0


def _print_table(result):
    if "accuracy" in result:
        print(f"accuracy {result['accuracy']:.4f} on {result['clips']} clips")
        for name, value in result["per_class_accuracy"].items():
            print(f"  {name:<24} {value:.4f}")
    else:
        shown = lambda key: "-" if result[key] is None else f"{result[key]:.4f}"  # noqa: E731
        print(f"mAP {shown('mAP')}  mean AUC {shown('mean_auc')}  d' {shown('d_prime')}")
        for name, why in result.get("unavailable", {}).items():
            print(f"  {name}: not computed, {why}")
    if result["classes_without_clips"]:
        print("no clips of: " + ", ".join(result["classes_without_clips"]))
    if result["skipped_files"]:
        print(f"skipped {result['skipped_files']} bad file(s)")
