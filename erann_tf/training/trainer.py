"""`train`: one training run from a TrainConfig to a run directory.

The run directory holds config.json, checkpoint.npz (full state after each
epoch, atomic), logs/ (TensorBoard), history.json, learning_curves.png,
metrics.json, best.keras (with a validation fold), final.keras and a PNG of
the final evaluation.
"""

import dataclasses
import math
import os
import time

import keras

from erann_tf import strict_json
from erann_tf.atomic import FolderLock, atomic_path, check_not_an_input, write_json
from erann_tf.data.audio import SAMPLE_RATE
from erann_tf.data.layouts import LAYOUTS, read_clips
from erann_tf.data.loader import BadFiles, ClipLoader
from erann_tf.data.pipeline import steps_per_epoch, training_dataset
from erann_tf.data.windows import MAX_WINDOW_SECONDS, MIN_WINDOW_SECONDS
from erann_tf.models import parse_preset
from erann_tf.models.architecture import validate
from erann_tf.models.complexity import min_training_bytes
from erann_tf.training.batchnorm import recalibration_for
from erann_tf.training.distribute import (
    close_distribution,
    open_distribution,
    unsynchronized,
)
from erann_tf.training.multiworker import run_multiworker
from erann_tf.training.options import PRECISIONS, SCHEDULES, STRATEGIES, TRANSPORTS
from erann_tf.training.recipes import get_recipe
from erann_tf.training.setup import finish, start


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One training run. None means "the recipe's value".

    Example:
    >>> config = TrainConfig(recipe="fsdd", data="../shared/data/fsdd", output="runs/x")
    >>> config.resolved().crop_seconds
    1.0
    """

    recipe: str
    data: str
    output: str
    model: str | None = None  # preset name (sets tm and width)
    tm: int | None = None
    width: int | None = None
    fold: str | None = None  # held out for validation; None trains on everything
    epochs: int | None = None
    init_from: str | None = None  # a .keras model to fine-tune (its head is replaced)
    on_bad_file: str = "error"
    seed: int = 0
    precision: str = "fp32"
    layout: str | None = None  # read the data as this layout instead of the recipe's
    batch_size: int | None = None
    learning_rate: float | None = None
    schedule: str | None = None  # "constant" or "one_cycle"
    crop_seconds: float | None = None
    mixup_alpha: float | None = None
    time_mask: int | None = None
    freq_mask: int | None = None
    pitch_shift: float | None = None  # semitones (default: the recipe's)
    gain_db: float | None = None  # random gain in dB (default: the recipe's)
    max_clips: int | None = None  # at most N to train and N to validate on (quick runs)
    transport: str = "tfdata"  # or "pydataset" (no TensorFlow needed)
    cache: bool = True
    deterministic: bool = False  # TF op determinism, for bit-exact resume
    distribute: str = "none"  # or "mirrored", "multiworker" (erann_tf.training.distribute)
    balanced: bool | None = None  # class-balanced sampling (default: the recipe's)
    checkpoint_every: int = 1  # epochs between checkpoints (and always the last)
    max_minutes: float | None = None  # stop after the epoch that passes this; --resume goes on
    recalibrate_bn: int | None = None  # batches to re-estimate batch norm on (0: off)
    teacher: tuple = ()  # models to distil from (distillation.teacher_files), averaged
    teacher_sha256: tuple = ()  # of each teacher's file, recorded when the run starts
    distill_weight: float | None = None  # the distillation loss's share (with --teacher)
    temperature: float | None = None  # of the softmax teachers and student (with --teacher)

    def __post_init__(self):  # config.json gives lists
        object.__setattr__(self, "teacher", tuple(self.teacher or ()))
        object.__setattr__(self, "teacher_sha256", tuple(self.teacher_sha256 or ()))

    def resolved(self):
        """The effective settings: this config over its recipe (a Settings)."""
        recipe = get_recipe(self.recipe)
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"precision={self.precision!r} is not allowed; use {', '.join(PRECISIONS)}"
            )
        if self.transport not in TRANSPORTS:
            raise ValueError(
                f"transport={self.transport!r} is not allowed; use {', '.join(TRANSPORTS)}"
            )
        if self.distribute not in STRATEGIES:
            raise ValueError(
                f"distribute={self.distribute!r} is not allowed; use {', '.join(STRATEGIES)}"
            )
        if self.layout is not None and self.layout not in LAYOUTS:
            raise ValueError(f"layout={self.layout!r} is not allowed; use {', '.join(LAYOUTS)}")
        if self.schedule is not None and self.schedule not in SCHEDULES:
            raise ValueError(
                f"schedule={self.schedule!r} is not allowed; use {', '.join(SCHEDULES)}"
            )
        if self.max_minutes is not None and self.distribute == "multiworker":
            raise ValueError("--max-minutes works with --distribute none or mirrored only")
        if self.recalibrate_bn and self.distribute != "none":  # None: off there
            raise ValueError("--recalibrate-bn works with --distribute none only")
        if self.model and (self.tm or self.width):
            raise ValueError("give either --model or --tm/--width, not both")
        for flag in ("distill_weight", "temperature"):
            if getattr(self, flag) is not None and not self.teacher:
                raise ValueError(f"--{flag.replace('_', '-')} needs --teacher")
        if self.teacher and self.distribute == "multiworker":
            raise ValueError("--teacher works with --distribute none or mirrored only")
        inputs = {"--data": self.data, "--init-from": self.init_from}
        check_not_an_input("--output", self.output, inputs | _teacher_flags(self.teacher))
        preset = parse_preset(self.model or recipe.model)
        pick = lambda value, default: default if value is None else value  # noqa: E731
        finetune = self.init_from is not None
        settings = Settings(
            recipe=recipe,
            tm=pick(self.tm, preset.tm),
            width=pick(self.width, preset.width),
            epochs=pick(self.epochs, recipe.epochs),
            batch_size=pick(self.batch_size, recipe.batch_size),
            learning_rate=pick(
                self.learning_rate,
                recipe.finetune_learning_rate if finetune else recipe.learning_rate,
            ),
            schedule=pick(self.schedule, recipe.schedule),
            crop_seconds=pick(self.crop_seconds, recipe.crop_seconds),
            mixup_alpha=pick(self.mixup_alpha, recipe.mixup_alpha),
            time_mask=pick(self.time_mask, recipe.time_mask),
            freq_mask=pick(self.freq_mask, recipe.freq_mask),
            pitch_shift=pick(self.pitch_shift, recipe.pitch_shift),
            gain_db=pick(self.gain_db, recipe.gain_db),
            balanced=pick(self.balanced, recipe.balanced),
            recalibrate_bn=pick(
                self.recalibrate_bn, recipe.recalibrate_bn if self.distribute == "none" else 0
            ),
            distill_weight=pick(self.distill_weight, recipe.distill_weight),
            temperature=pick(self.temperature, recipe.temperature),
        )
        _check_numbers(self, settings)
        validate(settings.tm, settings.width)  # before any data is read
        return settings


def _teacher_flags(teachers):
    return {f"--teacher {spec}": spec for spec in teachers}


def check_memory(settings):
    """A ValueError before any data is read where training these settings
    needs more memory than this machine has available (a lower bound:
    `min_training_bytes`)."""
    needed = min_training_bytes(
        settings.tm, settings.width, settings.batch_size, settings.crop_seconds
    )
    available = available_memory_bytes()
    if available is not None and needed > available:
        raise ValueError(
            f"--width {settings.width} with --batch-size {settings.batch_size} needs at least "
            f"{needed / 1e9:.3g} GB to train (weights, gradients, Adam's moments and one "
            f"batch's activations); this machine has {available / 1e9:.3g} GB available"
        )


def available_memory_bytes():
    """MemAvailable of /proc/meminfo (Linux), else the physical memory, else None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _check_numbers(config, settings):
    """A ValueError naming the first flag whose value is out of range."""
    integer = lambda low: lambda v: isinstance(v, int) and v >= low  # noqa: E731
    positive = lambda v: math.isfinite(v) and v > 0  # noqa: E731
    non_negative = lambda v: math.isfinite(v) and v >= 0  # noqa: E731
    fraction = lambda v: 0 <= v <= 1  # noqa: E731
    optional = lambda test: lambda v: v is None or test(v)  # noqa: E731
    rules = (
        ("epochs", settings.epochs, "an integer >= 1", integer(1)),
        ("batch_size", settings.batch_size, "an integer >= 1", integer(1)),
        ("checkpoint_every", config.checkpoint_every, "an integer >= 1", integer(1)),
        ("recalibrate_bn", settings.recalibrate_bn, "an integer >= 0 (0 turns it off)", integer(0)),
        ("max_clips", config.max_clips, "an integer >= 1", optional(integer(1))),
        ("max_minutes", config.max_minutes, "a number > 0", optional(positive)),
        ("learning_rate", settings.learning_rate, "a number > 0", positive),
        (
            "crop_seconds",
            settings.crop_seconds,
            f"between {MIN_WINDOW_SECONDS:g} and {MAX_WINDOW_SECONDS:g} seconds",
            lambda v: MIN_WINDOW_SECONDS <= v <= MAX_WINDOW_SECONDS,
        ),
        (
            "mixup_alpha",
            settings.mixup_alpha,
            "a number >= 0 (0 turns mixup off)",
            non_negative,
        ),
        ("time_mask", settings.time_mask, "an integer >= 0", integer(0)),
        ("freq_mask", settings.freq_mask, "an integer >= 0", integer(0)),
        ("pitch_shift", settings.pitch_shift, "a number of semitones >= 0", non_negative),
        ("gain_db", settings.gain_db, "a number of dB >= 0 (0 turns it off)", non_negative),
        ("distill_weight", settings.distill_weight, "a number from 0 to 1", fraction),
        ("temperature", settings.temperature, "a number > 0", positive),
    )
    for name, value, allowed, test in rules:
        if not test(value):
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag} {value} is not allowed; it must be {allowed}")


