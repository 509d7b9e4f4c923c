"""Decoded clips for the transports: scan, cache, windows and epoch order.

Shared by the tf.data pipeline and the TF-free PyDataset, so both see the same
clips in the same order. Plain numpy.
"""

import concurrent.futures
import dataclasses
import os

import numpy as np
import tqdm

from erann_tf.choices import BAD_FILE_POLICIES
from erann_tf.data.audio import AudioError, decode_audio, load_audio, stream_audio
from erann_tf.data.clips import SourceError
from erann_tf.data.frontend_config import FRONTEND
from erann_tf.data.windows import training_window


@dataclasses.dataclass
class BadFiles:
    """Files skipped with on_bad_file="skip": (path, one-line reason)."""

    entries: list = dataclasses.field(default_factory=list)

    def __len__(self):
        return len(self.entries)

    def report(self):
        if not self.entries:
            return "no bad files"
        lines = [f"skipped {len(self.entries)} bad file(s):"]
        return "\n".join(lines + [f"  {reason}" for _, reason in self.entries])


class ClipLoader:
    """Decodes the clips of a ClipSet, once, and hands out waveforms.

    Args:
        clips: the ClipSet.
        window_seconds: training windows are this long (zero-padded when a
            clip is shorter; a random window of a longer clip), and `length`
            says how much is real audio. None for whole clips only.
        cache: keep decoded audio in memory after `scan` (clips longer than
            `cache_max_seconds` are decoded again each time, one window only).
        on_bad_file: "error" stops at the first bad file, "skip" leaves it out
            and counts it in `bad_files`.
        workers: decoding threads.
        frontend: the model's FrontendConfig: the rate clips are resampled to
            and the shortest usable clip.
        bad_files: a BadFiles to record skipped files in (shared between
            loaders, e.g. training and validation, for one report).

    Example:
    >>> from erann_tf.data.sources import read_esc10
    >>> loader = ClipLoader(read_esc10("../shared/data/esc10"), window_seconds=4.0)
    >>> loader.window_samples
    176400
    """

    def __init__(
        self,
        clips,
        window_seconds=None,
        cache=True,
        on_bad_file="error",
        workers=None,
        cache_max_seconds=60.0,
        frontend=FRONTEND,
        bad_files=None,
    ):
        if on_bad_file not in BAD_FILE_POLICIES:
            raise ValueError(f"on_bad_file={on_bad_file!r} is not allowed; use 'error' or 'skip'")
        self.clips = clips
        self.targets = clips.targets()  # raises SourceError on an unknown label
        self.frontend = frontend  # its rate and shortest clip: the model's
        self.sample_rate = frontend.sample_rate
        self.window_samples = (
            None if window_seconds is None else int(window_seconds * self.sample_rate)
        )
        self.cache = cache
        self.cache_max_seconds = cache_max_seconds
        self.on_bad_file = on_bad_file
        self.workers = workers or min(8, (os.cpu_count() or 1) + 2)
        self.bad_files = BadFiles() if bad_files is None else bad_files
        self.good = np.arange(len(clips))
        self._audio = {}

    def __len__(self):
        return len(self.good)

    @property
    def class_names(self):
        return self.clips.classes

    def scan(self, progress=True):
        """Decodes every clip once (threads), caching and checking it. With
        on_bad_file="error" the first bad file raises its AudioError."""
        indices = range(len(self.clips))
        pool = concurrent.futures.ThreadPoolExecutor(self.workers)
        try:
            results = pool.map(self._check, indices)
            bar = tqdm.tqdm(
                results,
                total=len(self.clips),
                desc="decoding",
                unit="clip",
                disable=not progress,
                leave=False,
            )
            good = [index for index, error in zip(indices, bar, strict=True) if error is None]
        finally:
            # A bad file in "error" mode stops at once, without decoding the rest.
            pool.shutdown(wait=True, cancel_futures=True)
        self.good = np.array(good, dtype=np.int64)
        if not len(self.good):
            raise SourceError("no usable clips: every file was bad")
        return self

    def _check(self, index):
        try:
            audio = self._decode(index, max_seconds=self.cache_max_seconds)
        except (AudioError, SourceError) as error:
            if self.on_bad_file == "error":
                raise
            self.bad_files.entries.append((self.clips.clips[index].path, str(error)))
            return error
        if self.cache and audio.shape[0] < self.cache_max_seconds * self.sample_rate:
            self._audio[index] = audio
        return None

    def _decode(self, index, max_seconds=None, rng=None):
        clip = self.clips.clips[index]
        args = (self.sample_rate, self.frontend.min_samples, max_seconds, rng)
        if clip.data is not None:
            return decode_audio(clip.data, clip.path, *args)
        return load_audio(clip.path, *args)

    def blocks(self, index):
        """Clip `index` (an index into the ClipSet) as mono blocks: its cached
        waveform, or, for a clip too long to cache, read from its file a few
        seconds at a time, so that scoring it needs no more memory than a minute."""
        if index in self._audio:
            return iter([self._audio[index]])
        clip = self.clips.clips[index]
        if clip.data is not None:  # shards: the encoded bytes are in memory already
            return iter([self._decode(index)])
        return stream_audio(clip.path, self.sample_rate)

    def window(self, index, rng):
        """(waveform of window_samples, valid length) for training."""
        size = self.window_samples
        audio = self._audio.get(index)
        if audio is None:
            audio = self._decode(index, max_seconds=size / self.sample_rate, rng=rng)
        return training_window(audio, size, rng)

    def epoch_order(self, seed, epoch, balanced=False):
        """Clip indices of one epoch: a permutation (or a PANNs-style
        class-balanced draw), a pure function of (seed, epoch)."""
        rng = np.random.default_rng([seed, epoch])
        if balanced:
            return balanced_order(self.targets[self.good], rng, self.good)
        return rng.permutation(self.good)

    def clip_rng(self, seed, epoch, index):
        return np.random.default_rng([seed, epoch, index, 1])


def balanced_order(targets, rng, indices):
    """As PANNs' balanced sampler: go through the classes in shuffled rounds
    and take the next clip (in a shuffled per-class queue) of each; as many
    draws as there are clips.

    Example:
    >>> t = np.array([[1, 0]] * 9 + [[0, 1]], "float32")
    >>> order = balanced_order(t, np.random.default_rng(0), np.arange(10))
    >>> int((order == 9).sum())
    5
    """
    queues = [indices[targets[:, c] > 0] for c in range(targets.shape[1])]
    classes = [c for c, queue in enumerate(queues) if len(queue)]
    positions = {c: len(queues[c]) for c in classes}
    order = []
    while len(order) < len(indices):
        for c in rng.permutation(classes):
            if positions[c] == len(queues[c]):
                queues[c], positions[c] = rng.permutation(queues[c]), 0
            order.append(queues[c][positions[c]])
            positions[c] += 1
            if len(order) == len(indices):
                break
    return np.array(order, dtype=np.int64)
