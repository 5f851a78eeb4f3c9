"""Beam search that computes only the beams that can still change the result.

Same search, same results as the fixed-shape loop in `beam.py`, but each step
runs `step_fn` on a shrinking, ragged set of beams instead of every row's
`beam_width` slots:

- at the first step only one beam per row exists (the others would be copies);
- a live beam is dropped once it is *doomed*: its log-probability divided by
  the largest length penalty its row allows is no better than the row's
  `num_results`-th finished score. Log-probabilities only fall as a beam
  grows, so no descendant of a doomed beam can enter the returned results.
  And every candidate ranked below a doomed one is doomed too (lower
  log-probability, same bound), so dropping doomed beams never changes which
  beams that can still win stay live or when they finish;
- a row whose beams are all doomed is finished (the early exit of `beam.py`).

The set is re-gathered every step anyway (each kept beam's state follows its
origin), so dropping beams adds no gather of its own. Shapes change every
step: this loop is for graph and eager execution, not XLA.
"""

from __future__ import annotations

import tensorflow as tf

from keras_s2s.decoding.common import length_penalty_of, with_free_batch_axis, write_at
from keras_s2s.decoding.finished import (
    NEG_INF,
    can_still_win,
    empty_finished_set,
    retire,
)


def search_live_beams(step_fn, initial_state, *, start_id, end_id, max_length, beam_width,
                      length_penalty, num_results, pad_id, row_limits, batch):
    """The beam loop over live, undoomed beams; arguments as `beam_search`'s.

    Returns the finished set (see `keras_s2s.decoding.finished`).
    """
    max_penalties = length_penalty_of(row_limits, length_penalty)  # (batch,)
    finished = empty_finished_set(batch, beam_width, max_length, pad_id)

    # The computed beams (m of them): which row and which of its slots each is,
    # its log-probability and tokens so far, its next input token and state.
    beam_row = tf.range(batch)
    beam_slot = tf.zeros([batch], tf.int32)
    beam_log_probs = tf.zeros([batch], tf.float32)
    beam_ids = tf.fill(tf.stack([batch, max_length]), tf.constant(pad_id, tf.int32))
    tokens = tf.fill([batch], tf.constant(start_id, tf.int32))

    def keep_going(step, tokens, state, beam_row, beam_slot, beam_log_probs, beam_ids,
                   finished):
        return (step < max_length) & (tf.shape(beam_row)[0] > 0)

    def one_step(step, tokens, state, beam_row, beam_slot, beam_log_probs, beam_ids,
                 finished):
        logits, state = step_fn(tokens, state)
        log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32))  # (m, vocab)
        # Two-stage top-k: a beam's best continuations, then the row's best of
        # those. The row's 2 * beam best candidates are all among their own
        # beam's 2 * beam best, and ties still go to the lower (beam, token).
        per_beam = tf.minimum(2 * beam_width, tf.shape(log_probs)[-1])
        beam_best, beam_tokens = tf.math.top_k(log_probs, k=per_beam)  # (m, per_beam)
        slot_of = tf.stack([beam_row, beam_slot], axis=1)  # (m, 2)
        # Row-major table (batch, beam, per_beam) of candidate log-probs; slots
        # without a computed beam stay empty.
        table_shape = tf.stack([batch, beam_width, per_beam])
        table = tf.scatter_nd(slot_of, beam_log_probs[:, None] + beam_best, table_shape)
        filled = tf.scatter_nd(slot_of, tf.ones_like(beam_row), tf.stack([batch, beam_width]))
        table = tf.where(filled[:, :, None] > 0, table, NEG_INF)
        # Which computed beam fills each (row, slot): -1 where none does.
        computed_at = tf.scatter_nd(slot_of, tf.range(tf.shape(beam_row)[0]) + 1,
                                    tf.stack([batch, beam_width])) - 1
        top_log_probs, flat = tf.math.top_k(
            tf.reshape(table, [batch, beam_width * per_beam]), k=2 * beam_width)
        origin = tf.maximum(tf.gather(computed_at, flat // per_beam, batch_dims=1), 0)
        token = tf.gather_nd(beam_tokens, tf.stack([origin, flat % per_beam], axis=-1))
        candidate_ids = write_at(tf.gather(beam_ids, origin), step, token)  # (batch, 2b, L)

        finished, stops = retire(finished, top_log_probs, token, candidate_ids,
                                 length=step + 1, row_limits=row_limits, end_id=end_id,
                                 beam_width=beam_width, length_penalty=length_penalty)

        # The next live beams: the best candidates that did not stop, as in
        # beam.py, of which only those that can still win go on.
        live_log_probs, kept = tf.math.top_k(tf.where(stops, NEG_INF, top_log_probs),
                                             k=beam_width)
        can_win = can_still_win(live_log_probs, finished[0], max_penalties, num_results)
        where = tf.cast(tf.where(can_win), tf.int32)  # (m', 2): row, new slot
        picked = tf.gather_nd(kept, where)  # each kept beam's candidate column
        at = tf.stack([where[:, 0], picked], axis=1)
        parents = tf.gather_nd(origin, at)
        state = tf.nest.map_structure(lambda t: tf.gather(t, parents), state)
        return (step + 1, tf.gather_nd(token, at), state, where[:, 0], where[:, 1],
                tf.gather_nd(live_log_probs, where), tf.gather_nd(candidate_ids, at), finished)

    loop_vars = (tf.constant(0), tokens, initial_state, beam_row, beam_slot, beam_log_probs,
                 beam_ids, finished)
    invariants = tf.nest.map_structure(lambda t: t.shape, loop_vars)
    invariants = (invariants[0], *tf.nest.map_structure(with_free_batch_axis, invariants[1:7]),
                  *invariants[7:])
    return tf.while_loop(keep_going, one_step, loop_vars, shape_invariants=invariants)[-1]
