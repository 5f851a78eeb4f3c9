"""The Transformer's building blocks, written so that decoding can cache.

Attention (`keras_s2s.models.multi_head_attention`) takes keys and values
that are *already projected*: the decoder keeps every past position's keys
and values in its cache (`keras_s2s.models.key_value_cache`) and projects
only the newest token at each step, and the encoder's keys and values for
cross-attention are computed once per sentence instead of once per step.

Every block is pre-norm (`x + f(LayerNorm(x))`): the residual path stays an
identity, so gradients reach the bottom layers undamped and training is stable
without a learning-rate warm-up, which matters at our small sizes and short
CPU budgets (post-norm Transformers usually need a warm-up to train stably).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_s2s.models.key_value_cache import cached_keys_and_values
from keras_s2s.models.multi_head_attention import (
    FusedQueryKeyValue,
    KeyValueProjection,
    MultiHeadAttention,
)
from keras_s2s.models.transformer_state import transposed


@keras.saving.register_keras_serializable(package="keras_s2s")
class PositionalEmbedding(keras.layers.Layer):
    """Token embeddings plus learned position embeddings.

    Call: `(token_ids (batch, time), start_positions (batch,) or None)` ->
    `(batch, time, hidden_dim)`. Positions are `start + 0, 1, ...`, clipped to
    `max_length - 1` (padding can reach past a full-length source, e.g. XLA's
    8-token buckets; padding is masked, so its position does not matter).
    """

    def __init__(self, vocabulary_size: int, max_length: int, hidden_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.max_length = max_length
        self.hidden_dim = hidden_dim
        self.token_embedding = keras.layers.Embedding(vocabulary_size, hidden_dim, name="tokens")
        self.position_embedding = keras.layers.Embedding(max_length, hidden_dim, name="positions")

    def call(self, token_ids, start_positions=None):
        positions = tf.range(tf.shape(token_ids)[1])[None, :]  # (1, time)
        if start_positions is not None:
            positions = positions + tf.cast(start_positions, tf.int32)[:, None]  # (batch, time)
        positions = tf.minimum(positions, self.max_length - 1)
        return self.token_embedding(token_ids) + self.position_embedding(positions)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size,
                "max_length": self.max_length, "hidden_dim": self.hidden_dim}


@keras.saving.register_keras_serializable(package="keras_s2s")
class FeedForward(keras.layers.Layer):
    """Position-wise `Dense(intermediate_dim, relu) -> Dropout -> Dense(hidden_dim)`."""

    def __init__(self, hidden_dim: int, intermediate_dim: int, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.expand = keras.layers.Dense(intermediate_dim, activation="relu", name="expand")
        self.dropout_layer = keras.layers.Dropout(dropout, name="dropout")
        self.contract = keras.layers.Dense(hidden_dim, name="contract")

    def call(self, x, training=None):
        return self.contract(self.dropout_layer(self.expand(x), training=training))

    def get_config(self):
        return {**super().get_config(), "hidden_dim": self.hidden_dim,
                "intermediate_dim": self.intermediate_dim, "dropout": self.dropout}


class _Block(keras.layers.Layer):
    """What both block types share: self-attention and feed-forward sub-layers."""

    def __init__(self, hidden_dim: int, num_heads: int, intermediate_dim: int,
                 dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.self_attention_norm = keras.layers.LayerNormalization(name="self_attention_norm")
        self.self_key_value = KeyValueProjection(hidden_dim, num_heads, name="self_key_value")
        self.self_attention = MultiHeadAttention(hidden_dim, num_heads, dropout,
                                                 name="self_attention")
        self.feed_forward_norm = keras.layers.LayerNormalization(name="feed_forward_norm")
        self.feed_forward = FeedForward(hidden_dim, intermediate_dim, dropout, name="feed_forward")
        self.residual_dropout = keras.layers.Dropout(dropout, name="residual_dropout")

    def _feed_forward(self, x, training):
        h = self.feed_forward(self.feed_forward_norm(x), training=training)
        return x + self.residual_dropout(h, training=training)

    def get_config(self):
        return {**super().get_config(), "hidden_dim": self.hidden_dim,
                "num_heads": self.num_heads, "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout}


@keras.saving.register_keras_serializable(package="keras_s2s")
class EncoderBlock(_Block):
    """Pre-norm self-attention over the source (padding masked) + feed-forward.

    Call: `(x (batch, s, hidden), source_mask (batch, s))` -> `(batch, s, hidden)`.
    """

    def call(self, x, source_mask, training=None):
        h = self.self_attention_norm(x)
        keys, values = self.self_key_value(h)
        h = self.self_attention(h, keys, values, key_mask=source_mask, training=training)
        x = x + self.residual_dropout(h, training=training)
        return self._feed_forward(x, training)

    def packed(self, x, tokens, source_mask):
        """`call` at inference on real tokens `x (tokens, hidden)` packed by
        `tokens` (see `keras_s2s.models.packed_tokens`) -> `(tokens, hidden)`."""
        h = self.self_attention_norm(x)
        keys, values = self.self_key_value.packed(h, tokens)
        x = x + self.self_attention.packed(h, keys, values, tokens, key_mask=source_mask)
        return self._feed_forward(x, training=False)


@keras.saving.register_keras_serializable(package="keras_s2s")
class DecoderBlock(_Block):
    """Pre-norm causal self-attention, cross-attention, feed-forward.

    Cross-attention takes the encoder's keys and values ready-made (see
    `KeyValueProjection`), so the decoder never re-projects the source.

    Call, teacher forced: `(x (batch, t, hidden), cross_keys, cross_values
    (batch, heads, s, head_dim), source_mask (batch, s))` -> `(x, keys, values)`:
    the output `(batch, t, hidden)` and the self-attention keys and values.

    Call, one step with a cache (`x` is `(batch, 1, hidden)`): also
    `cache_keys, cache_values (batch, heads, slots, head_dim)`, `step
    (batch,)` and `buffer_length` (the model's `max_target_length`): the new
    token's key and value join the cache and the query attends to every
    position so far (see `keras_s2s.models.key_value_cache`: a growing cache,
    or a fixed buffer). It runs `one_step`, the code decoding calls, on
    `x[:, 0]` and the cross keys transposed (inference only: no dropout).
    Returns `(x, cache_keys, cache_values)`.

    Both calls return three tensors on purpose: Keras checks a Functional
    graph's connectivity with the output count of a layer's first call.
    """

    def __init__(self, hidden_dim: int, num_heads: int, intermediate_dim: int,
                 dropout: float = 0.0, **kwargs):
        super().__init__(hidden_dim, num_heads, intermediate_dim, dropout, **kwargs)
        self.cross_attention_norm = keras.layers.LayerNormalization(name="cross_attention_norm")
        self.cross_attention = MultiHeadAttention(hidden_dim, num_heads, dropout,
                                                  name="cross_attention")

    def call(self, x, cross_keys, cross_values, source_mask, cache_keys=None,
             cache_values=None, step=None, buffer_length=None, training=None):
        if cache_keys is not None:  # one cached step (decoder_model): the decoding step's code
            x, cache_keys, cache_values = self.one_step(
                x[:, 0], transposed(cross_keys), cross_values, source_mask,
                cache_keys, cache_values, step, buffer_length)
            return x[:, None], cache_keys, cache_values
        h = self.self_attention_norm(x)
        keys, values = self.self_key_value(h)
        h = self.self_attention(h, keys, values, causal=True, training=training)
        x = x + self.residual_dropout(h, training=training)
        h = self.cross_attention(self.cross_attention_norm(x), cross_keys, cross_values,
                                 key_mask=source_mask, training=training)
        x = self._feed_forward(x + self.residual_dropout(h, training=training), training)
        return x, keys, values

    def one_step(self, x, cross_keys, cross_values, source_mask, cache_keys, cache_values,
                 step, buffer_length, beams=None, query_key_value=None):
        """Inference, one token per row: `call` with a cache on `x[:, None]`,
        computed on 2-D `x (n, hidden)` in fewer ops (see
        `MultiHeadAttention.one_query`); dropout is off. The cross keys come
        transposed, `(n, heads, head_dim, s)` (`keras_s2s.models.transformer_state`).
        `beams`, in a beam search, says which sentence each row belongs to: the
        cross keys, values and mask then hold one entry per sentence, not per beam
        (`keras_s2s.decoding.row_constants`). `query_key_value`: this block's
        `fused_query_key_value()`, the same projections in one product.
        Returns `(x, cache_keys, cache_values)`.
        """
        h = self.self_attention_norm(x)
        if query_key_value is None:
            query = self.self_attention.query_projection(h)
            keys, values = self.self_key_value(h)  # (n, heads, 1, head_dim)
        else:
            query, keys, values = query_key_value(h, self.num_heads)
        cache_keys, cache_values, attended, mask = cached_keys_and_values(
            cache_keys, cache_values, keys, values, step, buffer_length=buffer_length)
        x = x + self.self_attention.one_projected_query(query, *attended, key_mask=mask)
        x = x + self.cross_attention.one_query(self.cross_attention_norm(x), cross_keys,
                                               cross_values, key_mask=source_mask, beams=beams,
                                               keys_transposed=True)
        return x + self.feed_forward(self.feed_forward_norm(x)), cache_keys, cache_values

    def fused_query_key_value(self) -> FusedQueryKeyValue:
        """The self-attention projections fused, for `one_step` (build once per search)."""
        return FusedQueryKeyValue.of(self.self_attention, self.self_key_value)

    def cross_attention_weights(self, x, cross_keys, source_mask):
        """Teacher forced, inference: where each target position looks in the
        source, averaged over heads, `(batch, t, s)` (for attention maps)."""
        h = self.self_attention_norm(x)
        keys, values = self.self_key_value(h)
        x = x + self.self_attention(h, keys, values, causal=True)
        return self.cross_attention.attention_weights(self.cross_attention_norm(x), cross_keys,
                                                      key_mask=source_mask)
