"""The training recipe's options: their allowed values and how they combine.

`keras_s2s.train` checks them all here, before it tokenises the data or
builds an optimizer, so a wrong option costs a second, not an epoch. The
defaults live in `train`'s signature; this module only says what is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass

from keras_s2s.losses import check_label_smoothing
from keras_s2s.schedules import check_schedule_options
from keras_s2s.validation_scores import SCORE_NAMES

# What early stopping and the best checkpoint may watch, and which way is better.
MONITORS = {"val_loss": "min", "val_cross_entropy": "min", "val_bleu": "max", "val_chrf": "max"}


@dataclass(frozen=True)
class Recipe:
    """The checked options, with `monitor` and `validation_bleu_every` resolved.

    `monitor` is `"loss"` when `"val_loss"` was asked for without validation
    data (what training did before there was a choice), and
    `validation_bleu_every` is 0 when BLEU is never computed.
    """

    label_smoothing: float
    learning_rate_schedule: str
    warmup_steps: int
    gradient_accumulation_steps: int
    use_ema: bool
    average_last: int
    monitor: str
    monitor_mode: str
    validation_bleu_every: int
    validation_bleu_sample_size: int

    @property
    def optimizer_options(self) -> tuple:
        """What `compile_model` builds into the loss and optimizer: a compiled
        model can only carry on with the same."""
        return (self.label_smoothing, self.learning_rate_schedule, self.warmup_steps,
                self.gradient_accumulation_steps, self.use_ema)


def check_recipe(*, label_smoothing, learning_rate_schedule, warmup_steps,
                 gradient_accumulation_steps, use_ema, average_last, monitor,
                 validation_bleu_every, validation_bleu_sample_size, has_validation) -> Recipe:
    """Checks `train`'s recipe options; a ValueError names the option and what it allows.

    Args:
        the options of `keras_s2s.train` of the same names, and
        has_validation: whether `train` was given validation pairs.

    Example:
        >>> check_recipe(label_smoothing=0.1, learning_rate_schedule="inverse_sqrt",
        ...              warmup_steps=4000, gradient_accumulation_steps=1, use_ema=False,
        ...              average_last=5, monitor="val_bleu", validation_bleu_every=None,
        ...              validation_bleu_sample_size=500, has_validation=True).monitor_mode
        'max'
    """
    check_label_smoothing(label_smoothing)
    check_schedule_options(learning_rate_schedule, warmup_steps=warmup_steps)
    _check_count(gradient_accumulation_steps, "gradient_accumulation_steps", minimum=1,
                 meaning="1: update after every batch")
    if not isinstance(use_ema, bool):
        raise ValueError(f"use_ema must be True or False, got {use_ema!r}.")
    _check_count(average_last, "average_last", minimum=0, meaning="0: no averaging")
    if use_ema and average_last:
        raise ValueError(f"use_ema=True and average_last={average_last} both decide the final "
                         "weights (an average over steps vs over epochs); choose one.")
    _check_count(validation_bleu_sample_size, "validation_bleu_sample_size", minimum=1,
                 meaning="sentences translated")
    monitor = _check_monitor(monitor, has_validation)
    every = _check_bleu_every(validation_bleu_every, monitor, has_validation)
    return Recipe(
        label_smoothing=float(label_smoothing), learning_rate_schedule=learning_rate_schedule,
        warmup_steps=warmup_steps, gradient_accumulation_steps=gradient_accumulation_steps,
        use_ema=use_ema, average_last=average_last, monitor=monitor,
        monitor_mode=MONITORS.get(monitor, "min"), validation_bleu_every=every,
        validation_bleu_sample_size=validation_bleu_sample_size,
    )


def _check_count(value, option: str, *, minimum: int, meaning: str):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{option} must be an integer >= {minimum} ({meaning}), got {value!r}.")


def _check_monitor(monitor, has_validation: bool) -> str:
    if monitor not in MONITORS:
        raise ValueError(f"monitor must be one of {', '.join(map(repr, MONITORS))}; "
                         f"got {monitor!r}.")
    if has_validation:
        return monitor
    if monitor == "val_loss":
        return "loss"  # no validation data: watch the training loss, as before
    raise ValueError(f"monitor={monitor!r} needs validation data (validation_pairs); "
                     "without it only 'val_loss' (which then watches the training loss) works.")


def _check_bleu_every(every, monitor: str, has_validation: bool) -> int:
    scored = monitor in SCORE_NAMES
    if every is None:
        return 1 if scored else 0  # scored every epoch exactly when something watches it
    _check_count(every, "validation_bleu_every", minimum=0, meaning="0: never")
    if every and not has_validation:
        raise ValueError(f"validation_bleu_every={every} needs validation data "
                         "(validation_pairs) to translate.")
    if scored and every != 1:
        raise ValueError(f"monitor={monitor!r} needs validation_bleu_every=1 (or None): early "
                         f"stopping and the best checkpoint compare every epoch; got {every}.")
    return every


def check_compiled_recipe(model, recipe: Recipe):
    """A compiled model keeps its optimizer and loss: refuse options it would ignore."""
    if not is_compiled(model):
        return
    compiled = getattr(model, "training_recipe", None)
    compiled_options = compiled.optimizer_options if compiled is not None else \
        (0.0, "constant", 0, 1, False)  # compiled elsewhere: only the defaults are honest
    if compiled_options != recipe.optimizer_options:
        names = ("label_smoothing", "learning_rate_schedule", "warmup_steps",
                 "gradient_accumulation_steps", "use_ema")
        differing = [f"{name}={new!r} (compiled with {old!r})" for name, new, old in
                     zip(names, recipe.optimizer_options, compiled_options) if new != old]
        raise ValueError(f"The model is already compiled, so train() cannot apply "
                         f"{', '.join(differing)}; pass an uncompiled model (e.g. freshly "
                         "built or loaded with compile=False).")


def is_compiled(model) -> bool:
    """Whether `model` has an optimizer and loss already (then `train` keeps them)."""
    return getattr(model, "optimizer", None) is not None and bool(getattr(model, "compiled", False))
