"""The callbacks `keras_s2s.train` runs, and the order they must run in.

Keras hands every callback the same epoch logs, in list order, and calls
their `on_train_end`s in that order too. So:

    ValidationScores        adds val_bleu / val_chrf for everything after it
    the caller's callbacks  (loggers see the scores)
    BestModelCheckpoint     reads the monitor
    ResumableEarlyStopping  reads the monitor; at the end restores the best weights
    TimeBudget
    CheckpointSnapshots     at the end averages the last K epochs (after, so it wins)
    TrainingBackup          (added by train, last: saves everyone's state)
"""

from __future__ import annotations

import contextlib
import pathlib
import shutil
import tempfile
import time

import keras

from keras_s2s.averaging import CheckpointSnapshots
from keras_s2s.checkpointing import BestModelCheckpoint
from keras_s2s.distribution import is_chief, worker_task
from keras_s2s.recipe import Recipe
from keras_s2s.resume import ResumableEarlyStopping
from keras_s2s.validation_scores import ValidationScores


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


def training_callbacks(recipe: Recipe, extra: list, validation_pairs, *, checkpoint_path,
                       early_stopping_patience, time_budget_seconds, snapshots, chief,
                       verbose):
    """The callback list for `train`, in the order its parts must see the epoch's logs.

    Args:
        recipe: the checked options (`keras_s2s.recipe.check_recipe`).
        extra: the caller's callbacks.
        validation_pairs: translated for `val_bleu` when the recipe asks for it.
        checkpoint_path, early_stopping_patience, time_budget_seconds: as in `train`.
        snapshots: the directory for `average_last`'s snapshots (None: none).
        chief: whether this worker writes the best checkpoint.
        verbose: whether averaging says what it averaged.

    Returns:
        `(callbacks, resumable)`: the list (without `TrainingBackup`) and the
        callbacks whose state a backup must keep, by name.

    Example:
        >>> callbacks, resumable = training_callbacks(recipe, [], splits.validation,
        ...     checkpoint_path=None, early_stopping_patience=3, time_budget_seconds=None,
        ...     snapshots=None, chief=True, verbose=True)
    """
    callbacks, resumable = [], {}
    if recipe.validation_bleu_every:
        # First: every later callback (and History, the progress bar) reads its scores.
        callbacks.append(ValidationScores(validation_pairs,
                                          every_epochs=recipe.validation_bleu_every,
                                          sample_size=recipe.validation_bleu_sample_size))
    callbacks.extend(extra)
    monitor = dict(monitor=recipe.monitor, mode=recipe.monitor_mode)
    if checkpoint_path is not None:
        resumable["checkpoint"] = BestModelCheckpoint(checkpoint_path, write=chief, **monitor)
        callbacks.append(resumable["checkpoint"])
    if early_stopping_patience:
        # With EMA or averaging, those decide the final weights, not the best epoch.
        restore = not (recipe.use_ema or recipe.average_last)
        resumable["early_stopping"] = ResumableEarlyStopping(
            patience=early_stopping_patience, restore_best_weights=restore, **monitor)
        callbacks.append(resumable["early_stopping"])
    if time_budget_seconds is not None:
        callbacks.append(TimeBudget(time_budget_seconds))
    if snapshots is not None:
        # After early stopping, whose own on_train_end would undo the average.
        callbacks.append(CheckpointSnapshots(snapshots, keep=recipe.average_last,
                                             remove_at_end=True, verbose=verbose))
    return callbacks, resumable


@contextlib.contextmanager
def snapshot_directory(backup_dir, strategy, recipe: Recipe):
    """Where `average_last` keeps its snapshots: in the backup, so a resumed
    run finds them; without one, a temporary directory removed afterwards."""
    if not recipe.average_last:
        yield None
    elif backup_dir is not None:
        yield worker_backup_dir(backup_dir, strategy) / "snapshots"
    else:
        directory = tempfile.mkdtemp(prefix="keras_s2s-snapshots-")
        try:
            yield pathlib.Path(directory)
        finally:
            shutil.rmtree(directory, ignore_errors=True)


def worker_backup_dir(backup_dir, strategy) -> pathlib.Path:
    """Every worker of a multi-worker run backs up its own copy (they are
    identical): the chief in `backup_dir`, worker i in `backup_dir/worker-i`,
    so workers never write the same file, shared file system or not."""
    if is_chief(strategy):
        return pathlib.Path(backup_dir)
    task_type, task_id = worker_task(strategy)
    return pathlib.Path(backup_dir) / f"{task_type}-{task_id}"
