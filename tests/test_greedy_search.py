"""Greedy search against fake step functions whose right answers are known."""

import numpy as np
import pytest
import tensorflow as tf
from search_fakes import END, PAD, START, VOCAB, A, B, C, bigram_step, bigram_tables

from keras_s2s.decoding import SearchResult, greedy_search

# Row 0 ends at once; row 1 says "A B" then ends; row 2 loops on C and never ends.
ENDS_AT_ONCE = {START: {END: 0.7, A: 0.3}}
TWO_WORDS = {START: {A: 0.6, END: 0.4}, A: {B: 0.8, C: 0.2}, B: {END: 0.9, A: 0.1}}
NEVER_ENDS = {START: {C: 0.6, A: 0.4}, C: {C: 0.6, END: 0.4}}


def test_greedy_gives_the_known_ids_lengths_and_log_probs():
    state = bigram_tables(ENDS_AT_ONCE, TWO_WORDS, NEVER_ENDS)
    result = greedy_search(bigram_step, state, start_id=START, end_id=END, max_length=5)
    assert isinstance(result, SearchResult)
    assert result.ids.dtype == tf.int32 and result.lengths.dtype == tf.int32
    assert result.log_probs.dtype == tf.float32
    assert result.ids.numpy().tolist() == [
        [END, PAD, PAD, PAD, PAD],
        [A, B, END, PAD, PAD],
        [C, C, C, C, C],  # cut at max_length: no end token, length 5
    ]
    assert result.lengths.numpy().tolist() == [1, 3, 5]
    expected = np.log([0.7, 0.6 * 0.8 * 0.9, 0.6**5])
    np.testing.assert_allclose(result.log_probs.numpy(), expected, rtol=1e-4)


def test_half_precision_logits_accumulate_in_float32():
    (tables,) = bigram_tables(TWO_WORDS)

    def half_step(token_ids, state):
        logits, state = bigram_step(token_ids, state)
        return tf.cast(logits, tf.float16), state

    result = greedy_search(half_step, (tables,), start_id=START, end_id=END, max_length=4)
    assert result.log_probs.dtype == tf.float32
    np.testing.assert_allclose(result.log_probs.numpy(), np.log([0.6 * 0.8 * 0.9]), rtol=1e-3)


def test_finished_rows_are_frozen_and_padded_with_pad_id():
    state = bigram_tables(ENDS_AT_ONCE, TWO_WORDS)
    short = greedy_search(bigram_step, state, start_id=START, end_id=END, max_length=3)
    long = greedy_search(bigram_step, state, start_id=START, end_id=END, max_length=9)
    # Running longer changes nothing but the padding.
    np.testing.assert_array_equal(long.ids.numpy()[:, :3], short.ids.numpy())
    assert (long.ids.numpy()[:, 3:] == PAD).all()
    np.testing.assert_array_equal(long.lengths.numpy(), short.lengths.numpy())
    np.testing.assert_allclose(long.log_probs.numpy(), short.log_probs.numpy())
    # pad_id is what fills the tail (C is a real token here, used as padding).
    padded = greedy_search(bigram_step, state, start_id=START, end_id=END, max_length=5,
                           pad_id=C)
    assert padded.ids.numpy().tolist() == [[END, C, C, C, C], [A, B, END, C, C]]


def test_loop_stops_as_soon_as_every_row_has_ended():
    calls = []

    def counting_step(token_ids, state):
        calls.append(1)  # eagerly, tf.while_loop runs the body as Python
        return bigram_step(token_ids, state)

    state = bigram_tables(ENDS_AT_ONCE, TWO_WORDS)
    result = greedy_search(counting_step, state, start_id=START, end_id=END, max_length=50)
    assert len(calls) == 3  # row 1 ends at its third token
    assert result.ids.shape == (2, 50)


