"""Files that appear whole or not at all: atomic saving and the best-model checkpoint.

A process killed while `model.save("best.keras")` writes leaves a truncated
zip under the name the user trusts. Everything here is written under a
temporary name in the same directory (same file system, so the rename is
atomic), flushed to disk, and then renamed over the target with `os.replace`:
a reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import math
import os
import pathlib
import warnings

import keras

# Keras picks the format from the ending, so a temporary name must keep it.
_KNOWN_ENDINGS = (".weights.h5", ".keras", ".npz", ".json")


def temporary_name(path: pathlib.Path) -> pathlib.Path:
    """`dir/.model.<pid>.partial.keras` for `dir/model.keras`: hidden, unique to
    this process, in the same directory, with the ending Keras needs."""
    ending = next((e for e in _KNOWN_ENDINGS if path.name.endswith(e)), path.suffix)
    stem = path.name[: len(path.name) - len(ending)] if ending else path.name
    return path.with_name(f".{stem}.{os.getpid()}.partial{ending}")


def write_atomically(path: str | os.PathLike, write) -> pathlib.Path:
    """Calls `write(temporary_path)`, then renames the result onto `path`.

    Args:
        path: the file to (re)place.
        write: a function that writes the whole file at the path it is given.

    Returns:
        `path`, as a `pathlib.Path`.

    Example:
        >>> write_atomically("state.json", lambda p: p.write_text('{"epoch": 3}'))
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_name(path)
    try:
        write(temporary)
        _flush_to_disk(temporary)
        os.replace(temporary, path)
        _flush_to_disk(path.parent)  # make the rename itself survive a power cut
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return path


def _flush_to_disk(path: pathlib.Path):
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # some file systems refuse fsync on directories; the rename still happened
    finally:
        os.close(descriptor)


def save_model_atomically(model, path: str | os.PathLike) -> pathlib.Path:
    """`model.save(path)`, but a crash mid-save leaves the previous file intact.

    Raises:
        ValueError: `path` does not end in `.keras`.

    Example:
        >>> save_model_atomically(model, "runs/spa_eng.keras")
    """
    check_keras_path(path, "path")
    return write_atomically(path, model.save)


def check_keras_path(path, option: str):
    """Keras saves models only to names ending in `.keras`; say so before training."""
    if not str(path).endswith(".keras"):
        raise ValueError(f"{option} must end in .keras (Keras' model format), got {str(path)!r}.")


class BestModelCheckpoint(keras.callbacks.Callback):
    """Saves the model whenever `monitor` reaches a new best, atomically.

    Unlike `keras.callbacks.ModelCheckpoint`, the file is never seen half
    written, and the best value so far is part of the resumable state
    (`get_state` / `set_state`), so a resumed run does not overwrite a better
    model with its first, worse epoch.

    Args:
        path: the `.keras` file.
        monitor: the logged quantity to watch (`"val_loss"`, `"loss"`, `"val_bleu"`).
        mode: `"min"` (lower is better, for losses) or `"max"` (for BLEU, chrF).
        write: `False` on the non-chief workers of a multi-worker run, which
            follow the best value but leave writing the file to the chief.

    Example:
        >>> model.fit(data, callbacks=[BestModelCheckpoint("best.keras")])
    """

    def __init__(self, path, *, monitor: str = "val_loss", mode: str = "min",
                 write: bool = True):
        super().__init__()
        check_keras_path(path, "checkpoint_path")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}.")
        self.path = pathlib.Path(path)
        self.monitor = monitor
        self.mode = mode
        self.write = write
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"BestModelCheckpoint: {self.monitor!r} is not logged; nothing saved.",
                          stacklevel=2)
            return
        value = float(value)
        improved = value < self.best if self.mode == "min" else value > self.best
        if math.isnan(value) or not improved:
            return
        self.best, self.best_epoch = value, epoch
        if self.write:
            save_model_atomically(self.model, self.path)

    def get_state(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def set_state(self, state: dict):
        self.best, self.best_epoch = float(state["best"]), state["best_epoch"]
