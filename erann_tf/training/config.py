"""TrainConfig: every training setting declared once (training/settings.py).

The flags (cli/train.py), the checks, the resume policy (resume.py), the run's
metadata and command (run_metadata.py) and the tuner's hyper-parameters
(tuning/hypermodel.py) derive from the declarations; a recipe (recipes.py)
gives other defaults to the `from_recipe` settings. Adding a setting: one
field here, the recipes that differ from its default, and the code that uses it.
"""

import dataclasses
import types

from erann_tf import checks
from erann_tf.atomic import check_not_an_input
from erann_tf.choices import PRECISIONS, SCHEDULES, STRATEGIES, TRANSPORTS
from erann_tf.data.audio import SAMPLE_RATE
from erann_tf.data.layouts import LAYOUTS
from erann_tf.data.loader import BAD_FILE_POLICIES
from erann_tf.data.windows import MAX_WINDOW_SECONDS, MIN_WINDOW_SECONDS
from erann_tf.models.architecture import validate
from erann_tf.models.presets import parse_preset
from erann_tf.training.recipes import RECIPES, get_recipe
from erann_tf.training.settings import RECORDED, RUN, flag, setting

_CROP = checks.between(MIN_WINDOW_SECONDS, MAX_WINDOW_SECONDS, " seconds")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One training run. A recipe's setting left at None takes the recipe's value.

    Example:
    >>> config = TrainConfig(recipe="fsdd", data="../shared/data/fsdd", output="runs/x")
    >>> config.resolved().crop_seconds
    1.0
    """

    recipe: str = setting(
        help="the paper's recipe, or one tuned for a CPU (NAME-cpu); sets t_c, LR, loss",
        choices=sorted(RECIPES),
    )
    data: str = setting(
        help="dataset folder (or a CSV manifest with --layout manifest)",
        kind=RUN,
        resume_may_change=True,
    )
    output: str = setting(help="run directory (default: runs/RECIPE-TIME)", kind=RUN)
    model: str | None = setting(help="preset name, e.g. ERANN-4x2-3 (sets tm and width)")
    tm: int | None = setting(
        help="decreasing-temporal-size parameter", tuned=True, search=[1, 2, 4, 8, 16]
    )
    width: int | None = setting(help="width multiplier W >= 1", tuned=True, search=(1, 8))
    fold: str | None = setting(help="hold this fold out for validation (default: train on all)")
    epochs: int | None = setting(
        60, help="epochs", rule=checks.integer(1), from_recipe=True, resume_may_change=True
    )
    init_from: str | None = setting(
        help="a .keras model to start from; its head is replaced when its classes differ"
    )
    on_bad_file: str = setting(
        "error",
        help="error: stop, naming the file; skip: leave it out and report it",
        choices=BAD_FILE_POLICIES,
        kind=RUN,
    )
    seed: int = setting(0, help="seed of weights, data order, augmentation", rule=checks.integer(0))
    precision: str = setting("fp32", help="bf16, fp16: mixed precision", choices=sorted(PRECISIONS))
    layout: str | None = setting(
        help="read --data as this layout (default: the recipe's)", choices=LAYOUTS, kind=RUN
    )
    batch_size: int | None = setting(
        32, help="clips per step", rule=checks.integer(1), from_recipe=True
    )
    learning_rate: float | None = setting(
        2e-4,
        help="Adam's learning rate",
        rule=checks.positive(),
        from_recipe=True,
        tuned=True,
        search=(1e-5, 1e-2),  # on a log scale
    )
    schedule: str | None = setting(
        "constant",
        help="learning-rate schedule",
        choices=SCHEDULES,
        from_recipe=True,
        tuned=True,
        search=list(SCHEDULES),
    )
    crop_seconds: float | None = setting(
        4.0, help="t_c: random training crops", rule=_CROP, from_recipe=True, tuned=True
    )
    mixup_alpha: float | None = setting(
        1.0,
        help="SPL mixup's beta parameter; 0 turns mixup off",
        rule=checks.number(0, " (0 turns mixup off)"),
        from_recipe=True,
        tuned=True,
        search=(0.0, 2.0),
    )
    time_mask: int | None = setting(
        64,
        help="largest SpecAugment time mask in frames",
        rule=checks.integer(0),
        from_recipe=True,
        tuned=True,
    )
    freq_mask: int | None = setting(
        16,
        help="largest SpecAugment frequency mask in bins",
        rule=checks.integer(0),
        from_recipe=True,
        tuned=True,
    )
    pitch_shift: float | None = setting(
        0.0,
        help="largest random pitch shift in semitones (0: off)",
        rule=checks.number(0),
        from_recipe=True,
        tuned=True,
    )
    gain_db: float | None = setting(
        0.0,
        help="largest random gain in dB either way (0: off)",
        rule=checks.number(0, " (0 turns it off)"),
        from_recipe=True,
        tuned=True,
    )
    max_clips: int | None = setting(
        help="at most N clips to train on and N to validate on, spread over them",
        rule=checks.integer(1),
    )
    transport: str = setting(
        "tfdata",
        help="tfdata, or pydataset (a Keras PyDataset: no TensorFlow needed)",
        choices=TRANSPORTS,
        kind=RUN,
    )
    cache: bool = setting(
        True, help="keep the decoded audio in memory", rule=checks.boolean(), kind=RUN
    )
    deterministic: bool = setting(
        False, help="TF op determinism (bit-exact resume)", rule=checks.boolean(), kind=RUN
    )
    distribute: str = setting(
        "none",
        help="none: one device; mirrored: this host's GPUs (or CPU devices); "
        "multiworker: hosts in TF_CONFIG, reading --data as TFRecord shards (docs/scaling.md)",
        choices=STRATEGIES,
        kind=RUN,
    )
    balanced: bool | None = setting(
        False,
        help="class-balanced sampling, every class equally often",
        rule=checks.boolean(),
        from_recipe=True,
    )
    checkpoint_every: int = setting(
        1, help="epochs between checkpoints (and always the last)", rule=checks.integer(1), kind=RUN
    )
    validate_every: int = setting(
        1, help="epochs between validations (and always the last)", rule=checks.integer(1), kind=RUN
    )
    max_minutes: float | None = setting(
        help="stop cleanly after the epoch that passes this time; --resume continues",
        rule=checks.positive(),
        kind=RUN,
        resume_may_change=True,
    )
    recalibrate_bn: int | None = setting(
        4,
        help="re-estimate batch norm for the EMA weights on this many batches of clean crops "
        "before each validation and the saved models (0: off; off with --distribute)",
        rule=checks.integer(0, " (0 turns it off)"),
        from_recipe=True,
        metavar="BATCHES",
    )
    teacher: tuple = setting(
        (),
        help="distil from this model: a shipped model's name, a model or run folder, or a "
        ".keras file with the same classes and frontend; repeat it for an ensemble (averaged); "
        "in erann cv, {fold} becomes each fold's name (a teacher that never saw that fold)",
        metavar="SPEC",
    )
    teacher_sha256: tuple = setting((), help="of each teacher's file", kind=RECORDED)
    distill_weight: float | None = setting(
        0.9,
        help="share of the distillation loss, 0-1, with --teacher (the rest: the labels' loss)",
        rule=checks.between(0, 1),
        from_recipe=True,
        tuned=True,
    )
    temperature: float | None = setting(
        2.0,
        help="softmax temperature of teachers and student in the distillation loss",
        rule=checks.positive(),
        from_recipe=True,
        tuned=True,
    )

    def __post_init__(self):  # config.json gives lists
        object.__setattr__(self, "teacher", tuple(self.teacher or ()))
        object.__setattr__(self, "teacher_sha256", tuple(self.teacher_sha256 or ()))

    @classmethod
    def of_recipe(cls, recipe):
        """The settings `recipe` trains with when no flag changes them.

        Example:
        >>> TrainConfig.of_recipe("ravdess").pitch_shift
        2.0
        """
        return cls(recipe=recipe, data="", output="").resolved()

    def resolved(self):
        """This config over its recipe: every setting's effective value
        (tm and width from the model preset; model None), checked."""
        recipe = get_recipe(self.recipe)
        self._check_combinations()
        filled = {
            name: recipe.settings.get(name, meta.recipe_default)
            for name, meta in declared().items()
            if meta.from_recipe and getattr(self, name) is None
        }
        if self.init_from is not None and self.learning_rate is None:
            filled["learning_rate"] = recipe.finetune_learning_rate
        if self.recalibrate_bn is None and self.distribute != "none":
            filled["recalibrate_bn"] = 0
        preset = parse_preset(self.model or recipe.model)
        tm = preset.tm if self.tm is None else self.tm
        width = preset.width if self.width is None else self.width
        settings = dataclasses.replace(self, model=None, tm=tm, width=width, **filled)
        settings.check_values()
        validate(settings.tm, settings.width)  # before any data is read
        return settings

    def check_values(self):
        """A ValueError naming the first flag whose value its rule refuses."""
        for name, meta in declared().items():
            value = getattr(self, name)
            if meta.rule is not None and not (meta.from_recipe and value is None):
                meta.rule.check(flag(name), value)

    def _check_combinations(self):
        if self.max_minutes is not None and self.distribute == "multiworker":
            raise ValueError("--max-minutes works with --distribute none or mirrored only")
        if self.recalibrate_bn and self.distribute != "none":
            raise ValueError("--recalibrate-bn works with --distribute none only")
        if self.model and (self.tm or self.width):
            raise ValueError("give either --model or --tm/--width, not both")
        for name in ("distill_weight", "temperature"):
            if getattr(self, name) is not None and not self.teacher:
                raise ValueError(f"{flag(name)} needs --teacher")
        if self.teacher and self.distribute == "multiworker":
            raise ValueError("--teacher works with --distribute none or mirrored only")
        teachers = {f"--teacher {spec}": spec for spec in self.teacher}
        inputs = {"--data": self.data, "--init-from": self.init_from} | teachers
        check_not_an_input("--output", self.output, inputs)

    @property
    def crop_samples(self):
        return int(self.crop_seconds * SAMPLE_RATE)


def declared():
    """Every setting's name and declaration, in TrainConfig's order."""
    return {field.name: field.metadata["setting"] for field in dataclasses.fields(TrainConfig)}


def names(**wanted):
    """The settings whose declarations have the `wanted` values.

    Example:
    >>> names(kind=RECORDED)
    ('teacher_sha256',)
    """
    return tuple(
        name
        for name, meta in declared().items()
        if all(getattr(meta, key) == value for key, value in wanted.items())
    )


def value_type(name):
    """The Python type of a setting's values: int, float, str, bool or tuple."""
    kind = {field.name: field.type for field in dataclasses.fields(TrainConfig)}[name]
    if isinstance(kind, types.UnionType):
        kind = next(arg for arg in kind.__args__ if arg is not type(None))
    return kind


def check_recipes():
    """A ValueError where a recipe sets what is not its to set, or a value its rule refuses."""
    settings = declared()
    for recipe in RECIPES.values():
        for name, value in recipe.settings.items():
            if name not in settings or not settings[name].from_recipe:
                raise ValueError(f"recipe {recipe.name!r}: {name} is not a recipe's setting")
            settings[name].rule.check(f"recipe {recipe.name!r}: {flag(name)}", value)


check_recipes()
