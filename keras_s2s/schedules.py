"""Learning-rate schedules: linear warm-up, then inverse square root or cosine decay.

A schedule is a function of the optimizer's step counter (`optimizer.iterations`,
a variable saved with the optimizer), so a run resumed from a backup carries on
at the learning rate it had reached instead of warming up again.

With `gradient_accumulation_steps=N`, Keras calls the schedule with the number
of *batches* seen (N per update), so steps here are always batches.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from keras_s2s.training_settings import SCHEDULES, check_schedule_options  # noqa: F401

# The cosine schedule ends at this fraction of its peak rather than at 0, so
# the last epochs still learn something.
COSINE_FLOOR_FRACTION = 0.1


@keras.saving.register_keras_serializable(package="keras_s2s")
class InverseSquareRootSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to `peak_learning_rate`, then decay as 1/sqrt(step).

        lr(step) = peak * min(step / warmup_steps, sqrt(warmup_steps / step))

    fairseq's `inverse_sqrt` (with its warm-up starting from 0), the schedule
    of "Attention Is All You Need" up to a constant factor. Step 0 has rate 0.

    Args:
        peak_learning_rate: the rate at `warmup_steps`.
        warmup_steps: length of the linear warm-up, >= 1.

    Example:
        >>> schedule = InverseSquareRootSchedule(peak_learning_rate=1e-3, warmup_steps=100)
        >>> round(float(schedule(400)), 6)  # 1e-3 * sqrt(100 / 400)
        0.0005
    """

    def __init__(self, peak_learning_rate: float, warmup_steps: int):
        _check_positive_rate(peak_learning_rate, "peak_learning_rate")
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) \
                or warmup_steps < 1:
            raise ValueError(f"warmup_steps must be an integer >= 1 for the inverse square "
                             f"root schedule (its peak ends the warm-up), got {warmup_steps!r}.")
        self.peak_learning_rate = float(peak_learning_rate)
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warmup = float(self.warmup_steps)
        # max(step, 1): at step 0 the warm-up term (0) is the minimum anyway.
        decay = tf.sqrt(warmup / tf.maximum(step, 1.0))
        return self.peak_learning_rate * tf.minimum(step / warmup, decay)

    def get_config(self):
        return {"peak_learning_rate": self.peak_learning_rate, "warmup_steps": self.warmup_steps}


@keras.saving.register_keras_serializable(package="keras_s2s")
class WarmupCosineSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to `peak_learning_rate`, then half a cosine down to a floor.

        step < warmup:   lr = peak * step / warmup
        after:           progress = min((step - warmup) / (total - warmup), 1)
                         lr = floor + (peak - floor) * (1 + cos(pi * progress)) / 2

    and `floor_learning_rate` from `total_steps` on.

    Args:
        peak_learning_rate: the rate at the end of the warm-up.
        warmup_steps: length of the warm-up, >= 0 (0: start at the peak).
        total_steps: the step at which the floor is reached (the run's length).
        floor_learning_rate: the final rate, in [0, peak_learning_rate].

    Example:
        >>> schedule = WarmupCosineSchedule(peak_learning_rate=1e-3, warmup_steps=10,
        ...                                 total_steps=110, floor_learning_rate=1e-4)
        >>> round(float(schedule(60)), 6)  # half-way down: (1e-3 + 1e-4) / 2
        0.00055
    """

    def __init__(self, peak_learning_rate: float, warmup_steps: int, total_steps: int,
                 floor_learning_rate: float):
        _check_positive_rate(peak_learning_rate, "peak_learning_rate")
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) \
                or warmup_steps < 0:
            raise ValueError(f"warmup_steps must be an integer >= 0, got {warmup_steps!r}.")
        if isinstance(total_steps, bool) or not isinstance(total_steps, int) \
                or total_steps <= warmup_steps:
            raise ValueError(f"total_steps must be an integer > warmup_steps ({warmup_steps}) "
                             f"for the cosine schedule, got {total_steps!r}.")
        if not 0.0 <= floor_learning_rate <= peak_learning_rate:
            raise ValueError(f"floor_learning_rate must be in [0, peak_learning_rate="
                             f"{peak_learning_rate}], got {floor_learning_rate!r}.")
        self.peak_learning_rate = float(peak_learning_rate)
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.floor_learning_rate = float(floor_learning_rate)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warmup = float(self.warmup_steps)
        progress = tf.clip_by_value((step - warmup) / (self.total_steps - warmup), 0.0, 1.0)
        cosine = 0.5 * (1.0 + tf.cos(math.pi * progress))
        decayed = self.floor_learning_rate + (
            self.peak_learning_rate - self.floor_learning_rate) * cosine
        if not self.warmup_steps:
            return decayed
        return tf.where(step < warmup, self.peak_learning_rate * step / warmup, decayed)

    def get_config(self):
        return {"peak_learning_rate": self.peak_learning_rate, "warmup_steps": self.warmup_steps,
                "total_steps": self.total_steps, "floor_learning_rate": self.floor_learning_rate}


def automatic_warmup_steps(name: str, total_steps: int) -> int:
    """The warm-up `warmup_steps=None` means: a twentieth of the run (at most
    1,000 batches, fairseq's order of magnitude for small data; at least 1 for
    the inverse square root, whose peak ends it), none for a constant rate."""
    if name == "constant":
        return 0
    steps = min(1000, total_steps // 20)
    return max(1, steps) if name == "inverse_sqrt" else steps


def make_schedule(name: str, *, learning_rate: float, warmup_steps: int | None,
                  total_steps: int):
    """The learning rate of a named schedule, for `keras.optimizers.Adam(learning_rate=...)`.

    Args:
        name: `"constant"` (`learning_rate` throughout), `"inverse_sqrt"`
            (`InverseSquareRootSchedule`) or `"cosine"` (`WarmupCosineSchedule`
            down to `COSINE_FLOOR_FRACTION * learning_rate` at `total_steps`).
        learning_rate: the peak (or constant) rate.
        warmup_steps: steps of linear warm-up (0 for `"constant"`); None:
            `automatic_warmup_steps(name, total_steps)`.
        total_steps: the run's length in steps (batches); used by `"cosine"`.

    Returns:
        A `LearningRateSchedule`, or the float itself for `"constant"` (what
        Keras optimizers took before, so a constant-rate run is unchanged).

    Example:
        >>> make_schedule("inverse_sqrt", learning_rate=1e-3, warmup_steps=4000,
        ...               total_steps=100_000)
    """
    if warmup_steps is None:
        warmup_steps = automatic_warmup_steps(name, total_steps)
    check_schedule_options(name, warmup_steps=warmup_steps)
    _check_positive_rate(learning_rate, "learning_rate")
    if name == "constant":
        return float(learning_rate)
    if name == "inverse_sqrt":
        return InverseSquareRootSchedule(learning_rate, warmup_steps)
    return WarmupCosineSchedule(learning_rate, warmup_steps, total_steps,
                                floor_learning_rate=COSINE_FLOOR_FRACTION * learning_rate)


def _check_positive_rate(value, option: str):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{option} must be a number > 0, got {value!r}.")