def test_rows_of_a_batch_equal_each_row_alone():
    rows = [ENDS_AT_ONCE, NEVER_ENDS, TWO_WORDS, {START: {B: 0.9, END: 0.1}, B: {C: 0.9}}]
    (tables,) = bigram_tables(*rows)
    together = greedy_search(bigram_step, (tables,), start_id=START, end_id=END, max_length=7)
    for row in range(len(rows)):
        alone = greedy_search(bigram_step, (tables[row : row + 1],), start_id=START,
                              end_id=END, max_length=7)
        np.testing.assert_array_equal(together.ids.numpy()[row], alone.ids.numpy()[0])
        assert together.lengths.numpy()[row] == alone.lengths.numpy()[0]
        np.testing.assert_allclose(together.log_probs.numpy()[row], alone.log_probs.numpy()[0])


def test_graph_and_xla_versions_agree_with_eager():
    state = bigram_tables(ENDS_AT_ONCE, TWO_WORDS, NEVER_ENDS)
    eager = greedy_search(bigram_step, state, start_id=START, end_id=END, max_length=6)

    def search(state):
        return greedy_search(bigram_step, state, start_id=START, end_id=END, max_length=6)

    signature = (tf.TensorSpec([None, VOCAB, VOCAB], tf.float32),)
    graph = tf.function(search, input_signature=[signature])
    # The time dimension is static even though the batch is not.
    assert graph.get_concrete_function().structured_outputs.ids.shape.as_list() == [None, 6]
    for compiled in (graph, tf.function(search, jit_compile=True)):
        result = compiled(state)
        np.testing.assert_array_equal(result.ids.numpy(), eager.ids.numpy())
        np.testing.assert_array_equal(result.lengths.numpy(), eager.lengths.numpy())
        np.testing.assert_allclose(result.log_probs.numpy(), eager.log_probs.numpy(), rtol=1e-6)


def test_max_length_may_be_a_tensor():
    state = bigram_tables(TWO_WORDS, NEVER_ENDS)
    expected = greedy_search(bigram_step, state, start_id=START, end_id=END, max_length=4)

    @tf.function
    def search(state, max_length):
        return greedy_search(bigram_step, state, start_id=START, end_id=END,
                             max_length=max_length)

    result = search(state, tf.constant(4, tf.int64))
    np.testing.assert_array_equal(result.ids.numpy(), expected.ids.numpy())
    np.testing.assert_array_equal(result.lengths.numpy(), expected.lengths.numpy())


@pytest.mark.parametrize("max_length", [0, -3, 2.5, True, "5"])
def test_bad_max_length_names_itself(max_length):
    with pytest.raises(ValueError, match="max_length"):
        greedy_search(bigram_step, bigram_tables(TWO_WORDS), start_id=START, end_id=END,
                      max_length=max_length)


@pytest.mark.parametrize("compact", [True, False])
def test_per_row_limits_cut_each_row_as_if_it_ran_alone_with_its_limit(compact):
    state = bigram_tables(NEVER_ENDS, TWO_WORDS, NEVER_ENDS)
    limits = [2, 4, 6]
    together = greedy_search(bigram_step, state, start_id=START, end_id=END, max_length=6,
                             max_lengths=tf.constant(limits), drop_finished_rows=compact)
    # Row 1 ends by itself before its limit; rows 0 and 2 are cut at theirs.
    assert together.lengths.numpy().tolist() == [2, 3, 6]
    assert together.ids.numpy().tolist() == [
        [C, C, PAD, PAD, PAD, PAD],
        [A, B, END, PAD, PAD, PAD],
        [C, C, C, C, C, C],
    ]
    for row, limit in enumerate(limits):
        alone = greedy_search(bigram_step, (state[0][row : row + 1],), start_id=START,
                              end_id=END, max_length=limit)
        np.testing.assert_array_equal(together.ids.numpy()[row, :limit], alone.ids.numpy()[0])
        np.testing.assert_allclose(together.log_probs.numpy()[row], alone.log_probs.numpy()[0],
                                   rtol=1e-5)
