"""The Transformer's decoding state: what one decoding step hands the next.

    step             int32 (batch,): tokens decoded so far
    self_attention   per decoder layer KeyValues: the cache,
                     keys and values (batch, heads, time so far, head_dim)
    cross_attention  per decoder layer KeyValues: the encoder's,
                     keys (batch, heads, head_dim, source_time) -- transposed, see below --
                     and values (batch, heads, source_time, head_dim)
    source_mask      float32 (batch, source_time)

The cross-attention keys are stored transposed because the only thing a
step does with them is the product `query · keysᵀ`: stored as `keysᵀ`, that
is a plain batched product, which oneDNN runs faster than the same product
with `transpose_b` (58 vs 34 µs per layer at batch 64, 4 heads, 22 source
tokens; the decoding step does it once per layer per token).

The Functional `encoder_model` / `decoder_model` carry the same tensors as a
flat list in this order (`tf.nest.flatten(state)`), with two differences:
their cache is a fixed buffer of `max_target_length` slots
(`keras_s2s.models.key_value_cache`), and their cross keys are heads-first
like everything else, `(batch, heads, source_time, head_dim)`; the decoder
model transposes them at each step. A beam search keeps the last two fields
once per sentence (`keras_s2s.decoding.row_constants`).
"""

from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf


class KeyValues(NamedTuple):
    """One attention layer's projected keys and values (layouts: module docstring)."""

    keys: tf.Tensor
    values: tf.Tensor


class TransformerState(NamedTuple):
    """The decoding state; see the module docstring for shapes."""

    # One per sentence in a beam search, never copied per beam (decoding.row_constants).
    row_constants = ("cross_attention", "source_mask")

    step: tf.Tensor
    self_attention: tuple  # of KeyValues: the cache, one per decoder layer
    cross_attention: tuple  # of KeyValues: the encoder's, one per decoder layer
    source_mask: tf.Tensor


def transposed(keys: tf.Tensor) -> tf.Tensor:
    """Heads-first keys `(batch, heads, time, head_dim)` <-> transposed
    `(batch, heads, head_dim, time)` (the operation is its own inverse)."""
    return tf.transpose(keys, [0, 1, 3, 2])


def transpose_keys(key_values: KeyValues) -> KeyValues:
    """`key_values` with its keys `transposed`."""
    return key_values._replace(keys=transposed(key_values.keys))


def flat(key_values) -> list:
    """`[KeyValues, ...]` -> `[keys_0, values_0, keys_1, ...]`, the Functional models' order."""
    return [tensor for pair in key_values for tensor in pair]
