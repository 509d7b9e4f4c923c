"""Writing TFRecord shards (`prepare`): a dataset's encoded audio packed
once, resumable; erann_tf.data.shards reads them."""

import concurrent.futures
import hashlib
import json
import os
import re

import numpy as np
import tqdm

from erann_tf import strict_json
from erann_tf.choices import BAD_FILE_POLICIES
from erann_tf.data.audio import AudioError, check_audio, check_readable
from erann_tf.data.frontend_config import FRONTEND
from erann_tf.data.shards import FORMAT, MANIFEST, PLAN, SHARD_FIELDS, join_path, tf

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
    _write_text(join_path(output, MANIFEST), json.dumps(manifest, indent=1))
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
    plan_path = join_path(output, PLAN)
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
    path, digest, bad, kept, size = join_path(output, name), hashlib.sha256(), [], [], 0
    tmp = join_path(output, f".tmp-{name}")
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


def _summary(output, name):
    return join_path(output, name.replace(".tfrecord", ".json"))


def _write_text(path, text):
    folder, name = path.rsplit("/", 1)
    tmp = join_path(folder, f".tmp-{name}")
    with tf.io.gfile.GFile(tmp, "w") as handle:
        handle.write(text)
    tf.io.gfile.rename(tmp, path, overwrite=True)
