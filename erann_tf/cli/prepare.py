"""`erann prepare`: pack a dataset into TFRecord shards for scaled-out training."""

from erann_tf import strict_json
from erann_tf.atomic import check_not_an_input

HELP = "pack a dataset's audio files into TFRecord shards with a manifest"


def register(subparsers):
    from erann_tf.data.layouts import LAYOUTS
    from erann_tf.data.loader import BAD_FILE_POLICIES
    from erann_tf.training.recipes import RECIPES

    parser = subparsers.add_parser("prepare", help=HELP, description=HELP + ".")
    parser.add_argument("--recipe", required=True, choices=sorted(RECIPES), help="sets the layout")
    parser.add_argument("--data", required=True, help="dataset folder (or a CSV manifest)")
    parser.add_argument("--layout", choices=LAYOUTS, help="read --data as this layout")
    parser.add_argument(
        "--output", required=True, help="shard folder: a local path or any tf.io.gfile URL"
    )
    parser.add_argument("--shard-size", default="200MB", help="audio bytes per shard (200MB)")
    parser.add_argument("--workers", type=int, default=4, help="shards written at once (4)")
    parser.add_argument("--on-bad-file", choices=BAD_FILE_POLICIES, default="error")
    parser.set_defaults(run=run)


def run(args):
    from erann_tf.data import shard_writer
    from erann_tf.data.layouts import read_clips
    from erann_tf.training.recipes import get_recipe

    if args.workers < 1:
        raise ValueError(f"--workers {args.workers} is not allowed; it must be >= 1")
    size = shard_writer.parse_size(args.shard_size)
    check_not_an_input("--output", args.output, {"--data": args.data})
    clips = read_clips(args.layout or get_recipe(args.recipe).source, args.data)
    import tensorflow as tf

    try:
        manifest = shard_writer.prepare(clips, args.output, size, args.workers, args.on_bad_file)
    except tf.errors.OpError as error:  # storage errors from tf.io.gfile (e.g. gs:// access)
        raise OSError(f"{args.output}: {error.message.splitlines()[0]}") from None
    summary = {k: manifest[k] for k in ("clips", "folds", "bad_files")}
    summary["shards"] = len(manifest["shards"])
    print(strict_json.dumps(summary))
    return 0
