"""Beam search's finished set: which candidates retire into it, and how it is kept.

Both beam loops (the fixed-shape one in `beam.py` and `live_beams.py`) rank a
row's `2 * beam_width` best candidates each step, then call `retire` to move the
ones that finish into the row's frozen, sorted set of `beam_width` finished
hypotheses. `as_result` turns that set into the returned `BeamSearchResult`.
"""

from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf

from keras_s2s.decoding.results import BeamSearchResult
from keras_s2s.masking import NEG_INF  # the score of an empty slot


class FinishedSet(NamedTuple):
    """Each row's `beam_width` best finished hypotheses, sorted best first.

    An empty slot has score and log-probability `NEG_INF` and length 0.
    """

    scores: tf.Tensor  # float32 (batch, beam): log_probs / length penalty
    log_probs: tf.Tensor  # float32 (batch, beam)
    lengths: tf.Tensor  # int32 (batch, beam), end token included
    ids: tf.Tensor  # int32 (batch, beam, max_length)


def length_penalty_of(lengths, alpha) -> tf.Tensor:
    """GNMT length normalisation: `((5 + length) / 6) ** alpha` (1 when alpha = 0)."""
    return tf.pow((5.0 + tf.cast(lengths, tf.float32)) / 6.0, tf.cast(alpha, tf.float32))


def top_columns(scores, k, *tensors):
    """The k best columns of `scores` [batch, n] and the same columns of `tensors`.

    Ties go to the lower column, so hypotheses already kept win over new equals.
    """
    top_scores, index = tf.math.top_k(scores, k=k)
    return (top_scores, *[tf.gather(t, index, batch_dims=1) for t in tensors])


def empty_finished_set(batch, beam_width, max_length, pad_id) -> FinishedSet:
    """A `FinishedSet` with every slot empty."""
    return FinishedSet(
        scores=tf.fill([batch, beam_width], NEG_INF),
        log_probs=tf.fill([batch, beam_width], NEG_INF),
        lengths=tf.zeros([batch, beam_width], tf.int32),
        ids=tf.fill(tf.stack([batch, beam_width, max_length]), tf.constant(pad_id, tf.int32)))


def retire(finished, top_log_probs, token, candidate_ids, *, length, row_limits, end_id,
           beam_width, length_penalty):
    """Merges a step's finishing candidates into the finished set.

    Args:
        finished: the `FinishedSet`.
        top_log_probs, token: `[batch, 2 * beam]`, each row's best candidates
            (best first) and their last tokens; `candidate_ids` their tokens
            so far, `[batch, 2 * beam, max_length]`.
        length: the candidates' length (the step number + 1).
        row_limits: int32 `[batch]`, each row's length limit.

    Returns:
        `(finished, stops)`: the merged set, sorted best first, and a bool
        `[batch, 2 * beam]` marking candidates that may not stay live (they
        ended, or their row is at its limit).
    """
    stops = tf.equal(token, end_id) | (length >= row_limits[:, None])
    # A candidate retires only if it ranks in the top beam_width, i.e. it
    # would have been in the beam; so beam_width=1 is greedy search. At the
    # row's limit every such candidate retires, cut, as a finished one.
    in_beam = tf.range(2 * beam_width) < beam_width
    finishes = stops & in_beam & (top_log_probs > NEG_INF / 2)  # never an empty slot
    new_scores = top_log_probs / length_penalty_of(length, length_penalty)
    merged = top_columns(
        tf.concat([finished.scores, tf.where(finishes, new_scores, NEG_INF)], axis=1),
        beam_width,
        tf.concat([finished.log_probs, tf.where(finishes, top_log_probs, NEG_INF)], axis=1),
        tf.concat([finished.lengths, tf.fill(tf.shape(token), length)], axis=1),
        tf.concat([finished.ids, candidate_ids], axis=1),  # (batch, 3 beam, max_length)
    )
    return FinishedSet(*merged), stops


def can_still_win(live_log_probs, finished_scores, max_penalties, num_results):
    """Which live beams `[batch, beam]` could still enter a row's returned results.

    Log-probabilities only fall as a beam grows and the length penalty only
    grows with length, so the best score a beam can still reach is its
    log-probability divided by the penalty at its row's limit (`max_penalties`,
    `[batch]`; alpha = 0: the log-probability itself). It can win only if
    that beats the row's `num_results`-th finished score. Empty slots never can.
    """
    threshold = finished_scores[:, num_results - 1]
    return (live_log_probs > NEG_INF / 2) & (
        live_log_probs / max_penalties[:, None] > threshold[:, None])


def as_result(finished: FinishedSet, num_results) -> BeamSearchResult:
    """The best `num_results` of the (sorted) finished set as a `BeamSearchResult`."""
    scores, log_probs, lengths, ids = finished
    # A row with fewer than num_results possible hypotheses (e.g. most tokens
    # masked to -inf) keeps empty slots: length 0, all pad_id, -inf scores.
    empty = tf.equal(lengths, 0)
    scores = tf.where(empty, -float("inf"), scores)
    log_probs = tf.where(empty, -float("inf"), log_probs)
    return BeamSearchResult(
        ids=ids[:, :num_results],
        lengths=lengths[:, :num_results],
        log_probs=log_probs[:, :num_results],
        scores=scores[:, :num_results],
    )
