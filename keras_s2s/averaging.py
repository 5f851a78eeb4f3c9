"""Checkpoint averaging: the mean of the weights of a model's last K epochs.

Averaging the last few epochs' weights (as fairseq's `average_checkpoints.py`
does) usually scores a little better than the last epoch alone, for the cost
of K saved copies. Two ways in:

- `average_checkpoints(paths)`: the mean of K `.keras` files, after checking
  they are one architecture with one pair of vocabularies.
- `CheckpointSnapshots(directory, keep=K)`: a callback that keeps the last K
  epochs' weights during training and averages them at the end.

The snapshots are `.npz` files of the model's weights alone: a `.keras` or
`.weights.h5` file would also hold the optimizer's state (three times the
model's size with Adam), and averaging arrays needs no model to be built,
inside a `tf.distribute` strategy or not.
"""

from __future__ import annotations

import contextlib
import pathlib
import re

import keras
import numpy as np

import keras_s2s.models  # noqa: F401  (registers the model classes load_model needs)
from keras_s2s.checkpointing import save_model_atomically, write_atomically

SNAPSHOT_PATTERN = re.compile(r"snapshot-epoch-(\d+)\.npz")


def mean_weights(weight_lists) -> list[np.ndarray]:
    """The element-wise mean of several lists of weight arrays.

    Sums in float64 and rounds once, so the mean of K equal arrays is that
    array, and of two float32 arrays their exactly rounded mean. Non-float
    weights (none in keras_s2s models) are taken from the last list.

    Args:
        weight_lists: an iterable of lists of arrays, all with the same shapes
            (a generator keeps one checkpoint in memory at a time).

    Example:
        >>> mean_weights([[np.zeros(2)], [np.ones(2)]])
        [array([0.5, 0.5])]
    """
    totals, dtypes, count = None, None, 0
    for weights in weight_lists:
        weights = [np.asarray(w) for w in weights]
        if totals is None:
            dtypes = [w.dtype for w in weights]
            totals = [np.zeros(w.shape, np.float64) for w in weights]
        shapes = [t.shape for t in totals]
        if [w.shape for w in weights] != shapes:
            raise ValueError(f"Checkpoint {count} has weights of shapes "
                             f"{[w.shape for w in weights]}, the first has {shapes}.")
        for index, weight in enumerate(weights):
            if np.issubdtype(dtypes[index], np.floating):
                totals[index] += weight
            else:
                totals[index] = weight.copy()
        count += 1
    if not count:
        raise ValueError("Nothing to average: no checkpoints.")
    return [(total / count).astype(dtype) if np.issubdtype(dtype, np.floating) else total
            for total, dtype in zip(totals, dtypes)]


def average_checkpoints(paths) -> keras.Model:
    """Loads K `.keras` models and returns one whose every weight is their mean.

    Args:
        paths: the `.keras` files (e.g. the last K epochs of one run).

    Returns:
        The first file's model (uncompiled), holding the averaged weights.

    Raises:
        ValueError: no paths; a file that does not load; or two files whose
            models differ in class or in `get_config()` (architecture,
            vocabularies, lengths; the model's `name` may differ). The
            message names both files and the first key that differs.

    Example:
        >>> model = average_checkpoints(["run/epoch-8.keras", "run/epoch-9.keras"])
        >>> keras_s2s.translate("¿Dónde está?", model)
    """
    paths = [pathlib.Path(path) for path in paths]
    if not paths:
        raise ValueError("average_checkpoints needs at least one path, got none.")
    first = _load(paths[0])

    def weights_of_each():
        yield first.get_weights()
        for path in paths[1:]:
            model = _load(path)
            _check_same_model(paths[0], first, path, model)
            yield model.get_weights()

    first.set_weights(mean_weights(weights_of_each()))
    return first


def _load(path: pathlib.Path):
    if not path.is_file():
        raise ValueError(f"average_checkpoints: no model file at {path}.")
    try:
        return keras.saving.load_model(path, compile=False)
    except Exception as error:  # Keras raises many kinds for a bad file
        raise ValueError(f"average_checkpoints could not load {path}: {error}") from error


def _check_same_model(first_path, first, path, model):
    if type(model) is not type(first):
        raise ValueError(f"{first_path} holds a {type(first).__name__} but {path} a "
                         f"{type(model).__name__}: only one architecture can be averaged.")
    first_config, config = first.get_config(), model.get_config()
    for key in [*first_config, *(k for k in config if k not in first_config)]:
        if key != "name" and first_config.get(key) != config.get(key):
            raise ValueError(f"{first_path} and {path} hold different models: {key!r} differs "
                             f"({_difference(first_config.get(key), config.get(key))}); only "
                             "checkpoints of one architecture and vocabularies can be averaged.")


