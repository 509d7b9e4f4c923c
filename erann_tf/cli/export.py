"""`erann export`: SavedModel and TFLite files with a parity check."""

import sys

HELP = "export a trained model as SavedModel and/or TFLite, checked for parity"


def register(subparsers):
    from erann_tf.choices import FORMATS, QUANTIZATIONS

    parser = subparsers.add_parser("export", help=HELP, description=HELP + ".")
    parser.add_argument("model", help="a .keras file, a model folder or a shipped model's name")
    parser.add_argument("-o", "--output", required=True, help="output folder")
    parser.add_argument("--format", choices=FORMATS, default="savedmodel")
    parser.add_argument(
        "--quantize",
        default="none",
        help=f"TFLite variants, comma-separated: {', '.join(QUANTIZATIONS)} (default none)",
    )
    parser.add_argument(
        "--window", type=float, help="TFLite input length in seconds (default: the model's)"
    )
    parser.add_argument("--calibration-data", help="folder of real clips for int8 calibration")
    parser.add_argument(
        "--parity-data", help="folder of real clips to check parity on (default: the examples)"
    )
    parser.add_argument("--name", help="model name recorded in metadata.json")
    parser.add_argument("--cv-summary", help="an `erann cv` cv.json to record in metadata.json")
    parser.add_argument(
        "--embedder",
        action="store_true",
        help="with TFLite: also model_embedder_float16.tflite, whose output is the embedding "
        "(MediaPipe's AudioEmbedder)",
    )
    parser.add_argument("--force", action="store_true", help="write into an existing folder")
    parser.set_defaults(run=run)


def run(args):
    from erann_tf.export.exporter import ExportConfig, export
    from erann_tf.export.parity import HEADER

    config = ExportConfig(
        model=args.model,
        output=args.output,
        format=args.format,
        quantize=tuple(q.strip() for q in args.quantize.split(",") if q.strip()),
        window_s=args.window,
        calibration_data=args.calibration_data,
        parity_data=args.parity_data,
        name=args.name,
        cv_summary=args.cv_summary,
        embedder=args.embedder,
        force=args.force,
    )
    results = export(config)
    print(HEADER)
    for result in results:
        print(result.line())
    failed = [r.export for r in results if not r.passed]
    if failed:
        print(f"erann export: parity failed for {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
