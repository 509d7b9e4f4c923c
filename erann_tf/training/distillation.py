"""Knowledge distillation: teachers that score the student's own training batch.

Consistent teaching (Beyer et al., 2022, "a good teacher is patient and
consistent"): inside the training step the teachers see exactly what the
student sees, the same crop and mixup of the waveform, the same log-mel with
the student's random gain and pitch shift, and the same SpecAugment masks.
Precomputed teacher labels could not follow those per-step draws.

The student and its teachers must share the frontend (one log-mel feeds them
all) and the classes (matched by name; a teacher's order may differ).
"""

import dataclasses
import hashlib
import os
import sys

import keras
from keras import ops

from erann_tf.data.frontend_config import FRONTEND
from erann_tf.layers import SpecAugment
from erann_tf.models.architecture import time_multiple
from erann_tf.models.erann import load_erann
from erann_tf.models.metadata import Metadata, find_metadata, is_run_folder, read_labels
from erann_tf.models.presets import shipped_model_dir, shipped_models
from erann_tf.training.recipes import get_recipe
from erann_tf.training.run_metadata import run_metadata

SHARED_UNTIL = "time_padding"  # the student's layers before it feed the teachers too


@dataclasses.dataclass(frozen=True)
class TeacherFile:
    """A `--teacher SPEC`, the .keras file it names and that file's SHA-256."""

    spec: str
    path: str
    sha256: str


def teacher_files(specs):
    """A TeacherFile for each SPEC: a shipped model's name, a model folder
    (its model.keras), a training run's folder (its final.keras) or a .keras file.

    Example:
    >>> [t.path.endswith("model.keras") for t in teacher_files(["erann-fsdd"])]
    [True]
    """
    files = []
    for spec in specs:
        path = _teacher_path(spec)
        files.append(TeacherFile(spec, path, _sha256(path)))
    return tuple(files)


def _teacher_path(spec):
    if spec in shipped_models():
        return os.path.join(shipped_model_dir(spec), "model.keras")
    if os.path.isdir(spec):
        for name in ("model.keras", "final.keras"):
            if os.path.isfile(os.path.join(spec, name)):
                return os.path.join(spec, name)
    elif os.path.isfile(spec) and spec.endswith(".keras"):
        return spec
    shipped = ", ".join(shipped_models()) or "none"
    raise ValueError(
        f"--teacher {spec}: not a shipped model ({shipped}), a model or finished run folder "
        "(model.keras or final.keras) or a .keras file"
    )


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_unchanged(files, recorded):
    """A ValueError naming --teacher unless each file's SHA-256 is the one
    the run recorded when it began (`recorded`, in the same order)."""
    for teacher, sha in zip(files, recorded, strict=True):
        if teacher.sha256 != sha:
            raise ValueError(
                f"--teacher {teacher.spec}: {teacher.path} is not the file the run began with "
                f"(SHA-256 {sha[:12]}... then, {teacher.sha256[:12]}... now)"
            )


def teacher_metadata(teacher):
    """The Metadata of a TeacherFile's model: its metadata.json, a training
    run's facts, else the labels.txt beside it (window unknown: None)."""
    found = find_metadata(teacher.path)
    folder = os.path.dirname(teacher.path)
    if found is None and is_run_folder(folder):
        found = run_metadata(folder)
    if found is None and os.path.isfile(os.path.join(folder, "labels.txt")):
        found = Metadata(teacher.spec, window_s=None, classes=read_labels(folder))
    if found is None:
        raise ValueError(
            f"--teacher {teacher.spec}: no metadata.json or labels.txt beside {teacher.path} "
            "to match its classes with the data's"
        )
    return found


def load_teacher(teacher, classes, activation, crop_seconds=None, frontend=FRONTEND):
    """The teacher's ERANN (frozen) and the index of each of `classes` (the
    student's, in its output order) among the teacher's outputs; a ValueError
    in one line naming --teacher where its classes, frontend or activation
    differ from the student's. A warning on stderr where it was trained on
    other windows than the student's `crop_seconds`: it teaches what it
    scores on the student's crops (erann-fsdd, trained on 1 s, is at chance
    on 0.5 s crops)."""
    where = f"--teacher {teacher.spec}"
    model = load_erann(teacher.path, "--teacher")
    metadata = teacher_metadata(teacher)
    theirs = tuple(metadata.classes)
    if len(theirs) != model.num_classes:
        raise ValueError(f"{where}: {len(theirs)} class names for a model of {model.num_classes}")
    if sorted(theirs) != sorted(classes):
        missing = sorted(set(classes) - set(theirs)) or sorted(set(theirs) - set(classes))
        raise ValueError(
            f"{where}: its classes differ from the data's ({len(theirs)} against {len(classes)}; "
            f"not in both: {', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''})"
        )
    if model.frontend != frontend:
        ours, its = frontend.to_dict(), model.frontend.to_dict()
        differ = ", ".join(
            f"{k} {its[k]!r} (student {ours[k]!r})" for k in ours if ours[k] != its[k]
        )
        raise ValueError(f"{where}: its frontend differs from the student's: {differ}")
    if model.activation != activation:
        raise ValueError(
            f"{where}: a {model.activation} model cannot teach a {activation} one; "
            "use a teacher trained with the same kind of recipe"
        )
    window = metadata.window_s
    if crop_seconds and window and abs(window - crop_seconds) > 0.01 * window:
        print(
            f"warning: {where} was trained on {window:g} s windows and sees the student's "
            f"{crop_seconds:g} s crops; it may teach far below its accuracy",
            file=sys.stderr,
        )
    model.trainable = False
    return model, tuple(theirs.index(name) for name in classes)


