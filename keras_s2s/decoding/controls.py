"""Decoding controls, applied to every hypothesis at every step of every search.

    logits ─► repetition penalty ─► log-softmax ─► bans ─► the search chooses

- `repetition_penalty` (CTRL's rule, as Hugging Face and CTranslate2 apply
  it): the logit of a token the hypothesis already holds is divided by the
  penalty if positive, multiplied by it if negative. It changes the
  distribution, so scores are then those of the penalised distribution.
- bans set a token's log-probability to `NEG_INF` and leave the others
  untouched, so scores stay the model's own log-probabilities:
  - `min_lengths`: the end token, while a row has fewer tokens than its minimum;
  - `no_repeat_ngram_size = n`: a token that would complete an n-gram the
    hypothesis already holds (fairseq's rule). With subword tokens, give
    `word_starts`: an n-gram inside one word (its 2nd..nth pieces all
    continue a word) is never banned, so a word of n pieces may be said twice
    ("one one" as `o ##n ##e o ##n ##e`); n-grams across words are, as before;
  - a forced prefix: every token but the prefix's, while a row is in its prefix.

A control that is off (`None`, 0, 1.0 as Python values) adds no op. Every
tensor keeps a fixed shape (scatters over fixed index sets, no `tf.where`
with a data-dependent size), so the searches still compile with XLA.
"""

from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf

from keras_s2s.masking import NEG_INF


class Controls(NamedTuple):
    """What to apply; per-row values are indexed by each hypothesis' batch row."""

    min_lengths: tf.Tensor | None = None  # int32 (batch,): tokens before the end token
    prefix_ids: tf.Tensor | None = None  # int32 (batch, prefix time), padded
    prefix_lengths: tf.Tensor | None = None  # int32 (batch,)
    no_repeat_ngram_size: int = 0  # 0: off
    repetition_penalty: float = 1.0  # 1.0: off
    word_starts: tf.Tensor | None = None  # bool (vocab,): False for "##" pieces; None: all

    @property
    def needs_history(self) -> bool:
        """Whether the tokens generated so far are read."""
        return self.no_repeat_ngram_size > 0 or self.repetition_penalty != 1.0


NO_CONTROLS = Controls()


def _seen_tokens(ids, step, vocabulary_size):
    """bool `(n, vocab)`: which tokens each hypothesis' first `step` positions hold."""
    n, width = tf.shape(ids)[0], tf.shape(ids)[1]
    written = tf.range(width)[None, :] < step  # (1, L)
    tokens = tf.where(written, ids, vocabulary_size)  # unwritten -> a spare column
    return _scatter_flags(tokens, n, vocabulary_size)


def _scatter_flags(tokens, n, vocabulary_size):
    """bool `(n, vocab)`, True at `(i, tokens[i, j])`; entries equal to
    `vocabulary_size` are dropped (they land in a spare column)."""
    columns = tf.shape(tokens)[1]
    rows = tf.repeat(tf.range(n), columns)
    indices = tf.stack([rows, tf.reshape(tokens, [-1])], axis=1)
    counts = tf.scatter_nd(indices, tf.ones_like(rows), tf.stack([n, vocabulary_size + 1]))
    return counts[:, :vocabulary_size] > 0


def penalize_repetitions(logits, ids, step, penalty):
    """CTRL's repetition penalty on `logits` `(n, vocab)` float32."""
    seen = _seen_tokens(ids, step, tf.shape(logits)[1])
    penalized = tf.where(logits > 0, logits / penalty, logits * penalty)
    return tf.where(seen, penalized, logits)


