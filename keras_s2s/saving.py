"""Loading saved models: `keras_s2s.load("model.keras")`.

Saving is Keras' own `model.save("model.keras")`: the config (hyperparameters
and both vocabularies) and the weights go into one zip, no pickles, so loading
needs no `safe_mode=False`.
"""

from __future__ import annotations

import os
import pathlib
import zipfile

import keras

import keras_s2s.models  # noqa: F401  (registers the model classes with Keras)
import keras_s2s.training  # noqa: F401  (registers MaskedAccuracy for compiled models)

_loaded: dict[tuple[str, float], keras.Model] = {}


def load(path: str | os.PathLike, *, compile: bool = False):
    """Loads a `.keras` model written by `model.save` (cached per file version).

    Args:
        path: the `.keras` file.
        compile: also restore the optimizer and loss (to continue training).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a readable `.keras` model (e.g. truncated).
    """
    path = pathlib.Path(path)
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
    key = (str(path.resolve()), path.stat().st_mtime, compile)
    if key not in _loaded:
        try:
            _loaded[key] = keras.saving.load_model(path, compile=compile)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
            raise ValueError(f"Could not load the model in {path}: {error}") from error
    return _loaded[key]
