"""The browser page (examples/web) in real headless Chromium: it loads a
shipped model through @mediapipe/tasks-audio, classifies a real clip, and its
scores equal Python MediaPipe's on the same samples."""

import importlib.util

import numpy as np
import pytest
import soundfile

from erann_tf.data.audio import load_audio
from erann_tf.data.layouts import read_clips
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


@pytest.mark.parametrize(
    "name, recipe",
    [("erann-esc10", "esc10"), ("erann-esc10-small", "esc10"), ("erann-fsdd", "fsdd")],
)
def test_page_scores_equal_python_mediapipe(name, recipe, shared, tmp_path):
    clip = read_clips(recipe, str(shared / "data" / recipe)).clips[7].path
    wave = load_audio(clip)  # 44.1 kHz float: the page decodes it without resampling
    path = tmp_path / "clip.wav"
    soundfile.write(path, wave, 44100, subtype="FLOAT")
    with browser.page(name, str(path)) as driver:
        results = driver.execute_script("return window.erann.results")
        labels = driver.execute_script("return window.erann.labels")
        rows = driver.find_elements("css selector", "#rows tr")
    expected = _python_mediapipe(f"{shipped_model_dir(name)}/model_float16.tflite", wave)
    scores = np.array([r["scores"] for r in results], np.float32)
    assert scores.shape == expected.shape and len(rows) == len(results)
    assert np.abs(scores - expected).max() <= 1e-4  # measured: under 5e-6
    assert labels == open(f"{shipped_model_dir(name)}/labels.txt").read().splitlines()
    window_ms = 1000 * read_metadata(f"{shipped_model_dir(name)}/metadata.json").window_s
    assert [r["timestampMs"] for r in results] == [i * window_ms for i in range(len(results))]