@dataclasses.dataclass(frozen=True)
class Settings:
    """A TrainConfig's effective values."""

    recipe: object
    tm: int
    width: int
    epochs: int
    batch_size: int
    learning_rate: float
    schedule: str
    crop_seconds: float
    mixup_alpha: float
    time_mask: int
    freq_mask: int
    pitch_shift: float
    gain_db: float
    balanced: bool
    recalibrate_bn: int
    distill_weight: float
    temperature: float

    @property
    def crop_samples(self):
        return int(self.crop_seconds * SAMPLE_RATE)


class RunDir:
    """Paths and atomic writes of one run directory."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self.config = os.path.join(self.path, "config.json")
        self.checkpoint = os.path.join(self.path, "checkpoint.npz")
        self.logs = os.path.join(self.path, "logs")
        self.curves = os.path.join(self.path, "learning_curves.png")
        self.metrics = os.path.join(self.path, "metrics.json")  # written when the run ends
        self.clips = os.path.join(self.path, "clips.json")  # what it trains on, for --resume
        self.lock = FolderLock(self.path)

    def check_free(self):
        if os.path.exists(self.config):
            raise FileExistsError(
                f"{self.path}: a run exists here; use --resume or another --output"
            )

    def create(self, config):
        self.check_free()
        self.lock.acquire()
        self.check_free()  # a writer that started meanwhile has finished by now
        write_json(self.config, dataclasses.asdict(config))

    def load_config(self):
        if not os.path.isfile(self.config):
            raise FileNotFoundError(f"{self.path}: no config.json to resume from")
        saved = strict_json.load(self.config)
        fields = {field.name for field in dataclasses.fields(TrainConfig)}
        unknown = sorted(set(saved) - fields) if isinstance(saved, dict) else None
        if unknown is None or unknown:
            raise ValueError(
                f"{self.config}: not a training config"
                + (f" (unknown keys: {', '.join(unknown)})" if unknown else "")
            )
        return TrainConfig(**saved)

    def history(self):
        return _read_json(os.path.join(self.path, "history.json"), missing=[])

    def result(self):
        """metrics.json's contents, or None while the run has not finished."""
        return _read_json(self.metrics, missing=None)

    def check_clips(self, clips, data):
        """A ValueError unless `clips` (fingerprints of the training and
        validation clips read from `data` now) are those the run began with:
        a resumed run may read its dataset from another place, never other clips."""
        began = _read_json(self.clips, missing=None)
        if clips is None or began is None:
            return
        for part, now in clips.items():
            then = began.get(part)
            if now != then:
                counts = [c["clips"] if c else 0 for c in (now, then)]
                how = (
                    f"{counts[0]} now, {counts[1]} then"
                    if counts[0] != counts[1]
                    else f"as many, {counts[0]}, with other paths, labels or folds"
                )
                raise ValueError(
                    f"{self.path}: --data {data} holds other {part} clips than the run began "
                    f"with ({how}); give the data it trained on"
                )

    def write_history(self, history):
        write_json(os.path.join(self.path, "history.json"), history)

    def save_model(self, model, name):
        with atomic_path(os.path.join(self.path, name)) as tmp, unsynchronized(model):
            model.save(tmp)


