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
origin), so dropping beams adds no gather of its own; per-row constants are
never gathered (`row_constants.py`): `step_fn` is told each beam's row and slot. Shapes change every
step: this loop is for graph and eager execution, not XLA.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import tensorflow as tf

from keras_s2s.decoding import row_constants
from keras_s2s.decoding.buffers import (
    batch_size_of,
    state_invariants,
    with_free_batch_axis,
    write_at,
)
from keras_s2s.decoding.controls import next_log_probs
from keras_s2s.decoding.finished import (
    NEG_INF,
    FinishedSet,
    can_still_win,
    empty_finished_set,
    length_penalty_of,
    retire,
)
from keras_s2s.decoding.top_k import top_k


class LiveBeams(NamedTuple):
    """The loop's variables: the m beams computed this step, and the finished set."""

    step: tf.Tensor  # int32 ()
    tokens: tf.Tensor  # int32 (m,): each beam's next input token
    state: Any  # the model's state nest, (m, ...)
    row: tf.Tensor  # int32 (m,): the batch row each beam belongs to
    slot: tf.Tensor  # int32 (m,): its slot among the row's beam_width
    log_probs: tf.Tensor  # float32 (m,)
    ids: tf.Tensor  # int32 (m, max_length): its tokens so far
    finished: FinishedSet


def _candidates(beams: LiveBeams, log_probs, *, batch, beam_width):
    """Each row's `2 * beam_width` best continuations of its computed beams.

    Two-stage top-k: a beam's best continuations, then the row's best of
    those. The row's 2 * beam best candidates are all among their own beam's
    2 * beam best, and ties still go to the lower (beam, token).
    Returns `(top_log_probs, origin, token)`, each `(batch, 2 * beam)`:
    `origin` is the index of the computed beam a candidate extends.
    """
    vocab = log_probs.shape[-1]  # a vocabulary size unknown until run leaves k a tensor
    per_beam = (min(2 * beam_width, vocab) if vocab is not None
                else tf.minimum(2 * beam_width, tf.shape(log_probs)[-1]))
    beam_best, beam_tokens = top_k(log_probs, per_beam)  # (m, per_beam)
    slot_of = tf.stack([beams.row, beams.slot], axis=1)  # (m, 2)
    # Row-major table (batch, beam, per_beam) of candidate log-probs; slots
    # without a computed beam stay empty.
    table = tf.scatter_nd(slot_of, beams.log_probs[:, None] + beam_best,
                          tf.stack([batch, beam_width, per_beam]))
    filled = tf.scatter_nd(slot_of, tf.ones_like(beams.row), tf.stack([batch, beam_width]))
    table = tf.where(filled[:, :, None] > 0, table, NEG_INF)
    # Which computed beam fills each (row, slot): -1 where none does.
    computed_at = tf.scatter_nd(slot_of, tf.range(tf.shape(beams.row)[0]) + 1,
                                tf.stack([batch, beam_width])) - 1
    top_log_probs, flat = tf.math.top_k(tf.reshape(table, [batch, beam_width * per_beam]),
                                        k=2 * beam_width)
    origin = tf.maximum(tf.gather(computed_at, flat // per_beam, batch_dims=1), 0)
    token = tf.gather_nd(beam_tokens, tf.stack([origin, flat % per_beam], axis=-1))
    return top_log_probs, origin, token


def search_live_beams(step_fn, initial_state, *, start_id, end_id, max_length, beam_width,
                      length_penalty, num_results, pad_id, row_limits, controls) -> FinishedSet:
    """The beam loop over live, undoomed beams; arguments as `beam_search`'s."""
    batch = batch_size_of(initial_state)
    max_penalties = length_penalty_of(row_limits, length_penalty)  # (batch,)

    def one_step(beams: LiveBeams):
        logits, state = row_constants.step(step_fn, beams.tokens, beams.state,
                                           beams.row * beam_width + beams.slot, beam_width)
        log_probs = next_log_probs(logits, controls, step=beams.step, rows=beams.row,  # (m, V)
                                   end_id=end_id, history=lambda: beams.ids)
        top_log_probs, origin, token = _candidates(beams, log_probs, batch=batch,
                                                   beam_width=beam_width)
        candidate_ids = write_at(tf.gather(beams.ids, origin), beams.step, token)  # (b, 2k, L)
        finished, stops = retire(beams.finished, top_log_probs, token, candidate_ids,
                                 length=beams.step + 1, row_limits=row_limits, end_id=end_id,
                                 beam_width=beam_width, length_penalty=length_penalty)
        # The next live beams: the best candidates that did not stop, as in
        # beam.py, of which only those that can still win go on.
        live_log_probs, kept = tf.math.top_k(tf.where(stops, NEG_INF, top_log_probs),
                                             k=beam_width)
        can_win = can_still_win(live_log_probs, finished.scores, max_penalties, num_results)
        where = tf.cast(tf.where(can_win), tf.int32)  # (m', 2): row, new slot
        at = tf.stack([where[:, 0], tf.gather_nd(kept, where)], axis=1)  # candidate columns
        parents = tf.gather_nd(origin, at)
        return (LiveBeams(
            step=beams.step + 1, tokens=tf.gather_nd(token, at),
            state=row_constants.reorder(state, parents),
            row=where[:, 0], slot=where[:, 1], log_probs=tf.gather_nd(live_log_probs, where),
            ids=tf.gather_nd(candidate_ids, at), finished=finished),)

    start = LiveBeams(
        step=tf.constant(0), tokens=tf.fill([batch], tf.constant(start_id, tf.int32)),
        state=initial_state, row=tf.range(batch), slot=tf.zeros([batch], tf.int32),
        log_probs=tf.zeros([batch], tf.float32),
        ids=tf.fill(tf.stack([batch, max_length]), tf.constant(pad_id, tf.int32)),
        finished=empty_finished_set(batch, beam_width, max_length, pad_id))
    invariants = tf.nest.map_structure(lambda t: t.shape, start)
    # Every field but the step and the finished set has one entry per computed beam.
    invariants = invariants._replace(state=state_invariants(initial_state), **{
        name: tf.nest.map_structure(with_free_batch_axis, getattr(invariants, name))
        for name in ("tokens", "row", "slot", "log_probs", "ids")})
    (end,) = tf.while_loop(lambda beams: (beams.step < max_length) & (tf.shape(beams.row)[0] > 0),
                           one_step, (start,), shape_invariants=(invariants,))
    return end.finished
