"""ERANNHyperModel: the paper's trade-off between t_m, width and the recipe as
a KerasTuner search space, with a multiply-add budget checked before training."""

import hashlib
import json
import os
import time

import keras
import keras_tuner

from erann_tf.data.layouts import read_clips
from erann_tf.models import complexity
from erann_tf.training import distillation, evaluation
from erann_tf.training.batchnorm import recalibration_for
from erann_tf.training.build import build_model, compile_trainer
from erann_tf.training.callbacks import averaged_weights
from erann_tf.training.config import TrainConfig, declared, names
from erann_tf.training.loading import load_data, training_data
from erann_tf.training.recipes import get_recipe

OBJECTIVE = keras_tuner.Objective("val_score", direction="max")
NAMES = names(tuned=True)
DISTILLATION = ("distill_weight", "temperature")  # with teachers only


def space_for(recipe):
    """The search space around `recipe` (a Recipe): a list gives choices, a
    (low, high) tuple a range, a value fixes it. Crops run from a quarter of
    the recipe's crop to its window (never longer than the clips it was made
    for), masks up to twice the recipe's or the paper's recipe's for the same
    data, whichever is larger (so that a recipe without SpecAugment, like
    esc10-cpu, can find it). Every other setting stays at the recipe's unless
    a range is given.

    Example:
    >>> from erann_tf.training.recipes import get_recipe
    >>> space = space_for(get_recipe("fsdd"))
    >>> space["crop_seconds"], space["time_mask"]
    ((0.25, 1.0), (0, 32))
    >>> space_for(get_recipe("esc10-cpu"))["time_mask"]  # its own is 0, ESC-10's 64
    (0, 128)
    """
    own, paper = TrainConfig.of_recipe(recipe.name), TrainConfig.of_recipe(recipe.source)
    searched = declared()
    return {name: searched[name].search or getattr(own, name) for name in NAMES} | {
        "crop_seconds": (own.crop_seconds / 4, recipe.window_seconds),
        "time_mask": (0, 2 * max(own.time_mask, paper.time_mask)),
        "freq_mask": (0, 2 * max(own.freq_mask, paper.freq_mask)),
    }


