"""Pieces every search shares: result types, argument checks, buffer writes."""

from __future__ import annotations

import numbers
from typing import NamedTuple

import tensorflow as tf


class SearchResult(NamedTuple):
    """One hypothesis per row (greedy search, sampling).

    ids: int32 `[batch, max_length]`: generated tokens (no start token; the end
        token included when produced; `pad_id` after it).
    lengths: int32 `[batch]`: generated tokens, end token included.
    log_probs: float32 `[batch]`: summed log-probabilities of those tokens.
    """

    ids: tf.Tensor
    lengths: tf.Tensor
    log_probs: tf.Tensor


class BeamSearchResult(NamedTuple):
    """The `num_results` best hypotheses per row, best first.

    ids: int32 `[batch, num_results, max_length]`.
    lengths: int32 `[batch, num_results]`.
    log_probs: float32 `[batch, num_results]`: raw summed log-probabilities.
    scores: float32 `[batch, num_results]`: the ranking score, log_probs divided
        by the GNMT length penalty `((5 + length) / 6) ** length_penalty`.
    """

    ids: tf.Tensor
    lengths: tf.Tensor
    log_probs: tf.Tensor
    scores: tf.Tensor


# Only Python (and NumPy) values are checked here; tensors pass through, since
# their value is unknown while a graph is being traced.
def _is_integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def validate_max_length(max_length):
    if tf.is_tensor(max_length):
        return
    if not _is_integer(max_length) or max_length < 1:
        raise ValueError(
            f"max_length must be an integer >= 1 (or a scalar int tensor), got {max_length!r}."
        )


def validate_beam_arguments(*, beam_width, num_results, length_penalty):
    # beam_width and num_results size buffers, so they must be known while tracing.
    if not _is_integer(beam_width) or beam_width < 1:
        raise ValueError(f"beam_width must be a Python integer >= 1, got {beam_width!r}.")
    if not _is_integer(num_results) or not 1 <= num_results <= beam_width:
        raise ValueError(
            f"num_results must be an integer from 1 to beam_width ({beam_width}), "
            f"got {num_results!r}."
        )
    if not tf.is_tensor(length_penalty) and (
        not _is_number(length_penalty) or length_penalty < 0
    ):
        raise ValueError(
            f"length_penalty must be a number >= 0 (0 ranks by the raw log-probability), "
            f"got {length_penalty!r}."
        )


def validate_sampling_arguments(*, temperature, top_k):
    if not tf.is_tensor(temperature) and (not _is_number(temperature) or temperature <= 0):
        raise ValueError(f"temperature must be a number > 0, got {temperature!r}.")
    if not tf.is_tensor(top_k) and (not _is_integer(top_k) or top_k < 0):
        raise ValueError(
            f"top_k must be an integer >= 0 (0 samples from the whole vocabulary), "
            f"got {top_k!r}."
        )


def loop_bound(max_length):
    """`max_length` as the loop compares it: a Python int stays one (static
    buffer shapes, XLA-friendly); a tensor becomes an int32 scalar like the step."""
    if tf.is_tensor(max_length):
        return tf.cast(max_length, tf.int32)
    return int(max_length)


def row_max_lengths(max_lengths, state, max_length) -> tf.Tensor:
    """Each row's length limit, int32 `[batch]`: `max_lengths` capped at
    `max_length`, or `max_length` for every row when it is None."""
    if max_lengths is None:
        return tf.fill([batch_size_of(state)], tf.cast(max_length, tf.int32))
    return tf.minimum(tf.cast(max_lengths, tf.int32), tf.cast(max_length, tf.int32))


def batch_size_of(state) -> tf.Tensor:
    """Rows in a state nest: the first dimension of its first tensor."""
    return tf.shape(tf.nest.flatten(state)[0])[0]


def write_at(buffer: tf.Tensor, position, values: tf.Tensor) -> tf.Tensor:
    """`buffer[..., position] = values` as a pure op.

    A one-hot mask instead of a scatter keeps every shape fixed, which
    `tf.while_loop` shape invariants and XLA both want.
    """
    width = tf.shape(buffer)[-1]
    at_position = tf.cast(tf.one_hot(position, width, dtype=tf.int32), tf.bool)
    return tf.where(at_position, values[..., None], buffer)


def length_penalty_of(lengths, alpha) -> tf.Tensor:
    """GNMT length normalisation: `((5 + length) / 6) ** alpha` (1 when alpha = 0)."""
    return tf.pow((5.0 + tf.cast(lengths, tf.float32)) / 6.0, tf.cast(alpha, tf.float32))


def inside_xla() -> bool:
    """Whether the graph being traced will be compiled by XLA (jit_compile=True)."""
    try:  # not public API: if it moves, assume no XLA and let the caller say so
        from tensorflow.python.ops import control_flow_util

        return bool(control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph()))
    except Exception:  # noqa: BLE001
        return False


def with_free_batch_axis(shape: tf.TensorShape) -> tf.TensorShape:
    """A shape invariant for a loop variable whose batch axis may shrink."""
    return tf.TensorShape([None]).concatenate(shape[1:])
