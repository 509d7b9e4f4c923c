"""How a training setting is declared: `setting(...)` makes a TrainConfig
field that carries its default, help text, rule (erann_tf.checks), resume
policy and search range (training/config.py reads them)."""

import dataclasses

from erann_tf import checks

LEARNED = "learned"  # what the run learns: a resume or an interrupted CV must repeat it
RUN = "run"  # how it reads and saves: a resume that repeats the flag repeats its value
RECORDED = "recorded"  # written by the run itself, not given by a flag


@dataclasses.dataclass(frozen=True)
class Setting:
    """The declaration of one TrainConfig field (`setting` makes it)."""

    help: str
    rule: checks.Rule | None = None
    kind: str = LEARNED
    resume_may_change: bool = False  # `--resume` may give another value
    recipe_default: object = None  # with from_recipe: the value when no recipe changes it
    from_recipe: bool = False
    choices: tuple | None = None
    metavar: str | None = None
    tuned: bool = False  # an `erann tune` hyper-parameter (fixed at the recipe's value...)
    search: object = None  # (...unless this says otherwise: (low, high) or [choices])


def setting(default=None, *, help, rule=None, choices=None, **declared):
    """A TrainConfig field and its declaration. A `from_recipe` setting's
    field default is None ("the recipe's") and `default` is what a recipe
    that does not name it trains with."""
    if choices is not None:
        rule = checks.one_of(tuple(choices))
    if declared.get("from_recipe"):
        declared["recipe_default"], default = default, None
    elif default is None and rule is not None:
        rule = checks.optional(rule)  # None: not given
    meta = Setting(help=help, rule=rule, choices=choices and tuple(choices), **declared)
    return dataclasses.field(default=default, metadata={"setting": meta})


def flag(name):
    """The command-line flag of a setting: crop_seconds -> --crop-seconds."""
    return "--" + name.replace("_", "-")
