"""Training, shared by the CLI, the notebooks and `make demo`: `model.fit` with a
masked loss, masked accuracy, Adam with gradient clipping, and the callbacks a
long run needs (best-model checkpoint, early stopping, resume after a crash),
under whatever `tf.distribute` strategy and precision the model was built with.
"""

from __future__ import annotations

import os
import pathlib
import time

import keras

from keras_s2s.checkpointing import BestModelCheckpoint
from keras_s2s.data.pipeline import make_dataset
from keras_s2s.distribution import (
    check_model_precision,
    is_chief,
    keras_multi_worker_fixes,
    model_strategy,
    worker_task,
)
from keras_s2s.losses import CrossEntropy, MaskedAccuracy, Perplexity, masked_loss
from keras_s2s.resume import ResumableEarlyStopping, TrainingBackup


class TimeBudget(keras.callbacks.Callback):
    """Stops training before an epoch that would end past `seconds` of wall time
    (judged by the previous epoch's duration), so the budget is kept, not overrun."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds = seconds
        self.start = self.epoch_start = None

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        now = time.monotonic()
        if now - self.start + (now - self.epoch_start) > self.seconds:
            print(f"Stopping: another epoch would pass the {self.seconds:.0f} s time budget "
                  f"({now - self.start:.0f} s used, {epoch + 1} epochs).")
            self.model.stop_training = True


def compile_model(model, *, learning_rate: float = 2e-3, clipnorm: float = 1.0):
    """Compiles `model` for teacher-forced training (Adam with gradient-norm clipping)."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate, clipnorm=clipnorm),
        loss=masked_loss(),
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
    clipnorm: float = 1.0,
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
            it inside `keras_s2s.distribution.training_scope(...)`.
        train_pairs, validation_pairs: `SentencePairs` (validation optional but
            recommended: early stopping and the best checkpoint watch its loss).
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
        learning_rate, clipnorm: Adam's step size and gradient-norm clip.
        early_stopping_patience: epochs without validation improvement before
            stopping; the best weights are restored at the end.
        time_budget_seconds: wall-clock budget; no epoch starts that would
            end past it (judged by the last epoch's duration).
        checkpoint_path: where to keep the best model (`.keras`), replaced
            atomically, so a crash never leaves a half-written file there.
        backup_dir: backup directory: rerunning the same call (or command)
            after a crash resumes at the first unfinished epoch, with the
            optimizer, early-stopping and best-checkpoint state it had.
        strategy: a `tf.distribute.Strategy` or a name (see
            `keras_s2s.distribution.make_strategy`); the model must have been
            built under it. Default: the strategy the model was built under.
        mixed_precision: `"mixed_float16"` or `"mixed_bfloat16"` to check that
            the model was built with that policy (see `training_scope`);
            logits and the loss are float32 whatever the policy.
        seed: seed for weight initialisation and the shuffling order.
        verbose: Keras' progress display (`"auto"`, 0, 1, 2).
        callbacks: extra Keras callbacks, run before ours (e.g. a logger).

    Returns:
        The Keras `History` (per-epoch `loss`, `val_loss`, accuracies) of the
        epochs this call ran (after a resume: the remaining ones).

    Example:
        >>> with keras_s2s.distribution.training_scope("mirrored"):
        ...     model = keras_s2s.build_model(splits.train)
        ...     history = keras_s2s.train(model, splits.train, splits.validation, epochs=5)
    """
    strategy = model_strategy(model, strategy)
    check_model_precision(model, mixed_precision)
    keras.utils.set_random_seed(seed)
    with strategy.scope():  # the optimizer's and the metrics' variables live there too
        if getattr(model, "optimizer", None) is None or not model.compiled:
            compile_model(model, learning_rate=learning_rate, clipnorm=clipnorm)
    encoders = {"source_encoder": model.source_encoder, "target_encoder": model.target_encoder}
    encoders.update(batch_size=batch_size, batching=batching, batch_tokens=batch_tokens)
    train_data = make_dataset(train_pairs, seed=seed, **encoders)
    validation_data = None
    if validation_pairs is not None and len(validation_pairs) > 0:
        validation_data = make_dataset(validation_pairs, shuffle=False, **encoders)
    replicas = strategy.num_replicas_in_sync
    if replicas > 1 and verbose:
        print(f"Training on {replicas} replicas: global batch {batch_size}, "
              f"about {batch_size / replicas:g} sentences per replica.")
    monitor = "val_loss" if validation_data is not None else "loss"
    callbacks, resumable = list(callbacks or []), {}
    chief = is_chief(strategy)
    if checkpoint_path is not None:
        resumable["checkpoint"] = BestModelCheckpoint(checkpoint_path, monitor=monitor,
                                                      write=chief)
        callbacks.append(resumable["checkpoint"])
    if early_stopping_patience:
        resumable["early_stopping"] = ResumableEarlyStopping(
            monitor=monitor, patience=early_stopping_patience, restore_best_weights=True
        )
        callbacks.append(resumable["early_stopping"])
    if time_budget_seconds is not None:
        callbacks.append(TimeBudget(time_budget_seconds))
    initial_epoch = 0
    if backup_dir is not None:
        backup = TrainingBackup(_worker_backup_dir(backup_dir, strategy), resumable=resumable)
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


def _worker_backup_dir(backup_dir, strategy) -> pathlib.Path:
    """Every worker of a multi-worker run backs up its own copy (they are
    identical): the chief in `backup_dir`, worker i in `backup_dir/worker-i`,
    so workers never write the same file, shared file system or not."""
    if is_chief(strategy):
        return pathlib.Path(backup_dir)
    task_type, task_id = worker_task(strategy)
    return pathlib.Path(backup_dir) / f"{task_type}-{task_id}"
