"""Sampling: draw each next token at random from the model's distribution."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from keras_s2s.decoding.common import validate_sampling_arguments
from keras_s2s.decoding.greedy import token_by_token

# Smallest positive float32: keeps log(uniform) finite.
_TINY = float(np.finfo(np.float32).tiny)


def _outside_top_k(logits, top_k):
    """True where a token is not among its row's `top_k` best (never, if top_k is 0).

    Ranks from a stable sort break ties by the lower token id, as `tf.argmax`
    does, so exactly `top_k` tokens stay and top_k=1 is greedy search.
    """
    top_k = tf.cast(top_k, tf.int32)
    order = tf.argsort(logits, axis=-1, direction="DESCENDING", stable=True)
    rank = tf.argsort(order, axis=-1, stable=True)  # (batch, vocab): 0 = most probable
    return (top_k > 0) & (rank >= top_k)


def sample(
    step_fn,
    initial_state,
    *,
    start_id,
    end_id,
    max_length,
    temperature=1.0,
    top_k=0,
    seed=None,
    pad_id=0,
    max_lengths=None,
):
    """Decodes by sampling from `softmax(logits / temperature)`, for diverse outputs.

    Args:
        step_fn, initial_state, start_id, end_id, max_length, pad_id,
            max_lengths: as in `greedy_search`.
        temperature: > 0; below 1 sharpens the distribution, above 1 flattens it.
        top_k: if > 0, sample only among each step's `top_k` most probable
            tokens; 0 samples from the whole vocabulary.
        seed: an integer makes the output reproducible, eagerly and inside
            `tf.function` alike (stateless random ops, seeded per step from
            `(seed, step)`); `None` draws a fresh seed at every call.

    Returns:
        `SearchResult(ids, lengths, log_probs)` as in `greedy_search`;
        `log_probs` are the model's own (temperature 1, no top-k) log-probabilities
        of the sampled tokens.

    Example:
        >>> result = sample(model.decode_step, state, start_id=2, end_id=3,
        ...                 max_length=40, temperature=0.8, top_k=10, seed=1)
    """
    validate_sampling_arguments(temperature=temperature, top_k=top_k)
    if seed is None:
        base_seed = tf.random.uniform([], maxval=tf.int64.max, dtype=tf.int64)
    else:
        base_seed = tf.cast(seed, tf.int64)

    def choose(log_probs, step):
        # log_softmax only shifts each row, so it scales like the logits do.
        logits = log_probs / tf.cast(temperature, tf.float32)  # (batch, vocab)
        if tf.is_tensor(top_k) or top_k > 0:
            logits = tf.where(_outside_top_k(logits, top_k), -float("inf"), logits)
        # A different, reproducible seed per step.
        step_seed = tf.stack([base_seed, tf.cast(step, tf.int64)])
        # Gumbel-max: the arg-max of logits plus Gumbel(0, 1) noise is a draw
        # from softmax(logits), and excluded (-inf) tokens can never win. Done
        # by hand because XLA's StatelessMultinomial takes only int32 seeds.
        uniform = tf.random.stateless_uniform(
            tf.shape(logits), seed=step_seed, minval=_TINY, maxval=1.0
        )  # (batch, vocab), in (0, 1)
        gumbel = -tf.math.log(-tf.math.log(uniform))
        return tf.argmax(logits + gumbel, axis=-1, output_type=tf.int32)

    return token_by_token(
        step_fn,
        initial_state,
        choose=choose,
        start_id=start_id,
        end_id=end_id,
        max_length=max_length,
        pad_id=pad_id,
        max_lengths=max_lengths,
    )
