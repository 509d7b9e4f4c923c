"""Training recipes as frozen dataclasses: what each dataset is trained with
unless a flag says otherwise. The paper's, and esc10-cpu, fsdd-cpu and
ravdess-cpu, tuned here for a CPU."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Recipe:
    """What a recipe fixes, and its defaults for the training settings
    (`settings`: TrainConfig field -> value, where it differs from the
    field's own default; `erann train` flags may override them).

    Example:
    >>> RECIPES["ravdess"].settings["pitch_shift"]
    2.0
    """

    name: str
    source: str  # the reader in erann_tf.data.sources
    model: str  # default preset (t_m and W)
    activation: str  # "softmax" (classification) or "sigmoid" (tagging)
    window_seconds: float  # windows the input pipeline hands to the step (>= the crop)
    settings: dict = dataclasses.field(default_factory=dict)
    finetune_learning_rate: float = 1e-4  # with --init-from
    ema_decay: float = 0.999

    @property
    def multi_label(self):
        return self.activation == "sigmoid"


RECIPES = {
    "audioset": Recipe(
        "audioset", source="audioset", model="ERANN-8x4-5", activation="sigmoid",
        window_seconds=10.0,
        settings=dict(crop_seconds=8.0, learning_rate=1e-3, schedule="one_cycle",
                      balanced=True, epochs=30),
    ),
    "esc50": Recipe(
        "esc50", source="esc50", model="ERANN-4x2-3", activation="softmax", window_seconds=5.0
    ),
    "esc10": Recipe(
        "esc10", source="esc10", model="ERANN-4x2-3", activation="softmax", window_seconds=5.0
    ),
    "ravdess": Recipe(
        "ravdess", source="ravdess", model="ERANN-3x1-4", activation="softmax",
        window_seconds=5.0, settings=dict(crop_seconds=3.0, pitch_shift=2.0),
    ),
    # FSDD's 1 s crop is 128 frames: time masks scaled from 64 frames per 4 s crop.
    "fsdd": Recipe(
        "fsdd", source="fsdd", model="ERANN-1x4-1", activation="softmax", window_seconds=1.0,
        settings=dict(crop_seconds=1.0, time_mask=16, epochs=30),
    ),
    # Not the paper's: ESC-10 on a laptop's CPU (docs/cpu-recipe.md says how `erann tune`
    # chose it).
    "esc10-cpu": Recipe(
        "esc10-cpu", source="esc10", model="ERANN-4x4-1", activation="softmax",
        window_seconds=5.0,
        settings=dict(crop_seconds=3.3, learning_rate=3.9e-4, schedule="one_cycle",
                      mixup_alpha=0.54, time_mask=0, freq_mask=1, epochs=20),
    ),
    # Not the paper's: FSDD on a laptop's CPU (docs/cpu-recipe.md).
    "fsdd-cpu": Recipe(
        "fsdd-cpu", source="fsdd", model="ERANN-1x4-1", activation="softmax",
        window_seconds=1.0,
        settings=dict(crop_seconds=0.94, learning_rate=1e-3, mixup_alpha=0.75, time_mask=21,
                      freq_mask=1, pitch_shift=1.6, gain_db=6.5, epochs=30),
    ),
    # Not the paper's: RAVDESS on a laptop's CPU, far below the GPU's model
    # (docs/cpu-recipe.md).
    "ravdess-cpu": Recipe(
        "ravdess-cpu", source="ravdess", model="ERANN-3x4-1", activation="softmax",
        window_seconds=5.0,
        settings=dict(crop_seconds=3.0, learning_rate=1e-3, pitch_shift=3.0, gain_db=6.0,
                      recalibrate_bn=8),
    ),
}  # fmt: skip


def get_recipe(name):
    """The recipe called `name`, or a ValueError listing the recipes.

    Example:
    >>> get_recipe("esc10").source
    'esc10'
    """
    if name not in RECIPES:
        raise ValueError(f"recipe {name!r} is unknown; recipes: {', '.join(RECIPES)}")
    return RECIPES[name]
