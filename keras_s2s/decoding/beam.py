"""Beam search with GNMT length normalisation, frozen finished hypotheses and
early exit.

Per row we keep `beam_width` *live* prefixes and, apart from them, the
`beam_width` best *finished* hypotheses (ended with the end token, or cut at
`max_length`). Each step extends every live prefix by every token, and:

- candidates ending in `end_id` move to the finished set, scored
  `log_prob / ((5 + length) / 6) ** length_penalty`, and never change again;
- the best `beam_width` others stay live, and every state tensor (encoder
  outputs and masks included) is gathered to follow its beam.
"""

from __future__ import annotations

import tensorflow as tf

from keras_s2s.decoding.common import (
    BeamSearchResult,
    batch_size_of,
    length_penalty_of,
    validate_beam_arguments,
    validate_max_length,
    write_at,
)

NEG_INF = -1e9  # finite, so -inf - -inf never makes a NaN


def _tile_per_beam(state, beam_width):
    # (batch, ...) -> (batch * beam, ...): row b's beams are rows b*K .. b*K+K-1.
    return tf.nest.map_structure(lambda t: tf.repeat(t, beam_width, axis=0), state)


def _top(scores, k, *tensors):
    """The k best columns of `scores` [batch, n] and the same columns of `tensors`."""
    top_scores, index = tf.math.top_k(scores, k=k)
    return (top_scores, *[tf.gather(t, index, batch_dims=1) for t in tensors])


def beam_search(
    step_fn,
    initial_state,
    *,
    start_id,
    end_id,
    max_length,
    beam_width=4,
    length_penalty=0.6,
    num_results=1,
    pad_id=0,
):
    """Finds high-probability sequences keeping `beam_width` candidates per row.

    Args:
        step_fn: `(token_ids int32 [n], state) -> (logits [n, vocab], state)`.
        initial_state: a nest of tensors, first dimension the batch. Each tensor
            is tiled `beam_width` times.
        start_id, end_id, pad_id: special token ids.
        max_length: maximum generated tokens (a Python int keeps shapes static,
            for `jit_compile=True`).
        beam_width: live hypotheses per row; 1 is greedy search.
        length_penalty: GNMT alpha; 0 ranks by the raw summed log-probability,
            larger values favour longer hypotheses.
        num_results: best hypotheses returned per row (<= beam_width).

    Returns:
        `BeamSearchResult(ids, lengths, log_probs, scores)`, best first.

    Example:
        >>> result = beam_search(model.decode_step, state, start_id=2, end_id=3,
        ...                      max_length=40, beam_width=4, num_results=2)
    """
    validate_max_length(max_length)
    validate_beam_arguments(
        beam_width=beam_width, num_results=num_results, length_penalty=length_penalty
    )
    K = beam_width
    batch = batch_size_of(initial_state)
    state = _tile_per_beam(initial_state, K)
    buffer_shape = tf.stack([batch, K, max_length])

    # Only beam 0 is live at first: the others would be copies of it.
    live_log_probs = tf.tile(tf.constant([[0.0] + [NEG_INF] * (K - 1)]), [batch, 1])
    live_ids = tf.fill(buffer_shape, tf.constant(pad_id, tf.int32))
    tokens = tf.fill([batch * K], tf.constant(start_id, tf.int32))
    done_scores = tf.fill([batch, K], NEG_INF)
    done_log_probs = tf.fill([batch, K], NEG_INF)
    done_lengths = tf.zeros([batch, K], tf.int32)
    done_ids = tf.fill(buffer_shape, tf.constant(pad_id, tf.int32))
    max_penalty = length_penalty_of(max_length, length_penalty)

    def keep_going(step, tokens, state, live_log_probs, live_ids,
                   done_scores, done_log_probs, done_lengths, done_ids):
        # A row is settled when its num_results-th finished score beats the best
        # any live beam could still reach. Log-probs only fall as a beam grows,
        # and the penalty only grows with length, so that bound is the live
        # log-prob divided by the penalty at max_length (alpha = 0: itself).
        best_reachable = tf.reduce_max(live_log_probs, axis=1) / max_penalty
        settled = done_scores[:, num_results - 1] >= best_reachable
        return (step < max_length) & ~tf.reduce_all(settled)

    def one_step(step, tokens, state, live_log_probs, live_ids,
                 done_scores, done_log_probs, done_lengths, done_ids):
        logits, state = step_fn(tokens, state)
        log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32))  # (batch * K, vocab)
        vocab = tf.shape(log_probs)[-1]
        log_probs = tf.reshape(log_probs, [batch, K, vocab])
        candidates = tf.reshape(live_log_probs[:, :, None] + log_probs, [batch, K * vocab])
        # 2K candidates: even if K of them end here, K remain to stay live.
        top_log_probs, flat_index = tf.math.top_k(candidates, k=2 * K)  # (batch, 2K)
        origin = flat_index // vocab  # the live beam each candidate extends
        token = flat_index % vocab
        candidate_ids = write_at(tf.gather(live_ids, origin, batch_dims=1), step, token)
        length = step + 1
        # A hypothesis cut at max_length competes as finished, too.
        ends = tf.equal(token, end_id) | (length >= max_length)
        ends &= top_log_probs > NEG_INF / 2  # never "finish" a placeholder beam

        # Finished: merge the newly ended with the frozen ones, keep the K best.
        new_scores = tf.where(ends, top_log_probs / length_penalty_of(length, length_penalty),
                              NEG_INF)
        new_lengths = tf.fill(tf.shape(token), length)
        done_scores, done_log_probs, done_lengths, done_ids = _top(
            tf.concat([done_scores, new_scores], axis=1), K,
            tf.concat([done_log_probs, tf.where(ends, top_log_probs, NEG_INF)], axis=1),
            tf.concat([done_lengths, new_lengths], axis=1),
            tf.concat([done_ids, candidate_ids], axis=1),
        )

        # Live: the K best candidates that did not end.
        live_log_probs, origin, token, live_ids = _top(
            tf.where(ends, NEG_INF, top_log_probs), K, origin, token, candidate_ids
        )
        # Every state tensor follows its beam: (batch * K, ...) rows re-ordered.
        rows = tf.reshape(tf.range(batch)[:, None] * K + origin, [-1])
        state = tf.nest.map_structure(lambda t: tf.gather(t, rows), state)
        tokens = tf.reshape(token, [-1])
        return (step + 1, tokens, state, live_log_probs, live_ids,
                done_scores, done_log_probs, done_lengths, done_ids)

    outputs = tf.while_loop(
        keep_going,
        one_step,
        (tf.constant(0), tokens, state, live_log_probs, live_ids,
         done_scores, done_log_probs, done_lengths, done_ids),
    )
    done_scores, done_log_probs, done_lengths, done_ids = outputs[5:]
    # The finished set is kept sorted best first by `_top`.
    return BeamSearchResult(
        ids=done_ids[:, :num_results],
        lengths=done_lengths[:, :num_results],
        log_probs=done_log_probs[:, :num_results],
        scores=done_scores[:, :num_results],
    )
