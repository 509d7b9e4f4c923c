"""A model's metadata: what it expects and what it was trained on.

A model folder (savedmodels/<name>/) holds it as metadata.json plus labels.txt;
a training run directory holds the same facts in config.json and metrics.json,
so a run's final.keras can be exported or used for prediction as it is.
"""

import dataclasses
import os

from erann_tf import strict_json
from erann_tf.atomic import atomic_path, write_json
from erann_tf.data.frontend_config import FRONTEND, FrontendConfig
from erann_tf.data.windows import MAX_WINDOW_SECONDS, MIN_WINDOW_SECONDS

DEFAULT_WINDOW_S = 10.0  # when nothing says how long the training clips were


@dataclasses.dataclass(frozen=True)
class Metadata:
    """What a model's users need besides its weights.

    Example:
    >>> Metadata("m", tm=4, width=1, window_s=4.0, classes=("dog", "rain")).preset
    'ERANN-4x4-1'
    """

    name: str
    window_s: float  # the training crop t_c: the window that inference slides
    classes: tuple
    tm: int | None = None  # None where only a SavedModel or TFLite file is known
    width: int | None = None
    frontend: FrontendConfig = FRONTEND  # the model's frontend: rate, STFT, mels
    activation: str = "softmax"
    training: dict = dataclasses.field(default_factory=dict)  # recipe, data, clips, epochs...
    metrics: dict = dataclasses.field(default_factory=dict)
    command: str | None = None  # the command that trained it

    def __post_init__(self):
        check_class_names(self.classes, "classes")

    @property
    def preset(self):
        if self.tm is None:
            return None
        return f"ERANN-{self.window_s:g}x{self.tm}-{self.width}"

    @property
    def sample_rate(self):
        return self.frontend.sample_rate

    @property
    def window_samples(self):
        return int(round(self.window_s * self.sample_rate))

    def to_json(self):
        payload = dataclasses.asdict(self)
        payload["classes"] = list(self.classes)
        payload["preset"] = self.preset
        payload["sample_rate"] = self.sample_rate  # for readers that know no frontend
        return payload

    @classmethod
    def from_json(cls, payload):
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in payload.items() if k in fields}
        values["classes"] = tuple(values.get("classes", ()))
        values["frontend"] = _frontend(payload)
        return cls(**values)


def for_model(model, name=None):
    """Metadata from the model alone: class_0..class_{n-1} and a 10 s window."""
    return Metadata(
        name or model.name,
        window_s=DEFAULT_WINDOW_S,
        classes=numbered_classes(model.output.shape[-1]),
        tm=model.tm,
        width=model.width,
        frontend=model.frontend,
        activation=model.activation,
    )


def for_file(path, num_classes, window_s=DEFAULT_WINDOW_S):
    """Metadata of an exported file with no metadata.json: its class names from
    a labels.txt beside it, else class_0..class_{n-1}."""
    folder = path if os.path.isdir(path) else os.path.dirname(path)
    labels = os.path.join(folder, "labels.txt")
    classes = numbered_classes(num_classes)
    if os.path.isfile(labels):
        named = read_labels(folder)
        if len(named) != num_classes:
            raise ValueError(f"{labels}: {len(named)} names for a model of {num_classes} classes")
        classes = named
    name = os.path.splitext(os.path.basename(os.path.normpath(path)))[0]
    return Metadata(name, window_s=window_s, classes=classes)


def _frontend(payload):
    # `sample_rate` beside `frontend` is for readers that know no frontend; the two agree.
    frontend = FrontendConfig.from_dict(payload.get("frontend") or {})
    rate = payload.get("sample_rate", frontend.sample_rate)
    if rate != frontend.sample_rate:
        raise ValueError(f"sample_rate {rate!r} differs from the frontend's {frontend.sample_rate}")
    return frontend


def check_class_names(classes, where):
    """A ValueError naming `where` unless `classes` are distinct, non-empty
    strings: a name given twice would make two outputs one class.

    Example:
    >>> check_class_names(("dog", "rain", "dog"), "labels.txt")
    Traceback (most recent call last):
    ...
    ValueError: labels.txt: class names must differ; given more than once: dog
    """
    if not all(isinstance(name, str) and name for name in classes):
        raise ValueError(f"{where}: every class name must be a non-empty string")
    repeated = sorted({name for name in classes if classes.count(name) > 1})
    if repeated:
        raise ValueError(
            f"{where}: class names must differ; given more than once: {', '.join(repeated)}"
        )


def numbered_classes(count):
    return tuple(f"class_{i}" for i in range(count))


def find_metadata(model_path):
    """The metadata.json beside a model file or inside (or one above) a model
    folder, else None."""
    folder = model_path if os.path.isdir(model_path) else os.path.dirname(model_path)
    for candidate in (folder, os.path.dirname(os.path.abspath(folder))):
        path = os.path.join(candidate, "metadata.json")
        if os.path.isfile(path):
            return read_metadata(path)
    return None


def is_run_folder(folder):
    """Whether `folder` is a training run's output: config.json and
    metrics.json, or labels.txt while the run is still training."""
    has = lambda name: os.path.isfile(os.path.join(folder, name))  # noqa: E731
    return has("config.json") and (has("metrics.json") or has("labels.txt"))


def read_metadata(path):
    payload = strict_json.load(path)  # a ValueError naming the file where it is not JSON
    try:
        if not isinstance(payload, dict):
            raise TypeError(f"a JSON {type(payload).__name__}, not an object")
        return Metadata.from_json(payload)
    except (ValueError, TypeError) as error:
        raise ValueError(f"{path}: not a valid metadata.json ({error})") from None


def check_metadata(metadata, num_classes, frontend=None, source="the model"):
    """`metadata` unchanged, or a ValueError in one line where it does not fit
    the model it describes: its class count, the frontend the model was built
    with, a window between MIN_ and MAX_WINDOW_SECONDS."""
    if len(metadata.classes) != num_classes:
        raise ValueError(
            f"{source}: its metadata names {len(metadata.classes)} classes for a model "
            f"of {num_classes}"
        )
    if frontend is not None and metadata.frontend != frontend:
        ours, theirs = metadata.frontend.to_dict(), frontend.to_dict()
        differ = ", ".join(
            f"{k} {ours[k]!r} (the model: {theirs[k]!r})" for k in ours if ours[k] != theirs[k]
        )
        raise ValueError(f"{source}: its metadata's frontend differs from the model's: {differ}")
    window = metadata.window_s
    if not (
        isinstance(window, (int, float)) and MIN_WINDOW_SECONDS <= window <= MAX_WINDOW_SECONDS
    ):
        raise ValueError(
            f"{source}: its metadata's window_s={window!r} is outside "
            f"{MIN_WINDOW_SECONDS:g} .. {MAX_WINDOW_SECONDS:g} s"
        )
    return metadata


def write_metadata(folder, metadata):
    """metadata.json and labels.txt (one class a line, in output order), atomically."""
    write_json(os.path.join(folder, "metadata.json"), metadata.to_json())
    write_labels(folder, metadata.classes)


def read_labels(folder):
    """The class names in `folder`'s labels.txt, in output order."""
    path = os.path.join(folder, "labels.txt")
    with open(path, encoding="utf-8") as handle:
        classes = tuple(line.rstrip("\n") for line in handle)
    check_class_names(classes, path)
    return classes


def write_labels(folder, classes):
    """labels.txt in `folder`: one class a line, in output order, atomically."""
    with atomic_path(os.path.join(folder, "labels.txt")) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write("".join(f"{label}\n" for label in classes))