def _read_json(path, missing):
    """The JSON file at `path`, or `missing` where there is none."""
    if not os.path.isfile(path):
        return missing
    return strict_json.load(path)


def train(config, resume=False, progress=True):
    """Runs one training run; returns its metrics dict. With `resume`, only
    `config.output` counts: the run there goes on (`resume_run`).

    Example:
        config = TrainConfig(recipe="esc10", data="../shared/data/esc10", fold="4", output="runs/a")
        metrics = train(config)
    """
    if resume:
        return resume_run(config.output, progress)
    return _locked(RunDir(config.output), config, False, progress)


RESUME_CHANGES = ("epochs", "max_minutes", "data")  # what a resume may change
# How a run reads and saves, not what it learns (check_same_training leaves them out).
RUN_ONLY = ("data", "layout", "output", "transport", "cache", "deterministic", "distribute",
            "checkpoint_every", "on_bad_file", "max_minutes")  # fmt: skip
# Compared with the teachers' files when the run starts, not with a command's flags.
CHECKED_ON_START = ("teacher_sha256",)


def resume_run(output, progress=True, **given):
    """Continues the run in `output` from its config.json and last checkpoint.

    `given` may repeat the run's TrainConfig values (a command run again with
    --resume; a value that differs is a ValueError) and change `epochs` (more
    of them, on a constant schedule: a one-cycle rate follows the planned
    epochs), `max_minutes` (the limit from now on) and `data` (the dataset
    moved: it must hold the clips the run began with, as its clips.json
    records); config.json keeps the changes for the next resume.

    Example:
        metrics = resume_run("runs/a", max_minutes=30)
        metrics = resume_run("runs/a", data="/mnt/copy/esc10")  # trained elsewhere
    """
    run = RunDir(output)
    config = run.load_config()
    given = {name: value for name, value in given.items() if value is not None}
    _check_repeated(run, config, {k: v for k, v in given.items() if k not in RESUME_CHANGES})
    changes = {k: v for k, v in given.items() if k in RESUME_CHANGES}
    if changes:
        config = _changed_for_resume(run, config, changes)
    return _locked(run, config, True, progress)


