"""A run folder: its files' paths, atomic writes, and the checks of what it holds.

It holds config.json, checkpoint.npz (full state after each epoch, atomic),
clips.json (what it trains on, for --resume), logs/ (TensorBoard),
history.json, learning_curves.png, labels.txt, best.keras (with a validation
fold), final.keras, metrics.json and evaluation.png (when the run ends).
"""

import dataclasses
import os

from erann_tf import strict_json
from erann_tf.atomic import FolderLock, atomic_path, write_json
from erann_tf.training.config import TrainConfig
from erann_tf.training.distribute import unsynchronized


class RunDir:
    """Paths and atomic writes of one run folder."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self.config = os.path.join(self.path, "config.json")
        self.checkpoint = os.path.join(self.path, "checkpoint.npz")
        self.logs = os.path.join(self.path, "logs")
        self.curves = os.path.join(self.path, "learning_curves.png")
        self.metrics = os.path.join(self.path, "metrics.json")  # written when the run ends
        self.clips = os.path.join(self.path, "clips.json")  # what it trains on, for --resume
        self.lock = FolderLock(self.path)

    def check_free(self):
        if os.path.exists(self.config):
            raise FileExistsError(
                f"{self.path}: a run exists here; use --resume or another --output"
            )

    def create(self, config):
        self.check_free()
        self.lock.acquire()
        self.check_free()  # a writer that started meanwhile has finished by now
        write_json(self.config, dataclasses.asdict(config))

    def load_config(self):
        if not os.path.isfile(self.config):
            raise FileNotFoundError(f"{self.path}: no config.json to resume from")
        saved = strict_json.load(self.config)
        fields = {field.name for field in dataclasses.fields(TrainConfig)}
        unknown = sorted(set(saved) - fields) if isinstance(saved, dict) else None
        if unknown is None or unknown:
            raise ValueError(
                f"{self.config}: not a training config"
                + (f" (unknown keys: {', '.join(unknown)})" if unknown else "")
            )
        return TrainConfig(**saved)

    def history(self):
        return _read_json(os.path.join(self.path, "history.json"), missing=[])

    def result(self):
        """metrics.json's contents, or None while the run has not finished."""
        return _read_json(self.metrics, missing=None)

    def check_clips(self, clips, data):
        """A ValueError unless `clips` (fingerprints of the training and
        validation clips read from `data` now) are those the run began with:
        a resumed run may read its dataset from another place, never other clips."""
        began = _read_json(self.clips, missing=None)
        if clips is None or began is None:
            return
        for part, now in clips.items():
            then = began.get(part)
            if now != then:
                counts = [c["clips"] if c else 0 for c in (now, then)]
                how = (
                    f"{counts[0]} now, {counts[1]} then"
                    if counts[0] != counts[1]
                    else f"as many, {counts[0]}, with other paths, labels or folds"
                )
                raise ValueError(
                    f"{self.path}: --data {data} holds other {part} clips than the run began "
                    f"with ({how}); give the data it trained on"
                )

    def write_history(self, history):
        write_json(os.path.join(self.path, "history.json"), history)

    def save_model(self, model, name):
        with atomic_path(os.path.join(self.path, name)) as tmp, unsynchronized(model):
            model.save(tmp)


def _read_json(path, missing):
    """The JSON file at `path`, or `missing` where there is none."""
    if not os.path.isfile(path):
        return missing
    return strict_json.load(path)
