"""TFRecord shards: a dataset's encoded audio packed once, read anywhere.

`shard_writer.prepare` writes the files' bytes as they are on disk (not
decoded) with their labels, fold and source path into shards of about
`shard_bytes`, each written atomically, then a manifest. The shard plan is
fixed before anything is written, so an interrupted prepare resumes at the
first missing shard.

Readers, here: `read_shard_clips` (the whole set in memory, for the decode-once
loader) and `record_dataset` / `training_stream` (tf.data streams that
interleave shards, shuffle per epoch from a seed and give each worker its own
files, for sets that do not fit in memory). Paths are anything tf.io.gfile
opens (local, gs://, s3:// with the plugins).
"""

import dataclasses
import hashlib
import os
import zlib

import numpy as np
import tqdm

from erann_tf import strict_json
from erann_tf.data.audio import decode_audio
from erann_tf.data.clips import Clip, ClipSet, SourceError
from erann_tf.data.frontend_config import FRONTEND
from erann_tf.data.windows import training_window
from erann_tf.lazy import LazyModule

# Reading a local folder of audio must not need TensorFlow (the JAX path runs without it).
tf = LazyModule("tensorflow")

MANIFEST = "manifest.json"
PLAN = "plan.json"
FORMAT = "erann-shards/1"
SHARD_FIELDS = ("file", "clips", "audio_bytes", "sha256", "folds")


def is_shard_dir(path):
    """Whether `path` holds a finished prepare (its manifest). Local paths
    are checked without TensorFlow (the JAX and PyTorch paths run without it)."""
    path = os.fspath(path)
    if "://" not in path:
        return os.path.isfile(os.path.join(path, MANIFEST))
    return tf.io.gfile.exists(join_path(path, MANIFEST))


@dataclasses.dataclass(frozen=True)
class Shards:
    """A prepared shard folder: its manifest, read and checked.

    Example:
        shards = Shards.open("gs://bucket/audioset-shards")
        shards.files(worker=0, num_workers=4)
    """

    path: str
    manifest: dict

    @classmethod
    def open(cls, path):
        path = os.fspath(path)
        if not tf.io.gfile.exists(join_path(path, MANIFEST)):
            raise SourceError(f"{path}: no {MANIFEST}; make shards with `erann prepare`")
        with tf.io.gfile.GFile(join_path(path, MANIFEST)) as handle:
            manifest = strict_json.parse(handle.read(), join_path(path, MANIFEST))
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise SourceError(f"{path}: {MANIFEST} is not {FORMAT}")
        return cls(path, manifest)

    @property
    def classes(self):
        return tuple(self.manifest["classes"])

    def files(self, worker=0, num_workers=1):
        """This worker's shard paths: every num_workers-th file from `worker`."""
        names = [s["file"] for s in self.manifest["shards"]]
        if len(names) < num_workers:
            raise ValueError(
                f"{self.path}: {len(self.manifest['shards'])} shard(s) cannot feed "
                f"{num_workers} workers; prepare with a smaller --shard-size"
            )
        return [join_path(self.path, name) for name in names[worker::num_workers]]

    def count(self, files, exclude_fold=None):
        """Clips in `files` (paths from `files()`), leaving `exclude_fold` out."""
        by_name = {s["file"]: s for s in self.manifest["shards"]}
        folds = [by_name[os.path.basename(f)]["folds"] for f in files]
        return sum(n for fold_counts in folds for f, n in fold_counts.items() if f != exclude_fold)

    def verify(self):
        """Checks every shard's sha256 against the manifest."""
        for shard in self.manifest["shards"]:
            digest = hashlib.sha256()
            with tf.io.gfile.GFile(join_path(self.path, shard["file"]), "rb") as handle:
                for block in iter(lambda h=handle: h.read(1 << 20), b""):
                    digest.update(block)
            if digest.hexdigest() != shard["sha256"]:
                path = join_path(self.path, shard["file"])
                raise SourceError(f"{path}: checksum differs from the manifest")


