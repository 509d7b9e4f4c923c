"""The browser page (examples/web) in real headless Chromium: it loads a
shipped model through @mediapipe/tasks-audio, classifies a real clip, and its
scores equal Python MediaPipe's on the same samples."""

import importlib.util

import numpy as np
import pytest
import soundfile

from erann_tf.data.audio import load_audio
from erann_tf.data.layouts import read_clips
from erann_tf.data.windows import default_hop, window_bounds
from erann_tf.inference import load_runner, predict_file
from erann_tf.models.metadata import read_metadata
from erann_tf.models.presets import shipped_model_dir
from tests.conftest import REPO

pytestmark = pytest.mark.tf_only  # the page does not depend on the Keras backend

_spec = importlib.util.spec_from_file_location("browser", REPO / "examples" / "web" / "browser.py")
browser = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(browser)


def _python_mediapipe(model, wave):
    from mediapipe.tasks.python import audio
    from mediapipe.tasks.python.components.containers.audio_data import AudioData
    from mediapipe.tasks.python.core.base_options import BaseOptions

    options = audio.AudioClassifierOptions(base_options=BaseOptions(model_asset_path=model))
    with audio.AudioClassifier.create_from_options(options) as classifier:
        results = classifier.classify(AudioData.create_from_array(wave, 44100))
    scores = []
    for result in results:
        row = np.zeros(len(result.classifications[0].categories), np.float32)
        for category in result.classifications[0].categories:
            row[category.index] = category.score
        scores.append(row)
    return np.stack(scores)


def _python_windows(model, wave):
    """Python MediaPipe's scores on the windows `erann predict` cuts: every
    half window, one more ending at the last sample, each zero-padded."""
    info = read_metadata(f"{shipped_model_dir(model)}/metadata.json")
    size = info.window_samples
    spans = window_bounds(len(wave), size, default_hop(size))
    path = f"{shipped_model_dir(model)}/model_float16.tflite"
    windows = [np.pad(wave[start:end], (0, size - (end - start))) for start, end in spans]
    return spans, np.stack([_python_mediapipe(path, window)[0] for window in windows])


@pytest.mark.parametrize(
    "name, recipe",
    [
        ("erann-esc10", "esc10"),
        ("erann-esc10-small", "esc10"),
        ("erann-fsdd", "fsdd"),
        ("erann-ravdess-small", "ravdess"),
    ],  # fmt: skip
)
def test_page_scores_equal_python_mediapipe(name, recipe, shared, tmp_path):
    """The windows and the clip's answer of `erann predict`, on MediaPipe."""
    clip = read_clips(recipe, str(shared / "data" / recipe)).clips[7].path
    wave = load_audio(clip)  # 44.1 kHz float: the page decodes it without resampling
    path = tmp_path / "clip.wav"
    soundfile.write(path, wave, 44100, subtype="FLOAT")
    with browser.page(name, str(path)) as driver:
        state = driver.execute_script("return window.erann")
        rows = driver.find_elements("css selector", "#rows tr")
        answer = driver.find_element("id", "answer").text
    spans, expected = _python_windows(name, wave)
    scores = np.array([r["scores"] for r in state["results"]], np.float32)
    assert scores.shape == expected.shape and len(rows) == len(spans)
    assert np.abs(scores - expected).max() <= 1e-4  # measured: under 5e-6
    assert state["labels"] == open(f"{shipped_model_dir(name)}/labels.txt").read().splitlines()
    starts = [r["timestampMs"] for r in state["results"]]
    assert starts == pytest.approx([1000 * start / 44100 for start, _ in spans])
    mean = expected.mean(axis=0)
    assert np.abs(np.array(state["clip"]["scores"]) - mean).max() <= 1e-4
    predicted = predict_file(load_runner(f"{shipped_model_dir(name)}/model_float16.tflite"), path)
    assert state["clip"]["label"] == predicted["top"][0]["label"] == state["labels"][mean.argmax()]
    assert answer.startswith(f"{state['clip']['label']} ") and "window(s)" in answer


def _best_correlation(piece, wave):
    """The highest normalised correlation of `piece` with any stretch of
    `wave` played in a loop (the fake device loops its file); stretches with
    under a hundredth of the piece's energy are no candidates (near-silence
    would divide rounding noise by almost nothing)."""
    loop = np.tile(wave, 1 + 2 * len(piece) // len(wave) + 1).astype(np.float64)
    piece = piece.astype(np.float64)
    size, n = len(piece), 2 * len(loop)
    products = np.fft.irfft(np.fft.rfft(loop, n) * np.conj(np.fft.rfft(piece, n)), n)
    energy = np.concatenate([[0.0], np.cumsum(loop**2)])
    stretch, own = energy[size:] - energy[:-size], np.dot(piece, piece)
    fair = stretch > 0.01 * own
    if not fair.any():
        return 0.0
    return float((products[: len(loop) - size + 1][fair] / np.sqrt(stretch[fair] * own)).max())


def _heard_pieces(window, wave, pieces=8):
    """The best correlation with the clip of each non-silent eighth of a
    heard window. A loaded machine can drop or delay audio blocks, so the
    window is checked piece by piece, not as one stretch."""
    parts = np.array_split(window, pieces)
    return [_best_correlation(part, wave) for part in parts if np.mean(part**2) > 1e-7]


def test_microphone_scores_equal_python_mediapipe(shared, tmp_path):
    """Chromium's fake capture device plays a real clip as the microphone: the
    page scores a window every half window, and its scores are Python
    MediaPipe's on the same samples (tolerance 1e-4, as for files)."""
    clip = read_clips("esc10", str(shared / "data" / "esc10")).clips[7].path
    path = tmp_path / "mic.wav"
    soundfile.write(path, load_audio(clip), 44100, subtype="PCM_16")
    model = f"{shipped_model_dir('erann-esc10-small')}/model_float16.tflite"
    with browser.page("erann-esc10-small", microphone=str(path)) as driver:
        state = browser.wait(driver, "clip", seconds=60)
        while len(state["results"]) < 2:
            state = browser.wait(driver, "clip", seconds=60)
        heard = driver.execute_script(
            "return window.erann.heard.slice(0, 2).map(a => Array.from(a))"
        )
        results = driver.execute_script("return window.erann.results.slice(0, 2)")
    heard = np.array(heard, np.float32)
    assert heard.shape == (2, 4 * 44100)
    pieces = _heard_pieces(heard[0], load_audio(path))  # measured: 6 pieces, each 1.000
    assert len(pieces) >= 4 and np.mean(np.array(pieces) > 0.99) >= 0.5, pieces
    expected = np.stack([_python_mediapipe(model, window)[0] for window in heard])
    scores = np.array([r["scores"] for r in results], np.float32)
    assert np.abs(scores - expected).max() <= 1e-4
    assert results[1]["timestampMs"] - results[0]["timestampMs"] == pytest.approx(2000, abs=100)
