"""The Transformer decoder's key/value cache: every past position's self-attention
keys and values, kept so that a decoding step projects only its new token.

The cache is a fixed buffer of `max_target_length` slots per row
(`(batch, heads, slots, head_dim)`), so the decoding loop's state keeps one
shape from step to step (what `tf.while_loop` and XLA want), and
`EmptyDecoderCache` makes it, zeroed, with the encoder's part of the state.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_s2s.decoding.buffers import inside_xla, write_at


def _write_slots(cache, position, new):
    """`cache[b, :, position[b], :] = new[b, :, 0, :]`: one scatter of the new
    rows (TensorFlow updates the buffer in place when nothing else holds it)."""
    batch, heads = tf.shape(cache)[0], tf.shape(cache)[1]
    indices = tf.stack([tf.repeat(tf.range(batch), heads), tf.tile(tf.range(heads), [batch]),
                        tf.repeat(position, heads)], axis=1)  # (batch * heads, 3)
    return tf.tensor_scatter_nd_update(cache, indices,
                                       tf.reshape(tf.cast(new, cache.dtype),
                                                  [batch * heads, -1]))


def cached_keys_and_values(cache_keys, cache_values, keys, values, step):
    """One decoding step's self-attention inputs from the key/value cache.

    Writes the new token's key and value at slot `step` of each row (clipped
    to the buffer's last slot), and returns `(cache_keys, cache_values,
    (keys, values) to attend over, their mask (batch, slots))`.

    Outside XLA a step costs what the tokens so far cost, not the buffer: the
    write is a scatter of the new slot only, and attention reads only the
    slots filled so far. XLA needs fixed shapes, so there every step writes
    by a one-hot select and attends over the whole buffer under a mask.
    """
    buffer_length = tf.shape(cache_keys)[2]
    position = tf.minimum(tf.cast(step, tf.int32), buffer_length - 1)  # (batch,)
    if inside_xla():
        cache_keys = write_at(cache_keys, position, keys, axis=2)
        cache_values = write_at(cache_values, position, values, axis=2)
        mask = tf.range(buffer_length)[None, :] <= position[:, None]  # (batch, max_length)
        return cache_keys, cache_values, (cache_keys, cache_values), mask
    cache_keys = _write_slots(cache_keys, position, keys)
    cache_values = _write_slots(cache_values, position, values)
    filled = tf.reduce_max(position) + 1  # every row's slots up to its own step
    mask = tf.range(filled)[None, :] <= position[:, None]  # (batch, filled)
    return cache_keys, cache_values, (cache_keys[:, :, :filled], cache_values[:, :, :filled]), mask


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
