"""Sampling: draw each next token at random from the model's distribution."""

from __future__ import annotations

import tensorflow as tf

from keras_s2s.decoding.common import validate_sampling_arguments
from keras_s2s.decoding.greedy import token_by_token


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
):
    """Decodes by sampling from `softmax(logits / temperature)`, for diverse outputs.

    Args:
        step_fn, initial_state, start_id, end_id, max_length, pad_id: as in
            `greedy_search`.
        temperature: < 1 sharpens the distribution, > 1 flattens it.
        top_k: if > 0, sample only among the `top_k` most probable tokens.
        seed: an integer makes the output reproducible (stateless random ops,
            eager and in `tf.function` alike); `None` draws a fresh seed.

    Returns:
        `SearchResult`; `log_probs` are the model's own (temperature 1)
        log-probabilities of the sampled tokens.
    """
    validate_sampling_arguments(temperature=temperature, top_k=top_k)
    if seed is None:
        base_seed = tf.random.uniform([], maxval=2**31 - 1, dtype=tf.int32)
    else:
        base_seed = tf.constant(seed, tf.int32)

    def choose(log_probs, step):
        logits = log_probs / tf.cast(temperature, tf.float32)
        if top_k:
            kth_best = tf.math.top_k(logits, k=top_k).values[:, -1:]
            logits = tf.where(logits < kth_best, tf.float32.min, logits)
        # A different, reproducible seed per step.
        return tf.random.stateless_categorical(
            logits, 1, seed=tf.stack([base_seed, step]), dtype=tf.int32
        )[:, 0]

    return token_by_token(
        step_fn, initial_state, choose=choose,
        start_id=start_id, end_id=end_id, max_length=max_length, pad_id=pad_id,
    )
