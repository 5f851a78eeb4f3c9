"""Multi-head attention on keys and values projected beforehand, so that
decoding can cache them: the decoder projects only its newest token at each
step, and cross-attention's keys and values are computed once per sentence.

Layout: keys and values are heads-first, `(batch, heads, time, head_dim)`,
the order attention multiplies in, or keys transposed, `(batch, heads,
head_dim, time)` (`keys_transposed=True`: a decoding step's cross-attention
keys, see `keras_s2s.models.transformer_state`). A decoding step's one query
per row is 2-D, `(n, hidden)`, and takes the `one_position` paths, which reach
the same numbers in fewer ops (a step is made of small ops, so their count is
its cost); its self-attention projections can run fused (`FusedQueryKeyValue`).
"""

from __future__ import annotations

from typing import NamedTuple

import keras
import tensorflow as tf

from keras_s2s.decoding.row_constants import attend_by_row
from keras_s2s.masking import masked_softmax


def split_heads(x, num_heads: int, transposed: bool = False):
    """`(batch, time, hidden) -> (batch, heads, time, hidden // heads)`, or
    `(batch, heads, hidden // heads, time)` if `transposed` (in the same one op)."""
    batch, width = tf.shape(x)[0], x.shape[-1]
    x = tf.reshape(x, [batch, -1, num_heads, width // num_heads])
    return tf.transpose(x, [0, 2, 3, 1] if transposed else [0, 2, 1, 3])


def one_position_heads(x, num_heads: int):
    """`(n, hidden) -> (n, heads, 1, hidden // heads)`: `split_heads` of one
    position, in one op. With a time axis of 1 the transpose moves nothing,
    and a constant target shape needs no Shape/StridedSlice/Pack ops: a
    decoding step is made of small ops, so their count is its cost."""
    return tf.reshape(x, [-1, num_heads, 1, x.shape[-1] // num_heads])


@keras.saving.register_keras_serializable(package="keras_s2s")
class KeyValueProjection(keras.layers.Layer):
    """`x (batch, time, hidden) -> (keys, values)`, each `(batch, heads, time, head_dim)`.

    Heads-first, the layout attention multiplies in: cached keys and values
    are then used as they are, with no transpose of the cache at every step.
    """

    def __init__(self, hidden_dim: int, num_heads: int, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.key_projection = keras.layers.Dense(hidden_dim, name="key")
        self.value_projection = keras.layers.Dense(hidden_dim, name="value")

    def call(self, x):
        if len(x.shape) == 2:  # one position per row, a decoding step's (n, hidden)
            return (one_position_heads(self.key_projection(x), self.num_heads),
                    one_position_heads(self.value_projection(x), self.num_heads))
        return (split_heads(self.key_projection(x), self.num_heads),
                split_heads(self.value_projection(x), self.num_heads))

    def packed(self, x, tokens, keys_transposed=False):
        """`call` on real tokens `x (tokens, hidden)` packed by `tokens` (a
        `keras_s2s.models.packed_tokens.PackedTokens`): keys and values in the
        padded layout `(batch, heads, time, head_dim)`, zeros at padding; the
        keys `(batch, heads, head_dim, time)` if `keys_transposed`."""
        return (split_heads(tokens.unpack(self.key_projection(x)), self.num_heads,
                            keys_transposed),
                split_heads(tokens.unpack(self.value_projection(x)), self.num_heads))

    def get_config(self):
        return {**super().get_config(), "hidden_dim": self.hidden_dim,
                "num_heads": self.num_heads}


@keras.saving.register_keras_serializable(package="keras_s2s")
class MultiHeadAttention(keras.layers.Layer):
    """Scaled dot-product attention over several heads, on projected keys/values.

    Owns the query and output projections; the key/value projection is a
    separate `KeyValueProjection`, so its results can be cached.

    Call: `(query (batch, t, hidden), keys, values (batch, heads, s, head_dim),
    key_mask (batch, s) or None, causal=False)` -> `(batch, t, hidden)`.
    `key_mask` marks the keys that may be attended to; `causal=True` also lets
    query i see only keys 0..i (teacher-forced decoder self-attention).
    """

    def __init__(self, hidden_dim: int, num_heads: int, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.head_dim = hidden_dim // num_heads
        self.query_projection = keras.layers.Dense(hidden_dim, name="query")
        self.output_projection = keras.layers.Dense(hidden_dim, name="output")
        self.weights_dropout = keras.layers.Dropout(dropout, name="weights_dropout")

    def _weights(self, query_heads, keys, key_mask, causal, keys_transposed=False):
        """Attention weights, float32 `(batch, heads, t, s)`, from the projected
        query split into heads `(batch, heads, t, head_dim)`."""
        q = query_heads * self.head_dim ** -0.5
        scores = tf.matmul(q, tf.cast(keys, q.dtype),
                           transpose_b=not keys_transposed)  # (b, h, t, s)
        return self._softmax(scores, key_mask, causal)

    @staticmethod
    def _softmax(scores, key_mask, causal):
        """Weights over the keys allowed, float32 even under a mixed-precision
        policy. The mask stays in its broadcast shape, and with nothing to
        mask (a decoding step's self-attention over a growing cache) there is
        no select at all: the same weights in fewer ops."""
        scores = tf.cast(scores, tf.float32)
        allowed = None
        if key_mask is not None:
            allowed = tf.cast(key_mask, tf.bool)[:, None, None, :]  # (b, 1, 1, s)
        if causal:
            query_positions = tf.range(tf.shape(scores)[2])[:, None]
            key_positions = tf.range(tf.shape(scores)[3])[None, :]
            causal_mask = (key_positions <= query_positions)[None, None]  # (1, 1, t, s)
            allowed = causal_mask if allowed is None else allowed & causal_mask
        if allowed is None:
            return tf.nn.softmax(scores, axis=-1)
        return masked_softmax(scores, allowed)

    def _attend_one_position(self, projected_query, keys, values, key_mask,
                             keys_transposed=False):
        """`attend` with one query position per row, 2-D: `(n, hidden) -> (n, hidden)`.

        The same products and softmax as `attend`; only the reshapes differ
        (`one_position_heads`, and `(n, heads, 1, head_dim)` is already the
        memory order of `(n, hidden)`), so the results are identical.
        """
        weights = self._weights(one_position_heads(projected_query, self.num_heads), keys,
                                key_mask, causal=False,
                                keys_transposed=keys_transposed)  # (n, h, 1, s)
        context = tf.matmul(tf.cast(weights, values.dtype), values)  # (n, h, 1, head_dim)
        return tf.reshape(context, [-1, self.hidden_dim])

    def attention_weights(self, query, keys, key_mask=None):
        """Inference weights averaged over heads: `(batch, t, s)` (for attention maps)."""
        query_heads = split_heads(self.query_projection(query), self.num_heads)
        return tf.reduce_mean(self._weights(query_heads, keys, key_mask, causal=False), axis=1)

    def attend(self, projected_query, keys, values, key_mask=None, causal=False,
               training=None, keys_transposed=False):
        """The heads' attention, between the two projections: a projected query
        `(batch, t, hidden)` -> context `(batch, t, hidden)`."""
        weights = self._weights(split_heads(projected_query, self.num_heads), keys, key_mask,
                                causal, keys_transposed)
        weights = self.weights_dropout(weights, training=training)
        context = tf.matmul(tf.cast(weights, values.dtype), values)  # (b, h, t, head_dim)
        context = tf.transpose(context, [0, 2, 1, 3])  # (b, t, h, head_dim)
        return tf.reshape(context, [tf.shape(context)[0], -1, self.hidden_dim])

    def call(self, query, keys, values, key_mask=None, causal=False, training=None):
        context = self.attend(self.query_projection(query), keys, values, key_mask, causal,
                              training)
        return self.output_projection(context)

    def packed(self, query, keys, values, tokens, key_mask=None):
        """Inference on real tokens `query (tokens, hidden)` packed by `tokens`
        (see `KeyValueProjection.packed`): the projections on the packed rows,
        attention in the padded layout. Returns `(tokens, hidden)`."""
        context = self.attend(tokens.unpack(self.query_projection(query)), keys, values, key_mask)
        return self.output_projection(tokens.pack(context))

    def one_query(self, query, keys, values, key_mask=None, beams=None, keys_transposed=False):
        """Inference with one query position per row, 2-D: `(n, hidden) -> (n, hidden)`.

        Both projections see 2-D tensors: Keras multiplies a 3-D input through
        `tf.tensordot`, about a dozen small ops where a 2-D one takes one
        MatMul, and a decoding step is made of such small ops. `beams`: the
        keys and values hold one entry per sentence and the rows are a beam
        search's beams (`keras_s2s.decoding.row_constants`).
        """
        if beams is None:
            return self.one_projected_query(self.query_projection(query), keys, values,
                                            key_mask, keys_transposed)
        context = attend_by_row(
            self.query_projection(query), beams, tf.shape(keys)[0],
            lambda queries: self.attend(queries, keys, values, key_mask,
                                        keys_transposed=keys_transposed))
        return self.output_projection(context)

    def one_projected_query(self, projected_query, keys, values, key_mask=None,
                            keys_transposed=False):
        """`one_query` (without `beams`) on a query already projected, `(n, hidden)`
        (by `FusedQueryKeyValue`, with the keys and values)."""
        return self.output_projection(self._attend_one_position(
            projected_query, keys, values, key_mask, keys_transposed))

    def get_config(self):
        return {**super().get_config(), "hidden_dim": self.hidden_dim,
                "num_heads": self.num_heads, "dropout": self.dropout}


class FusedQueryKeyValue(NamedTuple):
    """A decoding step's self-attention projections as one product.

    A step projects each row's newest token three times, by the query, key
    and value Dense layers: three `(n, hidden) x (hidden, hidden)` products.
    With the three kernels side by side, `(hidden, 3 * hidden)`, it is one
    product and one bias add, four fewer ops per layer and a wider product.
    The model keeps its three Dense layers (training, saved models and the
    CTranslate2 converter see them as they are); `of` builds the fused
    weights from them once per search, outside the decoding loop (see
    `TransformerSeq2Seq.decoding_step`).
    """

    kernel: tf.Tensor  # (hidden, 3 * hidden): query, key, value kernels side by side
    bias: tf.Tensor  # (3 * hidden,)

    @classmethod
    def of(cls, attention: MultiHeadAttention, key_value: KeyValueProjection):
        denses = (attention.query_projection, key_value.key_projection,
                  key_value.value_projection)
        dtype = attention.compute_dtype  # the Dense layers cast their weights to it too
        return cls(tf.cast(tf.concat([d.kernel for d in denses], axis=1), dtype),
                   tf.cast(tf.concat([d.bias for d in denses], axis=0), dtype))

    def __call__(self, x, num_heads: int):
        """`x (n, hidden)` -> `(query (n, hidden), keys, values (n, heads, 1, head_dim))`,
        what the three Dense layers (and `one_position_heads`) give."""
        query, keys, values = tf.split(tf.nn.bias_add(tf.matmul(x, self.kernel), self.bias),
                                       3, axis=-1)
        return query, one_position_heads(keys, num_heads), one_position_heads(values, num_heads)
