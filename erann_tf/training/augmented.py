"""The training wrapper: random crop and SPL mixup inside the training step."""

import keras

from erann_tf.data.augment import random_crop, spl_mixup


class AugmentedTrainer(keras.Model):
    """Trains `model` on batches ({"waveform", "length", "targets"}, targets).

    Inside the step, on the accelerator and on every backend: a random
    `crop_samples` window of each clip's valid audio, then SPL-aware mixup of
    waveforms and targets (alpha 0 turns it off). The model's own SpecAugment
    and pitch shift follow. The loss and metrics use the mixed targets; with
    `teaching` (a distillation.Teaching) its teachers score the same batch and
    the loss is the distillation loss.
    Evaluate and export `model` itself, not this wrapper.

    Example:
    >>> from erann_tf import ERANN
    >>> trainer = AugmentedTrainer(ERANN(tm=4, width=1, num_classes=3), crop_samples=44100)
    """

    def __init__(self, model, crop_samples, mixup_alpha=1.0, seed=None, teaching=None, **kwargs):
        # Waveforms stay float32 under mixed precision (bfloat16 keeps 8 bits of
        # mantissa); the wrapped model applies the policy after its frontend.
        kwargs["dtype"] = "float32"
        super().__init__(**kwargs)
        self.model = model
        self.crop_samples = int(crop_samples)
        self.mixup_alpha = float(mixup_alpha)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.teaching = teaching  # a distillation.Teaching, or None
        # Tracked (frozen) so that every backend's step sees their weights.
        self.teachers = list(teaching.teachers) if teaching else []
        self.built = True  # the wrapped model is built; the wrapper has no weights of its own

    @property
    def checkpointed_variables(self):
        """The variables a checkpoint holds: all but the teachers', which
        stay in their own files."""
        fixed = {id(v) for teacher in self.teachers for v in teacher.variables}
        return [v for v in self.variables if id(v) not in fixed]

    def call(self, inputs, training=False):
        waveform, targets = inputs["waveform"], inputs["targets"]
        waveform = random_crop(waveform, inputs["length"], self.crop_samples, self.seed_generator)
        if training and self.mixup_alpha > 0:
            waveform, targets = spl_mixup(waveform, targets, self.mixup_alpha, self.seed_generator)
        if training and self.teaching is not None:
            scores, logits, taught = self.teaching.forward(self.model, waveform)
            return {"scores": scores, "targets": targets, "logits": logits, "taught": taught}
        return {"scores": self.model(waveform, training=training), "targets": targets}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y_pred["targets"], y_pred["scores"], sample_weight, training)
        if "taught" not in y_pred:
            return loss
        return self.teaching.loss(loss, y_pred["logits"], y_pred["taught"])

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(x, y_pred["targets"], y_pred["scores"], sample_weight)