def _check_repeated(run, config, repeated):
    unknown = sorted(set(repeated) - {field.name for field in dataclasses.fields(TrainConfig)})
    if unknown:
        raise ValueError(f"{unknown[0]} is not a training setting")
    check_same_training(config, dataclasses.replace(config, **repeated), run.path)
    for name, value in repeated.items():
        if name in RUN_ONLY and name != "output" and getattr(config, name) != value:
            raise ValueError(
                f"{run.path}: started with --{name.replace('_', '-')} {getattr(config, name)}, "
                f"this command gives {value}; a resumed run changes only --epochs, "
                "--max-minutes and --data"
            )


def _changed_for_resume(run, config, changes):
    changed = dataclasses.replace(config, **changes)
    if changed.data != config.data and not os.path.isfile(run.clips):
        raise ValueError(
            f"{run.path}: started with --data {config.data} and has no clips.json to check "
            f"--data {changed.data} against; give its --data"
        )
    epochs, planned = changed.resolved().epochs, config.resolved()
    if epochs == planned.epochs:
        return changed
    if config.distribute == "multiworker":
        raise ValueError("--epochs cannot change when a multiworker run resumes")
    if planned.schedule != "constant":
        raise ValueError(
            f"--epochs cannot change when a {planned.schedule} run resumes: "
            "its learning rate follows the epochs it planned"
        )
    trained = len(run.history())
    if epochs < trained:
        raise ValueError(f"--epochs {epochs} is not allowed; {run.path} has trained {trained}")
    return changed


