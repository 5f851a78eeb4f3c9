"""How to train, as one frozen, validated object: `TrainingSettings`.

`keras_s2s.train` takes one (or its fields as keyword arguments, turned into
one at the entry point); the CLI's training flags are made from its fields.
A hyperparameter is one field here, with its default, its check and its help
text. Checks that need the data (is there validation data to monitor?) are
made by `keras_s2s.recipe` when `train` starts, still before any training.

No TensorFlow import: the CLI checks options before loading TensorFlow.
"""

from __future__ import annotations

import dataclasses
import math

from keras_s2s.arguments import (
    check_choice,
    check_positive_integer,
    is_integer,
    is_number,
    settings_from_options,
)

BATCHINGS = ("buckets", "sorted")  # see keras_s2s.data.pipeline
SCHEDULES = ("constant", "inverse_sqrt", "cosine")  # see keras_s2s.schedules
# What early stopping and the best checkpoint may watch, and which way is better.
MONITORS = {"val_loss": "min", "val_cross_entropy": "min", "val_bleu": "max", "val_chrf": "max"}


def check_label_smoothing(label_smoothing) -> float:
    """`label_smoothing` as a float in [0, 1), or a ValueError naming it."""
    if not is_number(label_smoothing) or not 0.0 <= label_smoothing < 1.0:  # refuses NaN too
        raise ValueError(f"label_smoothing must be a number in [0, 1) (0 = no smoothing), "
                         f"got {label_smoothing!r}.")
    return float(label_smoothing)


def check_count(value, option: str, *, minimum: int, meaning: str):
    if not is_integer(value) or value < minimum:
        raise ValueError(f"{option} must be an integer >= {minimum} ({meaning}), got {value!r}.")


def check_schedule_options(name, *, warmup_steps):
    """The schedule checks that need no knowledge of the run's length
    (`warmup_steps=None`, automatic, is resolved once it is known)."""
    check_choice("learning_rate_schedule", name, SCHEDULES)
    if warmup_steps is None:
        return
    check_count(warmup_steps, "warmup_steps", minimum=0, meaning="batches of warm-up")
    if name == "constant" and warmup_steps:
        raise ValueError(f"learning_rate_schedule='constant' has no warm-up (warmup_steps="
                         f"{warmup_steps}); use 'inverse_sqrt' or 'cosine', or warmup_steps=0.")
    if name == "inverse_sqrt" and not warmup_steps:
        raise ValueError("learning_rate_schedule='inverse_sqrt' needs warmup_steps >= 1 "
                         "(its peak ends the warm-up), got 0.")


def _positive_number(name):
    def check(value):
        if not is_number(value) or not value > 0 or math.isinf(value):
            raise ValueError(f"{name} must be a number > 0, got {value!r}.")
    return check


def _option(default, help: str, *, check=None, kind=None):
    kind = kind or (type(default) if default is not None else int)
    return dataclasses.field(default=default, metadata=dict(help=help, check=check, kind=kind))


