"""Decoding controls against exhaustive search over fake step functions: a beam
as wide as the candidate space, with a control on, must find exactly the best
hypotheses among those the control allows, n-best in order; greedy and
sampling must obey the same rules; and a batch equals its rows one at a time."""

import numpy as np
import pytest
import tensorflow as tf
from search_fakes import (
    END,
    START,
    assert_same_hypotheses,
    enumerate_hypotheses,
    found,
    prefix_code,
    prefix_step,
)

from keras_s2s.decoding import beam_search, greedy_search, sample
from keras_s2s.decoding.controls import Controls

VOCAB, MAX_LENGTH, BATCH = 4, 5, 3  # tokens 0 (PAD), 1 (START), 2 (END), 3


def _tables(seed, vocab=VOCAB, max_length=MAX_LENGTH):
    rng = np.random.default_rng(seed)
    prefixes = (vocab + 1) ** max_length
    return np.log(rng.dirichlet(np.full(vocab, 0.7), size=(BATCH, prefixes))).astype("float32")


def _expected(tables, row, keep, *, alpha=0.0, vocab=VOCAB, max_length=MAX_LENGTH):
    hypotheses = enumerate_hypotheses(
        lambda prefix: tables[row, prefix_code(prefix[1:], vocab)],
        vocab=vocab, max_length=max_length, alpha=alpha)
    return [h for h in hypotheses if keep(h[0])]


def _beam(tables, controls, *, alpha=0.0, num_results=6, live_beams_only=None):
    state = (tf.constant(tables), tf.fill([BATCH], -1))
    return beam_search(prefix_step, state, start_id=START, end_id=END, max_length=MAX_LENGTH,
                       beam_width=VOCAB ** MAX_LENGTH, length_penalty=alpha,
                       num_results=num_results, controls=controls,
                       live_beams_only=live_beams_only)


def _has_repeated_ngram(tokens, n):
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    return len(grams) != len(set(grams))


def _real_length(tokens):
    return len(tokens) - (tokens[-1] == END)


@pytest.mark.parametrize("live_beams_only", [True, False])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_no_repeat_ngram_beam_is_exhaustive_search_over_sequences_without_repeats(
        n, live_beams_only):
    tables = _tables(seed=n)
    result = _beam(tables, Controls(no_repeat_ngram_size=n), alpha=0.6,
                   live_beams_only=live_beams_only)
    for row in range(BATCH):
        expected = _expected(tables, row, lambda t: not _has_repeated_ngram(t, n), alpha=0.6)
        assert_same_hypotheses(found(result, row), expected[:6])


def _has_repeated_crossing_ngram(tokens, n, starts):
    """A repeated n-gram among those whose 2nd..nth tokens are not all word pieces."""
    grams = [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)
             if any(starts[t] for t in tokens[i + 1 : i + n])]
    return len(grams) != len(set(grams))


@pytest.mark.parametrize("live_beams_only", [True, False])
@pytest.mark.parametrize("n", [2, 3])
def test_no_repeat_ngram_with_word_pieces_bans_only_ngrams_across_words(n, live_beams_only):
    # Tokens 3 and 4: 4 continues a word ("##"), so "3 4 3 4" repeats the word
    # "3 4"; with n = 2 the bigram (3, 4) lies inside it and may repeat, while
    # (4, 3) crosses into the next word and may not.
    vocab, max_length = 5, n + 2  # room for a word's n-gram to come twice
    starts = [True, True, True, True, False]
    # Word pieces (token 4) made likely, so repeated pieces reach the top results.
    rng = np.random.default_rng(10 + n)
    tables = np.log(rng.dirichlet([0.7, 0.7, 0.7, 0.7, 3.0],
                                  size=(BATCH, (vocab + 1) ** max_length))).astype("float32")
    state = (tf.constant(tables), tf.fill([BATCH], -1))
    result = beam_search(
        prefix_step, state, start_id=START, end_id=END, max_length=max_length,
        beam_width=vocab ** max_length, length_penalty=0.6, num_results=40,
        controls=Controls(no_repeat_ngram_size=n, word_starts=tf.constant(starts)),
        live_beams_only=live_beams_only)
    within_word_repeats = 0
    for row in range(BATCH):
        expected = _expected(tables, row, lambda t: not _has_repeated_crossing_ngram(
            t, n, starts), alpha=0.6, vocab=vocab, max_length=max_length)
        assert_same_hypotheses(found(result, row), expected[:40])
        within_word_repeats += sum(_has_repeated_ngram(h[0], n) for h in expected[:40])
    # The results hold hypotheses the plain rule would ban: the two rules differ here.
    assert within_word_repeats > 0


@pytest.mark.parametrize("live_beams_only", [True, False])
def test_min_length_beam_is_exhaustive_search_over_long_enough_sequences(live_beams_only):
    tables = _tables(seed=4)
    min_lengths = [0, 2, 4]
    result = _beam(tables, Controls(min_lengths=tf.constant(min_lengths)),
                   live_beams_only=live_beams_only)
    for row, minimum in enumerate(min_lengths):
        expected = _expected(tables, row, lambda t, m=minimum: _real_length(t) >= m)
        assert_same_hypotheses(found(result, row), expected[:6])


