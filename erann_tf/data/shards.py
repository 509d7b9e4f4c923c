"""TFRecord shards: pack a dataset's encoded audio once, read it anywhere.

`prepare` writes the files' bytes as they are on disk (not decoded) with
their labels, fold and source path into shards of about `shard_bytes`, each
written atomically, then a manifest. The shard plan is fixed before anything
is written, so an interrupted prepare resumes at the first missing shard.

Readers: `read_shard_clips` (the whole set in memory, for the decode-once
loader) and `record_dataset` / `training_stream` (tf.data streams that
interleave shards, shuffle per epoch from a seed and give each worker its own
files, for sets that do not fit in memory). Paths are anything tf.io.gfile
opens (local, gs://, s3:// with the plugins).
"""

import concurrent.futures
import dataclasses
import hashlib
import importlib
import json
import os
import re
import zlib

import numpy as np
import tqdm

from erann_tf import strict_json
from erann_tf.data.audio import AudioError, check_audio, check_readable, decode_audio
from erann_tf.data.frontend_config import FRONTEND
from erann_tf.data.loader import BAD_FILE_POLICIES
from erann_tf.data.sources import Clip, ClipSet, SourceError
from erann_tf.data.windows import training_window


class _LazyModule:
    """A module imported on first use: reading a local folder of audio must not
    need TensorFlow (the JAX and PyTorch paths run without it)."""

    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        return getattr(importlib.import_module(self._name), attr)


tf = _LazyModule("tensorflow")

MANIFEST = "manifest.json"
PLAN = "plan.json"
FORMAT = "erann-shards/1"
SHARD_FIELDS = ("file", "clips", "audio_bytes", "sha256", "folds")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]?B?)\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "K": 1e3, "KB": 1e3, "M": 1e6, "MB": 1e6, "G": 1e9, "GB": 1e9}


MAX_SHARD_BYTES = 10**12


def parse_size(text):
    """Bytes in a size such as "200MB", "1.5GB" or "65536".

    Example:
    >>> parse_size("200MB"), parse_size("64kb")
    (200000000, 64000)
    """
    match = _SIZE.match(str(text))
    size = float(match.group(1)) * _UNITS[match.group(2).upper()] if match else 0.0
    if not 1 <= size <= MAX_SHARD_BYTES:  # 400 digits make an infinite float
        raise ValueError(
            f"--shard-size {text!r} is not allowed; give a size from 1 byte to 1000GB, "
            "e.g. 200MB, 1GB or 65536"
        )
    return int(size)


def is_shard_dir(path):
    """Whether `path` holds a finished prepare (its manifest). Local paths
    are checked without TensorFlow (the JAX and PyTorch paths run without it)."""
    path = os.fspath(path)
    if "://" not in path:
        return os.path.isfile(os.path.join(path, MANIFEST))
    return tf.io.gfile.exists(_join(path, MANIFEST))


def plan_shards(clips, shard_bytes, seed=0):
    """Clip indices per shard: a seeded permutation (so every shard mixes
    classes and folds) cut into runs of at most `shard_bytes` of files (a
    larger file gets a shard of its own).

    Example:
    >>> from erann_tf.data.sources import read_fsdd
    >>> plan = plan_shards(read_fsdd("../shared/data/fsdd"), 2_000_000)
    >>> len(plan), sum(len(shard) for shard in plan)
    (10, 2700)
    """
    sizes = [_size(clip.path) for clip in clips.clips]
    plan, current, total = [], [], 0
    for index in np.random.default_rng(seed).permutation(len(sizes)):
        if current and total + sizes[index] > shard_bytes:
            plan.append(current)
            current, total = [], 0
        current.append(int(index))
        total += sizes[index]
    return plan + ([current] if current else [])


