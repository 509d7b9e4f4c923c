import csv
import json
import re

import keras
import keras_tuner
import pytest

from erann_tf.models import complexity
from erann_tf.training import TrainConfig
from erann_tf.training.build import compile_trainer
from erann_tf.training.schedules import OneCycle
from erann_tf.tuning import ERANNHyperModel, TuneConfig, tune
from erann_tf.tuning.hypermodel import NAMES


@pytest.fixture
def hypermodel(fsdd_manifest):
    return ERANNHyperModel("fsdd", str(fsdd_manifest), layout="manifest", fold="heldout")


def test_empty_hyperparameters_give_the_papers_defaults(hypermodel):
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    recipe = TrainConfig.of_recipe("fsdd")
    assert (model.tm, model.width) == (4, 1)  # the recipe's preset ERANN-1x4-1
    searched = [name for name in NAMES if name not in ("distill_weight", "temperature")]
    assert hp.values == {name: getattr(recipe, name) for name in searched}  # no teacher
    assert hypermodel.values(hp) == {name: getattr(recipe, name) for name in NAMES}
    assert model.time_mask == recipe.time_mask and model.num_classes == 10
    space = {entry["config"]["name"]: entry["config"] for entry in hp.get_config()["space"]}
    crop = space["crop_seconds"]
    assert (crop["min_value"], crop["max_value"]) == (0.25, 1.0)  # searched, within 1 s clips


def test_fixed_values_override(hypermodel):
    hp = keras_tuner.HyperParameters()
    hp.Fixed("tm", 16)
    hp.Fixed("width", 2)
    hp.Fixed("time_mask", 8)
    model = hypermodel.build(hp)
    assert (model.tm, model.width, model.time_mask) == (16, 2, 8)
    narrowed = ERANNHyperModel("fsdd", "unused", space={"tm": [2, 8], "mixup_alpha": 0.0})
    hp = keras_tuner.HyperParameters()
    narrowed.declare(hp)
    assert hp.values["tm"] == 2 and hp.values["mixup_alpha"] == 0.0
    opened = ERANNHyperModel(
        "fsdd", hypermodel.data, "manifest", space={"gain_db": (0, 12), "pitch_shift": (0, 3)}
    )
    hp = keras_tuner.HyperParameters()
    hp.Fixed("tm", 4)
    hp.Fixed("width", 1)
    opened.declare(hp)
    searched = {p.name: p for p in hp.space}
    assert (searched["gain_db"].min_value, searched["gain_db"].max_value) == (0, 12)
    assert searched["pitch_shift"].max_value == 3
    model = opened.build(hp)
    assert model.gain_db == hp.values["gain_db"] and model.pitch_shift == hp.values["pitch_shift"]
    pinned = keras_tuner.HyperParameters()
    pinned.Fixed("gain_db", 3.0)  # as --fix gain_db=3 does
    assert hypermodel.declare(pinned)["gain_db"] == 3.0
    with pytest.raises(ValueError, match="unknown hyper-parameter"):
        ERANNHyperModel("fsdd", "unused", space={"depth": 3})


def test_schedule_is_searched_and_trained(hypermodel):
    hp = keras_tuner.HyperParameters()
    hp.Fixed("schedule", "one_cycle")
    values = hypermodel.declare(hp)
    settings = hypermodel._settings(values, epochs=2)
    trainer = compile_trainer(hypermodel.build(hp), settings, steps=10, seed=0)
    start = settings.learning_rate / OneCycle(1.0, 1).div_factor  # one-cycle warm-up begins low
    assert float(trainer.optimizer.learning_rate) == pytest.approx(start)


def test_a_budget_nothing_fits_is_one_line_before_any_training(fsdd_manifest, tmp_path):
    config = TuneConfig(
        recipe="fsdd", data=str(fsdd_manifest), layout="manifest", output=str(tmp_path / "s"),
        max_macs=1e6, fixed=(("tm", 4),),
    )  # fmt: skip
    cheapest = complexity(4, 1, 10, seconds=0.25).macs
    with pytest.raises(ValueError, match=re.escape(f"the cheapest costs {cheapest:.3e} multiply")):
        tune(config, progress=False)
    assert not (tmp_path / "s").exists()


