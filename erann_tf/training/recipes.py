"""The paper's training recipes as frozen dataclasses (DESIGN.md §3)."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Recipe:
    """Everything a recipe fixes; `erann train` flags may override a field.

    Example:
    >>> RECIPES["ravdess"].crop_seconds, RECIPES["ravdess"].pitch_shift
    (3.0, 2.0)
    """

    name: str
    source: str  # the reader in erann_tf.data.sources
    model: str  # default preset (t_m and W)
    crop_seconds: float  # t_c: random training crops
    window_seconds: float  # windows the input pipeline hands to the step (>= crop)
    learning_rate: float  # from scratch
    finetune_learning_rate: float
    activation: str  # "softmax" (classification) or "sigmoid" (tagging)
    schedule: str = "constant"  # or "one_cycle"
    balanced: bool = False  # class-balanced sampling (multi-label)
    mixup_alpha: float = 1.0  # 0 turns SPL mixup off
    time_mask: int = 64
    freq_mask: int = 16
    pitch_shift: float = 0.0  # semitones; speech only
    batch_size: int = 32
    ema_decay: float = 0.999
    epochs: int = 60

    @property
    def multi_label(self):
        return self.activation == "sigmoid"


RECIPES = {
    "audioset": Recipe(
        "audioset", "audioset", "ERANN-8x4-5", 8.0, 10.0, 1e-3, 1e-4, "sigmoid",
        schedule="one_cycle", balanced=True, epochs=30,
    ),
    "esc50": Recipe("esc50", "esc50", "ERANN-4x2-3", 4.0, 5.0, 2e-4, 1e-4, "softmax"),
    "esc10": Recipe("esc10", "esc10", "ERANN-4x2-3", 4.0, 5.0, 2e-4, 1e-4, "softmax"),
    "ravdess": Recipe(
        "ravdess", "ravdess", "ERANN-3x1-4", 3.0, 5.0, 2e-4, 1e-4, "softmax", pitch_shift=2.0
    ),
    # FSDD's 1 s crop is 128 frames: time masks scaled from 64 frames per 4 s crop.
    "fsdd": Recipe(
        "fsdd", "fsdd", "ERANN-1x4-1", 1.0, 1.0, 2e-4, 1e-4, "softmax", time_mask=16, epochs=30
    ),
}  # fmt: skip


def get_recipe(name):
    """The recipe called `name`, or a ValueError listing the recipes.

    Example:
    >>> get_recipe("esc10").learning_rate
    0.0002
    """
    if name not in RECIPES:
        raise ValueError(f"recipe {name!r} is unknown; recipes: {', '.join(RECIPES)}")
    return RECIPES[name]
