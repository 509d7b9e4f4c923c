"""`erann summary`: parameters, multiply-adds and shapes of a configuration."""

from erann_tf import strict_json

HELP = "parameters, multiply-adds and the shape before pooling of an ERANN"


def register(subparsers):
    parser = subparsers.add_parser("summary", help=HELP, description=HELP + ".")
    parser.add_argument(
        "preset", nargs="?", help="paper preset name, e.g. ERANN-8x4-5 (or give --tm and --width)"
    )
    parser.add_argument("--tm", type=int, help="decreasing-temporal-size parameter: 1, 2, 4, 8, 16")
    parser.add_argument("--width", type=int, help="width multiplier W >= 1")
    parser.add_argument("--classes", type=int, default=527, help="number of classes (default 527)")
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="clip length for multiply-adds (default 10)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(run=run)


def run(args):
    from erann_tf.models.complexity import PAPER_EXTRA_REASON, complexity
    from erann_tf.models.presets import paper_results, parse_preset

    name, tm, width = _configuration(args, parse_preset)
    result = complexity(tm, width, num_classes=args.classes, seconds=args.seconds)
    reported = paper_results(name) if name else ()
    if args.json:
        payload = {"name": name} | result.to_dict()
        payload["paper_results"] = [vars(r) for r in reported]
        print(strict_json.dumps(payload))
        return 0
    time, freq, channels = result.pooled_shape
    print(f"{name or 'ERANN'}: tm={tm}, width={width}, {args.classes} classes")
    print(f"  trainable parameters   {result.trainable_params:>15,}")
    print(f"  paper parameters       {result.paper_params:>15,}  (trainable + 2 + 240*W:")
    print(f"                         {'':>15}   {PAPER_EXTRA_REASON})")
    print(
        f"  total parameters       {result.total_params:>15,}  (with batch-norm moving statistics)"
    )
    print(
        f"  multiply-adds          {result.macs:>15,}  ({result.macs / 1e9:.3f} G for "
        f"{result.seconds:g} s = {result.frames} frames; every Conv2D and Dense)"
    )
    print(f"  shape before pooling   {time} time x {freq} freq x {channels} channels")
    for r in reported:
        print(f"  paper: {r.dataset} {r.training} {r.metric} {r.value:.3f}")
    return 0


def _configuration(args, parse_preset):
    if args.preset and (args.tm is not None or args.width is not None):
        raise ValueError("give either a preset name or --tm and --width, not both")
    if args.preset:
        preset = parse_preset(args.preset)
        return preset.name, preset.tm, preset.width
    if args.tm is None or args.width is None:
        raise ValueError("give a preset name such as ERANN-8x4-5, or both --tm and --width")
    return None, args.tm, args.width
