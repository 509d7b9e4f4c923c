"""Sliding windows, streaming decode, runners, `erann predict` and the
standalone TFLite example."""

import json
import re
import shutil
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
import soundfile

from erann_tf.cli import main
from erann_tf.data.audio import load_audio, stream_audio
from erann_tf.inference import load_runner, predict_file, sliding_windows, window_bounds
from tests.conftest import REPO
from tests.test_bad_input import _make_bad_files


@pytest.mark.parametrize("total", [1, 999, 1000, 1001, 4321, 10000])
@pytest.mark.parametrize("window, hop", [(1000, 500), (1000, 1000), (1000, 300), (700, 1200)])
def test_streamed_windows_match_the_whole_signal(total, window, hop):
    signal = np.arange(total, dtype=np.float32)
    rng = np.random.default_rng(total)
    cuts = np.sort(rng.integers(0, total, size=5))
    blocks = np.split(signal, cuts)
    streamed = list(sliding_windows(iter(blocks), window, hop))
    assert [(s, e) for s, e, _ in streamed] == window_bounds(total, window, hop)
    for start, end, samples in streamed:
        assert len(samples) == window
        np.testing.assert_array_equal(samples[: end - start], signal[start:end])
        assert not samples[end - start :].any()  # zero padding of a short signal
    assert streamed[0][0] == 0 and streamed[-1][1] == total


def test_an_hour_of_audio_in_bounded_memory():
    block = np.zeros(44100, np.float32)
    tracemalloc.start()
    count = sum(1 for _ in sliding_windows((block for _ in range(3600)), 4 * 44100, 2 * 44100))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count == 1799
    assert peak < 8 * 4 * 44100 * 4  # a few windows, not 635 MB


def test_stream_audio_matches_load_audio_on_real_clips(shared):
    for path in [
        next((shared / "data" / "ravdess" / "Actor_01").iterdir()),  # 48 kHz Ogg
        next((shared / "data" / "fsdd" / "recordings").iterdir()),  # 8 kHz WAV
    ]:
        whole = load_audio(path)
        streamed = np.concatenate(list(stream_audio(path, block_seconds=0.37)))
        assert abs(len(streamed) - len(whole)) <= 2
        n = min(len(whole), len(streamed))
        assert np.abs(streamed[:n] - whole[:n]).max() < 1e-3


def test_predict_file_json_shape(tiny_model_dir, fsdd_clips):
    runner = load_runner(str(tiny_model_dir))
    result = predict_file(runner, fsdd_clips[0], top_k=3)
    assert set(result) == {"file", "duration_s", "model", "label", "top", "windows"}
    assert result["label"] == result["top"][0]["label"]
    assert result["model"] == "tiny-fsdd" and len(result["top"]) == 3
    assert {entry["label"] for entry in result["top"]} <= {str(d) for d in range(10)}
    assert result["windows"][0]["start_s"] == 0.0
    assert result["windows"][-1]["end_s"] == result["duration_s"]


def test_min_score_labels_a_doubtful_clip_unknown(tiny_model_dir, fsdd_clips, capsys):
    runner = load_runner(str(tiny_model_dir))
    best = predict_file(runner, fsdd_clips[0])["top"][0]  # its score is rounded to 6 places
    below, above = best["score"] - 1e-5, best["score"] + 1e-5
    assert predict_file(runner, fsdd_clips[0], min_score=below)["label"] == best["label"]
    assert predict_file(runner, fsdd_clips[0], min_score=above)["label"] == "unknown"
    value = f"{min(above, 1.0):.6f}"  # the CLI's range; a score can round to 1 (JAX's tiny model)
    label = predict_file(runner, fsdd_clips[0], min_score=float(value))["label"]
    argv = ["predict", "--model", str(tiny_model_dir), str(fsdd_clips[0])]
    assert main([*argv, "--min-score", value]) == 0
    assert f"label: {label} (--min-score {float(value):g})" in capsys.readouterr().out
    assert main([*argv, "--min-score", "1.5"]) == 2
    assert "--min-score 1.5 is not allowed; it must be from 0 to 1" in capsys.readouterr().err