def prepare(clips, output, shard_bytes, workers=4, on_bad_file="error", progress=True):
    """Packs `clips` (a ClipSet) into TFRecord shards under `output`; returns
    the manifest dict. Resumes a prepare of the same clips and shard size that
    was interrupted; refuses a folder that holds a different one.

    Each file is decoded once to check it (as training checks it): a bad file
    raises its AudioError with on_bad_file="error", or is left out and listed
    in the manifest with "skip".
    """
    if on_bad_file not in BAD_FILE_POLICIES:
        raise ValueError(f"on_bad_file={on_bad_file!r} is not allowed; use 'error' or 'skip'")
    clips.targets()  # an unknown label stops here, naming its file
    plan = plan_shards(clips, shard_bytes)
    names = [f"shard-{i:05d}-of-{len(plan):05d}.tfrecord" for i in range(len(plan))]
    _start_or_resume(output, clips, plan, names, shard_bytes)
    todo = [i for i, name in enumerate(names) if not tf.io.gfile.exists(_summary(output, name))]
    bar = tqdm.tqdm(total=len(clips), desc="packing", unit="clip", disable=not progress)
    bar.update(len(clips) - sum(len(plan[i]) for i in todo))
    pool = concurrent.futures.ThreadPoolExecutor(max(1, workers))
    try:
        jobs = [
            pool.submit(_write_shard, clips, plan[i], output, names[i], on_bad_file, bar)
            for i in todo
        ]
        for job in concurrent.futures.as_completed(jobs):
            job.result()  # the first bad file (on_bad_file="error") stops the prepare
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        bar.close()
    manifest = _manifest(clips, output, names)
    _write_text(_join(output, MANIFEST), json.dumps(manifest, indent=1))
    return manifest


def _start_or_resume(output, clips, plan, names, shard_bytes):
    plan_text = json.dumps(
        {
            "format": FORMAT,
            "shard_bytes": shard_bytes,
            "classes": list(clips.classes),
            "shards": {
                name: [clips.clips[i].path for i in part]
                for name, part in zip(names, plan, strict=True)
            },
        },
        indent=1,
    )
    plan_path = _join(output, PLAN)
    if tf.io.gfile.exists(plan_path):
        with tf.io.gfile.GFile(plan_path) as handle:
            if handle.read() != plan_text:
                raise FileExistsError(
                    f"{output}: holds shards of another prepare (other data or --shard-size); "
                    "use a new --output"
                )
        return
    if tf.io.gfile.exists(output) and tf.io.gfile.listdir(output):
        raise FileExistsError(
            f"{output}: exists and is not a prepare in progress; use a new --output"
        )
    tf.io.gfile.makedirs(output)
    _write_text(plan_path, plan_text)