class Teaching:
    """Teachers and how they teach: the distillation loss's weight w and
    temperature T. Softmax: (1 - w) CE(mixed targets) + w T^2 KL(teacher_T ||
    student_T), the teachers' tempered probabilities averaged; sigmoid:
    (1 - w) BCE(mixed targets) + w BCE(teachers' mean probabilities).

    Example:
    >>> from erann_tf import ERANN
    >>> teacher = ERANN(tm=4, width=1, num_classes=3, activation="softmax")
    >>> teaching = Teaching([teacher], [(0, 1, 2)], weight=0.9, temperature=2.0)
    """

    @classmethod
    def for_settings(cls, loaded, settings):
        """The Teaching of `load_teacher`'s (model, order) pairs with a
        Settings' weight, temperature and recipe."""
        teachers, orders = zip(*loaded, strict=True)
        return cls(
            teachers, orders, settings.distill_weight, settings.temperature,
            multi_label=get_recipe(settings.recipe).multi_label,
        )  # fmt: skip

    def __init__(self, teachers, orders, weight, temperature, multi_label=False):
        self.teachers = list(teachers)
        self.orders = [tuple(order) for order in orders]
        self.weight = float(weight)
        self.temperature = float(temperature)
        self.multi_label = multi_label

    def forward(self, student, waveform):
        """The student's (scores, logits) on `waveform` in training mode and
        the teachers' targets on the same augmented features."""
        x, shared, masks, logits = waveform, None, None, None
        for layer in _chain(student):
            if layer.name == SHARED_UNTIL:
                shared = x
            if isinstance(layer, SpecAugment):
                masks = layer.draw_masks(ops.shape(x))
                x = layer.apply_masks(x, masks)
            else:
                x = layer(x, training=True)
            if layer.name == "fc2":
                logits = x
        return x, ops.cast(logits, "float32"), self._targets(shared, masks)

    def _targets(self, features, masks):
        probabilities = [
            ops.take(self._probabilities(teacher, features, masks), order, axis=-1)
            for teacher, order in zip(self.teachers, self.orders, strict=True)
        ]
        return ops.mean(ops.stack(probabilities), axis=0)

    def _probabilities(self, teacher, x, masks):
        pad = time_multiple(teacher.tm)  # its padded frames exceed the student's by less
        for layer in _chain(teacher, first=SHARED_UNTIL):
            if isinstance(layer, SpecAugment):
                frames = ops.shape(x)[1]
                fitted = ops.pad(masks, [[0, 0], [0, pad], [0, 0]])[:, :frames]
                x = layer.apply_masks(x, fitted)
            else:
                x = layer(x, training=False)
            if layer.name == "fc2":
                break
        logits = ops.cast(x, "float32")
        if self.multi_label:
            return ops.sigmoid(logits)
        return ops.softmax(logits / self.temperature, axis=-1)

    def loss(self, label_loss, logits, targets):
        """The training loss from the loss against the mixed labels, the
        student's logits and the teachers' targets."""
        if self.multi_label:
            taught = keras.losses.binary_crossentropy(targets, logits, from_logits=True)
        else:
            log_student = ops.log_softmax(logits / self.temperature, axis=-1)
            log_teacher = ops.log(ops.maximum(targets, 1e-30))
            kl = ops.sum(targets * (log_teacher - log_student), axis=-1)
            taught = self.temperature**2 * kl
        return (1.0 - self.weight) * label_loss + self.weight * ops.mean(taught)


def _chain(model, first=None):
    """`model`'s layers in order from `first` (by name) on, without its input:
    an ERANN is one chain of layers."""
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if first is not None:
        layers = layers[[layer.name for layer in layers].index(first) :]
    return layers
