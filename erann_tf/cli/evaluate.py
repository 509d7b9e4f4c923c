"""`erann evaluate`: a trained model's metrics on a dataset, whole clips."""

import json

HELP = "evaluate a trained model on a dataset (whole clips)"


def register(subparsers):
    from erann_tf.training.recipes import RECIPES
    from erann_tf.training.trainer import LAYOUTS

    parser = subparsers.add_parser("evaluate", help=HELP, description=HELP + ".")
    parser.add_argument("model", help="a .keras model")
    parser.add_argument("--recipe", required=True, choices=sorted(RECIPES))
    parser.add_argument("--data", required=True, help="dataset folder or CSV manifest")
    parser.add_argument("--layout", choices=LAYOUTS, help="read --data as this layout")
    parser.add_argument("--fold", help="evaluate on this fold only (default: every clip)")
    parser.add_argument("--on-bad-file", choices=("error", "skip"), default="error")
    parser.add_argument(
        "--max-clips", type=int, help="use N clips spread over the data (as in training)"
    )
    parser.add_argument(
        "--crop-seconds", type=float, help="the training crop t_c (default: the recipe's)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def run(args):
    import os

    import keras

    from erann_tf.data.audio import SAMPLE_RATE
    from erann_tf.data.loader import ClipLoader
    from erann_tf.training.evaluation import evaluate
    from erann_tf.training.recipes import get_recipe
    from erann_tf.training.trainer import read_clips

    recipe = get_recipe(args.recipe)
    if not os.path.isfile(args.model):
        raise FileNotFoundError(f"{args.model}: no such model file")
    model = keras.models.load_model(args.model)
    clips = read_clips(args.layout or recipe.source, args.data)
    if args.max_clips:  # before the fold, as `erann train` does
        clips = clips.subset(args.max_clips)
    if args.fold is not None:
        clips = clips.split(args.fold)[1]
    if model.output.shape[-1] != len(clips.classes):
        raise ValueError(
            f"{args.model} has {model.output.shape[-1]} outputs; "
            f"the data has {len(clips.classes)} classes"
        )
    loader = ClipLoader(clips, on_bad_file=args.on_bad_file).scan(progress=not args.json)
    crop = args.crop_seconds or recipe.crop_seconds
    result = evaluate(model, loader, recipe.multi_label, int(crop * SAMPLE_RATE))
    result.update({"model": args.model, "fold": args.fold, "skipped_files": len(loader.bad_files)})
    if args.json:
        print(json.dumps(result))
    else:
        _print_table(result)
    return 0


def _print_table(result):
    if "accuracy" in result:
        print(f"accuracy {result['accuracy']:.4f} on {result['clips']} clips")
        for name, value in result["per_class_accuracy"].items():
            print(f"  {name:<24} {value:.4f}")
    else:
        print(
            f"mAP {result['mAP']:.4f}  mean AUC {result['mean_auc']:.4f}  "
            f"d' {result['d_prime']:.3f}"
        )
    if result["skipped_files"]:
        print(f"skipped {result['skipped_files']} bad file(s)")
