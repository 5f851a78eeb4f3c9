"""An export back into a Keras model: the config from its export info, the
weights from its variables. For re-exporting an old version with today's
decoding and export code (saved_models/spa_eng/3 is version 2 re-exported so),
or for decoding options an export was not made with.

    >>> model = keras_model_from_export("saved_models/spa_eng/2")
    >>> keras_s2s.translate("¿Dónde está?", model, method="beam", beam_width=8)
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from keras_s2s.saved_model import contract
from keras_s2s.saved_model.client import _load_saved_model, find_version_directory


def _model_class(config: dict):
    # Export configs carry no class name: the Transformer alone has heads.
    if "num_heads" in config:
        from keras_s2s.models.transformer import TransformerSeq2Seq

        return TransformerSeq2Seq
    from keras_s2s.models.rnn import RNNSeq2Seq

    return RNNSeq2Seq


def keras_model_from_export(path):
    """The Keras model an export was written from (same weights, exactly).

    Args:
        path: a version directory, or a base path (its highest version).

    Raises:
        ValueError: the export's variables do not fit the model its config
            describes (it was not written by keras_s2s.export).
    """
    version_dir = find_version_directory(path)
    info = contract.ExportInfo.read(version_dir)
    model = _model_class(info.config).from_config(info.config)
    loaded = _load_saved_model(version_dir)
    # Every translator holds the model's variables in model order (see
    # translation_graph.serving_variables); the exports of 2026-11 named it `default`.
    holder = loaded.translators["serving_default"] if hasattr(loaded, "translators") else (
        loaded.default)
    saved = list(holder.model_variables)
    if len(saved) != len(model.variables) or any(
            tuple(a.shape) != tuple(b.shape) for a, b in zip(model.variables, saved)):
        raise ValueError(f"{version_dir}: its variables do not fit the model its export info "
                         "describes.")
    for variable, value in zip(model.variables, saved):
        variable.assign(tf.cast(np.asarray(value.numpy()), variable.dtype))
    return model
