"""SavedModel and TFLite export: interfaces, builtin ops, parity on real clips."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from erann_tf.cli import main
from erann_tf.export import tflite
from erann_tf.export.parity import clip_windows, compare
from erann_tf.export.savedmodel import write_savedmodel
from erann_tf.inference import load_runner, predict_file
from erann_tf.inference.runners import TFLiteRunner

pytestmark = pytest.mark.tf_only  # SavedModel and the TFLite converter are TensorFlow's

WINDOW = 44100


@pytest.fixture(scope="module")
def model(tiny_model_dir):
    return keras.models.load_model(tiny_model_dir / "model.keras")


@pytest.fixture(scope="module")
def windows(shared):
    return clip_windows(shared / "data" / "fsdd", WINDOW, 44100, limit=12)


def test_savedmodel_loads_without_erann_tf(model, windows, tmp_path):
    write_savedmodel(model, tmp_path / "saved_model")
    np.save(tmp_path / "windows.npy", windows[:3, :30000])  # any length
    script = f"""
import sys, json, numpy as np
sys.modules["erann_tf"] = None  # importing it would fail
import tensorflow as tf
serve = tf.saved_model.load({str(tmp_path / "saved_model")!r}).signatures["serving_default"]
print(json.dumps({{"inputs": list(serve.structured_input_signature[1]),
                   "outputs": sorted(serve.structured_outputs)}}))
out = serve(waveform=tf.constant(np.load({str(tmp_path / "windows.npy")!r})))
np.save({str(tmp_path / "scores.npy")!r}, out["scores"].numpy())
np.save({str(tmp_path / "embedding.npy")!r}, out["embedding"].numpy())
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    signature = json.loads(result.stdout.strip().splitlines()[-1])
    assert signature == {"inputs": ["waveform"], "outputs": ["embedding", "scores"]}
    scores = np.load(tmp_path / "scores.npy")
    assert np.load(tmp_path / "embedding.npy").shape == (3, 128)
    expected = model.predict(windows[:3, :30000], verbose=0)
    assert np.abs(scores - expected).max() <= 1e-4


@pytest.fixture(scope="module")
def float32_tflite(model):
    """The float32 TFLite flatbuffer of `model` (a conversion takes ~20 s)."""
    return tflite.convert(model, WINDOW)


def test_tflite_float32_is_builtin_only_and_matches_keras(model, float32_tflite, windows, tmp_path):
    content = float32_tflite
    ops = tflite.op_names(content)
    assert "FULLY_CONNECTED" in ops and "CONV_2D" in ops  # the DFT matmul and the convolutions
    assert not any(op == "CUSTOM" or op.startswith("Flex") for op in ops)
    assert not {"RFFT2D", "FFT2D"} & ops
    path = tmp_path / "model.tflite"
    path.write_bytes(content)
    runner = TFLiteRunner(str(path))
    assert list(runner.input["shape"]) == [1, WINDOW]
    assert list(runner.output["shape"]) == [1, 10]
    result = compare("none", model.predict(windows, verbose=0), runner(windows))
    assert result.passed, result.line()


@pytest.mark.parametrize("quantize", ["float16", "dynamic", "int8"])
def test_quantized_models_keep_the_frontend_in_float(
    model, float32_tflite, windows, tmp_path, quantize
):
    calibration = [w[None] for w in windows[:6]] if quantize == "int8" else None
    content = tflite.convert(model, WINDOW, quantize, calibration)
    tflite.check_builtin_only(content)
    path = tmp_path / f"{quantize}.tflite"
    path.write_bytes(content)
    interpreter = TFLiteRunner(str(path)).interpreter
    tensors = interpreter.get_tensor_details()
    kinds = {}
    for op in interpreter._get_ops_details():
        tensor = tensors[op["outputs"][0]]
        part = "frontend" if "/logmel" in tensor["name"] else "rest"
        kinds.setdefault(part, set()).add(np.dtype(tensor["dtype"]).name)
        if part == "frontend":  # weights too: no DEQUANTIZE or int8 weights left in it
            for index in op["inputs"]:
                assert np.dtype(tensors[index]["dtype"]).name in ("float32", "int32"), op
    assert kinds["frontend"] == {"float32"}
    if quantize == "int8":
        assert "int8" in kinds["rest"]
    assert len(content) < len(float32_tflite)