def _prefix_controls(prefixes):
    width = max(1, max(len(p) for p in prefixes))
    padded = [p + [0] * (width - len(p)) for p in prefixes]
    return Controls(prefix_ids=tf.constant(padded, tf.int32),
                    prefix_lengths=tf.constant([len(p) for p in prefixes], tf.int32))


@pytest.mark.parametrize("live_beams_only", [True, False])
def test_prefix_beam_is_exhaustive_search_over_the_prefix_continuations(live_beams_only):
    tables = _tables(seed=5)
    prefixes = [[3, 3], [], [3]]  # per row, different lengths, one empty
    result = _beam(tables, _prefix_controls(prefixes), alpha=0.6,
                   live_beams_only=live_beams_only)
    for row, prefix in enumerate(prefixes):
        expected = _expected(tables, row, lambda t, p=prefix: t[: len(p)] == p, alpha=0.6)
        assert_same_hypotheses(found(result, row), expected[:6])


def test_greedy_obeys_every_control_and_a_batch_equals_its_rows_alone():
    tables = _tables(seed=6)
    controls = dict(no_repeat_ngram_size=2, repetition_penalty=1.5)
    per_row = dict(min_lengths=[1, 3, 0], prefix=[[3], [], [3, 3]])

    def run(rows):
        base = _prefix_controls([per_row["prefix"][r] for r in rows])
        state = (tf.constant(tables[rows]), tf.fill([len(rows)], -1))
        return greedy_search(prefix_step, state, start_id=START, end_id=END,
                             max_length=MAX_LENGTH, controls=base._replace(
                                 min_lengths=tf.constant([per_row["min_lengths"][r]
                                                          for r in rows]), **controls))

    together = run([0, 1, 2])
    for row in range(BATCH):
        alone = run([row])
        np.testing.assert_array_equal(together.ids.numpy()[row], alone.ids.numpy()[0])
        tokens = together.ids.numpy()[row, : together.lengths.numpy()[row]].tolist()
        assert not _has_repeated_ngram(tokens, 2)
        assert _real_length(tokens) >= per_row["min_lengths"][row] or len(tokens) == MAX_LENGTH
        assert tokens[: len(per_row["prefix"][row])] == per_row["prefix"][row]


def test_repetition_penalty_divides_positive_and_multiplies_negative_logits():
    from keras_s2s.decoding.controls import penalize_repetitions

    logits = tf.constant([[2.0, -1.0, 0.5, -3.0]])
    ids = tf.constant([[0, 1, 3, 3]])  # tokens 0, 1 and 3 generated (the last 3 not yet)
    penalized = penalize_repetitions(logits, ids, step=3, penalty=2.0).numpy()
    np.testing.assert_allclose(penalized, [[1.0, -2.0, 0.5, -6.0]])


def test_top_p_samples_only_from_the_nucleus_and_reproduces_per_seed():
    # One step, then END: probabilities 0.5, 0.3, 0.15, 0.05 over tokens 3..6.
    probabilities = np.array([1e-9, 1e-9, 1e-9, 0.5, 0.3, 0.15, 0.05])
    log_table = np.log(probabilities / probabilities.sum()).astype("float32")
    end_next = np.full(7, -30.0, np.float32)
    end_next[END] = 0.0

    def step(token_ids, state):
        first = tf.equal(token_ids, START)[:, None]
        return tf.where(first, log_table[None, :], end_next[None, :]), state

    state = (tf.zeros([200, 1]),)
    drawn = set()
    for seed in range(5):
        result = sample(step, state, start_id=START, end_id=END, max_length=2, top_p=0.75,
                        seed=seed)
        again = sample(step, state, start_id=START, end_id=END, max_length=2, top_p=0.75,
                       seed=seed)
        np.testing.assert_array_equal(result.ids.numpy(), again.ids.numpy())
        drawn |= set(result.ids.numpy()[:, 0].tolist())
    assert drawn == {3, 4}  # 0.5 + 0.3 >= 0.75: the nucleus is tokens 3 and 4


def test_controls_compile_with_xla_and_give_the_eager_answer():
    tables = _tables(seed=7)
    state = (tf.constant(tables), tf.fill([BATCH], -1))
    controls = Controls(min_lengths=tf.constant([1, 2, 0]), no_repeat_ngram_size=2,
                        repetition_penalty=1.3, prefix_ids=tf.constant([[3, 0], [0, 0], [3, 3]]),
                        prefix_lengths=tf.constant([1, 0, 2]))
    common = dict(start_id=START, end_id=END, max_length=MAX_LENGTH, controls=controls)
    for search, options in ((greedy_search, {}), (beam_search, dict(beam_width=3,
                                                                      num_results=2))):
        eager = search(prefix_step, state, **options, **common)
        xla = tf.function(lambda s, search=search, options=options: search(
            prefix_step, s, **options, **common), jit_compile=True)(state)
        np.testing.assert_array_equal(eager.ids.numpy(), xla.ids.numpy())
        np.testing.assert_allclose(eager.log_probs.numpy(), xla.log_probs.numpy(), rtol=1e-5)
