"""Decoding controls, applied to every hypothesis at every step of every search.

    logits ─► repetition penalty ─► bans ─► the search chooses
                                 └► log-softmax's normaliser (log_normalizer)

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


class TokenScores(NamedTuple):
    """A step's scores for every next token, controls applied, not yet normalised.

    `scores - log_normalizer` are the log-probabilities (`log_probs()`), with
    `NEG_INF` where a control bans a token (-1e9 minus a few units rounds back
    to -1e9 in float32). Greedy search needs the arg-max and one value per row
    only, so it reads the two fields and skips the full log-softmax, a pass
    over the vocabulary at every step.
    """

    scores: tf.Tensor  # float32 (n, vocab): logits, penalised, NEG_INF where banned
    log_normalizer: tf.Tensor  # float32 (n, 1): log of the softmax's denominator

    def log_probs(self):
        return self.scores - self.log_normalizer


def log_normalizer(logits):
    """`log(sum(exp(logits)))` over the last axis, `(n, 1)`, from the softmax.

    The most probable token's probability is `exp(top) / sum(exp(logits))`, so
    the normaliser is `top - log(p_top)`; `p_top >= 1 / vocab` never
    underflows. TF's softmax runs in oneDNN, vectorised, and a max is a cheap
    reduction (an arg-max is not): at (64, 5000) on one thread, greedy's
    normaliser + arg-max measured 239 us against 346 us for log-softmax +
    arg-max; beam's full log-probabilities 924 us against 1,127 us at (256, 5000).
    """
    top = tf.reduce_max(logits, axis=-1, keepdims=True)
    p_top = tf.reduce_max(tf.nn.softmax(logits), axis=-1, keepdims=True)
    return top - tf.math.log(p_top)


def next_token_scores(logits, controls: Controls, *, step, rows, end_id,
                      history=None) -> TokenScores:
    """Each hypothesis' scores for its next token, controls applied.

    Args:
        logits: `(n, vocab)` from the step function (any float dtype).
        controls: the `Controls`.
        step: tokens generated so far (scalar int32).
        rows: int32 `(n,)`, the batch row of each hypothesis.
        end_id: the end token.
        history: a function returning int32 `(n, L)`, each hypothesis'
            tokens so far (positions < step), called only if a control needs it.
    """
    # float32 even when the model computes in float16/bfloat16: sums of many
    # small log-probabilities lose too much in half precision.
    scores = tf.cast(logits, tf.float32)
    ids = history() if controls.needs_history else None
    if controls.repetition_penalty != 1.0:
        scores = penalize_repetitions(scores, ids, step, controls.repetition_penalty)
    normalizer = log_normalizer(scores)  # before the bans: they keep the model's probabilities
    if controls.min_lengths is not None:
        scores = _forbid_end_while_short(scores, controls.min_lengths, step, rows, end_id)
    if controls.no_repeat_ngram_size > 0:
        scores = ban_repeated_ngrams(scores, ids, step, controls.no_repeat_ngram_size,
                                     controls.word_starts)
    if controls.prefix_ids is not None:
        scores = _force_prefix(scores, controls, step, rows)
    return TokenScores(scores, normalizer)


def next_log_probs(logits, controls: Controls, *, step, rows, end_id, history=None):
    """`next_token_scores(...).log_probs()`: float32 `(n, vocab)`."""
    return next_token_scores(logits, controls, step=step, rows=rows, end_id=end_id,
                             history=history).log_probs()


def _forbid_end_while_short(scores, min_lengths, step, rows, end_id):
    """`NEG_INF` at `end_id` in the rows shorter than their minimum.

    The select over the whole vocabulary runs only at steps where some row is
    still too short: the minimums are a tensor, so with `min_length=0` this
    control is on all the same, and most steps are past every row's minimum.
    """
    too_short = step < tf.gather(min_lengths, rows)  # (n,)

    def forbid_end():
        is_end = tf.equal(tf.range(tf.shape(scores)[1]), end_id)[None, :]
        return tf.where(too_short[:, None] & is_end, NEG_INF, scores)

    return tf.cond(tf.reduce_any(too_short), forbid_end, lambda: scores)
