"""Training, shared by the CLI, the notebooks and `make demo`: `model.fit` with a
masked loss, masked accuracy, Adam with gradient clipping, and the callbacks a
long run needs (best-model checkpoint, early stopping, resume after a crash).
"""

from __future__ import annotations

import os
import time

import keras
import tensorflow as tf

from keras_s2s.data.pipeline import make_dataset
from keras_s2s.text import PAD_ID


@keras.saving.register_keras_serializable(package="keras_s2s")
class MaskedAccuracy(keras.metrics.Mean):
    """Token accuracy over real target tokens only (padding positions ignored).

    The course lab's accuracy counts correctly "predicted" padding, which makes
    short sentences in long batches look better than they are.
    """

    def __init__(self, name="masked_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = tf.cast(y_true, tf.int32)
        predicted = tf.argmax(y_pred, axis=-1, output_type=tf.int32)
        mask = tf.not_equal(y_true, PAD_ID)
        correct = tf.cast(tf.equal(predicted, y_true), self.dtype)
        return super().update_state(correct, sample_weight=tf.cast(mask, self.dtype))


def masked_loss():
    """Sparse cross-entropy from logits, averaged over non-padding tokens only."""
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=PAD_ID)


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
        metrics=[MaskedAccuracy()],
    )
    return model


def train(
    model,
    train_pairs,
    validation_pairs=None,
    *,
    epochs: int = 10,
    batch_size: int = 64,
    learning_rate: float = 2e-3,
    clipnorm: float = 1.0,
    early_stopping_patience: int = 3,
    time_budget_seconds: float | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    backup_dir: str | os.PathLike | None = None,
    seed: int = 0,
    verbose: int | str = "auto",
) -> keras.callbacks.History:
    """Trains `model` on sentence pairs with teacher forcing.

    Args:
        model: a `keras_s2s.models.Seq2Seq` (e.g. from `keras_s2s.build_model`).
        train_pairs, validation_pairs: `SentencePairs` (validation optional but
            recommended: early stopping and the best checkpoint watch its loss).
        epochs: maximum number of epochs.
        batch_size: sentences per batch.
        learning_rate, clipnorm: Adam's step size and gradient-norm clip.
        early_stopping_patience: epochs without validation improvement before
            stopping; the best weights are restored at the end.
        time_budget_seconds: wall-clock budget; no epoch starts that would
            end past it (judged by the last epoch's duration).
        checkpoint_path: where to keep the best model (`.keras`).
        backup_dir: `keras.callbacks.BackupAndRestore` directory: rerunning the
            same command after a crash resumes from the last finished epoch.
        seed: seed for weight initialisation and the shuffling order.
        verbose: Keras' progress display (`"auto"`, 0, 1, 2).

    Returns:
        The Keras `History` (per-epoch `loss`, `val_loss`, accuracies).

    Example:
        >>> history = keras_s2s.train(model, splits.train, splits.validation, epochs=5)
    """
    keras.utils.set_random_seed(seed)
    if getattr(model, "optimizer", None) is None or not model.compiled:
        compile_model(model, learning_rate=learning_rate, clipnorm=clipnorm)
    encoders = {"source_encoder": model.source_encoder, "target_encoder": model.target_encoder}
    train_data = make_dataset(train_pairs, batch_size=batch_size, seed=seed, **encoders)
    validation_data = None
    if validation_pairs is not None and len(validation_pairs) > 0:
        validation_data = make_dataset(
            validation_pairs, batch_size=batch_size, shuffle=False, **encoders
        )
    monitor = "val_loss" if validation_data is not None else "loss"
    callbacks = []
    if backup_dir is not None:
        callbacks.append(keras.callbacks.BackupAndRestore(str(backup_dir)))
    if checkpoint_path is not None:
        callbacks.append(
            keras.callbacks.ModelCheckpoint(
                str(checkpoint_path), monitor=monitor, save_best_only=True, verbose=0
            )
        )
    if early_stopping_patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, patience=early_stopping_patience, restore_best_weights=True
            )
        )
    if time_budget_seconds is not None:
        callbacks.append(TimeBudget(time_budget_seconds))
    return model.fit(
        train_data,
        validation_data=validation_data,
        epochs=epochs,
        callbacks=callbacks,
        shuffle=False,  # the dataset reshuffles itself every epoch
        verbose=verbose,
    )