def test_a_float_file_far_over_full_scale_is_scored_with_a_warning(
    tiny_model_dir, fsdd_clips, tmp_path, capsys
):
    audio = load_audio(fsdd_clips[0])
    for name, peak in [("loud.wav", 100.0), ("hot.wav", 1.5)]:  # 40 dB over; 3.5 dB over
        soundfile.write(tmp_path / name, audio * peak / np.abs(audio).max(), 44100, "FLOAT")
    argv = ["predict", "--model", str(tiny_model_dir), "--json"]
    assert main([*argv, str(tmp_path / "loud.wav"), str(tmp_path / "hot.wav")]) == 0
    captured = capsys.readouterr()
    loud, hot = [json.loads(line) for line in captured.out.splitlines()]
    assert "top" in loud and "warning" not in hot
    assert "loud.wav: samples reach 100, 40 dB over full scale" in loud["warning"]
    assert captured.err.count("erann predict: warning:") == 1 and "loud.wav" in captured.err


def test_window_timestamps_on_a_long_file(tiny_model_dir, fsdd_clips, tmp_path):
    # 2.5 s of real speech: windows of 1 s every 0.5 s, and one ending at 2.5 s.
    audio = np.concatenate([load_audio(p) for p in fsdd_clips])[: int(2.5 * 44100)]
    path = tmp_path / "long.wav"
    soundfile.write(path, audio, 44100, subtype="FLOAT")
    result = predict_file(load_runner(str(tiny_model_dir)), path, hop_s=0.5)
    spans = [(w["start_s"], w["end_s"]) for w in result["windows"]]
    assert spans == [(0.0, 1.0), (0.5, 1.5), (1.0, 2.0), (1.5, 2.5)]
    max_result = predict_file(load_runner(str(tiny_model_dir)), path, hop_s=0.5, reduce="max")
    assert max_result["top"][0]["score"] >= result["top"][0]["score"]


def test_predict_cli_json_lines_and_bad_files(tiny_model_dir, fsdd_clips, shared, tmp_path):
    expected = _make_bad_files(tmp_path / "bad", shared)
    expected["short.wav"] = "too short; at least 691"
    expected["folder.wav"] = "no audio files"  # predict takes a folder for the files in it
    bad = [str(tmp_path / "bad" / name) for name in expected]
    good = [str(p) for p in fsdd_clips[:2]]
    result = subprocess.run(
        [sys.executable, "-m", "erann_tf.cli", "predict", "--model", str(tiny_model_dir),
         "--json", good[0], *bad, good[1]],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 1
    lines = [json.loads(line, parse_constant=_not_json) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [good[0], *bad, good[1]]
    assert "top" in lines[0] and "top" in lines[-1]
    errors = [line for line in result.stderr.splitlines() if line.startswith("erann predict")]
    assert len(errors) == len(bad) and "Traceback" not in result.stderr
    for line, (name, words) in zip(lines[1:-1], expected.items(), strict=True):
        assert set(line) == {"file", "error"}
        assert name in line["error"] and words in line["error"], line


def test_predict_cli_scores_every_audio_file_of_a_folder(
    tiny_model_dir, fsdd_clips, tmp_path, capsys
):
    """A folder stands for every audio file under it (subfolders too, in
    natural order, other files left alone); one without any is an error for it."""
    (tmp_path / "clips" / "more").mkdir(parents=True)
    for clip, name in zip(fsdd_clips, ["b10.wav", "b9.wav", "more/a.wav"], strict=False):
        (tmp_path / "clips" / name).symlink_to(clip)
    (tmp_path / "clips" / "notes.txt").write_text("not audio")
    (tmp_path / "empty").mkdir()
    argv = ["predict", "--model", str(tiny_model_dir), "--json"]
    assert main([*argv, str(tmp_path / "clips"), str(tmp_path / "empty")]) == 1
    captured = capsys.readouterr()
    lines = [json.loads(line) for line in captured.out.splitlines()]
    names = ["b9.wav", "b10.wav", "more/a.wav"]
    assert [line["file"] for line in lines] == [str(tmp_path / "clips" / n) for n in names] + [
        str(tmp_path / "empty")
    ]
    assert all("top" in line for line in lines[:3]) and "no audio files" in lines[3]["error"]
    assert "empty: no audio files (.wav, .flac, .ogg, .mp3)" in captured.err


def _not_json(constant):
    raise AssertionError(f"{constant} is not strict JSON")


def test_predict_cli_text_and_arguments(tiny_model_dir, fsdd_clips, capsys):
    assert main(["predict", "--model", str(tiny_model_dir), str(fsdd_clips[0])]) == 0
    out = capsys.readouterr().out
    assert "model tiny-fsdd" in out and "0.00-" in out
    assert main(["predict", "--model", str(tiny_model_dir), "--top-k", "0", "x.wav"]) == 2
    assert "--top-k 0 is not allowed" in capsys.readouterr().err
    for flag, value in [("--window", "1e9"), ("--window", "inf"), ("--hop", "nan")]:
        assert main(["predict", "--model", str(tiny_model_dir), flag, value, "x.wav"]) == 2
        assert f"{flag} {float(value)} is not allowed" in capsys.readouterr().err
    assert main(["predict", "--model", "/no/model.keras", "x.wav"]) == 2
    assert "/no/model.keras: no such model file or folder" in capsys.readouterr().err


@pytest.mark.parametrize("name, words", [("bad.keras", "not a readable Keras model"),
                                         ("bad.tflite", "not a TFLite model")])  # fmt: skip
def test_predict_cli_damaged_model(tmp_path, capsys, name, words):
    (tmp_path / name).write_bytes(b"not a model at all" * 10)
    assert main(["predict", "--model", str(tmp_path / name), "x.wav"]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1


@pytest.mark.tf_only
@pytest.mark.parametrize("input_shape, output_rank", [([44100], 2), ([1, 44100], 1)])
def test_predict_refuses_a_tflite_file_that_is_not_an_audio_classifier(
    tmp_path, capsys, input_shape, output_rank
):
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec(input_shape, tf.float32)])
    def scores(wave):  # a model, but of other shapes: 1-D in, or 1-D out
        row = tf.reshape(tf.reduce_mean(wave), [1, 1]) * tf.ones([1, 10])
        return row if output_rank == 2 else row[0]

    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [scores.get_concrete_function()], scores
    )
    (tmp_path / "other.tflite").write_bytes(converter.convert())
    assert main(["predict", "--model", str(tmp_path / "other.tflite"), "x.wav"]) == 2
    err = capsys.readouterr().err.strip()
    assert "other.tflite: not an audio classifier (inputs [" in err and len(err.splitlines()) == 1


