"""Greedy search: at each step take the most probable next token."""

from __future__ import annotations

import tensorflow as tf

from keras_s2s.decoding.common import (
    SearchResult,
    batch_size_of,
    loop_bound,
    validate_max_length,
    write_at,
)


def token_by_token(step_fn, initial_state, *, choose, start_id, end_id, max_length, pad_id):
    """The loop greedy search and sampling share: one token per row per step.

    `choose(log_probs float32 [batch, vocab], step) -> int32 [batch]` picks each
    row's next token. The loop is a `tf.while_loop` that ends as soon as every
    row has produced `end_id`, or after `max_length` tokens. A finished row is
    frozen: it is fed `pad_id`, and its tokens, length and log-probability no
    longer change (its state keeps being computed with the batch, unused).
    """
    validate_max_length(max_length)
    max_length = loop_bound(max_length)
    batch = batch_size_of(initial_state)
    # Preallocated, so the loop never changes a shape: (batch, max_length).
    ids = tf.fill(tf.stack([batch, max_length]), tf.constant(pad_id, tf.int32))
    tokens = tf.fill([batch], tf.constant(start_id, tf.int32))
    finished = tf.zeros([batch], tf.bool)
    lengths = tf.zeros([batch], tf.int32)
    log_probs = tf.zeros([batch], tf.float32)

    def keep_going(step, tokens, state, ids, finished, lengths, log_probs):
        return (step < max_length) & ~tf.reduce_all(finished)

    def one_step(step, tokens, state, ids, finished, lengths, log_probs):
        logits, state = step_fn(tokens, state)
        # float32 even when the model computes in float16/bfloat16: sums of
        # many small log-probabilities lose too much in half precision.
        step_log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32))  # (batch, vocab)
        next_tokens = tf.cast(choose(step_log_probs, step), tf.int32)
        next_tokens = tf.where(finished, tf.cast(pad_id, tf.int32), next_tokens)
        chosen = tf.gather(step_log_probs, next_tokens, batch_dims=1)  # (batch,)
        log_probs += tf.where(finished, 0.0, chosen)
        lengths += tf.cast(~finished, tf.int32)
        ids = write_at(ids, step, next_tokens)
        finished |= tf.equal(next_tokens, end_id)
        return step + 1, next_tokens, state, ids, finished, lengths, log_probs

    _, _, _, ids, _, lengths, log_probs = tf.while_loop(
        keep_going,
        one_step,
        (tf.constant(0), tokens, initial_state, ids, finished, lengths, log_probs),
    )
    return SearchResult(ids=ids, lengths=lengths, log_probs=log_probs)


def greedy_search(step_fn, initial_state, *, start_id, end_id, max_length, pad_id=0):
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
    )
