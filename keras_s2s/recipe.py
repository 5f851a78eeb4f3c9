"""What the training settings mean for one run, given its data.

`TrainingSettings` checks each option on its own; `keras_s2s.train` resolves
here, before it tokenises the data or builds an optimizer, what depends on
the run (is there validation data to monitor?), so a wrong option costs a
second, not an epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

from keras_s2s.training_settings import MONITORS, TrainingSettings

SCORE_NAMES = ("val_bleu", "val_chrf")  # the monitors keras_s2s.validation_scores logs


@dataclass(frozen=True)
class Recipe:
    """The checked options, with `monitor` and `validation_bleu_every` resolved.

    `monitor` is `"loss"` when `"val_loss"` was asked for without validation
    data (what training did before there was a choice), and
    `validation_bleu_every` is 0 when BLEU is never computed.
    """

    label_smoothing: float
    learning_rate_schedule: str
    warmup_steps: int | None
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


def check_recipe(settings: TrainingSettings, *, has_validation: bool) -> Recipe:
    """What `settings` mean for this run; a ValueError for what needs data it lacks.

    Args:
        settings: the `TrainingSettings` (each field already checked).
        has_validation: whether `train` was given validation pairs.

    Example:
        >>> check_recipe(TrainingSettings(monitor="val_bleu"), has_validation=True).monitor_mode
        'max'
    """
    monitor = _check_monitor(settings.monitor, has_validation)
    every = _check_bleu_every(settings.validation_bleu_every, monitor, has_validation)
    return Recipe(
        label_smoothing=float(settings.label_smoothing),
        learning_rate_schedule=settings.learning_rate_schedule,
        warmup_steps=settings.warmup_steps,
        gradient_accumulation_steps=settings.gradient_accumulation_steps,
        use_ema=settings.use_ema, average_last=averaged_epochs(settings), monitor=monitor,
        monitor_mode=MONITORS.get(monitor, "min"), validation_bleu_every=every,
        validation_bleu_sample_size=settings.validation_bleu_sample_size,
    )


def averaged_epochs(settings: TrainingSettings) -> int:
    """How many last epochs `average_last` averages: at most the second half of
    the run, so a short run does not average in its first, untrained epochs
    (average_last=5 over 4 epochs would mean epoch 1's weights count a quarter)."""
    return min(settings.average_last, -(-settings.epochs // 2))


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
    if every and not has_validation:
        raise ValueError(f"validation_bleu_every={every} needs validation data "
                         "(validation_pairs) to translate.")
    if scored and every != 1:
        raise ValueError(f"monitor={monitor!r} needs validation_bleu_every=1 (or None): early "
                         f"stopping and the best checkpoint compare every epoch; got {every}.")
    return every


_OPTIMIZER_OPTION_NAMES = ("label_smoothing", "learning_rate_schedule", "warmup_steps",
                          "gradient_accumulation_steps", "use_ema")


def compiled_options(*, label_smoothing, learning_rate, gradient_accumulation_steps,
                     use_ema) -> tuple:
    """What `compile_model` built, in `Recipe.optimizer_options`' terms (the
    schedule's name and warm-up read off the learning-rate object)."""
    from keras_s2s.schedules import InverseSquareRootSchedule, WarmupCosineSchedule

    schedule = {InverseSquareRootSchedule: "inverse_sqrt",
                WarmupCosineSchedule: "cosine"}.get(type(learning_rate), "constant")
    return (float(label_smoothing), schedule, getattr(learning_rate, "warmup_steps", 0),
            gradient_accumulation_steps, bool(use_ema))


def check_compiled_recipe(model, recipe: Recipe):
    """A compiled model keeps its optimizer and loss: refuse options it would ignore.

    `compile_model` (which `train` uses) records what it built; a model
    compiled by other means is trusted to be what its owner wants (its
    optimizer and loss are kept, whatever the recipe options say).
    """
    if not is_compiled(model):
        return
    compiled = getattr(model, "compiled_recipe_options", None)
    if compiled is None:
        return
    differing = [f"{name}={new!r} (compiled with {old!r})" for name, new, old in
                 zip(_OPTIMIZER_OPTION_NAMES, recipe.optimizer_options, compiled)
                 # an automatic warm-up (None) accepts whatever was compiled
                 if new != old and not (name == "warmup_steps" and new is None)]
    if differing:
        raise ValueError(f"The model is already compiled, so train() cannot apply "
                         f"{', '.join(differing)}; pass an uncompiled model (e.g. freshly "
                         "built or loaded with compile=False).")


def is_compiled(model) -> bool:
    """Whether `model` has an optimizer and loss already (then `train` keeps them)."""
    return getattr(model, "optimizer", None) is not None and bool(getattr(model, "compiled", False))
