"""`erann tune`: search t_m, width and the recipe under a multiply-add budget."""

from erann_tf import strict_json

HELP = "search tm, width and the recipe with KerasTuner under a multiply-add budget"


def register(subparsers):
    from erann_tf.choices import TUNERS
    from erann_tf.cli.train import add_setting_flag
    from erann_tf.data.layouts import LAYOUTS
    from erann_tf.training.recipes import RECIPES

    parser = subparsers.add_parser("tune", help=HELP, description=HELP + ".")
    parser.add_argument("--recipe", required=True, choices=sorted(RECIPES))
    parser.add_argument("--data", required=True, help="dataset folder or CSV manifest")
    parser.add_argument("--layout", choices=LAYOUTS, help="read --data as this layout")
    parser.add_argument("--tuner", choices=TUNERS, default="random")
    parser.add_argument("--max-trials", type=int, default=10)
    parser.add_argument(
        "--max-macs", type=float, help="reject configs above this many MACs per crop"
    )
    parser.add_argument("--epochs", type=int, help="epochs per trial (hyperband: the most)")
    parser.add_argument("--fold", help="validation fold (default: the first)")
    parser.add_argument(
        "--max-clips",
        type=int,
        help="at most N clips to train on and N to validate on, spread over them",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--fix",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="pin a hyper-parameter, e.g. --fix tm=4 --fix time_mask=0 --fix schedule=one_cycle",
    )
    parser.add_argument(
        "--space",
        action="append",
        default=[],
        metavar="NAME=SPEC",
        help="narrow a hyper-parameter: a range LOW:HIGH or choices A,B "
        "(e.g. --space learning_rate=1e-4:3e-3 --space tm=4,8)",
    )
    for name in ("teacher", "distill_weight", "temperature"):
        add_setting_flag(parser, name)
    parser.add_argument("--output", required=True, help="search directory (resumes if it exists)")
    parser.set_defaults(run=run)


def run(args):
    import dataclasses

    from erann_tf.tuning.search import TuneConfig, tune

    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(TuneConfig)
        if hasattr(args, f.name)
    }
    given["fixed"] = tuple(_parse_fix(item) for item in args.fix)
    given["space"] = tuple(_parse_space(item) for item in args.space)
    given["teacher"] = tuple(args.teacher or ())
    for name in ("distill_weight", "temperature"):  # fix the search's value, as --fix does
        if getattr(args, name) is not None:
            given["fixed"] += ((name, getattr(args, name)),)
    print(strict_json.dumps(tune(TuneConfig(**given))))
    return 0


def _parse_fix(item):
    name, _, value = item.partition("=")
    if not value:
        raise ValueError(f"--fix {item!r}: expected NAME=VALUE, e.g. tm=4")
    return name, _value(value)


def _parse_space(item):
    name, _, spec = item.partition("=")
    if ":" in spec:
        return name, tuple(_value(part) for part in spec.split(":", 1))
    choices = [_value(part) for part in spec.split(",") if part]
    if not choices:
        raise ValueError(f"--space {item!r}: expected NAME=LOW:HIGH or NAME=A,B")
    return name, choices


def _value(text):
    """A number where the text is one (the search checks each name's kind)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