def _write_shard(clips, indices, output, name, on_bad_file, bar):
    """One shard, written beside its final name and renamed; then its summary
    (the resume marker: a shard counts as done once its summary exists)."""
    index = {c: i for i, c in enumerate(clips.classes)}
    path, digest, bad, kept, size = _join(output, name), hashlib.sha256(), [], [], 0
    tmp = _join(output, f".tmp-{name}")
    with tf.io.TFRecordWriter(tmp) as writer:
        for i in indices:
            clip = clips.clips[i]
            try:
                data = _checked_bytes(clip)
            except AudioError as error:
                if on_bad_file == "error":
                    raise
                bad.append(str(error))
                bar.write(f"skipped: {error}")
            else:
                record = _example(clip, i, data, [index[label] for label in clip.labels])
                writer.write(record)
                kept.append(clip)
                size += len(data)
            bar.update(1)
    with tf.io.gfile.GFile(tmp, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    tf.io.gfile.rename(tmp, path, overwrite=True)
    summary = {
        "file": name,
        "clips": len(kept),
        "audio_bytes": size,
        "sha256": digest.hexdigest(),
        "folds": _counts(clip.fold for clip in kept),
        "classes": _counts(label for clip in kept for label in clip.labels),
        "fold_classes": {
            fold: _counts(label for c in kept if c.fold == fold for label in c.labels)
            for fold in sorted({c.fold for c in kept})
        },
        "bad_files": bad,
    }
    _write_text(_summary(output, name), json.dumps(summary))


def _checked_bytes(clip):
    check_readable(clip.path)
    with open(clip.path, "rb") as handle:
        data = handle.read()
    rate, shortest = FRONTEND.sample_rate, FRONTEND.min_samples
    check_audio(data, clip.path, rate, shortest)  # the checks training makes
    return data


def _example(clip, position, data, label_ids):
    feature = {
        "index": tf.train.Feature(int64_list=tf.train.Int64List(value=[position])),
        "audio": tf.train.Feature(bytes_list=tf.train.BytesList(value=[data])),
        "labels": tf.train.Feature(
            bytes_list=tf.train.BytesList(value=[label.encode() for label in clip.labels])
        ),
        "label_ids": tf.train.Feature(int64_list=tf.train.Int64List(value=label_ids)),
        "fold": tf.train.Feature(bytes_list=tf.train.BytesList(value=[clip.fold.encode()])),
        "path": tf.train.Feature(bytes_list=tf.train.BytesList(value=[clip.path.encode()])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _manifest(clips, output, names):
    shards = []
    for name in names:
        with tf.io.gfile.GFile(_summary(output, name)) as handle:
            shards.append(strict_json.parse(handle.read(), _summary(output, name)))
    folds = sorted({f for s in shards for f in s["folds"]})
    return {
        "format": FORMAT,
        "classes": list(clips.classes),
        "multi_label": clips.multi_label,
        "clips": sum(s["clips"] for s in shards),
        "missing": clips.missing,
        "folds": _merge(s["folds"] for s in shards),
        "class_counts": _merge(s["classes"] for s in shards),
        "fold_class_counts": {
            f: _merge(s["fold_classes"].get(f, {}) for s in shards) for f in folds
        },
        "bad_files": [reason for s in shards for reason in s["bad_files"]],
        "shards": [{k: s[k] for k in SHARD_FIELDS} for s in shards],
    }


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
        if not tf.io.gfile.exists(_join(path, MANIFEST)):
            raise SourceError(f"{path}: no {MANIFEST}; make shards with `erann prepare`")
        with tf.io.gfile.GFile(_join(path, MANIFEST)) as handle:
            manifest = strict_json.parse(handle.read(), _join(path, MANIFEST))
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
        return [_join(self.path, name) for name in names[worker::num_workers]]

    def count(self, files, exclude_fold=None):
        """Clips in `files` (paths from `files()`), leaving `exclude_fold` out."""
        by_name = {s["file"]: s for s in self.manifest["shards"]}
        folds = [by_name[os.path.basename(f)]["folds"] for f in files]
        return sum(n for fold_counts in folds for f, n in fold_counts.items() if f != exclude_fold)

    def verify(self):
        """Checks every shard's sha256 against the manifest."""
        for shard in self.manifest["shards"]:
            digest = hashlib.sha256()
            with tf.io.gfile.GFile(_join(self.path, shard["file"]), "rb") as handle:
                for block in iter(lambda h=handle: h.read(1 << 20), b""):
                    digest.update(block)
            if digest.hexdigest() != shard["sha256"]:
                path = _join(self.path, shard["file"])
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


def _counts(items):
    counts = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return dict(sorted(counts.items()))


def _merge(dicts):
    total = {}
    for counts in dicts:
        for key, n in counts.items():
            total[key] = total.get(key, 0) + n
    return dict(sorted(total.items()))


def _size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0  # a missing file is reported when its shard is written


def _join(folder, name):
    return folder.rstrip("/") + "/" + name


def _summary(output, name):
    return _join(output, name.replace(".tfrecord", ".json"))


def _write_text(path, text):
    folder, name = path.rsplit("/", 1)
    tmp = _join(folder, f".tmp-{name}")
    with tf.io.gfile.GFile(tmp, "w") as handle:
        handle.write(text)
    tf.io.gfile.rename(tmp, path, overwrite=True)
