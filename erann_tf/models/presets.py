"""Paper preset names ERANN-{tc}x{tm}-{W}, the paper's reported results, and
the trained models the package ships."""

import dataclasses
import os
import re

from erann_tf.models.architecture import validate

_NAME = re.compile(r"^(?:erann-)?(\d+)x(\d+)-(\d+)$", re.IGNORECASE)

# (dataset, training, metric) -> {preset suffix: value}, from the paper.
_PAPER_RESULTS = {
    ("AudioSet", "from scratch", "mAP"): {
        "8x4-4": 0.430, "8x4-5": 0.446, "8x1-6": 0.447, "8x2-6": 0.450,
        "4x4-6": 0.417, "8x4-6": 0.448, "10x4-6": 0.440, "8x8-6": 0.436,
    },
    ("ESC-50", "from scratch", "accuracy"): {
        "4x2-3": 0.892, "4x1-4": 0.892, "4x2-4": 0.891, "4x4-4": 0.880, "4x4-5": 0.879,
    },
    ("ESC-50", "fine-tuned", "accuracy"): {
        "4x4-4": 0.949, "4x4-5": 0.961, "4x1-6": 0.953, "4x2-6": 0.954, "4x4-6": 0.959,
    },
    ("RAVDESS", "from scratch", "accuracy"): {
        "3x2-3": 0.731, "3x1-4": 0.748, "3x2-4": 0.741, "3x4-4": 0.722, "3x4-5": 0.720,
    },
    ("RAVDESS", "fine-tuned", "accuracy"): {
        "3x4-4": 0.730, "3x4-5": 0.737, "3x1-6": 0.743, "3x2-6": 0.735, "3x4-6": 0.734,
    },
}  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Preset:
    """A paper configuration: training crop t_c in seconds, t_m and width W.

    Example:
    >>> Preset(crop_seconds=8, tm=4, width=5).name
    'ERANN-8x4-5'
    """

    crop_seconds: int
    tm: int
    width: int

    def __post_init__(self):
        validate(self.tm, self.width)
        if self.crop_seconds < 1:
            raise ValueError(f"crop_seconds={self.crop_seconds!r} is not allowed; it must be >= 1")

    @property
    def name(self):
        return f"ERANN-{self.crop_seconds}x{self.tm}-{self.width}"


@dataclasses.dataclass(frozen=True)
class PaperResult:
    """One figure reported in the paper for a preset.

    Example:
    >>> paper_results("ERANN-8x2-6")[0]
    PaperResult(dataset='AudioSet', training='from scratch', metric='mAP', value=0.45)
    """

    dataset: str
    training: str
    metric: str
    value: float


def parse_preset(name):
    """Parses "ERANN-{tc}x{tm}-{W}" (the "ERANN-" prefix and case are optional).

    Example:
    >>> parse_preset("ERANN-8x4-5")
    Preset(crop_seconds=8, tm=4, width=5)
    """
    match = _NAME.match(str(name).strip())
    if not match:
        raise ValueError(
            f"preset {name!r} is not a preset name; expected ERANN-{{tc}}x{{tm}}-{{W}}, "
            "e.g. ERANN-8x4-5, with tm one of 1, 2, 4, 8, 16 and W >= 1"
        )
    crop, tm, width = (int(group) for group in match.groups())
    try:
        return Preset(crop_seconds=crop, tm=tm, width=width)
    except ValueError as error:
        raise ValueError(f"preset {name!r}: {error}") from None


def paper_results(name):
    """Every result the paper reports for this preset (possibly none).

    Example:
    >>> [r.dataset for r in paper_results("ERANN-4x4-5")]
    ['ESC-50', 'ESC-50']
    """
    suffix = parse_preset(name).name.removeprefix("ERANN-")
    return tuple(
        PaperResult(dataset, training, metric, values[suffix])
        for (dataset, training, metric), values in _PAPER_RESULTS.items()
        if suffix in values
    )


def shipped_models_dir():
    """The folder of the trained models the package ships: installed, the
    package data erann_tf.savedmodels; in a source checkout, savedmodels/
    beside the package (Python then imports erann_tf from the checkout)."""
    import importlib.util

    spec = importlib.util.find_spec("erann_tf.savedmodels")
    if spec is not None and spec.submodule_search_locations:
        return list(spec.submodule_search_locations)[0]
    checkout = os.path.join(
        os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "savedmodels"
    )
    return checkout if os.path.isdir(checkout) else None


def shipped_models():
    """Names of the shipped trained models (folders with a model.keras).

    Example:
    >>> "erann-esc10" in shipped_models()
    True
    """
    folder = shipped_models_dir()
    if folder is None or not os.path.isdir(folder):
        return ()
    return tuple(
        sorted(
            n for n in os.listdir(folder) if os.path.isfile(os.path.join(folder, n, "model.keras"))
        )
    )


def shipped_model_dir(name):
    """The folder of the shipped model `name`, or a ValueError listing them."""
    if name not in shipped_models():
        raise ValueError(
            f"no shipped model {name!r}; shipped models: {', '.join(shipped_models()) or 'none'}"
        )
    return os.path.join(shipped_models_dir(), name)
