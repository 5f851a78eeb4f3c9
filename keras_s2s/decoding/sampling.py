"""Sampling: draw each next token at random from the model's distribution,
optionally sharpened (temperature) and truncated (top-k, nucleus top-p)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from keras_s2s.decoding import checks
from keras_s2s.decoding.token_loop import token_by_token

# Smallest positive float32: keeps log(uniform) finite.
_TINY = float(np.finfo(np.float32).tiny)


def _ranks(logits):
    """Each token's rank in its row, 0 = most probable; ties go to the lower id
    (a stable sort), as `tf.argmax` breaks them."""
    order = tf.argsort(logits, axis=-1, direction="DESCENDING", stable=True)
    return tf.argsort(order, axis=-1, stable=True), order


def _outside_top_k(logits, top_k):
    """True where a token is not among its row's `top_k` best (never, if top_k is 0).
    Exactly `top_k` tokens stay, so top_k=1 is greedy search."""
    top_k = tf.cast(top_k, tf.int32)
    rank, _ = _ranks(logits)
    return (top_k > 0) & (rank >= top_k)


def _outside_nucleus(logits, top_p):
    """True where a token is outside its row's nucleus: the fewest most probable
    tokens whose probabilities sum to at least `top_p` (Holtzman et al., 2020).
    The most probable token always stays, so a tiny top_p is greedy search."""
    rank, order = _ranks(logits)
    sorted_probabilities = tf.gather(tf.nn.softmax(logits), order, batch_dims=1)
    # Probability mass of the tokens ranked strictly above each rank.
    mass_before = tf.cumsum(sorted_probabilities, axis=-1, exclusive=True)
    keep_rank = mass_before < tf.cast(top_p, tf.float32)  # (batch, vocab), by rank
    return ~tf.gather(keep_rank, rank, batch_dims=1)


def sample(step_fn, initial_state, *, start_id, end_id, max_length, temperature=1.0, top_k=0,
           top_p=1.0, seed=None, pad_id=0, max_lengths=None, controls=None):
    """Decodes by sampling from `softmax(logits / temperature)`, for diverse outputs.

    Args:
        step_fn, initial_state, start_id, end_id, max_length, pad_id,
            max_lengths, controls: as in `greedy_search`.
        temperature: > 0; below 1 sharpens the distribution, above 1 flattens it.
        top_k: if > 0, sample only among each step's `top_k` most probable
            tokens; 0 samples from the whole vocabulary.
        top_p: in (0, 1]: sample only from the nucleus, the fewest most
            probable tokens (after temperature and top-k) holding `top_p` of
            the probability; 1 keeps every token.
        seed: an integer makes the output reproducible, eagerly and inside
            `tf.function` alike (stateless random ops, seeded per step from
            `(seed, step)`); `None` draws a fresh seed at every call.

    Returns:
        `SearchResult(ids, lengths, log_probs)` as in `greedy_search`;
        `log_probs` are the model's own (temperature 1, no truncation)
        log-probabilities of the sampled tokens.

    Example:
        >>> result = sample(model.decode_step, state, start_id=2, end_id=3,
        ...                 max_length=40, temperature=0.8, top_p=0.9, seed=1)
    """
    for check, value in ((checks.check_temperature, temperature), (checks.check_top_k, top_k),
                         (checks.check_top_p, top_p)):
        if not tf.is_tensor(value):
            check(value)
    if seed is None:
        base_seed = tf.random.uniform([], maxval=tf.int64.max, dtype=tf.int64)
    else:
        base_seed = tf.cast(seed, tf.int64)

    def choose(scores, step):
        # log_softmax only shifts each row, so it scales like the logits do.
        logits = scores.log_probs() / tf.cast(temperature, tf.float32)  # (batch, vocab)
        if tf.is_tensor(top_k) or top_k > 0:
            logits = tf.where(_outside_top_k(logits, top_k), -float("inf"), logits)
        if tf.is_tensor(top_p) or top_p < 1.0:
            logits = tf.where(_outside_nucleus(logits, top_p), -float("inf"), logits)
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

    return token_by_token(step_fn, initial_state, choose=choose, start_id=start_id,
                          end_id=end_id, max_length=max_length, pad_id=pad_id,
                          max_lengths=max_lengths, controls=controls)
