"""Clips per second read from TFRecord shards against the same loose files,
both measured in this run, on real data from ../shared/data.

Two columns per source: "bytes" (read the encoded files only: the I/O a
training input pipeline does) and "decoded" (read, decode, downmix and
resample to 44.1 kHz in a parallel tf.data map: what training consumes).
The loose-file reader is the same tf.data map over the file paths.

Usage:
    python benchmarks/shards.py [--data ../shared/data] [--repeats 3]
"""

import argparse
import os
import tempfile
import time

import numpy as np

from erann_tf.data import shard_writer, shards
from erann_tf.data.audio import SAMPLE_RATE, decode_audio, load_audio
from erann_tf.data.sources import read_esc10, read_fsdd


def _loose(paths, decode):
    import tensorflow as tf

    def read(path):
        if decode:
            return load_audio(path.decode(), SAMPLE_RATE).shape[0]
        with open(path.decode(), "rb") as handle:
            return len(handle.read())

    dataset = tf.data.Dataset.from_tensor_slices(paths)
    return dataset.map(
        lambda p: tf.numpy_function(read, [p], tf.int64, stateful=False),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def _sharded(folder, decode):
    import tensorflow as tf

    records = shards.record_dataset(shards.Shards.open(folder).files())
    if not decode:
        return records.map(lambda r: tf.cast(tf.strings.length(r["audio"]), tf.int64))

    def samples(data, path):
        return np.int64(decode_audio(data, path.decode()).shape[0])

    return records.map(
        lambda r: tf.numpy_function(samples, [r["audio"], r["path"]], tf.int64, stateful=False),
        num_parallel_calls=tf.data.AUTOTUNE,
    )


def _rate(make, decode, repeats):
    """Median clips/s of `repeats` full passes (a fresh dataset each time)."""
    rates = []
    for _ in range(repeats):
        started, count = time.perf_counter(), 0
        for _ in make(decode):
            count += 1
        rates.append(count / (time.perf_counter() - started))
    return float(np.median(rates)), count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join("..", "shared", "data"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--shard-size", default="8MB")
    args = parser.parse_args()
    sets = {
        "ESC-10 (5 s Ogg, 44.1 kHz)": read_esc10(os.path.join(args.data, "esc10")),
        "FSDD (WAV, 8 kHz)": read_fsdd(os.path.join(args.data, "fsdd")),
    }
    print("| data | clips | shards | reader | bytes clips/s | decoded clips/s |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, clips in sets.items():
            folder = os.path.join(tmp, str(abs(hash(name))))
            manifest = shard_writer.prepare(
                clips, folder, shard_writer.parse_size(args.shard_size), progress=False
            )
            paths = [c.path for c in clips.clips]
            for reader, make in (
                ("loose files", lambda d, p=paths: _loose(p, d)),
                ("TFRecord shards", lambda d, f=folder: _sharded(f, d)),
            ):
                raw, n = _rate(make, False, args.repeats)
                decoded, _ = _rate(make, True, args.repeats)
                shard_count = len(manifest["shards"]) if reader.startswith("TF") else "-"
                print(f"| {name} | {n} | {shard_count} | {reader} | {raw:.0f} | {decoded:.0f} |")


if __name__ == "__main__":
    main()
