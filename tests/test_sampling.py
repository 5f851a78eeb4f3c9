"""Sampling against fake step functions whose distributions are known."""

import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.decoding import greedy_search, sample

PAD, START, END, A, B, C = 0, 1, 2, 3, 4, 5
VOCAB = 6


def _bigram_step(token_ids, state):
    """Next-token log-probs read from the row's own table: state (batch, vocab, vocab)."""
    (tables,) = state
    return tf.gather(tables, token_ids, batch_dims=1), state  # (batch, vocab)


def _state(tables, batch=None):
    """`tables` (vocab, vocab) shared by `batch` rows, or (batch, vocab, vocab)."""
    tables = np.asarray(tables, "float32")
    if batch is not None:
        tables = np.broadcast_to(tables, (batch, VOCAB, VOCAB))
    return (tf.constant(np.log(tables)),)


def _random_tables(seed, batch):
    rng = np.random.default_rng(seed)
    return rng.dirichlet(np.full(VOCAB, 0.7), size=(batch, VOCAB)).astype("float32")


# Nearly flat, and rarely ending, so different seeds give different sentences.
FLAT = np.ones((VOCAB, VOCAB))
FLAT[:, END] = 0.05
FLAT /= FLAT.sum(axis=-1, keepdims=True)

COMMON = dict(start_id=START, end_id=END, max_length=10)


def test_same_seed_same_output_eagerly_and_in_a_graph():
    state = _state(FLAT, batch=8)
    first = sample(_bigram_step, state, seed=7, **COMMON)
    again = sample(_bigram_step, state, seed=7, **COMMON)
    graph = tf.function(lambda s: sample(_bigram_step, s, seed=7, **COMMON))(state)
    for result in (again, graph):
        np.testing.assert_array_equal(result.ids.numpy(), first.ids.numpy())
        np.testing.assert_array_equal(result.lengths.numpy(), first.lengths.numpy())
        np.testing.assert_allclose(result.log_probs.numpy(), first.log_probs.numpy())


def test_different_seeds_give_different_outputs():
    state = _state(FLAT, batch=8)
    outputs = [sample(_bigram_step, state, seed=seed, **COMMON).ids.numpy() for seed in (1, 2)]
    assert not np.array_equal(*outputs)
    # Each step draws afresh: with the same distribution at every step, noise
    # reused across steps would repeat one token along each row.
    assert all(len(set(row)) > 1 for row in outputs[0])
    # No seed: a fresh one per call.
    unseeded = [sample(_bigram_step, state, **COMMON).ids.numpy() for _ in range(2)]
    assert not np.array_equal(*unseeded)


def test_top_k_one_is_greedy_at_any_temperature():
    state = _state(_random_tables(seed=1, batch=6))
    greedy = greedy_search(_bigram_step, state, **COMMON)
    for temperature in (1.0, 5.0):
        result = sample(_bigram_step, state, top_k=1, temperature=temperature, seed=3, **COMMON)
        np.testing.assert_array_equal(result.ids.numpy(), greedy.ids.numpy())
        np.testing.assert_array_equal(result.lengths.numpy(), greedy.lengths.numpy())
        np.testing.assert_allclose(result.log_probs.numpy(), greedy.log_probs.numpy(), rtol=1e-6)


def test_tokens_outside_top_k_never_appear_even_when_hot():
    tables = _random_tables(seed=2, batch=1)[0]
    result = sample(_bigram_step, _state(tables, batch=300), top_k=2, temperature=20.0, seed=5,
                    **COMMON)
    ids, lengths = result.ids.numpy(), result.lengths.numpy()
    top_two = np.argsort(-tables, axis=-1)[:, :2]  # (previous token, 2)
    for tokens, length in zip(ids, lengths):
        previous = [START, *tokens[: length - 1]]
        for before, token in zip(previous, tokens[:length]):
            assert token in top_two[before]
    assert set(ids[:, 0]) == set(top_two[START])  # and both of them do appear


def test_top_k_as_large_as_the_vocabulary_changes_nothing():
    state = _state(_random_tables(seed=3, batch=5))
    plain = sample(_bigram_step, state, seed=4, **COMMON)
    wide = sample(_bigram_step, state, seed=4, top_k=VOCAB + 10, **COMMON)
    np.testing.assert_array_equal(wide.ids.numpy(), plain.ids.numpy())


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_frequencies_follow_softmax_of_logits_over_temperature(temperature):
    probabilities = np.array([0.0, 0.0, 0.1, 0.5, 0.25, 0.15])  # after START
    tables = np.tile(probabilities, (VOCAB, 1)) + 1e-9
    result = sample(_bigram_step, _state(tables, batch=4000), temperature=temperature, seed=11,
                    start_id=START, end_id=END, max_length=1)
    frequencies = np.bincount(result.ids.numpy()[:, 0], minlength=VOCAB) / 4000
    expected = probabilities ** (1.0 / temperature)
    np.testing.assert_allclose(frequencies, expected / expected.sum(), atol=0.03)


def test_log_probs_are_the_models_own_and_rows_are_frozen_after_end():
    tables = _random_tables(seed=6, batch=50)
    result = sample(_bigram_step, _state(tables), temperature=2.0, top_k=3, seed=8, **COMMON)
    for row, (tokens, length, log_prob) in enumerate(
        zip(result.ids.numpy(), result.lengths.numpy(), result.log_probs.numpy())
    ):
        assert (tokens[length:] == PAD).all()
        assert tokens[length - 1] == END or length == COMMON["max_length"]
        previous = [START, *tokens[: length - 1]]
        expected = np.log(tables[row, previous, tokens[:length]]).sum()
        np.testing.assert_allclose(log_prob, expected, rtol=1e-4)


def test_compiles_with_xla_and_takes_tensor_arguments():
    state = _state(_random_tables(seed=9, batch=4))

    @tf.function(jit_compile=True)
    def compiled(state, temperature, top_k):
        return sample(_bigram_step, state, temperature=temperature, top_k=top_k, seed=3,
                      **COMMON)

    first = compiled(state, tf.constant(1.5), tf.constant(1))
    # top_k=1 as a tensor is still greedy search.
    greedy = greedy_search(_bigram_step, state, **COMMON)
    np.testing.assert_array_equal(first.ids.numpy(), greedy.ids.numpy())
    again = compiled(state, tf.constant(1.5), tf.constant(0))
    np.testing.assert_array_equal(
        again.ids.numpy(), compiled(state, tf.constant(1.5), tf.constant(0)).ids.numpy()
    )


@pytest.mark.parametrize(
    ("arguments", "name"),
    [
        (dict(temperature=0.0), "temperature"),
        (dict(temperature=-1.0), "temperature"),
        (dict(temperature="hot"), "temperature"),
        (dict(top_k=-1), "top_k"),
        (dict(top_k=1.5), "top_k"),
        (dict(max_length=0), "max_length"),
    ],
)
def test_bad_arguments_name_themselves(arguments, name):
    arguments = {**COMMON, **arguments}
    with pytest.raises(ValueError, match=name):
        sample(_bigram_step, _state(FLAT, batch=1), seed=1, **arguments)
