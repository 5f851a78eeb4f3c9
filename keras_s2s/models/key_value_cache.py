"""The Transformer decoder's key/value cache: every past position's self-attention
keys and values, kept so that a decoding step projects only its new token.

The Functional `encoder_model` / `decoder_model` carry it as a fixed buffer
of `max_target_length` slots per row (`(batch, heads, slots, head_dim)`),
which `EmptyDecoderCache` makes, zeroed; XLA decodes with that buffer too.
Outside XLA, `TransformerSeq2Seq.initial_state` starts it empty and each step
appends to it (the search loops let state shapes change, see
`keras_s2s.decoding.buffers.state_invariants`), so decoding costs what the
tokens generated cost, whatever `max_target_length` is.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_s2s.decoding.buffers import inside_xla, write_at


def _write_slots(cache, position, new):
    """`cache[b, :, position[b], :] = new[b, :, 0, :]` (a scatter of the new rows)."""
    batch, heads = tf.shape(cache)[0], tf.shape(cache)[1]
    indices = tf.stack([tf.repeat(tf.range(batch), heads), tf.tile(tf.range(heads), [batch]),
                        tf.repeat(position, heads)], axis=1)  # (batch * heads, 3)
    return tf.tensor_scatter_nd_update(cache, indices,
                                       tf.reshape(tf.cast(new, cache.dtype),
                                                  [batch * heads, -1]))


def cached_keys_and_values(cache_keys, cache_values, keys, values, step, *, buffer_length):
    """One decoding step's self-attention inputs from the key/value cache.

    Two layouts, told apart by the cache's time axis:

    - a growing cache (fewer than `buffer_length` slots: what `initial_state`
      gives outside XLA): the new key and value are appended, and attention
      reads exactly the tokens so far, so a step costs what they cost, not
      what the buffer could hold. Every row of a search is at the same step,
      so every slot is filled and there is nothing to mask;
    - the fixed buffer of `buffer_length` slots (the Functional
      `decoder_model`, and XLA, which needs fixed shapes): the new key and
      value are written at slot `step` of each row (clipped to the last
      slot), by a one-hot select under XLA and a scatter elsewhere, and
      attention reads the buffer under a mask of the slots filled.

    Returns `(cache_keys, cache_values, (keys, values) to attend over, mask or None)`.
    """
    if cache_keys.shape[2] != buffer_length:  # growing (or of unknown, changing size)
        cache_keys = tf.concat([cache_keys, tf.cast(keys, cache_keys.dtype)], axis=2)
        cache_values = tf.concat([cache_values, tf.cast(values, cache_values.dtype)], axis=2)
        return cache_keys, cache_values, (cache_keys, cache_values), None
    position = tf.minimum(tf.cast(step, tf.int32), buffer_length - 1)  # (batch,)
    write = write_at if inside_xla() else (
        lambda cache, position, new, axis: _write_slots(cache, position, new))
    cache_keys = write(cache_keys, position, keys, axis=2)
    cache_values = write(cache_values, position, values, axis=2)
    mask = tf.range(buffer_length)[None, :] <= position[:, None]  # (batch, slots)
    return cache_keys, cache_values, (cache_keys, cache_values), mask


@keras.saving.register_keras_serializable(package="keras_s2s")
class EmptyDecoderCache(keras.layers.Layer):
    """The decoding state before the first token: step 0 and zeroed buffers.

    Call: `encoder_token_ids (batch, s)` (only its batch size is used) ->
    `[step int32 (batch,), *num_buffers zeros (batch, heads, max_length, head_dim)]`.
    """

    def __init__(self, max_length: int, num_heads: int, head_dim: int, num_buffers: int,
                 **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.num_heads = num_heads
        self.head_dim = head_dim
        self.num_buffers = num_buffers

    def call(self, encoder_token_ids):
        batch = tf.shape(encoder_token_ids)[0]
        step = tf.zeros([batch], tf.int32)
        shape = [batch, self.num_heads, self.max_length, self.head_dim]
        return [step, *(tf.zeros(shape, self.compute_dtype) for _ in range(self.num_buffers))]

    def get_config(self):
        return {**super().get_config(), "max_length": self.max_length,
                "num_heads": self.num_heads, "head_dim": self.head_dim,
                "num_buffers": self.num_buffers}