@dataclasses.dataclass(frozen=True)
class TrainingSettings:
    """Training hyperparameters; every field has a default, and the whole is checked once.

    Example:
        >>> settings = TrainingSettings(epochs=20, label_smoothing=0.1, monitor="val_bleu")
        >>> keras_s2s.train(model, splits.train, splits.validation, settings=settings)
    """

    epochs: int = _option(10, "maximum epochs", check=lambda v: check_count(
        v, "epochs", minimum=1, meaning="passes over the training pairs"))
    batch_size: int = _option(64, "sentences per step, over all replicas (the global batch)",
                              check=lambda v: check_positive_integer("batch_size", v))
    batching: str = _option(
        "buckets", "how pairs of similar length are batched: buckets (4-token length "
        "buckets) or sorted (sorted by length every epoch)",
        check=lambda v: check_choice("batching", v, BATCHINGS))
    batch_tokens: int | None = _option(
        None, "with batching 'sorted': as many pairs per batch as fit in this many target "
        "tokens", check=lambda v: check_positive_integer("batch_tokens", v, allow_none=True))
    learning_rate: float = _option(2e-3, "Adam's step size (the peak, with a schedule)",
                                   check=_positive_number("learning_rate"))
    # The recipe's defaults (smoothing, warm-up + cosine, averaging): README "Training
    # recipe", measured by benchmarks/recipe_ablation.py.
    learning_rate_schedule: str = _option(
        "cosine", "constant, inverse_sqrt (warm-up, then 1/sqrt(step)) or cosine "
        "(warm-up, then down to a tenth of the peak at the last epoch)")
    warmup_steps: int | None = _option(
        None, "batches of linear warm-up (default: a twentieth of the run's batches, "
        "at most 1000; none with a constant rate)")
    clipnorm: float = _option(1.0, "gradient-norm clip", check=_positive_number("clipnorm"))
    label_smoothing: float = _option(0.1, "label smoothing of the loss, in [0, 1) (0: off)",
                                     check=check_label_smoothing)
    gradient_accumulation_steps: int = _option(
        1, "update once every this many batches, with their mean gradient",
        check=lambda v: check_count(v, "gradient_accumulation_steps", minimum=1,
                                    meaning="1: update after every batch"))
    use_ema: bool = _option(False, "end with an exponential moving average of the weights")
    average_last: int = _option(
        5, "end with the mean of the last K epochs' weights, at most the second half of "
        "the epochs (0: off)",
        check=lambda v: check_count(v, "average_last", minimum=0, meaning="0: no averaging"))
    monitor: str = _option(
        "val_loss", "what early stopping and the best checkpoint watch: val_loss, "
        "val_cross_entropy, val_bleu or val_chrf",
        check=lambda v: check_choice("monitor", v, tuple(MONITORS)))
    validation_bleu_every: int | None = _option(
        None, "log val_bleu / val_chrf every this many epochs (0: never; default: every "
        "epoch when the monitor is one of them)", check=lambda v: v is None or check_count(
            v, "validation_bleu_every", minimum=0, meaning="0: never"))
    validation_bleu_sample_size: int = _option(
        500, "validation pairs translated for val_bleu", check=lambda v: check_count(
            v, "validation_bleu_sample_size", minimum=1, meaning="sentences translated"))
    early_stopping_patience: int = _option(
        3, "epochs without improvement before stopping (0: never stop early)",
        check=lambda v: check_count(v, "early_stopping_patience", minimum=0,
                                    meaning="0: off"))
    time_budget_seconds: float | None = _option(
        None, "wall-clock budget: no epoch starts that would end past it", kind=float,
        check=lambda v: v is None or _positive_number("time_budget_seconds")(v))
    seed: int = _option(0, "random seed (shuffling, dropout; keras-s2s train seeds the "
                        "initial weights with it too)", check=lambda v: check_count(
        v, "seed", minimum=0, meaning="a seed"))

    def __post_init__(self):
        for field in dataclasses.fields(self):
            if field.metadata["check"] is not None:
                field.metadata["check"](getattr(self, field.name))
        check_schedule_options(self.learning_rate_schedule, warmup_steps=self.warmup_steps)
        if not isinstance(self.use_ema, bool):
            raise ValueError(f"use_ema must be True or False, got {self.use_ema!r}.")
        if self.use_ema and self.average_last:
            raise ValueError(f"use_ema=True and average_last={self.average_last} both decide "
                             "the final weights (an average over steps vs over epochs); "
                             "choose one (average_last=0 with use_ema=True).")
        if self.batch_tokens is not None and self.batching != "sorted":
            raise ValueError(f"batch_tokens={self.batch_tokens} needs batching='sorted'.")

    @classmethod
    def from_options(cls, settings: TrainingSettings | None = None, **options):
        """`settings` itself, or settings made from keyword options (not both)."""
        return settings_from_options(cls, settings, options, argument="settings")


def field_help() -> dict[str, tuple]:
    """`{name: (default, help, type)}` for every field, for the CLI."""
    return {f.name: (f.default, f.metadata["help"], f.metadata["kind"])
            for f in dataclasses.fields(TrainingSettings)}
