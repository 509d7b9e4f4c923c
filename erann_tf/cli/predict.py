"""`erann predict`: class scores of audio files, per window and per clip."""

import os
import sys

from erann_tf import strict_json

HELP = "class scores of audio files of any length (sliding windows)"
DEFAULT_MODEL = "erann-esc10"


def register(subparsers):
    from erann_tf.choices import RUNTIMES
    from erann_tf.inference.predict import REDUCTIONS

    parser = subparsers.add_parser("predict", help=HELP, description=HELP + ".")
    parser.add_argument(
        "audio",
        nargs="+",
        help="audio files (WAV, FLAC, Ogg, MP3; any rate), or folders of them (every audio file "
        "under a folder, in natural order)",
    )
    parser.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="a shipped model's name, a model folder, a .keras or .tflite file or a SavedModel "
        f"folder (default {DEFAULT_MODEL})",
    )
    parser.add_argument("--top-k", type=int, default=5, help="classes to report (default 5)")
    parser.add_argument("--window", type=float, help="window in seconds (default: the model's)")
    parser.add_argument("--hop", type=float, help="hop in seconds (default: half a window)")
    parser.add_argument(
        "--reduce", choices=REDUCTIONS, default="mean", help="clip score over windows"
    )
    parser.add_argument(
        "--runtime",
        choices=RUNTIMES,
        default="auto",
        help="litert: a .tflite file, or a model folder's model_float16.tflite, on LiteRT alone "
        "(no TensorFlow or Keras is loaded); keras: the .keras model; auto (default): LiteRT "
        "where there is a .tflite and no --window, else Keras",
    )
    parser.add_argument(
        "--min-score",
        type=float,
        help='a clip whose best class scores under this (0-1) is labelled "unknown"; with a '
        "multi-label model, the classes scoring this or more are its labels (default 0.5). "
        "benchmarks/open_set.py measures what a value keeps and turns away",
    )
    parser.add_argument("--json", action="store_true", help="JSON Lines, one object per file")
    parser.set_defaults(run=run, needs_keras=needs_keras)


def runtime_of(args):
    """The runtime `args` ask for: auto picks Keras when --window changes the
    window, since a TFLite file's input length is fixed."""
    if args.runtime == "auto" and args.window is not None:
        return "keras"
    return args.runtime


def needs_keras(args):
    from erann_tf.inference.runners import resolve

    try:
        return not resolve(args.model, runtime_of(args)).endswith(".tflite")
    except (ValueError, OSError):
        return False  # run() reports it, in one line, without loading Keras


def run(args):
    from erann_tf.data.windows import check_window_seconds
    from erann_tf.inference import load_runner, predict_file

    if args.top_k < 1:
        raise ValueError(f"--top-k {args.top_k} is not allowed; it must be >= 1")
    if args.min_score is not None and not 0 <= args.min_score <= 1:
        raise ValueError(f"--min-score {args.min_score:g} is not allowed; it must be from 0 to 1")
    for name in ("window", "hop"):
        if getattr(args, name) is not None:
            check_window_seconds(getattr(args, name), f"--{name}")
    runner = load_runner(args.model, runtime_of(args))
    if runner.warning:
        _say("warning", runner.warning)
    if runner.fixed_window and args.window is not None:
        raise ValueError("--window cannot change a TFLite model's fixed input length")
    failed = 0
    for path, error in _audio_files(args.audio):
        if error is None:
            result = predict_file(
                runner, path, args.window, args.hop, args.reduce, args.top_k,
                min_score=args.min_score,
            )  # fmt: skip
        else:
            result = {"file": path, "error": error}
        if "error" in result:
            failed += 1
            _say("error", result["error"])
        if "warning" in result:
            _say("warning", result["warning"])
        if args.json:
            print(strict_json.dumps(result), flush=True)
        elif "error" not in result:
            _print_result(result, args.min_score)
    return 1 if failed else 0


def _audio_files(paths):
    """(file, None) for each file to score, a folder standing for every audio
    file under it; (folder, error) for a folder without any."""
    from erann_tf.data.clips import SourceError, find_audio_files

    for path in paths:
        if not os.path.isdir(path):
            yield path, None
            continue
        try:
            yield from ((found, None) for found in find_audio_files(path))
        except SourceError as error:
            yield path, str(error)


def _say(kind, message):
    print(f"erann predict: {kind}: {strict_json.printable(message)}", file=sys.stderr)


def _print_result(result, min_score):
    windows = result["windows"]
    name = strict_json.printable(result["file"])
    print(f"{name}  ({result['duration_s']:.2f} s, {len(windows)} window(s), "
          f"model {result['model']})")  # fmt: skip
    if min_score is not None:  # the decision, above the scores it comes from
        decided = result.get("label") or ", ".join(result["labels"]) or "(none)"
        print(f"  label: {decided} (--min-score {min_score:g})")
    for entry in result["top"]:
        print(f"  {entry['score']:.3f}  {entry['label']}")
    for window in windows:
        best = window["top"][0]
        print(f"    {window['start_s']:8.2f}-{window['end_s']:.2f} s  "
              f"{best['label']} {best['score']:.3f}")  # fmt: skip
