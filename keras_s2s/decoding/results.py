"""What the searches return."""

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
