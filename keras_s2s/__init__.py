"""keras_s2s: encoder–decoder (sequence-to-sequence) models for Keras 3 / TensorFlow.

    >>> import keras_s2s
    >>> splits = keras_s2s.data.load_corpus("bible-spa-eng", max_words=20)
    >>> model = keras_s2s.build_model(splits.train, architecture="gru")
    >>> keras_s2s.train(model, splits.train, splits.validation, epochs=5)
    >>> keras_s2s.translate("¿Dónde está?", model)

Names are imported on first use (PEP 562), so `import keras_s2s.data` stays
light and a submodule can be used before the whole package is loaded.
"""

import os

from keras_s2s.lazy_import import lazy_names

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "RNNSeq2Seq": "keras_s2s.models",
    "Seq2Seq": "keras_s2s.models",
    "build_model": "keras_s2s.models",
    "Translator": "keras_s2s.translation_graph",
    "attention_map": "keras_s2s.attention_maps",
    "plot_attention": "keras_s2s.attention_maps",
    "evaluate": "keras_s2s.evaluation",
    # The function lives in `saved_model.writer`, not in a module named
    # `export`: importing a submodule sets the package attribute of the same
    # name, which would hide the function.
    "export": "keras_s2s.saved_model.writer",
    "check_export": "keras_s2s.saved_model.check",
    "load": "keras_s2s.saving",
    "train": "keras_s2s.training",
    "translate": "keras_s2s.translation",
    "score": "keras_s2s.scoring",
}
_SUBMODULES = ("data", "decoding", "models", "text")

__all__ = sorted([*_EXPORTS, *_SUBMODULES])


__getattr__, __dir__ = lazy_names(__name__, {
    **_EXPORTS, **{name: f"keras_s2s.{name}" for name in _SUBMODULES}})
