"""Latency of the shipped models per 10 s clip, every format, on this CPU.

For each shipped model: the Keras model (TensorFlow), the float16 and int8
TFLite files on LiteRT (the package's runners, as `erann predict` scores: the
model's window every half window), and the float16 file in MediaPipe's
AudioClassifier (windows back to back, as MediaPipe cuts them). The clip is
10 s of a real recording; the time is the median of `--repeats` runs after a
warm-up, the model already loaded. A second table sets each small model's
int8 file against its big model's float16 file, per second of audio (the
small-models target: at most 1/4).

    pip install ".[mediapipe]"
    python benchmarks/shipped_latency.py [--repeats 5]
"""

import argparse
import os

import numpy as np
from latency import median_ms  # benchmarks/latency.py, beside this script

from erann_tf.data.audio import load_audio
from erann_tf.data.windows import default_hop, sliding_windows
from erann_tf.inference.runners import load_runner
from erann_tf.models.presets import shipped_model_dir, shipped_models

SECONDS = 10.0
RATE = 44100
CLIP = "../shared/data/esc10/001 - Dog bark/1-100032-A.ogg"


def package_windows(runner, clip):
    window = runner.metadata.window_samples
    return np.stack([w for _, _, w in sliding_windows(iter([clip]), window, default_hop(window))])


def mediapipe_classifier(path):
    from mediapipe.tasks.python import audio
    from mediapipe.tasks.python.components.containers.audio_data import AudioData
    from mediapipe.tasks.python.core.base_options import BaseOptions

    options = audio.AudioClassifierOptions(base_options=BaseOptions(model_asset_path=path))
    classifier = audio.AudioClassifier.create_from_options(options)
    return classifier, lambda clip: classifier.classify(AudioData.create_from_array(clip, RATE))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--clip", default=CLIP, help="a recording, looped or cut to 10 s")
    args = parser.parse_args()
    audio = load_audio(args.clip)
    clip = np.resize(audio, int(SECONDS * RATE)).astype(np.float32)
    print(f"one {SECONDS:g} s clip, {os.cpu_count()} CPUs, median of {args.repeats} runs")
    print("| model | format | windows | ms / 10 s clip | file MB |")
    print("| --- | --- | --- | --- | --- |")
    ms_per_clip = {}
    for name in shipped_models():
        folder = shipped_model_dir(name)
        for label, file in [("Keras (TensorFlow)", "model.keras"),
                            ("TFLite float16 (LiteRT)", "model_float16.tflite"),
                            ("TFLite int8 (LiteRT)", "model_int8.tflite")]:  # fmt: skip
            runner = load_runner(os.path.join(folder, file))
            windows = package_windows(runner, clip)
            ms = median_ms(lambda: runner(windows), args.repeats, warmup=1)  # noqa: B023
            size = os.path.getsize(os.path.join(folder, file)) / 1e6
            ms_per_clip[name, file] = ms
            print(f"| {name} | {label} | {len(windows)} | {ms:.0f} | {size:.1f} |")
        path = os.path.join(folder, "model_float16.tflite")
        classifier, classify = mediapipe_classifier(path)
        count = len(classify(clip))
        ms = median_ms(lambda: classify(clip), args.repeats, warmup=1)  # noqa: B023
        classifier.close()
        size = os.path.getsize(path) / 1e6
        print(f"| {name} | MediaPipe AudioClassifier, float16 | {count} | {ms:.0f} | {size:.1f} |")
    print_small_against_big(ms_per_clip)


def print_small_against_big(ms_per_clip):
    print("\n| small model, int8 | big model, float16 | ms / s of audio | ratio (target <= 0.25) |")
    print("| --- | --- | --- | --- |")
    for name in shipped_models():
        big = name.removesuffix("-small")
        if big == name or big not in shipped_models():
            continue
        small_ms = ms_per_clip[name, "model_int8.tflite"] / SECONDS
        big_ms = ms_per_clip[big, "model_float16.tflite"] / SECONDS
        ratio = small_ms / big_ms
        print(f"| {name} | {big} | {small_ms:.1f} / {big_ms:.1f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
