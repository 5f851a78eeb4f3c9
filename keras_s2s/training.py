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
from keras_s2s.recipe import check_compiled_recipe, check_recipe, is_compiled
from keras_s2s.resume import TrainingBackup
from keras_s2s.schedules import make_schedule
from keras_s2s.training_callbacks import (
    TimeBudget,  # noqa: F401  (benchmarks import it here)
    snapshot_directory,
    training_callbacks,
    worker_backup_dir,
)


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
    return model


def train(
    model,
    train_pairs,
    validation_pairs=None,
    *,
    epochs: int = 10,
    batch_size: int = 64,
    batching: str = "buckets",
    batch_tokens: int | None = None,
    learning_rate: float = 2e-3,
    learning_rate_schedule: str = "constant",
    warmup_steps: int = 0,
    clipnorm: float = 1.0,
    label_smoothing: float = 0.0,
    gradient_accumulation_steps: int = 1,
    use_ema: bool = False,
    average_last: int = 0,
    monitor: str = "val_loss",
    validation_bleu_every: int | None = None,
    validation_bleu_sample_size: int = 500,
    early_stopping_patience: int = 3,
    time_budget_seconds: float | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    backup_dir: str | os.PathLike | None = None,
    strategy=None,
    mixed_precision: str | None = None,
    seed: int = 0,
    verbose: int | str = "auto",
    callbacks: list | None = None,
) -> keras.callbacks.History:
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
        epochs: maximum number of epochs.
        batch_size: sentences per step over all replicas (the global batch);
            each of N replicas gets `batch_size / N` of them.
        batching: `"buckets"` (4-token length buckets) or `"sorted"` (pairs
            sorted by length every epoch: ~99% real target positions, full
            batches; 1.1x the tokens/second of buckets for a large GRU,
            1.3x with `batch_tokens`, in benchmarks/training_speed.py; but
            the Transformer learned a synthetic task more slowly with it).
            See `keras_s2s.data.make_dataset`.
        batch_tokens: with `batching="sorted"`, batches of as many pairs as
            fit in this many target positions instead of `batch_size` pairs.
        learning_rate: Adam's step size (the peak, with a schedule).
        learning_rate_schedule: `"constant"`, `"inverse_sqrt"` (warm-up, then
            1/sqrt(step)) or `"cosine"` (warm-up, then down to a tenth of the
            peak at the last step of `epochs`); see `keras_s2s.schedules`.
            Steps are batches; the schedule follows the optimizer's step
            counter, so a resumed run carries on where it was.
        warmup_steps: batches of linear warm-up (0 for `"constant"`).
        clipnorm: gradient-norm clip.
        label_smoothing: in [0, 1); see `keras_s2s.losses.masked_loss`. The
            `loss` is then smoothed; `cross_entropy` and `perplexity` (and
            `val_...`) are logged unsmoothed, to compare runs.
        gradient_accumulation_steps: update once every this many batches with
            their mean gradient: an effective batch of this many times
            `batch_size` in the memory of one.
        use_ema: keep an exponential moving average of the weights (Keras'
            optimizer EMA) and end with it instead of the best epoch's weights.
            Validation during training still sees the raw weights.
        average_last: K > 0 keeps the last K epochs' weights (in
            `backup_dir/snapshots` with a backup, else a temporary directory)
            and ends with their mean (of fewer, if fewer epochs ran) instead
            of the best epoch's weights. `checkpoint_path` still holds the
            best single epoch.
        monitor: what early stopping and the best checkpoint watch:
            `"val_loss"`, `"val_cross_entropy"`, or `"val_bleu"` / `"val_chrf"`
            (greedy translations of a validation sample, higher is better).
            Without validation data, `"val_loss"` watches the training loss.
        validation_bleu_every: log `val_bleu` and `val_chrf` every this many
            epochs (0: never). Default: every epoch when `monitor` is one of
            them, else never.
        validation_bleu_sample_size: validation pairs translated for them
            (evenly spaced over the split, the same every epoch).
        early_stopping_patience: epochs without validation improvement before
            stopping; the best weights are restored at the end (unless
            `use_ema` or `average_last` decide the final weights).
        time_budget_seconds: wall-clock budget; no epoch starts that would
            end past it (judged by the last epoch's duration).
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
        seed: seed for weight initialisation and the shuffling order.
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
    has_validation = validation_pairs is not None and len(validation_pairs) > 0
    recipe = check_recipe(
        label_smoothing=label_smoothing, learning_rate_schedule=learning_rate_schedule,
        warmup_steps=warmup_steps, gradient_accumulation_steps=gradient_accumulation_steps,
        use_ema=use_ema, average_last=average_last, monitor=monitor,
        validation_bleu_every=validation_bleu_every,
        validation_bleu_sample_size=validation_bleu_sample_size, has_validation=has_validation)
    check_compiled_recipe(model, recipe)
    strategy = model_strategy(model, strategy)
    check_model_precision(model, mixed_precision)
    keras.utils.set_random_seed(seed)
    encoders = {"source_encoder": model.source_encoder, "target_encoder": model.target_encoder}
    encoders.update(batch_size=batch_size, batching=batching, batch_tokens=batch_tokens)
    train_data = make_dataset(train_pairs, seed=seed, **encoders)
    validation_data = None
    if has_validation:
        validation_data = make_dataset(validation_pairs, shuffle=False, **encoders)
    if not is_compiled(model):
        # The schedule is made before training starts, so its errors come first too.
        schedule = make_schedule(learning_rate_schedule, learning_rate=learning_rate,
                                 warmup_steps=warmup_steps,
                                 total_steps=epochs * int(train_data.cardinality()))
        with strategy.scope():  # the optimizer's and the metrics' variables live there too
            compile_model(model, learning_rate=schedule, clipnorm=clipnorm,
                          label_smoothing=label_smoothing, use_ema=use_ema,
                          gradient_accumulation_steps=gradient_accumulation_steps)
        model.training_recipe = recipe
    replicas = strategy.num_replicas_in_sync
    if replicas > 1 and verbose:
        print(f"Training on {replicas} replicas: global batch {batch_size}, "
              f"about {batch_size / replicas:g} sentences per replica.")
    with snapshot_directory(backup_dir, strategy, recipe) as snapshots:
        callbacks, resumable = training_callbacks(
            recipe, list(callbacks or []), validation_pairs, checkpoint_path=checkpoint_path,
            early_stopping_patience=early_stopping_patience,
            time_budget_seconds=time_budget_seconds, snapshots=snapshots,
            chief=is_chief(strategy), verbose=bool(verbose))
        initial_epoch = 0
        if backup_dir is not None:
            backup = TrainingBackup(worker_backup_dir(backup_dir, strategy), resumable=resumable)
            initial_epoch = backup.restore(model)
            if initial_epoch and verbose:
                print(f"Resuming from {backup.directory}: {initial_epoch} of {epochs} epochs done.")
            callbacks.append(backup)  # last: it saves the other callbacks' state for the epoch
        with keras_multi_worker_fixes(model, strategy):
            return model.fit(
                train_data,
                validation_data=validation_data,
                epochs=epochs,
                initial_epoch=initial_epoch,
                callbacks=callbacks,
                shuffle=False,  # the dataset reshuffles itself every epoch
                verbose=verbose,
            )
