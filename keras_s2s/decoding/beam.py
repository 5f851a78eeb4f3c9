"""Beam search with GNMT length normalisation, frozen finished hypotheses and
early exit.

Per row we keep `beam_width` *live* prefixes and, apart from them, the
`beam_width` best *finished* hypotheses (ended with the end token, or cut at
the row's length limit). Each step extends every live prefix by every token, and:

- of the `beam_width` best candidates, those ending in `end_id` move to the
  finished set, scored `log_prob / ((5 + length) / 6) ** length_penalty`, and
  never change again (`finished.py`);
- the best `beam_width` candidates not ending stay live, and the state
  follows its beam: gathered, except the fields the state declares per-row
  constants (encoder outputs, masks: `row_constants.py`), which stay one
  per row and are never copied per beam.

Two loops compute this same search: the fixed-shape one here (every row's
`beam_width` slots until the whole batch is settled; what XLA needs), and by
default the one in `live_beams.py`, which computes only the beams that can
still change the result.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import tensorflow as tf

from keras_s2s.decoding import checks, row_constants
from keras_s2s.decoding.buffers import (
    batch_size_of,
    check_max_length,
    inside_xla,
    loop_bound,
    row_max_lengths,
    state_invariants,
    write_at,
)
from keras_s2s.decoding.controls import NO_CONTROLS, next_log_probs
from keras_s2s.decoding.finished import (
    NEG_INF,
    FinishedSet,
    as_result,
    can_still_win,
    empty_finished_set,
    length_penalty_of,
    retire,
    top_columns,
)
from keras_s2s.decoding.live_beams import search_live_beams
from keras_s2s.decoding.top_k import top_k


def beam_search(step_fn, initial_state, *, start_id, end_id, max_length, beam_width=4,
                length_penalty=0.6, num_results=1, pad_id=0, max_lengths=None,
                live_beams_only=None, controls=None):
    """Finds high-probability sequences keeping `beam_width` candidates per row.

    Args:
        step_fn: `(token_ids int32 [n], state) -> (logits [n, vocab], state)`,
            called with `n` beams: `batch * beam_width` in the fixed-shape
            loop, only the live ones (any number) with `live_beams_only`.
        initial_state: a nest of tensors, first dimension the batch. Tensors
            are gathered along axis 0 to follow the beams, except the fields
            a NamedTuple state declares `row_constants`: those stay one per
            row, and `step_fn` is then called as `step_fn(tokens, state,
            beams=BeamLayout)` to line each beam up with its row's
            (`keras_s2s.decoding.row_constants`).
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
        live_beams_only: compute only the beams that can still change the
            result (`keras_s2s.decoding.live_beams`: same results, less work),
            rather than every row's `beam_width` slots until the whole batch is
            done. `None`: yes, except under XLA, which needs fixed shapes.
        controls: `keras_s2s.decoding.controls.Controls`, applied to every
            beam at every step, or None.

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
    check_max_length(max_length)
    checks.check_beam(beam_width, num_results)
    if not tf.is_tensor(length_penalty):
        checks.check_length_penalty(length_penalty)
    search = dict(start_id=start_id, end_id=end_id, max_length=loop_bound(max_length),
                  beam_width=int(beam_width), length_penalty=length_penalty,
                  num_results=int(num_results), pad_id=pad_id,
                  controls=controls or NO_CONTROLS)
    search["row_limits"] = row_max_lengths(max_lengths, initial_state, search["max_length"])
    if live_beams_only is None:
        live_beams_only = not inside_xla()
    loop = search_live_beams if live_beams_only else _search_every_slot
    return as_result(loop(step_fn, initial_state, **search), search["num_results"])


class BeamSlots(NamedTuple):
    """The fixed-shape loop's variables: every row's `beam_width` live slots."""

    step: tf.Tensor  # int32 ()
    tokens: tf.Tensor  # int32 (batch * beam,): each slot's next input token
    state: Any  # the model's state nest, (batch * beam, ...)
    log_probs: tf.Tensor  # float32 (batch, beam); NEG_INF for an empty slot
    ids: tf.Tensor  # int32 (batch, beam, max_length)
    finished: FinishedSet


