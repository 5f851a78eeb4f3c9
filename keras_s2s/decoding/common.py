"""Pieces every search shares: result types, argument checks, buffer writes."""

from __future__ import annotations

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


def _is_python_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def validate_max_length(max_length):
    if isinstance(max_length, bool) or (
        _is_python_number(max_length) and (int(max_length) != max_length or max_length < 1)
    ):
        raise ValueError(f"max_length must be a positive integer, got {max_length!r}.")


def validate_beam_arguments(*, beam_width, num_results, length_penalty):
    if not isinstance(beam_width, int) or beam_width < 1:
        raise ValueError(f"beam_width must be an integer >= 1, got {beam_width!r}.")
    if not isinstance(num_results, int) or not 1 <= num_results <= beam_width:
        raise ValueError(
            f"num_results must be an integer from 1 to beam_width ({beam_width}), "
            f"got {num_results!r}."
        )
    if _is_python_number(length_penalty) and length_penalty < 0:
        raise ValueError(f"length_penalty must be >= 0 (0 = raw sum), got {length_penalty!r}.")


def validate_sampling_arguments(*, temperature, top_k):
    if _is_python_number(temperature) and temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature!r}.")
    if not isinstance(top_k, int) or top_k < 0:
        raise ValueError(f"top_k must be an integer >= 0 (0 = no limit), got {top_k!r}.")


def batch_size_of(state) -> tf.Tensor:
    """Rows in a state nest: the first dimension of its first tensor."""
    return tf.shape(tf.nest.flatten(state)[0])[0]


def write_at(buffer: tf.Tensor, position, values: tf.Tensor) -> tf.Tensor:
    """`buffer[..., position] = values` as a pure op (fixed shapes, XLA-friendly)."""
    width = tf.shape(buffer)[-1]
    at_position = tf.cast(tf.one_hot(position, width, dtype=tf.int32), tf.bool)
    return tf.where(at_position, values[..., None], buffer)


def length_penalty_of(lengths, alpha) -> tf.Tensor:
    """GNMT length normalisation: `((5 + length) / 6) ** alpha` (1 when alpha = 0)."""
    return tf.pow((5.0 + tf.cast(lengths, tf.float32)) / 6.0, tf.cast(alpha, tf.float32))