def test_int8_needs_calibration(model):
    with pytest.raises(ValueError, match="calibration"):
        tflite.convert(model, WINDOW, "int8")


def test_export_cli_writes_every_format_and_checks_parity(tiny_model_dir, shared, tmp_path, capsys):
    out = tmp_path / "export"
    argv = [str(tiny_model_dir), "-o", str(out), "--format", "all", "--quantize", "none"]
    argv += ["--parity-data", str(shared / "data" / "fsdd")]
    assert main(["export", *argv]) == 0
    table = capsys.readouterr().out
    assert "savedmodel" in table and "none" in table and "FAILED" not in table
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "labels.txt", "metadata.json", "model.keras", "model.tflite", "saved_model",
    ]  # fmt: skip
    assert (out / "labels.txt").read_text().splitlines() == [str(d) for d in range(10)]
    assert json.loads((out / "metadata.json").read_text())["window_s"] == 1.0
    assert not [p for p in out.iterdir() if p.name.startswith(".tmp")]

    # Every format predicts the same clip alike, with the class names of the metadata.
    clip = str(sorted((shared / "data" / "fsdd" / "recordings").glob("*.wav"))[7])
    tops = [
        predict_file(load_runner(str(out / name)), clip)["top"]
        for name in ("model.keras", "saved_model", "model.tflite")
    ]
    assert all(top[0]["label"] == tops[0][0]["label"] for top in tops)
    assert all(abs(top[0]["score"] - tops[0][0]["score"]) < 1e-4 for top in tops)
    assert tops[0][0]["label"] in [str(d) for d in range(10)]

    assert main(["export", *argv]) == 2  # not overwritten without --force
    assert "exists and is not empty; use --force" in capsys.readouterr().err
    assert main(["export", *argv, "--force", "--format", "savedmodel"]) == 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--quantize", "int4", "--format", "tflite"], "--quantize int4 is not allowed"),
        (["--quantize", "int8", "--format", "tflite"], "needs --calibration-data"),
        (["--window", "0"], "--window 0.0 is not allowed"),
        (["--window", "inf"], "--window inf is not allowed; it must be between 0.05 and 600"),
        (["--parity-data", "/nowhere"], "/nowhere: no such folder"),
    ],
)
def test_export_cli_bad_arguments(tiny_model_dir, tmp_path, capsys, argv, message):
    assert main(["export", str(tiny_model_dir), "-o", str(tmp_path / "x"), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "damage, message",
    [
        ({"window_s": 1e9}, "window_s=1000000000.0 is outside 0.05 .. 600 s"),
        ({"window_s": 0}, "window_s=0 is outside 0.05 .. 600 s"),
        ("cv", "cv.json: not valid JSON (Expecting value"),
    ],
)
def test_export_refuses_damaged_metadata_before_writing(
    tiny_model_dir, tmp_path, capsys, damage, message
):
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    argv = ["export", str(folder), "-o", str(tmp_path / "x"), "--format", "tflite"]
    if damage == "cv":
        (tmp_path / "cv.json").write_text("not JSON\n")
        argv += ["--cv-summary", str(tmp_path / "cv.json")]
    else:
        info = json.loads((folder / "metadata.json").read_text())
        (folder / "metadata.json").write_text(json.dumps({**info, **damage}))
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "x").exists()


def test_export_cli_missing_model(tmp_path, capsys):
    assert main(["export", str(tmp_path / "none.keras"), "-o", str(tmp_path / "x")]) == 2
    assert "none.keras: no such model file or folder" in capsys.readouterr().err