class ERANNHyperModel(keras_tuner.HyperModel):
    """Searches the settings TrainConfig declares `tuned` (`NAMES`): those with
    a search range (training/config.py), the crop and the SpecAugment masks
    (`space_for`), and any other where `space` gives a range; the recipe's
    values are the defaults.

    `build(hp)` builds the package's ERANN and rejects, before any compute, a
    configuration whose multiply-adds for one crop exceed `max_macs`.
    `fit(hp, model)` makes the data pipeline itself, so that crop and mixup
    take effect, trains with the recipe's trainer and returns the validation
    score (accuracy, or mAP for tagging) with EMA weights. Fix a
    hyper-parameter with hp.Fixed on the tuner's `hyperparameters`, or narrow
    or fix it with `space`: {"tm": [2, 4], "width": (1, 3), "time_mask": 0}.

    Example:
    >>> import keras_tuner
    >>> hypermodel = ERANNHyperModel("fsdd", "../shared/data/fsdd", fold="theo")
    >>> model = hypermodel.build(keras_tuner.HyperParameters())
    >>> (model.tm, model.width)
    (4, 1)
    """

    def __init__(
        self,
        recipe,
        data,
        layout=None,
        fold=None,
        max_macs=None,
        epochs=None,
        max_clips=None,
        seed=0,
        space=None,
        models_dir=None,
        progress=False,
        teacher=(),
    ):
        super().__init__(name="erann")
        self.recipe = get_recipe(recipe)
        unknown = sorted(set(space or {}) - set(NAMES))
        if unknown:
            raise ValueError(
                f"space: unknown hyper-parameter(s) {unknown}; known: {', '.join(NAMES)}"
            )
        self.teacher_files = distillation.teacher_files(teacher)
        self._teachers = None
        self.space = {**space_for(self.recipe), **(space or {})}
        self.data, self.layout, self.fold = data, layout, fold
        self.max_macs, self.max_clips, self.seed = max_macs, max_clips, seed
        self.epochs = epochs or TrainConfig.of_recipe(recipe).epochs
        self.models_dir, self.progress = models_dir, progress
        self._clips = None
        self._loaders = {}

    def defaults(self):
        """The recipe's value of every hyper-parameter."""
        own = TrainConfig.of_recipe(self.recipe.name)
        return {name: getattr(own, name) for name in NAMES}

    def narrow_to_budget(self, max_macs, fixed=()):
        """Shrinks the space to what `max_macs` allows, so that few proposals
        are rejected: the t_m choices whose narrowest, shortest configuration
        fits, and widths up to the widest that fits with the cheapest t_m (not
        always the largest: on short crops t_m 2 costs least).
        A ValueError when nothing fits."""
        fixed = dict(fixed)
        classes = len(self._clipset().classes)
        crop = fixed.get("crop_seconds", _lowest(self.space["crop_seconds"]))
        width = fixed.get("width", _lowest(self.space["width"]))
        cost = lambda tm, w: complexity(tm, w, classes, seconds=crop).macs  # noqa: E731
        tms = [fixed["tm"]] if "tm" in fixed else _choices(self.space["tm"])
        cheapest = min(tms, key=lambda tm: cost(tm, width))
        if cost(cheapest, width) > max_macs:
            raise ValueError(
                f"--max-macs {max_macs:g}: no configuration of the search fits; the "
                f"cheapest costs {cost(cheapest, width):.3e} multiply-adds per crop"
            )
        if "tm" not in fixed and isinstance(self.space["tm"], list):
            self.space["tm"] = [tm for tm in tms if cost(tm, width) <= max_macs]
        if "width" not in fixed and isinstance(self.space["width"], tuple):
            low, high = self.space["width"]
            fits = [w for w in range(low, high + 1) if cost(cheapest, w) <= max_macs]
            self.space["width"] = (low, max(fits))

    def declare(self, hp):
        """Registers the search space on `hp` and returns the chosen values
        (the distillation settings, with teachers only: they do nothing without)."""
        defaults = self.defaults()
        taught = NAMES if self.teacher_files else [n for n in NAMES if n not in DISTILLATION]
        chosen = {name: _declare(hp, name, self.space[name], defaults[name]) for name in taught}
        return {name: chosen.get(name, defaults[name]) for name in NAMES}

    def values(self, hp):
        """Every hyper-parameter's value in a trial's `hp`; `hp` is left as it is."""
        return self.declare(hp.copy())

    def build(self, hp):
        values = self.declare(hp)
        classes = len(self._clipset().classes)
        macs = complexity(
            values["tm"], values["width"], classes, seconds=values["crop_seconds"]
        ).macs
        if self.max_macs is not None and macs > self.max_macs:
            message = (
                f"tm={values['tm']}, width={values['width']}: {macs:.3e} multiply-adds per "
                f"{values['crop_seconds']:g} s crop exceed the budget of {self.max_macs:.3e}"
            )
            print(f"rejected before training: {message}")
            raise keras_tuner.errors.FailedTrialError(message)
        return build_model(self._settings(values), classes, seed=self.seed)

    def fit(self, hp, model, *args, epochs=None, **kwargs):
        # KerasTuner's own checkpoint callbacks would save the training wrapper's
        # weights; each trained model is saved whole here instead.
        values = self.declare(hp)
        settings = self._settings(values, epochs)
        train_loader, val_loader = self._data(settings)
        started = time.time()
        steps = len(train_loader) // settings.batch_size
        teaching = self._teaching(settings)
        trainer = compile_trainer(model, settings, steps, self.seed, teaching)
        transport = "tfdata" if keras.backend.backend() == "tensorflow" else "pydataset"
        batch = settings.batch_size
        dataset = training_data(transport, train_loader, settings, batch, self.seed, 0)
        verbose = 1 if self.progress else 0
        trainer.fit(
            dataset, epochs=settings.epochs, steps_per_epoch=steps, verbose=verbose, shuffle=False
        )
        recalibration = recalibration_for(train_loader, settings, self.seed)
        with averaged_weights(trainer.optimizer, model, recalibration):
            multi_label = self.recipe.multi_label
            result = evaluation.evaluate(model, val_loader, multi_label, settings.crop_samples)
            if self.models_dir:
                model.save(self.model_path(hp))
        cost = complexity(
            values["tm"], values["width"], model.num_classes, seconds=settings.crop_seconds
        )
        return {
            "val_score": evaluation.headline(result),
            "macs": float(cost.macs),
            "params": float(cost.trainable_params),
            "seconds": time.time() - started,
        }

    def model_path(self, hp):
        """Where `fit` saves the trained model of these hyper-parameter values."""
        key = hashlib.sha1(json.dumps(hp.values, sort_keys=True).encode()).hexdigest()[:16]
        return os.path.join(self.models_dir, f"{key}.keras")

    def _settings(self, values, epochs=None):
        taught = {} if self.teacher_files else dict.fromkeys(DISTILLATION)  # else refused
        config = TrainConfig(
            self.recipe.name,
            self.data,
            output="",
            epochs=epochs or self.epochs,
            teacher=tuple(t.spec for t in self.teacher_files),
            **(values | taught),
        )
        return config.resolved()

    def check_teachers(self):
        """Loads the teachers and checks them against the data's classes (a
        one-line ValueError naming --teacher), before any audio is decoded."""
        if self.teacher_files and self._teachers is None:
            student = (self._clipset().classes, self.recipe.activation)
            self._teachers = [distillation.load_teacher(t, *student) for t in self.teacher_files]

    def _teaching(self, settings):
        self.check_teachers()
        if not self._teachers:
            return None
        return distillation.Teaching.for_settings(self._teachers, settings)

    def _clipset(self):
        if self._clips is None:
            self._clips = read_clips(self.layout or self.recipe.source, self.data)
        return self._clips

    def _data(self, settings):
        """Training and validation loaders, decoded once and shared by trials."""
        window = max(self.recipe.window_seconds, settings.crop_seconds)
        if window not in self._loaders:
            fold = self.fold if self.fold is not None else self._clipset().folds()[0]
            config = TrainConfig(
                self.recipe.name,
                self.data,
                output="",
                layout=self.layout,
                fold=fold,
                max_clips=self.max_clips,
            )
            self._loaders[window] = load_data(config, settings, progress=self.progress)
        return self._loaders[window]


def _choices(kind):
    return kind if isinstance(kind, list) else [kind[0]] if isinstance(kind, tuple) else [kind]


def _lowest(kind):
    return min(_choices(kind))


def _declare(hp, name, kind, default):
    if isinstance(kind, list):
        return hp.Choice(name, kind, default=default if default in kind else kind[0])
    if not isinstance(kind, tuple):
        return hp.Fixed(name, kind)
    low, high = kind
    if isinstance(low, int) and isinstance(high, int) and isinstance(default, int):
        return hp.Int(name, low, high, default=min(max(default, low), high))
    sampling = "log" if name == "learning_rate" else "linear"
    default = min(max(float(default), low), high)
    return hp.Float(name, float(low), float(high), sampling=sampling, default=default)
