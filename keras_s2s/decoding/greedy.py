"""Greedy search: at each step take the most probable next token."""

from __future__ import annotations

import tensorflow as tf

from keras_s2s.decoding.common import (
    SearchResult,
    batch_size_of,
    inside_xla,
    loop_bound,
    row_max_lengths,
    validate_max_length,
    with_free_batch_axis,
)


def token_by_token(step_fn, initial_state, *, choose, start_id, end_id, max_length, pad_id,
                   max_lengths=None, compact=None):
    """The loop greedy search and sampling share: one token per row per step.

    `choose(log_probs float32 [rows, vocab], step) -> int32 [rows]` picks each
    row's next token. The loop is a `tf.while_loop` that ends as soon as every
    row has produced `end_id`, or after `max_length` tokens. A finished row is
    frozen: its tokens, length and log-probability no longer change.

    Compaction: once at most half of the rows still being computed are live,
    the finished ones are dropped from the batch (state gathered to the live
    rows), so a batch whose translations end at different lengths stops paying
    for the short ones. `compact=None` compacts except under XLA, which needs
    fixed shapes. Outputs are identical either way (rows never interact).

    `max_lengths` (int32 `[batch]`, optional) gives each row its own limit,
    at most `max_length`: a row that reaches it is cut there, as finished.
    """
    validate_max_length(max_length)
    max_length = loop_bound(max_length)
    row_limits = row_max_lengths(max_lengths, initial_state, max_length)
    if compact is None:
        compact = not inside_xla()
    batch = batch_size_of(initial_state)
    # Full-batch outputs, preallocated: (batch, max_length) and (batch,).
    ids = tf.fill(tf.stack([batch, max_length]), tf.constant(pad_id, tf.int32))
    finished = tf.zeros([batch], tf.bool)
    lengths = tf.zeros([batch], tf.int32)
    log_probs = tf.zeros([batch], tf.float32)
    # The rows being computed: their tokens, state, and which output row each is.
    tokens = tf.fill([batch], tf.constant(start_id, tf.int32))
    rows = tf.range(batch)

    def keep_going(step, tokens, state, rows, ids, finished, lengths, log_probs):
        return (step < max_length) & ~tf.reduce_all(finished)

    def one_step(step, tokens, state, rows, ids, finished, lengths, log_probs):
        logits, state = step_fn(tokens, state)
        # float32 even when the model computes in float16/bfloat16: sums of
        # many small log-probabilities lose too much in half precision.
        step_log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32))  # (rows, vocab)
        next_tokens = tf.cast(choose(step_log_probs, step), tf.int32)
        was_finished = tf.gather(finished, rows)
        next_tokens = tf.where(was_finished, tf.cast(pad_id, tf.int32), next_tokens)
        chosen = tf.gather(step_log_probs, next_tokens, batch_dims=1)  # (rows,)
        at = rows[:, None]
        log_probs = tf.tensor_scatter_nd_add(log_probs, at, tf.where(was_finished, 0.0, chosen))
        lengths = tf.tensor_scatter_nd_add(lengths, at, tf.cast(~was_finished, tf.int32))
        ids = tf.tensor_scatter_nd_update(
            ids, tf.stack([rows, tf.fill(tf.shape(rows), step)], axis=1), next_tokens
        )
        now_finished = (was_finished | tf.equal(next_tokens, end_id)
                        | (step + 1 >= tf.gather(row_limits, rows)))
        finished = tf.tensor_scatter_nd_update(finished, at, now_finished)
        if compact:
            live = tf.reduce_sum(tf.cast(~now_finished, tf.int32))
            computed = tf.shape(rows)[0]

            def drop_finished():
                keep = tf.where(~now_finished)[:, 0]
                return (tf.gather(next_tokens, keep),
                        tf.nest.map_structure(lambda t: tf.gather(t, keep), state),
                        tf.gather(rows, keep))

            next_tokens, state, rows = tf.cond(
                (live > 0) & (2 * live <= computed),
                drop_finished,
                lambda: (next_tokens, state, rows),
            )
        return step + 1, next_tokens, state, rows, ids, finished, lengths, log_probs

    loop_vars = (tf.constant(0), tokens, initial_state, rows, ids, finished, lengths, log_probs)
    invariants = tf.nest.map_structure(lambda t: t.shape, loop_vars)
    if compact:  # tokens, state and rows shrink along the batch axis
        invariants = (invariants[0], *tf.nest.map_structure(with_free_batch_axis, invariants[1:4]),
                      *invariants[4:])
    outputs = tf.while_loop(keep_going, one_step, loop_vars, shape_invariants=invariants)
    _, _, _, _, ids, _, lengths, log_probs = outputs
    return SearchResult(ids=ids, lengths=lengths, log_probs=log_probs)


def greedy_search(step_fn, initial_state, *, start_id, end_id, max_length, pad_id=0,
                  max_lengths=None, compact=None):
    """Decodes by taking the arg-max token at every step, batched, in the graph.

    Args:
        step_fn: `(token_ids int32 [batch], state) -> (logits [batch, vocab], state)`.
        initial_state: a nest of tensors whose first dimension is the batch
            (e.g. the encoder model's output).
        start_id: token fed at the first step (not part of the output).
        end_id: token that ends a row (part of the output).
        max_length: maximum generated tokens and the output's time dimension: a
            Python int (static shapes, compiles with `jit_compile=True`) or a
            scalar int tensor.
        pad_id: token written after a row's end.
        max_lengths: optional int32 `[batch]`, each row's own limit (at most
            `max_length`; a row is cut there). A row's result then does not
            depend on the other rows in its batch.
        compact: drop finished rows from the computation once half of them
            are done (same results, less work); `None`: yes, except under XLA.

    Returns:
        `SearchResult(ids, lengths, log_probs)`: ids int32 `[batch, max_length]`,
        lengths int32 `[batch]`, log_probs float32 `[batch]`.

    Example:
        >>> result = tf.function(greedy_search)(model.decode_step, state,
        ...     start_id=2, end_id=3, max_length=40)
        >>> result.ids  # int32 (batch, 40), pad_id after each row's end token
    """
    return token_by_token(
        step_fn,
        initial_state,
        choose=lambda log_probs, step: tf.argmax(log_probs, axis=-1, output_type=tf.int32),
        start_id=start_id,
        end_id=end_id,
        max_length=max_length,
        pad_id=pad_id,
        max_lengths=max_lengths,
        compact=compact,
    )