def _repeating_followers(ids, step, n, word_starts=None):
    """`(matches, followers)`, each `(hypotheses, L - n + 1)`: where an earlier
    occurrence of the last `n - 1` tokens starts, and the token that followed it.

    The n-gram ending with the next token starts with the last `n - 1`
    tokens; every earlier occurrence of them, at positions j .. j+n-2, bans
    the token that followed it, at j+n-1 (which must be < step). With
    `word_starts`, only occurrences that cross a word boundary count (one of
    positions j+1 .. j+n-1 starts a word); an n-gram's crossing depends on its
    tokens alone, so an earlier occurrence crosses exactly when the new one would.
    """
    width = tf.shape(ids)[1]
    if n == 1:  # every token already generated is banned
        return tf.range(width)[None, :] < step, ids
    matches = tf.range(width - n + 1)[None, :] + n - 1 < step  # the follower is written
    for k in range(n - 1):
        last_k = tf.gather(ids, tf.maximum(step - (n - 1) + k, 0), axis=1)  # (hypotheses,)
        matches &= tf.equal(ids[:, k : width - n + 1 + k], last_k[:, None])
    matches &= step >= n - 1  # too few tokens for an (n-1)-gram to repeat yet
    if word_starts is not None:
        starts = tf.gather(word_starts, ids)  # (hypotheses, L)
        crosses = tf.zeros_like(matches)
        for k in range(1, n):
            crosses |= starts[:, k : width - n + 1 + k]
        matches &= crosses
    return matches, ids[:, n - 1 :]


def ban_repeated_ngrams(log_probs, ids, step, n, word_starts=None):
    """`log_probs` with `NEG_INF` at every token that would repeat an n-gram.

    One scatter of the (few) banned entries into `log_probs`, with no dense
    `(hypotheses, vocab)` mask: `tensor_scatter_nd_min` with NEG_INF where a
    token is banned, and +inf (which changes nothing) at every other index.
    """
    matches, followers = _repeating_followers(ids, step, n, word_starts)
    matches = tf.broadcast_to(matches, tf.shape(followers))
    rows = tf.broadcast_to(tf.range(tf.shape(ids)[0])[:, None], tf.shape(followers))
    indices = tf.stack([tf.reshape(rows, [-1]), tf.reshape(followers, [-1])], axis=1)
    updates = tf.where(tf.reshape(matches, [-1]), NEG_INF, float("inf"))
    return tf.tensor_scatter_nd_min(log_probs, indices, updates)


def _force_prefix(log_probs, controls, step, rows):
    forced_row = step < tf.gather(controls.prefix_lengths, rows)  # (n,)
    position = tf.minimum(step, tf.shape(controls.prefix_ids)[1] - 1)
    forced = tf.gather(tf.gather(controls.prefix_ids, rows), position, axis=1)  # (n,)
    is_forced = tf.equal(tf.range(tf.shape(log_probs)[1])[None, :], forced[:, None])
    return tf.where(forced_row[:, None] & ~is_forced, NEG_INF, log_probs)


def next_log_probs(logits, controls: Controls, *, step, rows, end_id, history=None):
    """Each hypothesis' log-probabilities for its next token, controls applied.

    Args:
        logits: `(n, vocab)` from the step function (any float dtype).
        controls: the `Controls`.
        step: tokens generated so far (scalar int32).
        rows: int32 `(n,)`, the batch row of each hypothesis.
        end_id: the end token.
        history: a function returning int32 `(n, L)`, each hypothesis'
            tokens so far (positions < step), called only if a control needs it.

    Returns:
        float32 `(n, vocab)`.
    """
    # float32 even when the model computes in float16/bfloat16: sums of many
    # small log-probabilities lose too much in half precision.
    logits = tf.cast(logits, tf.float32)
    ids = history() if controls.needs_history else None
    if controls.repetition_penalty != 1.0:
        logits = penalize_repetitions(logits, ids, step, controls.repetition_penalty)
    log_probs = tf.nn.log_softmax(logits)
    vocabulary_size = tf.shape(log_probs)[1]
    if controls.min_lengths is not None:
        too_short = step < tf.gather(controls.min_lengths, rows)  # (n,)
        is_end = tf.equal(tf.range(vocabulary_size), end_id)[None, :]
        log_probs = tf.where(too_short[:, None] & is_end, NEG_INF, log_probs)
    if controls.no_repeat_ngram_size > 0:
        log_probs = ban_repeated_ngrams(log_probs, ids, step, controls.no_repeat_ngram_size,
                                        controls.word_starts)
    if controls.prefix_ids is not None:
        log_probs = _force_prefix(log_probs, controls, step, rows)
    return log_probs
