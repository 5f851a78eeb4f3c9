"""The two classic ways a decoder scores encoder outputs: multiplicative
(Luong) and additive (Bahdanau) attention.

Both layers share one call signature, so the RNN decoder can use either:

    (query (batch, t, d), values (batch, s, d), values_mask (batch, s))
        -> (context (batch, t, d), weights (batch, t, s))

`weights` sum to 1 over the real (unpadded) source positions of each row.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_s2s.masking import masked_softmax


def _masked_softmax(scores, values_mask):
    """Softmax over the source axis of `(batch, t, s)` scores, padding masked."""
    return masked_softmax(scores, tf.cast(values_mask, tf.bool)[:, None, :])


@keras.saving.register_keras_serializable(package="keras_s2s")
class LuongAttention(keras.layers.Layer):
    """Multiplicative ("general") attention: score(q, k) = (W q) · k.

    W is applied to the query rather than to every key, which is the same score
    but costs one matrix product per decoder step instead of one per source word.

    Args:
        units: size of the values (the encoder outputs).
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        # The query's padding mask passes through to the context unchanged.
        self.supports_masking = True
        self.units = units
        self.query_projection = keras.layers.Dense(units, use_bias=False, name="query")

    def call(self, query, values, values_mask):
        query = self.query_projection(query)
        scores = tf.einsum("btd,bsd->bts", query, values)
        weights = _masked_softmax(scores, values_mask)
        return tf.einsum("bts,bsd->btd", weights, values), weights

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="keras_s2s")
class BahdanauAttention(keras.layers.Layer):
    """Additive attention: score(q, k) = v · tanh(W_q q + W_k k).

    A small one-hidden-layer network scores every (query, key) pair. It can
    model interactions a dot product cannot, at the price of a
    `(batch, t, s, units)` intermediate; `W_k k` is recomputed at every
    decoder step (cheap next to the output softmax at our sizes).

    Args:
        units: width of the scoring network's hidden layer.
    """

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.units = units
        self.query_projection = keras.layers.Dense(units, use_bias=False, name="query")
        self.key_projection = keras.layers.Dense(units, use_bias=False, name="key")
        self.score_projection = keras.layers.Dense(1, use_bias=False, name="score")

    def call(self, query, values, values_mask):
        query = self.query_projection(query)[:, :, None, :]  # (batch, t, 1, units)
        keys = self.key_projection(values)[:, None, :, :]  # (batch, 1, s, units)
        scores = self.score_projection(tf.tanh(query + keys))[..., 0]  # (batch, t, s)
        weights = _masked_softmax(scores, values_mask)
        return tf.einsum("bts,bsd->btd", weights, values), weights

    def get_config(self):
        return {**super().get_config(), "units": self.units}


# The layer of each `keras_s2s.models.architectures.ATTENTION_TYPES` name.
ATTENTION_LAYERS = {"luong": LuongAttention, "bahdanau": BahdanauAttention}
