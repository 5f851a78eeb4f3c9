"""Training, shared by the CLI, the notebooks and `make demo`: `model.fit` with a
masked (optionally label-smoothed) loss, Adam with gradient clipping and a
learning-rate schedule, and the callbacks a long run needs (validation BLEU,
best-model checkpoint, early stopping, checkpoint averaging, resume after a
crash), under whatever `tf.distribute` strategy and precision the model was
built with.
"""

from __future__ import annotations

import os

import keras

from keras_s2s.data.pipeline import make_dataset
from keras_s2s.distribution import (
    check_model_precision,
    is_chief,
    keras_multi_worker_fixes,
    model_strategy,
)
from keras_s2s.losses import CrossEntropy, MaskedAccuracy, Perplexity, masked_loss
from keras_s2s.recipe import check_compiled_recipe, check_recipe, compiled_options, is_compiled
from keras_s2s.resume import TrainingBackup
from keras_s2s.schedules import make_schedule
from keras_s2s.training_callbacks import (
    TimeBudget,  # noqa: F401  (benchmarks import it here)
    snapshot_directory,
    training_callbacks,
    worker_backup_dir,
)
from keras_s2s.training_settings import TrainingSettings


def compile_model(model, *, learning_rate=2e-3, clipnorm: float = 1.0,
                  label_smoothing: float = 0.0, gradient_accumulation_steps: int = 1,
                  use_ema: bool = False):
    """Compiles `model` for teacher-forced training (Adam with gradient-norm clipping).

    Args:
        model: a `keras_s2s.models.Seq2Seq`.
        learning_rate: a float or a `LearningRateSchedule` (see
            `keras_s2s.schedules.make_schedule`).
        clipnorm: the gradient-norm clip (of the averaged gradient, with
            accumulation).
        label_smoothing: see `keras_s2s.losses.masked_loss`.
        gradient_accumulation_steps: update the weights once every this many
            batches, with their mean gradient (1: every batch).
        use_ema: keep an exponential moving average of the weights (Keras'
            `use_ema`, momentum 0.99); `fit` puts it into the model at the end.

    Example:
        >>> compile_model(model, learning_rate=1e-3, label_smoothing=0.1)
    """
    optimizer = keras.optimizers.Adam(
        learning_rate=learning_rate, clipnorm=clipnorm, use_ema=use_ema,
        # Keras wants None, not 1, for "no accumulation".
        gradient_accumulation_steps=gradient_accumulation_steps if gradient_accumulation_steps > 1
        else None,
    )
    model.compile(
        optimizer=optimizer,
        loss=masked_loss(label_smoothing),
        metrics=[MaskedAccuracy(), CrossEntropy(), Perplexity()],
    )
    # What train() may carry on with (keras_s2s.recipe.check_compiled_recipe).
    model.compiled_recipe_options = compiled_options(
        label_smoothing=label_smoothing, learning_rate=learning_rate,
        gradient_accumulation_steps=gradient_accumulation_steps, use_ema=use_ema)
    return model


