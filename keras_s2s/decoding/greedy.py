"""Greedy search: at each step take the most probable next token."""

from __future__ import annotations

import tensorflow as tf

from keras_s2s.decoding.token_loop import token_by_token


def greedy_search(step_fn, initial_state, *, start_id, end_id, max_length, pad_id=0,
                  max_lengths=None, drop_finished_rows=None, controls=None):
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
        drop_finished_rows: drop finished rows from the computation once a quarter
            of them are done (same results, less work); `None`: yes, except
            under XLA (see `keras_s2s.decoding.token_loop`).
        controls: `keras_s2s.decoding.controls.Controls` (minimum lengths,
            no repeated n-grams, repetition penalty, forced prefixes), or None.

    Returns:
        `SearchResult(ids, lengths, log_probs)`: ids int32 `[batch, max_length]`,
        lengths int32 `[batch]`, log_probs float32 `[batch]`.

    Example:
        >>> result = tf.function(greedy_search)(model.decode_step, state,
        ...     start_id=2, end_id=3, max_length=40)
        >>> result.ids  # int32 (batch, 40), pad_id after each row's end token
    """
    def most_probable(scores, step):
        # The arg-max of the unnormalised scores: no log-softmax over the vocabulary.
        return tf.argmax(scores.scores, axis=-1, output_type=tf.int32)

    return token_by_token(step_fn, initial_state, choose=most_probable, start_id=start_id,
                          end_id=end_id, max_length=max_length, pad_id=pad_id,
                          max_lengths=max_lengths, drop_finished_rows=drop_finished_rows,
                          controls=controls)