def check_same_training(stored, config, where):
    """A ValueError unless `config` trains what the `stored` config did: the
    effective settings, seed, precision, clip cap, initial weights and fold.
    Where the data lives, the transport and the time limit may differ."""
    learned = lambda c: {  # noqa: E731
        **dataclasses.asdict(c.resolved()),
        "recipe": c.recipe,
        **{
            k: getattr(c, k)
            for k in ("seed", "precision", "max_clips", "init_from", "fold", "teacher")
        },
    }
    before, now = learned(stored), learned(config)
    for name, value in before.items():
        if now[name] != value:
            flag = "--" + name.replace("_", "-")
            raise ValueError(
                f"{where}: trained with {flag} {value}, this command gives {now[name]}; "
                "give the run's settings (its config.json) or another --output"
            )


def _locked(run, config, resume, progress):
    settings = config.resolved()  # check everything before touching the disk
    check_memory(settings)
    if resume and config.distribute != "multiworker":
        run.lock.acquire()  # one writer per run folder (`create` takes it for a new run)
    try:
        return _train(run, config, settings, resume, progress)
    finally:
        run.lock.release()


def _train(run, config, settings, resume, progress):
    distribution = open_distribution(config.distribute)  # before any TF op
    caller_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(PRECISIONS[config.precision])
    try:
        if not resume and distribution.is_chief:
            run.check_free()
        if config.distribute == "multiworker":
            return run_multiworker(run, config, settings, distribution, resume, progress)
        return _run(run, config, settings, distribution, resume, progress)
    finally:
        keras.mixed_precision.set_global_policy(caller_policy)
        close_distribution(distribution)


def _run(run, config, settings, distribution, resume, progress):
    started = time.time()
    keras.utils.set_random_seed(config.seed)
    if config.deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    train_clips, val_clips = read_split(config, settings, progress)
    config, teaching = teaching_for(config, settings, train_clips.classes, distribution)
    loader, val_loader = decode(config, settings, train_clips, val_clips, progress)
    batch = settings.batch_size * distribution.replicas  # the global batch
    steps = steps_per_epoch(loader, batch)
    setup = dict(classes=tuple(loader.class_names), steps=steps, val_loader=val_loader)
    setup["teaching"] = teaching
    setup["bad_files"] = loader.bad_files
    setup["recalibration"] = recalibration_for(loader, settings, config.seed)
    setup["clips"] = clip_fingerprints(config.data, loader, val_loader)
    begun = start(run, config, settings, distribution, resume, setup, started)
    callbacks = [begun.epoch_end]
    if keras.backend.backend() == "tensorflow":
        callbacks.append(keras.callbacks.TensorBoard(run.logs, write_graph=False, profile_batch=0))
    if resume and progress and 0 < begun.first_epoch < settings.epochs:
        limit = f", for at most {config.max_minutes:g} minutes" if config.max_minutes else ""
        print(f"{run.path}: resuming after epoch {begun.first_epoch} of {settings.epochs}{limit}")
    if begun.first_epoch < settings.epochs:
        begun.trainer.fit(
            training_data(
                config.transport, loader, settings, batch, config.seed, begun.first_epoch
            ),
            epochs=settings.epochs,
            initial_epoch=begun.first_epoch,
            steps_per_epoch=steps,
            callbacks=callbacks,
            verbose=1 if progress else 0,
            shuffle=False,  # the order is already shuffled, from the seed and the epoch
        )
    elif progress:
        print(f"{run.path}: all {settings.epochs} epochs were trained before; nothing to resume")
    data = {
        "train_clips": len(loader),
        "classes": list(loader.class_names),
        "missing_clips": loader.clips.missing,
        "bad_files": [reason for _, reason in loader.bad_files.entries],
    }
    return finish(run, config, settings, begun, data, val_loader, started)


