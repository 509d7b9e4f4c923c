"""The model and its trainer for a run's settings: both training loops and
the tuner build them here."""

import keras

from erann_tf.models import ERANN
from erann_tf.models.erann import load_erann
from erann_tf.training.augmented import AugmentedTrainer
from erann_tf.training.optimizers import EMAAdam
from erann_tf.training.recipes import get_recipe
from erann_tf.training.schedules import OneCycle


def build_model(settings, num_classes, init_from=None, seed=0):
    """A fresh ERANN for the recipe, or `init_from` with a new head when its
    classes differ (fine-tuning: nothing is frozen)."""
    model = ERANN(
        tm=settings.tm,
        width=settings.width,
        num_classes=num_classes,
        activation=get_recipe(settings.recipe).activation,
        time_mask=settings.time_mask,
        freq_mask=settings.freq_mask,
        pitch_shift=settings.pitch_shift,
        gain_db=settings.gain_db,
        seed=seed,
    )
    if init_from is None:
        return model
    source = load_erann(init_from, "--init-from")
    if (source.tm, source.width) != (settings.tm, settings.width):
        raise ValueError(
            f"{init_from}: tm={source.tm}, width={source.width} differ from the run's "
            f"tm={settings.tm}, width={settings.width}; give --tm/--width to match"
        )
    head = {"fc2", "scores"} if source.num_classes != num_classes else {"scores"}
    for layer in model.layers:
        if layer.name not in head and layer.weights:
            layer.set_weights(source.get_layer(layer.name).get_weights())
    return model


def jit_compiles():
    """Whether training steps are jit-compiled on the present backend. Not on
    TensorFlow, whose oneDNN CPU kernels are faster than XLA's; on JAX, or
    Keras runs the step op by op (docs/training-speed.md)."""
    return keras.backend.backend() != "tensorflow"


def compile_trainer(model, settings, steps, seed, teaching=None):
    """The AugmentedTrainer with Adam (EMA of the weights), the recipe's loss,
    schedule and metric, its optimizer variables created; with `teaching`
    (a distillation.Teaching), the distillation loss."""
    recipe = get_recipe(settings.recipe)
    learning_rate = settings.learning_rate
    if settings.schedule == "one_cycle":
        learning_rate = OneCycle(learning_rate, total_steps=steps * settings.epochs)
    optimizer = EMAAdam(learning_rate, ema_momentum=recipe.ema_decay)
    trainer = AugmentedTrainer(
        model, settings.crop_samples, settings.mixup_alpha, seed=seed, teaching=teaching
    )
    if recipe.multi_label:
        loss, metrics = (
            keras.losses.BinaryCrossentropy(),
            [keras.metrics.AUC(name="auc", multi_label=True)],
        )
    else:
        loss, metrics = (
            keras.losses.CategoricalCrossentropy(),
            [keras.metrics.CategoricalAccuracy(name="accuracy")],
        )
    trainer.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit_compiles())
    trainer.optimizer.build(trainer.trainable_variables)
    return trainer
