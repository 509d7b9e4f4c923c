"""Input-pipeline throughput: clips/s of decode, resample to 44.1 kHz, crop and
batch, cold (no cache), on ESC-10 (the ESC-50 layout; DESIGN.md §8) and
RAVDESS from ../shared/data, against a librosa.load loop measured in the same
run (pip install ".[bench]" for librosa).

    python benchmarks/pipeline.py
"""

import argparse
import pathlib
import time

import numpy as np

from erann_tf.data.loader import ClipLoader
from erann_tf.data.pipeline import training_dataset
from erann_tf.data.sources import read_esc10, read_ravdess

SHARED = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"


def ours(clips, crop_seconds, batch_size):
    loader = ClipLoader(clips, window_seconds=crop_seconds, cache=False)
    dataset = training_dataset(loader, batch_size, seed=0, first_epoch=0, epochs=1)
    started = time.perf_counter()
    count = sum(int(y.shape[0]) for _, y in dataset)
    return count / (time.perf_counter() - started)


def librosa_loop(clips, crop_seconds, batch_size):
    import librosa

    size = int(crop_seconds * 44100)
    rng = np.random.default_rng(0)
    started, batch, count = time.perf_counter(), [], 0
    for clip in clips.clips:
        wave, _ = librosa.load(clip.path, sr=44100, mono=True)
        start = int(rng.integers(0, max(1, wave.shape[0] - size + 1)))
        batch.append(np.pad(wave[start : start + size], (0, max(0, size - wave.shape[0]))))
        if len(batch) == batch_size:
            np.stack(batch)
            count, batch = count + batch_size, []
    return count / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(SHARED), help="the shared data folder")
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    data = pathlib.Path(args.data)
    sets = [
        ("ESC-10 (ESC-50 layout), 5 s Ogg", read_esc10(data / "esc10"), 4.0),
        ("RAVDESS, 48 kHz Ogg", read_ravdess(data / "ravdess"), 3.0),
    ]
    print("| data | clips | erann_tf tf.data clips/s | librosa.load loop clips/s | speed-up |")
    print("| --- | --- | --- | --- | --- |")
    for name, clips, crop in sets:
        fast = ours(clips, crop, args.batch_size)
        try:
            slow = librosa_loop(clips, crop, args.batch_size)
            versus = f"{slow:.0f} | {fast / slow:.1f}x"
        except ImportError:
            versus = "librosa not installed | -"
        print(f"| {name} | {len(clips)} | {fast:.0f} | {versus} |")


if __name__ == "__main__":
    main()
