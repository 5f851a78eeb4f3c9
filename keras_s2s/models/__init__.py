"""Encoder–decoder architectures, each exposing training/encoder/decoder models.

Names are imported on first use (PEP 562): `keras_s2s.models.architectures`
(the names and presets, plain data) loads without TensorFlow.
"""

import importlib

from keras_s2s.lazy_import import lazy_names

# public name -> module that defines it
_EXPORTS = {
    "ARCHITECTURES": "keras_s2s.models.architectures",
    "BahdanauAttention": "keras_s2s.models.attention_layers",
    "LuongAttention": "keras_s2s.models.attention_layers",
    "RNNSeq2Seq": "keras_s2s.models.rnn",
    "Seq2Seq": "keras_s2s.models.base",
    "TransformerSeq2Seq": "keras_s2s.models.transformer",
    "build_model": "keras_s2s.models.building",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS)


def register_model_classes():
    """Imports every model class, so Keras can deserialise `.keras` files."""
    for module in ("rnn", "transformer", "attention_layers", "transformer_layers",
                   "key_value_cache", "tied_output"):
        importlib.import_module(f"keras_s2s.models.{module}")