def test_labels_txt_naming_a_class_twice_is_refused(tmp_path):
    from erann_tf.models.metadata import for_file

    (tmp_path / "labels.txt").write_text("yes\nno\nyes\n")
    with pytest.raises(ValueError, match="labels.txt: class names must differ; .*: yes"):
        for_file(str(tmp_path / "model.tflite"), 3)


def test_a_model_without_metadata_says_what_it_guessed(
    tiny_model_dir, fsdd_clips, tmp_path, capsys
):
    shutil.copy(tiny_model_dir / "model.keras", tmp_path / "bare.keras")
    assert main(["predict", "--model", str(tmp_path / "bare.keras"), str(fsdd_clips[0])]) == 0
    err = capsys.readouterr().err
    assert "bare.keras: no metadata.json beside it, so the window (10 s) and class names" in err
    assert main(["predict", "--model", str(tiny_model_dir), str(fsdd_clips[0])]) == 0
    assert "warning" not in capsys.readouterr().err


def test_truncated_keras_file_is_called_damaged_not_missing(tiny_model_dir, tmp_path, capsys):
    whole = (tiny_model_dir / "model.keras").read_bytes()
    (tmp_path / "cut.keras").write_bytes(whole[: len(whole) // 2])  # an interrupted download
    assert main(["predict", "--model", str(tmp_path / "cut.keras"), "x.wav"]) == 2
    assert "cut.keras: not a readable Keras model (not a zip archive: truncated or damaged)" in (
        capsys.readouterr().err
    )


@pytest.mark.tf_only
def test_tflite_example_runs_without_tensorflow(tiny_model_dir, fsdd_clips, tmp_path):
    from erann_tf.export.tflite import convert
    from erann_tf.inference.runners import TFLiteRunner

    runner = load_runner(str(tiny_model_dir))
    (tmp_path / "model.tflite").write_bytes(convert(runner.model, 44100))
    (tmp_path / "labels.txt").write_text("".join(f"{d}\n" for d in range(10)))
    clip = str(fsdd_clips[3])
    blocker = "import sys; sys.modules['tensorflow'] = sys.modules['erann_tf'] = None; "
    script = REPO / "examples" / "tflite_inference.py"
    run = f"{blocker}sys.argv = {[str(script), str(tmp_path / 'model.tflite'), clip]!r}; "
    run += f"exec(compile(open({str(script)!r}).read(), 'tflite_inference.py', 'exec'))"
    result = subprocess.run([sys.executable, "-c", run], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    clip_line = [line for line in result.stdout.splitlines() if line.startswith("clip:")][0]
    # The same 8 kHz clip (resampled by both) through erann predict and the TFLite
    # runner gives the same top class and score.
    expected = predict_file(TFLiteRunner(str(tmp_path / "model.tflite")), clip)["top"][0]
    assert clip_line.split()[1] == expected["label"]
    assert float(clip_line.split()[2]) == pytest.approx(expected["score"], abs=1.5e-3)


def test_a_training_run_folder_is_a_model(tmp_path):
    from erann_tf.inference import resolve

    (tmp_path / "final.keras").write_bytes(b"")
    assert resolve(str(tmp_path)) == str(tmp_path / "final.keras")
    (tmp_path / "final.keras").unlink()
    with pytest.raises(ValueError, match="a folder without model.keras, final.keras"):
        resolve(str(tmp_path))


@pytest.mark.parametrize(
    "change, words",
    [
        (
            {"frontend": {"sample_rate": 32000}, "sample_rate": 32000},
            "frontend differs from the model's: sample_rate 32000 (the model: 44100)",
        ),
        ({"sample_rate": 32000}, "sample_rate 32000 differs from the frontend's 44100"),
        (
            {"frontend": {"n_mels": 64}},
            "frontend differs from the model's: n_mels 64 (the model: 128)",
        ),
        ({"classes": [f"c{i}" for i in range(12)]}, "names 12 classes for a model of 10"),
        ({"classes": ["dog"]}, "names 1 classes for a model of 10"),
        ({"window_s": 1e9}, "window_s=1000000000.0 is outside"),
        ({"window_s": 0}, "window_s=0 is outside"),
        ({"classes": ["dog", "dog", *(f"c{i}" for i in range(8))]}, "given more than once: dog"),
        (None, "not a valid metadata.json (a JSON list, not an object)"),
        ("deep", "metadata.json: not valid JSON (nested too deeply to read)"),
        ("{", "metadata.json: not valid JSON (Expecting property name"),
    ],
)
def test_metadata_is_checked_against_its_model(tmp_path, change, words):
    import shutil

    from erann_tf.models.presets import shipped_model_dir

    folder = tmp_path / "model"
    folder.mkdir()
    shipped = shipped_model_dir("erann-esc10")
    shutil.copy(f"{shipped}/model.keras", folder / "model.keras")
    payload = json.loads(open(f"{shipped}/metadata.json", encoding="utf-8").read())
    if isinstance(change, str):  # damaged: 100,000 levels of nesting, or not JSON
        text = "[" * 100_000 + "]" * 100_000 if change == "deep" else change
    else:
        text = json.dumps([payload] if change is None else {**payload, **change})
    (folder / "metadata.json").write_text(text)
    with pytest.raises(ValueError, match=re.escape(words)):
        load_runner(str(folder))


_LOADED = "import sys; print(sorted(m for m in ('keras', 'tensorflow', 'jax') if m in sys.modules))"


def _erann(*argv):
    """`erann ARGV` in a fresh process; (returncode, stdout, stderr, heavy modules loaded)."""
    code = f"from erann_tf.cli import main; code = main({list(argv)!r}); {_LOADED}"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=REPO
    )
    *out, loaded = done.stdout.splitlines() or [""]
    return done.returncode, "\n".join(out), done.stderr, loaded


def test_predict_on_litert_loads_neither_tensorflow_nor_keras_and_prints_no_logs():
    clip = str(REPO / "examples" / "audio" / "rain.wav")
    code, lite, stderr, loaded = _erann("predict", clip, "--json", "--top-k", "10")
    assert code == 0 and stderr == "" and loaded == "[]", stderr
    code, keras_out, stderr, loaded = _erann(
        "predict", clip, "--json", "--top-k", "10", "--runtime", "keras"
    )
    assert code == 0 and "keras" in loaded
    assert stderr == "", stderr  # no CUDA probe or CPU feature lines from TensorFlow's C++
    lite, keras_out = json.loads(lite), json.loads(keras_out)
    keras_scores = {e["label"]: e["score"] for e in keras_out["top"]}
    assert lite["top"][0]["label"] == keras_out["top"][0]["label"]
    assert all(abs(e["score"] - keras_scores[e["label"]]) <= 0.01 for e in lite["top"])


def test_a_lone_tflite_file_loads_no_tensorflow(tmp_path):
    """Without metadata beside it the file's class names are guessed; looking
    for the metadata must not bring in the training package (TensorFlow)."""
    shutil.copy(REPO / "savedmodels" / "erann-esc10" / "model_float16.tflite", tmp_path)
    clip = str(REPO / "examples" / "audio" / "rain.wav")
    code, out, stderr, loaded = _erann(
        "predict", clip, "--json", "--model", str(tmp_path / "model_float16.tflite")
    )
    assert code == 0 and loaded == "[]", stderr
    assert json.loads(out)["top"][0]["label"].startswith("class_")  # guessed names


def test_help_loads_no_keras():
    code = f"from erann_tf.cli import build_parser; build_parser(); {_LOADED}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "[]", done.stderr


def test_runtime_picks_the_file_a_model_folder_runs_on(tmp_path):
    from erann_tf.inference.runners import resolve
    from erann_tf.models.presets import shipped_model_dir

    folder = shipped_model_dir("erann-esc10")
    assert resolve("erann-esc10", "auto").endswith("model_float16.tflite")
    assert resolve("erann-esc10", "litert").endswith("model_float16.tflite")
    assert resolve("erann-esc10", "keras").endswith("model.keras")
    assert resolve("erann-esc10").endswith("model.keras")  # evaluate and export: the Keras model
    with pytest.raises(ValueError, match="LiteRT runs .tflite files; use --runtime keras"):
        resolve(f"{folder}/model.keras", "litert")
    with pytest.raises(ValueError, match="runs on LiteRT; use --runtime litert or auto"):
        resolve(f"{folder}/model_int8.tflite", "keras")
    shutil.copy(f"{folder}/model.keras", tmp_path / "model.keras")
    assert resolve(str(tmp_path), "auto").endswith("model.keras")  # no .tflite there
    with pytest.raises(ValueError, match="runtime='tpu' is not allowed"):
        resolve(str(tmp_path), "tpu")


def test_whatever_fails_on_one_file_is_its_error_and_the_rest_are_scored(
    tiny_model_dir, fsdd_clips, tmp_path, capsys, monkeypatch
):
    """One frame at 96 kHz is no sample at 44.1 kHz (it once stopped the whole
    batch); a failure inside the scoring itself, of any kind, is the file's
    one-line error too."""
    from erann_tf.inference import predict as predicting

    one_frame = tmp_path / "one-frame.wav"
    soundfile.write(one_frame, np.array([0.5], "float32"), 96000)
    good = [str(p) for p in fsdd_clips[:2]]
    argv = ["predict", "--model", str(tiny_model_dir), "--json"]
    assert main([*argv, good[0], str(one_frame), good[1]]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "top" in lines[0] and "top" in lines[2]
    assert (
        lines[1]["error"]
        == f"{one_frame}: 0 samples at 44100 Hz is too short; at least 691 are needed"
    )
    monkeypatch.setattr(predicting, "check_length", lambda *a: 1 / 0)
    assert main([*argv, good[0]]) == 1
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line == {"file": good[0], "error": f"{good[0]}: division by zero"}


def test_long_windows_are_scored_a_few_at_a_time(tiny_model_dir, tmp_path):
    """Memory follows the window, not the file: no batch holds more than
    BATCH_SAMPLES of audio, down to one window a batch."""
    from erann_tf.inference.runners import BATCH_SAMPLES

    class Recording:  # the runner, noting the shape of each batch it is given
        def __init__(self, runner):
            self.runner, self.seen = runner, []

        def __getattr__(self, name):
            return getattr(self.runner, name)

        def __call__(self, windows):
            self.seen.append(windows.shape)
            return self.runner(windows)

    runner = Recording(load_runner(str(tiny_model_dir)))
    path = tmp_path / "long.wav"
    noise = np.random.default_rng(0).uniform(-0.1, 0.1, 8000 * 190)
    soundfile.write(path, noise, 8000)  # 190 s, read at 44.1 kHz
    result = predict_file(runner, str(path), window_s=60.0, hop_s=30.0)
    assert len(result["windows"]) == 6 and max(shape[0] for shape in runner.seen) == 1
    assert all(n * samples <= max(BATCH_SAMPLES, samples) for n, samples in runner.seen)