def load_data(config, settings, progress=True):
    """Decoded, checked training and validation loaders (validation: None
    without a fold), sharing one bad-file report."""
    train_clips, val_clips = read_split(config, settings, progress)
    return decode(config, settings, train_clips, val_clips, progress)


def read_split(config, settings, progress=True):
    """The training and validation ClipSets (validation: None without a
    fold), listed but not decoded."""
    clips = read_clips(config.layout or settings.recipe.source, config.data, progress)
    train_clips, val_clips = clips.split(config.fold) if config.fold is not None else (clips, None)
    if config.max_clips:  # after the split: at most N to train on and N to validate on
        train_clips = train_clips.subset(config.max_clips)
        if val_clips is not None:
            val_clips = val_clips.subset(config.max_clips)
    return train_clips, val_clips


def decode(config, settings, train_clips, val_clips, progress=True):
    """ClipLoaders of `read_split`'s clips, decoded and checked."""
    window = max(settings.recipe.window_seconds, settings.crop_seconds)
    bad = BadFiles()
    loader = ClipLoader(train_clips, window, config.cache, config.on_bad_file, bad_files=bad)
    loader.scan(progress)
    if val_clips is None:
        return loader, None
    val_loader = ClipLoader(val_clips, None, config.cache, config.on_bad_file, bad_files=bad)
    return loader, val_loader.scan(progress)


def teaching_for(config, settings, classes, distribution):
    """(config, Teaching or None): the run's teachers loaded (in the
    strategy's scope) and checked against the student's `classes`, before any
    audio is decoded. A new run's config gains their files' SHA-256; a
    resumed run's teachers must be the files it recorded."""
    if not config.teacher:
        return config, None
    from erann_tf.training import distillation

    files = distillation.teacher_files(config.teacher)
    if config.teacher_sha256:
        distillation.check_unchanged(files, config.teacher_sha256)
    else:
        config = dataclasses.replace(config, teacher_sha256=tuple(t.sha256 for t in files))
    student = (settings.recipe.activation, settings.crop_seconds)
    with distribution.scope():
        loaded = [distillation.load_teacher(t, classes, *student) for t in files]
    return config, distillation.Teaching.for_settings(loaded, settings)


def clip_fingerprints(data, loader, val_loader):
    """The training and validation clips' fingerprints, paths taken relative
    to the dataset folder (a manifest's: the folder it is in)."""
    root = data if os.path.isdir(data) else os.path.dirname(os.path.abspath(data))
    parts = {"training": loader, "validation": val_loader}  # ClipLoaders
    return {
        part: None if clips is None else clips.clips.fingerprint(root)
        for part, clips in parts.items()
    }


def training_data(transport, loader, settings, batch, seed, first_epoch):
    """Batches of `batch` clips from epoch `first_epoch` on: tf.data or the TF-free PyDataset."""
    balanced = settings.balanced
    if transport == "pydataset":
        from erann_tf.data.pydataset import ClipPyDataset

        return ClipPyDataset(loader, batch, seed, first_epoch, balanced)
    return training_dataset(loader, batch, seed, first_epoch, settings.epochs, balanced)