def train(model, train_pairs, validation_pairs=None, *,
          settings: TrainingSettings | None = None,
          checkpoint_path: str | os.PathLike | None = None,
          backup_dir: str | os.PathLike | None = None, strategy=None,
          mixed_precision: str | None = None, verbose: int | str = "auto",
          callbacks: list | None = None, **training_options) -> keras.callbacks.History:
    """Trains `model` on sentence pairs with teacher forcing.

    Args:
        model: a `keras_s2s.models.Seq2Seq` (e.g. from `keras_s2s.build_model`).
            To train under a `tf.distribute` strategy or mixed precision, build
            it inside `keras_s2s.distribution.training_scope(...)`. An
            uncompiled model is compiled with the options below; a compiled one
            keeps its optimizer and loss (a recipe option it was not compiled
            with is a ValueError).
        train_pairs, validation_pairs: `SentencePairs` (validation optional but
            recommended: early stopping and the best checkpoint watch it).
        settings: the `keras_s2s.training_settings.TrainingSettings`, or pass
            its fields as keyword arguments (`epochs`, `batch_size`,
            `batching`, `learning_rate`, `learning_rate_schedule`,
            `warmup_steps`, `label_smoothing`, `average_last`, `use_ema`,
            `gradient_accumulation_steps`, `monitor`, `validation_bleu_every`,
            `early_stopping_patience`, `time_budget_seconds`, `seed`, ...: see
            `TrainingSettings` for each one's meaning and default). Notes:
            the `loss` is label-smoothed when asked, while `cross_entropy` and
            `perplexity` (and `val_...`) are logged unsmoothed, to compare runs;
            a schedule's steps are batches and it follows the optimizer's step
            counter, so a resumed run carries on where it was; `average_last`
            keeps the last K epochs' weights (in `backup_dir/snapshots` with a
            backup) and ends with their mean, `use_ema` with the moving
            average (early stopping then does not restore the best epoch;
            `checkpoint_path` still holds it); `monitor="val_bleu"` translates
            a validation sample greedily every epoch.
        checkpoint_path: where to keep the best model (`.keras`), replaced
            atomically, so a crash never leaves a half-written file there.
        backup_dir: backup directory: rerunning the same call (or command)
            after a crash resumes at the first unfinished epoch, with the
            optimizer (hence the schedule's step), early-stopping,
            best-checkpoint and averaging state it had.
        strategy: a `tf.distribute.Strategy` or a name (see
            `keras_s2s.distribution.make_strategy`); the model must have been
            built under it. Default: the strategy the model was built under.
        mixed_precision: `"mixed_float16"` or `"mixed_bfloat16"` to check that
            the model was built with that policy (see `training_scope`);
            logits and the loss are float32 whatever the policy.
        seed: seed for the shuffling order and dropout. The initial weights are
            made by `build_model`, before this call: for a reproducible run, call
            `keras.utils.set_random_seed(seed)` before it too (`keras-s2s train`
            does).
        verbose: Keras' progress display (`"auto"`, 0, 1, 2).
        callbacks: extra Keras callbacks, run after `val_bleu` is added to
            the logs and before ours (e.g. a logger).

    Returns:
        The Keras `History` (per-epoch `loss`, `val_loss`, accuracies,
        cross-entropies, perplexities, BLEU) of the epochs this call ran
        (after a resume: the remaining ones).

    Raises:
        ValueError: an option outside its allowed values, before any training.

    Example:
        >>> with keras_s2s.distribution.training_scope("mirrored"):
        ...     model = keras_s2s.build_model(splits.train)
        ...     history = keras_s2s.train(model, splits.train, splits.validation, epochs=5,
        ...                               label_smoothing=0.1, monitor="val_bleu")
    """
    settings = TrainingSettings.from_options(settings, **training_options)
    has_validation = validation_pairs is not None and len(validation_pairs) > 0
    recipe = check_recipe(settings, has_validation=has_validation)
    check_compiled_recipe(model, recipe)
    strategy = model_strategy(model, strategy)
    check_model_precision(model, mixed_precision)
    keras.utils.set_random_seed(settings.seed)
    train_data, validation_data = _datasets(model, train_pairs,
                                            validation_pairs if has_validation else None,
                                            settings)
    if not is_compiled(model):
        _compile(model, settings, strategy,
                 total_steps=settings.epochs * int(train_data.cardinality()))
    replicas = strategy.num_replicas_in_sync
    if replicas > 1 and verbose:
        print(f"Training on {replicas} replicas: global batch {settings.batch_size}, "
              f"about {settings.batch_size / replicas:g} sentences per replica.")
    with snapshot_directory(backup_dir, strategy, recipe) as snapshots:
        callbacks, resumable = training_callbacks(
            recipe, list(callbacks or []), validation_pairs, checkpoint_path=checkpoint_path,
            early_stopping_patience=settings.early_stopping_patience,
            time_budget_seconds=settings.time_budget_seconds, snapshots=snapshots,
            chief=is_chief(strategy), verbose=bool(verbose))
        initial_epoch = 0
        if backup_dir is not None:
            backup = TrainingBackup(worker_backup_dir(backup_dir, strategy), resumable=resumable)
            initial_epoch = backup.restore(model)
            if initial_epoch and verbose:
                print(f"Resuming from {backup.directory}: {initial_epoch} of "
                      f"{settings.epochs} epochs done.")
            callbacks.append(backup)  # last: it saves the other callbacks' state for the epoch
        with keras_multi_worker_fixes(model, strategy):
            return model.fit(train_data, validation_data=validation_data,
                             epochs=settings.epochs, initial_epoch=initial_epoch,
                             callbacks=callbacks, verbose=verbose,
                             shuffle=False)  # the dataset reshuffles itself every epoch


def _datasets(model, train_pairs, validation_pairs, settings):
    """The training and validation `tf.data` pipelines (validation None without pairs)."""
    options = dict(source_encoder=model.source_encoder, target_encoder=model.target_encoder,
                   batch_size=settings.batch_size, batching=settings.batching,
                   batch_tokens=settings.batch_tokens)
    train_data = make_dataset(train_pairs, seed=settings.seed, **options)
    if validation_pairs is None:
        return train_data, None
    return train_data, make_dataset(validation_pairs, shuffle=False, **options)


def _compile(model, settings, strategy, *, total_steps):
    # The schedule is made before training starts, so its errors come first too.
    schedule = make_schedule(settings.learning_rate_schedule,
                             learning_rate=settings.learning_rate,
                             warmup_steps=settings.warmup_steps, total_steps=total_steps)
    with strategy.scope():  # the optimizer's and the metrics' variables live there too
        compile_model(model, learning_rate=schedule, clipnorm=settings.clipnorm,
                      label_smoothing=settings.label_smoothing, use_ema=settings.use_ema,
                      gradient_accumulation_steps=settings.gradient_accumulation_steps)