def test_the_space_shrinks_to_the_budget(hypermodel):
    cost = lambda tm, width: complexity(tm, width, 10, seconds=0.25).macs  # noqa: E731
    budget = cost(8, 1)  # FSDD's shortest crop, 0.25 s: t_m 16 costs more, t_m 2 least
    hypermodel.narrow_to_budget(budget)
    tms, (low, high) = hypermodel.space["tm"], hypermodel.space["width"]
    assert tms == [1, 2, 4, 8] and all(cost(tm, low) <= budget for tm in tms)
    assert cost(2, high) <= budget < cost(2, high + 1)


def test_budget_rejects_before_building(hypermodel):
    hypermodel.max_macs = complexity(4, 1, 10, seconds=1.0).macs  # the default fits exactly
    hypermodel.build(keras_tuner.HyperParameters())
    hp = keras_tuner.HyperParameters()
    hp.Fixed("width", 3)
    keras.backend.clear_session()
    with pytest.raises(keras_tuner.errors.FailedTrialError, match="exceed the budget"):
        hypermodel.build(hp)


def _read(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
@pytest.mark.tf_only
def test_two_trial_search_then_resume(fsdd_manifest, tmp_path):
    config = TuneConfig(
        recipe="fsdd",
        data=str(fsdd_manifest),
        layout="manifest",
        fold="heldout",
        output=str(tmp_path / "search"),
        max_trials=2,
        epochs=1,
        max_clips=48,
        max_macs=complexity(4, 2, 10, seconds=1.0).macs,
        fixed=(("crop_seconds", 1.0), ("tm", 4)),
    )
    summary = tune(config, progress=False)
    rows = _read(tmp_path / "search" / "trials.csv")
    assert len(rows) == 2 and summary["trials"] == 2
    finished = [r for r in rows if r["status"] == "COMPLETED"]
    assert finished and all(0.0 <= float(r["val_score"]) <= 1.0 for r in finished)
    for row in rows:  # every configuration is inside the budget or was rejected
        assert int(row["macs"]) <= config.max_macs or row["status"] == "FAILED"
        assert int(row["params"]) == complexity(4, int(row["width"]), 10).trainable_params
    assert (tmp_path / "search" / "pareto.png").stat().st_size > 10_000
    best = keras.models.load_model(tmp_path / "search" / "best.keras")
    assert best.tm == 4 and float(summary["best"]["val_score"]) == max(
        float(r["val_score"]) for r in finished
    )
    seconds = {r["trial"]: r["seconds"] for r in rows}
    # Resume with a larger budget: the two finished trials are not run again.
    resumed = tune(TuneConfig(**{**config.__dict__, "max_trials": 3}), progress=False)
    rows = _read(tmp_path / "search" / "trials.csv")
    assert len(rows) == 3 and resumed["trials"] == 3
    assert all(seconds[r["trial"]] == r["seconds"] for r in rows if r["trial"] in seconds)
    json.loads((tmp_path / "search" / "summary.json").read_text())


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--space", "learning_rate=1e-5:1e309"], "--space learning_rate=inf: --learning-rate inf"),
        (["--fix", "width=1e309"], "--fix width=inf: width=inf is not allowed"),
        (["--fix", "tm=3"], "--fix tm=3: tm=3 is not allowed"),
        (["--max-macs", "nan"], "--max-macs nan is not allowed; it must be a number > 0"),
        (["--teacher", "erann-esc10"], "--teacher erann-esc10: its classes differ"),
        (["--fix", "distill_weight=0.5"], "distill_weight is searched or fixed with --teacher"),
        (["--temperature", "3"], "temperature is searched or fixed with --teacher only"),
    ],
)
def test_every_search_value_is_checked_as_training_checks_it(
    argv, message, fsdd_manifest, tmp_path, capsys
):
    from tests.conftest import erann

    code, _, err = erann(
        capsys, "tune", "--recipe", "fsdd", "--layout", "manifest", "--data", str(fsdd_manifest),
        "--output", str(tmp_path / "search"), *argv,
    )  # fmt: skip
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "search").exists()
