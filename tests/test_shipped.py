"""The trained models in savedmodels/: every format loads and agrees with the
Keras model on real clips of the data it was trained on."""

import json
import subprocess
import sys

import pytest

from erann_tf import ERANN
from erann_tf.export.parity import clip_windows, compare
from erann_tf.inference.runners import TFLiteRunner
from erann_tf.models.complexity import complexity
from erann_tf.models.metadata import read_metadata
from erann_tf.models.presets import shipped_model_dir, shipped_models
from erann_tf.training.recipes import get_recipe
from tests.conftest import REPO


def test_the_expected_models_are_shipped():
    expected = {
        "erann-esc10",
        "erann-esc10-small",
        "erann-fsdd",
        "erann-ravdess",
        "erann-ravdess-small",
    }
    assert expected <= set(shipped_models())
    total = sum(p.stat().st_size for p in (REPO / "savedmodels").rglob("*") if p.is_file())
    assert total < 150e6


@pytest.mark.parametrize("name", [name for name in shipped_models() if name.endswith("-small")])
def test_a_small_model_costs_at_most_a_quarter_of_its_big_one(name):
    """Multiply-adds per second of audio, each model over its own window."""

    def macs_per_second(model):
        info = read_metadata(f"{shipped_model_dir(model)}/metadata.json")
        count = complexity(info.tm, info.width, len(info.classes), info.window_s).macs
        return count / info.window_s

    assert macs_per_second(name) <= macs_per_second(name.removesuffix("-small")) / 4


@pytest.mark.parametrize("name", shipped_models())
def test_every_format_loads_and_agrees(name, shared):
    folder = shipped_model_dir(name)
    info = read_metadata(f"{folder}/metadata.json")
    labels = open(f"{folder}/labels.txt", encoding="utf-8").read().splitlines()
    assert info.name == name and list(info.classes) == labels
    model = ERANN.from_preset(name)
    assert model.output.shape[-1] == len(labels) and (model.tm, model.width) == (
        info.tm,
        info.width,
    )
    data = shared / "data" / get_recipe(info.training["recipe"]).source  # its folder there
    windows = clip_windows(data, info.window_samples, info.sample_rate, limit=32)
    reference = model.predict(windows, batch_size=8, verbose=0)
    for quantize in ("float16", "int8"):
        runner = TFLiteRunner(f"{folder}/model_{quantize}.tflite")
        assert runner.metadata.classes == info.classes
        assert list(runner.input["shape"]) == [1, info.window_samples]
        result = compare(quantize, reference, runner(windows))
        assert result.passed, result.line()


def test_predict_uses_erann_esc10_by_default():
    clip = REPO / "examples" / "audio" / "rain.wav"
    result = subprocess.run(
        [sys.executable, "-m", "erann_tf.cli", "predict", "--json", str(clip)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    line = json.loads(result.stdout)
    assert line["model"] == "erann-esc10" and line["duration_s"] == 5.0
    esc10 = {"dog", "rain", "sea_waves", "crying_baby", "clock_tick", "sneezing", "helicopter",
             "chainsaw", "rooster", "crackling_fire"}  # fmt: skip
    assert {entry["label"] for entry in line["top"]} <= esc10
    assert [(w["start_s"], w["end_s"]) for w in line["windows"]] == [(0.0, 4.0), (1.0, 5.0)]


def test_predict_takes_a_small_model_by_name():
    clip = REPO / "examples" / "audio" / "rain.wav"
    result = subprocess.run(
        [sys.executable, "-m", "erann_tf.cli", "predict", "--json", "--model",
         "erann-esc10-small", str(clip)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    line = json.loads(result.stdout)
    assert line["model"] == "erann-esc10-small"
    assert line["top"][0]["label"] == "rain"


@pytest.mark.tf_only
def test_dynamic_range_export_of_a_shipped_model_passes_its_bound(shared, tmp_path):
    """The README's export command offers dynamic-range quantization: it must
    pass its own parity bound on the package's models."""
    from erann_tf.export.tflite import convert

    model = ERANN.from_preset("erann-fsdd")
    info = read_metadata(f"{shipped_model_dir('erann-fsdd')}/metadata.json")
    (tmp_path / "m.tflite").write_bytes(convert(model, info.window_samples, "dynamic"))
    windows = clip_windows(shared / "data" / "fsdd", info.window_samples, info.sample_rate)
    reference = model.predict(windows, batch_size=8, verbose=0)
    result = compare("dynamic", reference, TFLiteRunner(str(tmp_path / "m.tflite"))(windows))
    assert result.passed, result.line()
