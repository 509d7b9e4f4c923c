"""Clips and where they come from: the ClipSet every reader returns, the
one error a dataset that cannot be read raises, and finding audio files.
Plain Python (no TensorFlow, no Keras)."""

import csv
import dataclasses
import hashlib
import os
import re

import numpy as np

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")


class SourceError(ValueError):
    """A dataset that cannot be read as the layout asked for; names the path."""


@dataclasses.dataclass(frozen=True)
class Clip:
    """One audio file with its class names and its fold (or split); `data`
    holds the file's encoded bytes when they come from TFRecord shards."""

    path: str
    labels: tuple
    fold: str
    data: bytes = dataclasses.field(default=None, repr=False, compare=False)


@dataclasses.dataclass(frozen=True)
class ClipSet:
    """Clips of one dataset, the class order and whether it is multi-label.

    `missing` counts listed clips whose files were not found (AudioSet).

    Example:
    >>> s = ClipSet((Clip("a.wav", ("dog",), "1"), Clip("b.wav", ("cat",), "2")), ("cat", "dog"))
    >>> s.targets().tolist(), s.folds()
    ([[0.0, 1.0], [1.0, 0.0]], ('1', '2'))
    """

    clips: tuple
    classes: tuple
    multi_label: bool = False
    missing: int = 0

    def __len__(self):
        return len(self.clips)

    def folds(self):
        return tuple(sorted({clip.fold for clip in self.clips}, key=natural_key))

    def targets(self):
        """(clips, classes) float32 one-hot or multi-hot targets."""
        index = {name: i for i, name in enumerate(self.classes)}
        targets = np.zeros((len(self.clips), len(self.classes)), np.float32)
        for row, clip in enumerate(self.clips):
            for label in clip.labels:
                if label not in index:
                    raise SourceError(
                        f"{clip.path}: unknown label {label!r}; known labels: "
                        + ", ".join(self.classes)
                    )
                targets[row, index[label]] = 1.0
        return targets

    def onto_classes(self, classes):
        """The same clips scored against `classes` (a model's class names, in
        its output order): labels are matched by name, never by position.

        Example:
        >>> s = ClipSet((Clip("a.wav", ("dog",), "1"),), ("dog",))
        >>> s.onto_classes(("cat", "dog")).targets().tolist()
        [[0.0, 1.0]]
        """
        known = set(classes)
        for clip in self.clips:
            for label in clip.labels:
                if label not in known:
                    raise SourceError(
                        f"{clip.path}: label {label!r} is not a class of the model; "
                        f"its classes: {', '.join(classes)}"
                    )
        return dataclasses.replace(self, classes=tuple(classes))

    def absent_classes(self):
        """Classes that no clip has (a test set may cover a subset)."""
        present = {label for clip in self.clips for label in clip.labels}
        return [name for name in self.classes if name not in present]

    def split(self, fold):
        """(training clips, clips of `fold`) for holding `fold` out."""
        fold = str(fold)
        if fold not in self.folds():
            raise SourceError(f"fold {fold!r} does not exist; folds: {', '.join(self.folds())}")
        keep = [c for c in self.clips if c.fold != fold]
        held = [c for c in self.clips if c.fold == fold]
        return self._with(keep), self._with(held)

    def subset(self, count):
        """`count` clips spread evenly over the set (all of them if fewer)."""
        if count >= len(self.clips):
            return self
        picks = np.linspace(0, len(self.clips) - 1, count).round().astype(int)
        return self._with(self.clips[i] for i in picks)

    def fingerprint(self, root):
        """{"clips": N, "sha256": H} over each clip's path relative to `root`,
        labels and fold, in order: the same for the dataset moved elsewhere,
        not for one with a clip added, removed, renamed or relabelled.

        Example:
        >>> s = ClipSet((Clip("/a/x.wav", ("dog",), "1"),), ("dog",))
        >>> s.fingerprint("/a") == s._with([Clip("/b/x.wav", ("dog",), "1")]).fingerprint("/b")
        True
        """
        digest = hashlib.sha256()
        root = os.path.abspath(root)
        for clip in self.clips:
            path = os.path.relpath(os.path.abspath(clip.path), root)
            line = "\t".join((path, ";".join(clip.labels), clip.fold)) + "\n"
            digest.update(line.encode("utf-8", "surrogateescape"))
        return {"clips": len(self.clips), "sha256": digest.hexdigest()}

    def _with(self, clips):
        return dataclasses.replace(self, clips=tuple(clips), missing=0)


def natural_key(text):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def audio_files_in(folder):
    return sorted(
        entry.path
        for entry in os.scandir(folder)
        if entry.is_file() and entry.name.lower().endswith(AUDIO_EXTENSIONS)
    )


def find_audio_files(root):
    """Every audio file under `root`, in any subfolder, in natural order.

    Example:
    >>> len(find_audio_files("../shared/data/esc10"))
    320
    """
    root = require_dir(root)
    found = [
        os.path.join(folder, name)
        for folder, _, names in os.walk(root)
        for name in names
        if name.lower().endswith(AUDIO_EXTENSIONS)
    ]
    if not found:
        raise SourceError(f"{root}: no audio files ({', '.join(AUDIO_EXTENSIONS)})")
    return sorted(found, key=natural_key)


def require_dir(root):
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise SourceError(f"{root}: no such folder")
    return root


def csv_rows(path, header=None, **options):
    """(line number, row) for each row of the CSV file `path`: dicts keyed by
    the header where `header` names the columns it must have, lists otherwise.
    A byte-order mark is dropped; text that is not UTF-8 or not CSV (an
    unclosed quote, a field over the csv module's limit) is a SourceError
    naming the file and line."""
    if not os.path.isfile(path):
        raise SourceError(f"{path}: no such file")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, **options) if header else csv.reader(handle, **options)
        try:
            if header and not set(header) <= set(reader.fieldnames or ()):
                raise SourceError(f"{path}: the header must name {','.join(header)}")
            for row in reader:
                yield reader.line_num, row
        except UnicodeDecodeError as error:
            raise SourceError(
                f"{path}: not UTF-8 text (byte {error.start} of a block); save it as UTF-8"
            ) from None
        except csv.Error as error:
            raise SourceError(
                f"{path}: line {reader.line_num + 1}: not valid CSV ({error})"
            ) from None