def _search_every_slot(step_fn, initial_state, *, start_id, end_id, max_length, beam_width,
                       length_penalty, num_results, pad_id, row_limits, controls) -> FinishedSet:
    """The fixed-shape loop: every row's slots until no row's beam can still win."""
    batch = batch_size_of(initial_state)
    # The largest length penalty each row's hypotheses can get.
    max_penalties = length_penalty_of(row_limits, length_penalty)  # (batch,)
    slot_rows = tf.repeat(tf.range(batch), beam_width)  # (batch * beam,): each slot's row
    every_slot = tf.range(batch * beam_width)  # the layout: slot i is computed as row i

    def can_change(slots: BeamSlots):
        # A row past its limit has no live beam; settled rows cannot change.
        return (slots.step < max_length) & tf.reduce_any(can_still_win(
            slots.log_probs, slots.finished.scores, max_penalties, num_results))

    def one_step(slots: BeamSlots):
        logits, state = row_constants.step(step_fn, slots.tokens, slots.state, every_slot,
                                           beam_width)
        log_probs = next_log_probs(  # (batch * beam, vocab)
            logits, controls, step=slots.step, rows=slot_rows, end_id=end_id,
            history=lambda: tf.reshape(slots.ids, [batch * beam_width, -1]))
        vocab = tf.shape(log_probs)[-1]
        candidates = slots.log_probs[:, :, None] + tf.reshape(log_probs,
                                                              [batch, beam_width, vocab])
        # 2 * beam candidates: at most one per beam ends (its end token), so at
        # least beam_width remain to stay live.
        # A static width (when the vocabulary size is known) lets top_k chunk it.
        width = beam_width * (log_probs.shape[-1] or vocab)
        top_log_probs, flat_index = top_k(tf.reshape(candidates, [batch, width]), 2 * beam_width)
        origin = flat_index // vocab  # (batch, 2 * beam): the live beam each extends
        token = flat_index % vocab
        candidate_ids = write_at(tf.gather(slots.ids, origin, batch_dims=1), slots.step, token)
        finished, stops = retire(slots.finished, top_log_probs, token, candidate_ids,
                                 length=slots.step + 1, row_limits=row_limits, end_id=end_id,
                                 beam_width=beam_width, length_penalty=length_penalty)
        # Live: the best candidates that did not end (an end token never goes on).
        # A row at its limit keeps no live beam (nothing may grow past it).
        live_log_probs, origin, token, live_ids = top_columns(
            tf.where(stops, NEG_INF, top_log_probs), beam_width, origin, token, candidate_ids)
        # The state follows its beam: (batch * beam, ...) rows re-ordered
        # (a beam stays in its row, so per-row constants need no gather).
        beam_rows = tf.reshape(tf.range(batch)[:, None] * beam_width + origin, [-1])
        state = row_constants.reorder(state, beam_rows)
        return (BeamSlots(slots.step + 1, tf.reshape(token, [-1]), state, live_log_probs,
                          live_ids, finished),)

    start = BeamSlots(
        step=tf.constant(0),
        tokens=tf.fill([batch * beam_width], tf.constant(start_id, tf.int32)),
        # (batch, ...) -> (batch * beam, ...): row b's beams are rows b*beam .. b*beam+beam-1.
        state=row_constants.repeat_for_beams(initial_state, beam_width),
        # Only beam 0 is live at first: the others would be copies of it.
        log_probs=tf.tile(tf.constant([[0.0] + [NEG_INF] * (beam_width - 1)]),
                          tf.stack([batch, 1])),
        ids=tf.fill(tf.stack([batch, beam_width, max_length]), tf.constant(pad_id, tf.int32)),
        finished=empty_finished_set(batch, beam_width, max_length, pad_id))
    invariants = tf.nest.map_structure(lambda t: t.shape, start)
    invariants = invariants._replace(state=state_invariants(start.state))
    return tf.while_loop(can_change, one_step, (start,), shape_invariants=(invariants,))[0].finished
