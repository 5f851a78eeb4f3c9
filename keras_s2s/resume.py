"""Resuming a killed run at the epoch it reached.

`TrainingBackup` plays the part of `keras.callbacks.BackupAndRestore`, whose
backup is two files written in place one after the other: a kill during the
write leaves a truncated `latest.weights.h5` that stops the next run, and the
best-model and early-stopping bookkeeping restarts from nothing. Here, at the
end of every epoch:

    backup_dir/epoch-0003.weights.h5      model and optimizer variables
    backup_dir/best-epoch-0002.npz        early stopping's best weights (if kept)
    backup_dir/state.json                 {"epoch": 3, "weights": ..., "callbacks": ...}

each file is written atomically, and `state.json` last: renaming it in is the
commit. Whatever moment the process dies, `state.json` names files that are
complete. Older files are removed after the commit.

Keras resumes at an epoch boundary (it cannot restart halfway through an
epoch's data), so a run loses at most the epoch in progress.
"""

from __future__ import annotations

import contextlib
import json
import pathlib

import keras
import numpy as np

from keras_s2s.checkpointing import write_atomically

STATE_FILE = "state.json"


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """`EarlyStopping` whose patience count and best value survive a restart.

    (The best weights themselves are kept by `TrainingBackup`.)
    """

    def get_state(self) -> dict:
        return {"wait": self.wait, "best": None if self.best is None else float(self.best),
                "best_epoch": self.best_epoch}

    def set_state(self, state: dict):
        self.wait, self.best, self.best_epoch = state["wait"], state["best"], state["best_epoch"]


class TrainingBackup(keras.callbacks.Callback):
    """Backs up the training state every epoch; `restore` picks it up again.

    Args:
        directory: the backup directory (one per run; created on first save,
            removed when training ends normally).
        resumable: callbacks whose state must survive, by name; each has
            `get_state() -> dict` and `set_state(dict)`. An
            `ResumableEarlyStopping` among them also gets its best weights back.

    Use it last in the callback list (its `on_epoch_end` must see the other
    callbacks' state for that epoch), and call `restore` before `fit`:

    Example:
        >>> backup = TrainingBackup("runs/backup", resumable={"early_stopping": stopping})
        >>> initial_epoch = backup.restore(model)
        >>> model.fit(data, epochs=10, initial_epoch=initial_epoch,
        ...           callbacks=[stopping, backup])
    """

    def __init__(self, directory, *, resumable: dict | None = None):
        super().__init__()
        self.directory = pathlib.Path(directory)
        self.resumable = dict(resumable or {})
        self._restored_state = None

    # -- restoring -------------------------------------------------------------------

    def read_state(self) -> dict | None:
        """The last committed state, or None when there is no backup yet."""
        path = self.directory / STATE_FILE
        if not path.exists():
            return None
        try:
            state = json.loads(path.read_text())
            weights = self.directory / state["weights"]
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(
                f"{path} is not a keras_s2s training backup ({error}); delete {self.directory} "
                "to start this run from scratch."
            ) from None
        if not weights.exists():
            raise ValueError(f"{path} names {weights.name}, which is missing; delete "
                             f"{self.directory} to start this run from scratch.")
        return state

    def restore(self, model) -> int:
        """Loads the backed-up weights and optimizer into `model`.

        Returns:
            The epoch to start from (0 when there is nothing to resume).
        """
        state = self.read_state()
        if state is None:
            return 0
        if model.optimizer is not None and not model.optimizer.built:
            # The optimizer's variables must exist to receive their saved values.
            with model.distribute_strategy.scope():
                model.optimizer.build(model.trainable_variables)
        try:
            model.load_weights(self.directory / state["weights"])
        except (OSError, ValueError) as error:
            raise ValueError(
                f"Could not resume from {self.directory / state['weights']}: {error}. Was the "
                f"backup made by a different model? Delete {self.directory} to start over."
            ) from None
        self._restored_state = state
        return int(state["epoch"])

    def on_train_begin(self, logs=None):
        # Callbacks reset themselves in their own on_train_begin, which ran
        # before this one (we are last): now put their saved state back.
        state = self._restored_state
        if state is None:
            return
        for name, callback in self.resumable.items():
            if name in state["callbacks"]:
                callback.set_state(state["callbacks"][name])
            if isinstance(callback, ResumableEarlyStopping) and state.get("best_weights"):
                with np.load(self.directory / state["best_weights"]) as arrays:
                    callback.best_weights = [arrays[f"arr_{i}"] for i in range(len(arrays))]

    # -- saving ------------------------------------------------------------------------

    def on_epoch_end(self, epoch, logs=None):
        previous = self.read_state() or {}
        weights_name = f"epoch-{epoch + 1:04d}.weights.h5"
        write_atomically(self.directory / weights_name, self.model.save_weights)
        best_weights_name = previous.get("best_weights")
        for callback in self.resumable.values():
            if isinstance(callback, ResumableEarlyStopping) and callback.best_epoch == epoch \
                    and callback.best_weights is not None:
                best_weights_name = f"best-epoch-{epoch + 1:04d}.npz"
                write_atomically(self.directory / best_weights_name,
                                 lambda path, c=callback: np.savez(path, *c.best_weights))
        state = {
            "epoch": epoch + 1,  # epochs finished = the epoch to start from
            "weights": weights_name,
            "best_weights": best_weights_name,
            "callbacks": {name: c.get_state() for name, c in self.resumable.items()},
        }
        write_atomically(self.directory / STATE_FILE,
                         lambda path: path.write_text(json.dumps(state)))
        self._remove_files_except({STATE_FILE, weights_name, best_weights_name})

    def on_train_end(self, logs=None):
        # The run is complete: a rerun of the same command starts afresh.
        self._remove_files_except(set())

    def _remove_files_except(self, keep: set):
        if not self.directory.is_dir():
            return
        for path in self.directory.iterdir():
            ours = path.name == STATE_FILE or path.name.startswith(("epoch-", "best-epoch-"))
            if ours and path.name not in keep:
                path.unlink(missing_ok=True)
        if not keep:
            with contextlib.suppress(OSError):  # not empty: someone else's files are there
                self.directory.rmdir()
