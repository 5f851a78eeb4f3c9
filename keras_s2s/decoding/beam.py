"""Beam search with GNMT length normalisation, frozen finished hypotheses and
early exit.

Per row we keep `beam_width` *live* prefixes and, apart from them, the
`beam_width` best *finished* hypotheses (ended with the end token, or cut at
`max_length`). Each step extends every live prefix by every token, and:

- of the `beam_width` best candidates, those ending in `end_id` move to the
  finished set, scored `log_prob / ((5 + length) / 6) ** length_penalty`, and
  never change again;
- the best `beam_width` candidates not ending stay live, and every state
  tensor (encoder outputs and masks included) is gathered to follow its beam.

Two loops compute this same search: the fixed-shape one here (every row's
`beam_width` slots until the whole batch is settled; what XLA needs), and by
default the one in `live_beams.py`, which computes only the beams that can
still change the result (13-15% fewer beam-steps on the demo model).
"""

from __future__ import annotations

import tensorflow as tf

from keras_s2s.decoding.common import (
    batch_size_of,
    inside_xla,
    length_penalty_of,
    loop_bound,
    row_max_lengths,
    validate_beam_arguments,
    validate_max_length,
    write_at,
)
from keras_s2s.decoding.finished import (
    NEG_INF,
    as_result,
    can_still_win,
    empty_finished_set,
    retire,
    top_columns,
)
from keras_s2s.decoding.live_beams import search_live_beams


def _tile_per_beam(state, beam_width):
    # (batch, ...) -> (batch * beam, ...): row b's beams are rows b*beam .. b*beam+beam-1.
    return tf.nest.map_structure(lambda t: tf.repeat(t, beam_width, axis=0), state)


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
    max_lengths=None,
    compact=None,
):
    """Finds high-probability sequences keeping `beam_width` candidates per row.

    Args:
        step_fn: `(token_ids int32 [n], state) -> (logits [n, vocab], state)`,
            called with `n` beams: `batch * beam_width` in the fixed-shape
            loop, only the live ones (any number) with `compact`.
        initial_state: a nest of tensors, first dimension the batch. Every
            tensor is gathered along axis 0 to follow the beams (encoder
            outputs and masks included), so each beam sees its own row's.
        start_id, end_id, pad_id: special token ids, as in `greedy_search`.
        max_length: maximum generated tokens and the output's time dimension (a
            Python int keeps shapes static, for `jit_compile=True`).
        beam_width: live hypotheses per row; 1 is greedy search.
        length_penalty: GNMT alpha >= 0; 0 ranks by the raw summed
            log-probability, larger values favour longer hypotheses.
        num_results: hypotheses returned per row, from 1 to `beam_width`.
        max_lengths: optional int32 `[batch]`, each row's own limit (at most
            `max_length`): its hypotheses are cut there, and its early-exit
            bound uses it, so rows with short limits settle sooner. A row's
            result then does not depend on the other rows in its batch.
        compact: compute only the beams that can still change the result
            (`keras_s2s.decoding.live_beams`: same results, less work), rather
            than every row's `beam_width` slots until the whole batch is done.
            `None`: yes, except under XLA, which needs fixed shapes.

    Returns:
        `BeamSearchResult(ids, lengths, log_probs, scores)`, best first:
        ids int32 `[batch, num_results, max_length]`, the others
        `[batch, num_results]`. Hypotheses cut at `max_length` without the end
        token compete too (length `max_length`). With `length_penalty=0`,
        `beam_width=1` gives exactly `greedy_search`'s answer.

    Example:
        >>> result = beam_search(model.decode_step, state, start_id=2, end_id=3,
        ...                      max_length=40, beam_width=4, num_results=2)
        >>> best = result.ids[:, 0]  # (batch, 40)
    """
    validate_max_length(max_length)
    validate_beam_arguments(
        beam_width=beam_width, num_results=num_results, length_penalty=length_penalty
    )
    beam_width, num_results = int(beam_width), int(num_results)
    max_length = loop_bound(max_length)
    batch = batch_size_of(initial_state)
    row_limits = row_max_lengths(max_lengths, initial_state, max_length)  # (batch,)
    if compact is None:
        compact = not inside_xla()
    if compact:
        finished = search_live_beams(
            step_fn, initial_state, start_id=start_id, end_id=end_id, max_length=max_length,
            beam_width=beam_width, length_penalty=length_penalty, num_results=num_results,
            pad_id=pad_id, row_limits=row_limits, batch=batch)
        return as_result(finished, num_results)
    state = _tile_per_beam(initial_state, beam_width)

    # Only beam 0 is live at first: the others would be copies of it.
    live_log_probs = tf.tile(  # (batch, beam)
        tf.constant([[0.0] + [NEG_INF] * (beam_width - 1)]), tf.stack([batch, 1])
    )
    live_ids = tf.fill(tf.stack([batch, beam_width, max_length]),
                       tf.constant(pad_id, tf.int32))  # (batch, beam, max_length)
    tokens = tf.fill([batch * beam_width], tf.constant(start_id, tf.int32))
    finished = empty_finished_set(batch, beam_width, max_length, pad_id)
    # The largest length penalty each row's hypotheses can get.
    max_penalties = length_penalty_of(row_limits, length_penalty)  # (batch,)

    def keep_going(step, tokens, state, live_log_probs, live_ids, finished):
        # Every row is searched until no live beam of any row can still win
        # (a row past its limit has no live beam). Settled rows cannot change.
        return (step < max_length) & tf.reduce_any(
            can_still_win(live_log_probs, finished[0], max_penalties, num_results))

    def one_step(step, tokens, state, live_log_probs, live_ids, finished):
        logits, state = step_fn(tokens, state)
        log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32))  # (batch * beam, vocab)
        vocab = tf.shape(log_probs)[-1]
        log_probs = tf.reshape(log_probs, [batch, beam_width, vocab])
        candidates = live_log_probs[:, :, None] + log_probs  # (batch, beam, vocab)
        candidates = tf.reshape(candidates, [batch, beam_width * vocab])
        # 2 * beam candidates: at most one per beam ends (its end token), so at
        # least beam_width remain to stay live.
        top_log_probs, flat_index = tf.math.top_k(candidates, k=2 * beam_width)
        origin = flat_index // vocab  # (batch, 2 * beam): the live beam each extends
        token = flat_index % vocab
        candidate_ids = write_at(tf.gather(live_ids, origin, batch_dims=1), step, token)
        finished, stops = retire(finished, top_log_probs, token, candidate_ids,
                                 length=step + 1, row_limits=row_limits, end_id=end_id,
                                 beam_width=beam_width, length_penalty=length_penalty)

        # Live: the best candidates that did not end (an end token never goes on).
        # A row at its limit keeps no live beam (nothing may grow past it).
        live_log_probs, origin, token, live_ids = top_columns(
            tf.where(stops, NEG_INF, top_log_probs), beam_width, origin, token, candidate_ids,
        )
        # Every state tensor follows its beam: (batch * beam, ...) rows re-ordered.
        beam_rows = tf.reshape(tf.range(batch)[:, None] * beam_width + origin, [-1])
        state = tf.nest.map_structure(lambda t: tf.gather(t, beam_rows), state)
        tokens = tf.reshape(token, [-1])  # (batch * beam,)
        return step + 1, tokens, state, live_log_probs, live_ids, finished

    loop_vars = (tf.constant(0), tokens, state, live_log_probs, live_ids, finished)
    return as_result(tf.while_loop(keep_going, one_step, loop_vars)[-1], num_results)