def _difference(first, other) -> str:
    """A short description of how two config values differ (vocabularies are long)."""
    if isinstance(first, list) and isinstance(other, list):
        for index, (a, b) in enumerate(zip(first, other)):
            if a != b:
                return f"entry {index}: {a!r} vs {b!r}"
        return f"{len(first)} vs {len(other)} entries"
    return f"{first!r:.60} vs {other!r:.60}"


class CheckpointSnapshots(keras.callbacks.Callback):
    """Keeps the weights of the last `keep` epochs and averages them at the end.

    After every epoch the model's weights go to
    `directory/snapshot-epoch-0007.npz` (written atomically); older ones
    beyond `keep` are deleted. A directory that already holds snapshots (a
    resumed run's) is carried on: snapshots of epochs past the one starting
    are dropped, since that epoch is being run again.

    Args:
        directory: where the snapshots go (created on first save).
        keep: K, the number of most recent epochs to keep (>= 1).
        average_at_end: when training ends, set the model's weights to the
            mean of the snapshots kept (fewer than K if it ran fewer epochs).
        averaged_path: also save the averaged model to this `.keras` file.
        remove_at_end: delete the snapshots (and the directory if that
            empties it) once averaged.
        verbose: print which epochs were averaged.

    Example:
        >>> snapshots = CheckpointSnapshots("runs/snapshots", keep=5,
        ...                                 averaged_path="runs/averaged.keras")
        >>> model.fit(data, epochs=20, callbacks=[snapshots])
    """

    def __init__(self, directory, *, keep: int, average_at_end: bool = True,
                 averaged_path=None, remove_at_end: bool = False, verbose: bool = False):
        super().__init__()
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise ValueError(f"keep must be an integer >= 1, got {keep!r}.")
        self.directory = pathlib.Path(directory)
        self.keep = keep
        self.average_at_end = average_at_end
        self.averaged_path = averaged_path
        self.remove_at_end = remove_at_end
        self.verbose = verbose

    def snapshot_paths(self) -> list[pathlib.Path]:
        """The snapshots on disk, oldest epoch first."""
        if not self.directory.is_dir():
            return []
        found = [(int(m.group(1)), p) for p in self.directory.iterdir()
                 if (m := SNAPSHOT_PATTERN.fullmatch(p.name))]
        return [path for _, path in sorted(found)]

    def on_epoch_begin(self, epoch, logs=None):
        for path in self.snapshot_paths():
            if _epoch_number(path) > epoch:  # left by a run that died during that epoch
                path.unlink(missing_ok=True)

    def on_epoch_end(self, epoch, logs=None):
        weights = self.model.get_weights()
        write_atomically(self.directory / f"snapshot-epoch-{epoch + 1:04d}.npz",
                         lambda path: np.savez(path, *weights))
        for path in self.snapshot_paths()[: -self.keep]:
            path.unlink(missing_ok=True)

    def average(self):
        """Sets the model's weights to the mean of the snapshots kept.

        Returns:
            The model. Raises a ValueError when there is no snapshot.
        """
        paths = self.snapshot_paths()
        if not paths:
            raise ValueError(f"No snapshots to average in {self.directory}.")
        try:
            self.model.set_weights(mean_weights(_read_npz(path) for path in paths))
        except ValueError as error:
            raise ValueError(f"The snapshots in {self.directory} do not fit this model "
                             f"({error}); were they made by another one?") from None
        if self.verbose:
            epochs = [_epoch_number(path) for path in paths]
            print(f"Weights averaged over epochs {', '.join(map(str, epochs))}.")
        if self.averaged_path is not None:
            save_model_atomically(self.model, self.averaged_path)
        return self.model

    def on_train_end(self, logs=None):
        if self.average_at_end and self.snapshot_paths():
            self.average()
        if self.remove_at_end:
            for path in self.snapshot_paths():
                path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # not empty: someone else's files are there
                self.directory.rmdir()


def _epoch_number(path: pathlib.Path) -> int:
    return int(SNAPSHOT_PATTERN.fullmatch(path.name).group(1))


def _read_npz(path: pathlib.Path) -> list[np.ndarray]:
    with np.load(path) as arrays:
        return [arrays[f"arr_{index}"] for index in range(len(arrays.files))]