def record_dataset(files, seed=None, epoch=0, shuffle_buffer=0, cycle_length=4):
    """A tf.data stream of parsed records {"index", "audio", "labels",
    "label_ids", "fold", "path"} from `files`: shards interleaved and parsed in parallel,
    in a file order and record order that are a pure function of (seed,
    epoch); seed None keeps the files' order (no shuffle).

    Example:
        ds = record_dataset(Shards.open(path).files(), seed=0, epoch=3, shuffle_buffer=1024)
    """
    files = list(files)
    if seed is not None:
        files = list(np.random.default_rng([seed, epoch]).permutation(files))
    dataset = tf.data.Dataset.from_tensor_slices(files).interleave(
        tf.data.TFRecordDataset,
        cycle_length=min(cycle_length, len(files)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    if seed is not None and shuffle_buffer > 1:
        dataset = dataset.shuffle(shuffle_buffer, seed=_stream_seed(seed, epoch))
    return dataset.map(_parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def _parse(record):
    spec = {
        "index": tf.io.FixedLenFeature([], tf.int64),
        "audio": tf.io.FixedLenFeature([], tf.string),
        "labels": tf.io.VarLenFeature(tf.string),
        "label_ids": tf.io.VarLenFeature(tf.int64),
        "fold": tf.io.FixedLenFeature([], tf.string),
        "path": tf.io.FixedLenFeature([], tf.string),
    }
    parsed = tf.io.parse_single_example(record, spec)
    parsed["labels"] = tf.sparse.to_dense(parsed["labels"])
    parsed["label_ids"] = tf.sparse.to_dense(parsed["label_ids"])
    return parsed


def read_shard_clips(path, progress=True, fold=None):
    """The shard folder (or only its clips of `fold`) as a ClipSet whose clips
    carry their encoded bytes (Clip.data), for the decode-once ClipLoader.
    Clips come back in the order the data's reader listed them.

    Example:
        clips = read_shard_clips("shards/esc10")   # then ClipLoader(clips).scan()
    """
    shards = Shards.open(path)
    manifest = shards.manifest
    records = record_dataset(shards.files())
    total = manifest["clips"]
    if fold is not None:  # filtered in tf.data: the other folds never reach memory
        records = records.filter(lambda r: tf.equal(r["fold"], fold))
        total = manifest["folds"].get(fold, 0)
    bar = tqdm.tqdm(
        records.as_numpy_iterator(),
        total=total,
        desc="reading shards",
        unit="clip",
        disable=not progress,
    )
    ordered = sorted((int(r["index"]), _clip(r)) for r in bar)
    clips = tuple(clip for _, clip in ordered)
    return ClipSet(clips, shards.classes, manifest["multi_label"], manifest["missing"])


def _clip(record):
    labels = tuple(label.decode() for label in record["labels"])
    return Clip(record["path"].decode(), labels, record["fold"].decode(), record["audio"])


def training_stream(
    shards, files, batch_size, window_samples, seed, epoch, exclude_fold=None, shuffle_buffer=2048
):
    """Training batches ({"waveform", "length", "targets"}, targets) for one
    epoch from `files`, without a decoded cache: records are decoded in
    parallel, each clip cut to one window (a random one from the seed, epoch
    and clip when it is longer, zero-padded when shorter), in a shuffled order
    fixed by (seed, epoch). Batches are full; the stream is repeated, so take
    as many steps as the epoch has (`Shards.count(files) // batch_size`).
    """
    classes = len(shards.classes)

    def window(audio, path):
        name = path.decode()
        rng = np.random.default_rng([seed, epoch, zlib.crc32(path)])
        rate = FRONTEND.sample_rate
        wave = decode_audio(audio, name, rate, FRONTEND.min_samples, window_samples / rate, rng)
        wave, length = training_window(wave, window_samples, rng)  # as ClipLoader.window
        return wave, np.int32(length)

    def decode(record):
        wave, length = tf.numpy_function(
            window, [record["audio"], record["path"]], [tf.float32, tf.int32], stateful=False
        )
        wave.set_shape([window_samples])
        length.set_shape([])
        targets = tf.reduce_max(tf.one_hot(record["label_ids"], classes), axis=0)
        return {"waveform": wave, "length": length, "targets": targets}, targets

    dataset = record_dataset(files, seed, epoch, shuffle_buffer)
    if exclude_fold is not None:
        dataset = dataset.filter(lambda r: tf.not_equal(r["fold"], exclude_fold))
    dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.repeat().batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def _stream_seed(seed, epoch):
    return int(np.random.default_rng([seed, epoch]).integers(2**31))


def join_path(folder, name):
    return folder.rstrip("/") + "/" + name
