"""Learning-rate schedules."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="erann_tf")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """One-cycle learning rate (as torch.optim.lr_scheduler.OneCycleLR with
    cosine annealing): from max/div_factor up to `max_learning_rate` over the
    first `warmup_fraction` of the steps, then down to max/final_div_factor.

    Example:
    >>> schedule = OneCycle(1e-3, total_steps=100)
    >>> round(float(schedule(30)), 6), round(float(schedule(100)), 9)
    (0.001, 1e-07)
    """

    def __init__(
        self,
        max_learning_rate,
        total_steps,
        warmup_fraction=0.3,
        div_factor=25.0,
        final_div_factor=1e4,
    ):
        self.max_learning_rate = float(max_learning_rate)
        self.total_steps = int(total_steps)
        self.warmup_fraction = float(warmup_fraction)
        self.div_factor = float(div_factor)
        self.final_div_factor = float(final_div_factor)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        peak = self.max_learning_rate
        start, end = peak / self.div_factor, peak / self.final_div_factor
        warmup = max(1.0, self.warmup_fraction * self.total_steps)
        decay = max(1.0, self.total_steps - warmup)
        up = ops.clip(step / warmup, 0.0, 1.0)
        down = ops.clip((step - warmup) / decay, 0.0, 1.0)
        rising = start + (peak - start) * (1 - ops.cos(math.pi * up)) / 2
        falling = end + (peak - end) * (1 + ops.cos(math.pi * down)) / 2
        return ops.where(step < warmup, rising, falling)

    def get_config(self):
        return {
            "max_learning_rate": self.max_learning_rate,
            "total_steps": self.total_steps,
            "warmup_fraction": self.warmup_fraction,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
        }
