"""Loading saved models, and what a `model=` argument may be.

Saving is Keras' own `model.save("model.keras")`: the config (hyperparameters
and both vocabularies) and the weights go into one zip, no pickles, so loading
needs no `safe_mode=False`.

`keras_s2s.load(path)` gives the caller a model of their own, a new object at
every call. Functions that only *use* a model (`translate`, `evaluate`,
`export`, `attention_map`) take a path too, and share one private copy per
file version (`model_from`), which never leaves this module's cache, so
nothing a caller does to a model they loaded can change what a path
translates to.
"""

from __future__ import annotations

import os
import pathlib
import zipfile

import keras

from keras_s2s.models import register_model_classes

# resolved path -> ((modification time, size), model): one private copy per file.
_models_by_path: dict[str, tuple[tuple[int, int], keras.Model]] = {}


def _check_keras_file(path: pathlib.Path):
    if not path.exists():
        raise FileNotFoundError(f"No model at {path}: train one with `keras-s2s train` first.")
    if path.is_dir():
        raise ValueError(
            f"{path} is a directory; keras_s2s.load expects a `.keras` file "
            "(a SavedModel export is for TF Serving)."
        )
    if path.suffix != ".keras":
        raise ValueError(f"{path}: expected a file ending in .keras.")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"{path} is not a valid .keras file (not a zip archive: truncated?).")


def load(path: str | os.PathLike, *, compile: bool = False):
    """Loads a `.keras` model written by `model.save`: a new object at every call.

    Args:
        path: the `.keras` file.
        compile: also restore the optimizer and loss (to continue training).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a readable `.keras` model (e.g. truncated).

    Example:
        >>> model = keras_s2s.load("runs/demo.keras")
    """
    path = pathlib.Path(path)
    _check_keras_file(path)
    register_model_classes()
    if compile:  # the loss, metrics and schedule classes a compiled file names
        import keras_s2s.losses  # noqa: F401
        import keras_s2s.schedules  # noqa: F401
    try:
        return keras.saving.load_model(path, compile=compile)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as error:
        raise ValueError(f"Could not load the model in {path}: {error}") from error


def model_from(model):
    """What a `model=` argument names: a model object (returned as is), a
    `.keras` path (its private cached copy), or a SavedModel base path or
    version directory (its `keras_s2s.saved_model.client.SavedModelTranslator`).
    """
    if not isinstance(model, (str, os.PathLike)):
        return model
    path = pathlib.Path(model)
    if path.is_dir():
        from keras_s2s.saved_model.client import open_export

        return open_export(path)
    _check_keras_file(path)
    key, stat = str(path.resolve()), path.stat()
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _models_by_path.get(key)
    if cached is None or cached[0] != version:
        _models_by_path[key] = (version, load(path))
    return _models_by_path[key][1]
