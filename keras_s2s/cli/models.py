"""The model a command names: loaded once, and what its vocabularies are.

Loading is not cut short by Ctrl-C: TensorFlow's C++ code turns a
KeyboardInterrupt that arrives while a SavedModel loads into a RuntimeError
("MISMATCH of original and normalized active exception types"), which the
export client then reports as an incomplete SavedModel. So an interrupt
during loading takes effect once the model is loaded (a few seconds), as a
clean interrupt.

Example:
    >>> model = load_model("saved_models/spa_eng")
    >>> source_tokens, target_tokens = model_vocabularies(model)
"""

from __future__ import annotations

from keras_s2s.cli.interrupts import interrupts_deferred


def load_model(path):
    """The model at `path` (a `.keras` file or an export), via `model_from`."""
    from keras_s2s.saving import model_from

    with interrupts_deferred():
        return model_from(str(path))


def model_vocabularies(model):
    """`(source tokens, target tokens)` of a Keras model or an export, or None."""
    if hasattr(model, "source_vocabulary"):
        return model.source_vocabulary, model.target_vocabulary
    config = getattr(getattr(model, "info", None), "config", None) or {}
    if "source_vocabulary" in config and "target_vocabulary" in config:
        return config["source_vocabulary"], config["target_vocabulary"]
    return None
