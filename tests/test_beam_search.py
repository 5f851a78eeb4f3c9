"""Beam search against fake step functions whose right answers are known."""

import numpy as np
import pytest
import tensorflow as tf
from search_fakes import (
    END,
    PAD,
    START,
    VOCAB,
    A,
    B,
    C,
    assert_same_hypotheses,
    bigram_step,
    bigram_tables,
    enumerate_hypotheses,
    found,
    penalty,
    prefix_code,
    prefix_step,
    random_tables,
)

from keras_s2s.decoding import BeamSearchResult, beam_search, greedy_search

# Greedy takes A (0.5), then END (0.3): p = 0.15. B (0.4) then END (0.9) is
# p = 0.36, the better whole sequence.
GREEDY_TRAP = {
    START: {A: 0.5, B: 0.4, END: 0.1},
    A: {END: 0.3, C: 0.25, B: 0.25, A: 0.2},
    B: {END: 0.9, C: 0.1},
}


def test_beam_finds_the_better_whole_sequence_greedy_misses():
    state = bigram_tables(GREEDY_TRAP)
    greedy = greedy_search(bigram_step, state, start_id=START, end_id=END, max_length=5)
    assert greedy.ids.numpy()[0].tolist() == [A, END, PAD, PAD, PAD]
    result = beam_search(bigram_step, state, start_id=START, end_id=END, max_length=5,
                         beam_width=2, length_penalty=0.0, num_results=2)
    assert isinstance(result, BeamSearchResult)
    assert result.ids.shape == (1, 2, 5)
    assert result.ids.numpy()[0].tolist() == [[B, END, PAD, PAD, PAD], [A, END, PAD, PAD, PAD]]
    assert result.lengths.numpy().tolist() == [[2, 2]]
    np.testing.assert_allclose(result.log_probs.numpy(), np.log([[0.36, 0.15]]), rtol=1e-4)
    np.testing.assert_array_equal(result.scores.numpy(), result.log_probs.numpy())


def test_beam_width_one_is_greedy():
    # Row 0: END at once (0.4) beats the greedy path A END (0.6 * 0.5 = 0.3), but
    # width 1 must not keep an END that was not the best candidate of its step.
    first_row = {START: {A: 0.6, END: 0.4}, A: {END: 0.5, B: 0.3, C: 0.2}}
    (tables,) = bigram_tables(first_row)
    random_rows = np.log(random_tables(np.random.default_rng(1), batch=5, vocab=VOCAB))
    state = (tf.concat([tables, random_rows], axis=0),)
    greedy = greedy_search(bigram_step, state, start_id=START, end_id=END, max_length=7)
    beam = beam_search(bigram_step, state, start_id=START, end_id=END, max_length=7,
                       beam_width=1, length_penalty=0.0)
    assert greedy.ids.numpy()[0, :2].tolist() == [A, END]
    np.testing.assert_array_equal(beam.ids.numpy()[:, 0], greedy.ids.numpy())
    np.testing.assert_array_equal(beam.lengths.numpy()[:, 0], greedy.lengths.numpy())
    np.testing.assert_allclose(beam.log_probs.numpy()[:, 0], greedy.log_probs.numpy(), rtol=1e-5)


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_a_beam_as_wide_as_all_hypotheses_is_exhaustive_search(length_penalty):
    vocab, max_length, batch = 5, 4, 2
    prefixes = prefix_code([vocab - 1] * (max_length - 1), vocab) + 1
    rng = np.random.default_rng(2)
    log_tables = np.log(
        rng.dirichlet(np.full(vocab, 0.7), size=(batch, prefixes)).astype("float32")
    )  # (batch, prefix, next token)
    expected = [
        enumerate_hypotheses(
            lambda prefix, row=row: log_tables[row, prefix_code(prefix[1:], vocab)],
            vocab=vocab, max_length=max_length, alpha=length_penalty)
        for row in range(batch)
    ]
    width = len(expected[0])  # 341 hypotheses: nothing is ever pruned
    state = (tf.constant(log_tables), tf.fill([batch], -1))
    result = beam_search(prefix_step, state, start_id=START, end_id=END,
                         max_length=max_length, beam_width=width,
                         length_penalty=length_penalty, num_results=12)
    for row in range(batch):
        assert_same_hypotheses(found(result, row), expected[row][:12])


def test_length_penalty_ranks_as_gnmt_says():
    # END at once (p = 0.30) against A END (0.6 * 0.45 = 0.27): the raw sum prefers
    # the short one; dividing by ((5 + length) / 6) ** 1 prefers the longer.
    state = bigram_tables({
        START: {END: 0.30, A: 0.60, B: 0.10},
        A: {END: 0.45, C: 0.55},
        B: {END: 0.5, B: 0.5},
        C: {END: 0.5, C: 0.5},
    })
    common = dict(start_id=START, end_id=END, max_length=3, beam_width=4, num_results=3)
    raw = beam_search(bigram_step, state, length_penalty=0.0, **common)
    assert raw.ids.numpy()[0, :2, :2].tolist() == [[END, PAD], [A, END]]
    np.testing.assert_array_equal(raw.scores.numpy(), raw.log_probs.numpy())

    normalised = beam_search(bigram_step, state, length_penalty=1.0, **common)
    assert normalised.ids.numpy()[0, :2, :2].tolist() == [[A, END], [END, PAD]]
    lengths = normalised.lengths.numpy()
    np.testing.assert_allclose(normalised.scores.numpy(),
                               normalised.log_probs.numpy() / penalty(lengths, 1.0),
                               rtol=1e-6)
    np.testing.assert_allclose(normalised.log_probs.numpy()[0, :2], np.log([0.27, 0.30]),
                               rtol=1e-4)
    assert (np.diff(normalised.scores.numpy()[0]) <= 0).all()  # best first


def test_finished_hypotheses_are_frozen():
    tables = random_tables(np.random.default_rng(3), batch=3, vocab=VOCAB)
    max_length = 6
    result = beam_search(bigram_step, (tf.math.log(tables),), start_id=START, end_id=END,
                         max_length=max_length, beam_width=4, num_results=4)
    for row in range(3):
        for tokens, length, log_prob in zip(result.ids.numpy()[row], result.lengths.numpy()[row],
                                            result.log_probs.numpy()[row]):
            assert (tokens[length:] == PAD).all()  # nothing grows after the end
            assert END not in tokens[: length - 1]
            assert tokens[length - 1] == END or length == max_length
            # The log-prob is exactly that of the tokens up to the end: a frozen
            # hypothesis picked up nothing from later steps.
            previous = [START, *tokens[: length - 1]]
            expected = np.log(tables[row, previous, tokens[:length]]).sum()
            np.testing.assert_allclose(log_prob, expected, rtol=1e-4)


def test_rows_ending_at_very_different_steps_equal_each_row_alone():
    rng = np.random.default_rng(4)
    tables = random_tables(rng, batch=4, vocab=VOCAB)
    tables[0, START] = np.eye(VOCAB)[END] * 0.98 + 0.02 / VOCAB  # ends at once
    tables[3, :, END] = 1e-4  # hardly ever ends: runs to max_length
    tables /= tables.sum(axis=-1, keepdims=True)
    log_tables = tf.math.log(tables)
    common = dict(start_id=START, end_id=END, max_length=7, beam_width=3, num_results=2)
    together = beam_search(bigram_step, (log_tables,), **common)
    assert together.lengths.numpy()[0, 0] == 1 and together.lengths.numpy()[3, 0] == 7
    for row in range(4):
        alone = beam_search(bigram_step, (log_tables[row : row + 1],), **common)
        for got, want in zip(together, alone):
            np.testing.assert_allclose(got.numpy()[row], want.numpy()[0], rtol=1e-5)


def _attention_like_step(token_ids, state):
    """Reads this row's "encoder output" at the current position, unless the mask
    says the source has ended there (then END is near certain)."""
    memory, mask, position = state["memory"], state["mask"], state["position"]
    at_position = tf.minimum(position, tf.shape(memory)[1] - 1)
    from_memory = tf.gather(memory, at_position, axis=1, batch_dims=1)  # (batch, vocab)
    vocab = tf.shape(memory)[-1]
    source_ended = tf.one_hot(END, vocab) * 20.0 + 0.3 * tf.range(vocab, dtype=tf.float32)
    valid = tf.gather(mask, at_position, axis=1, batch_dims=1)  # (batch,)
    logits = tf.where(valid[:, None], from_memory, source_ended)
    return logits, {"memory": memory, "mask": mask, "position": position + 1}


def test_every_state_tensor_is_tiled_per_beam():
    # keras-io#1373: forgetting to tile the encoder outputs and mask makes beams
    # read other rows' sources. Here each row's answer depends on its own.
    vocab, max_length, batch = 4, 3, 4
    rng = np.random.default_rng(5)
    memory = rng.normal(size=(batch, 5, vocab)).astype("float32") * 2.0
    mask = np.arange(5)[None, :] < np.array([[5], [1], [2], [4]])  # source lengths
    state = {"memory": tf.constant(memory), "mask": tf.constant(mask),
             "position": tf.zeros([batch], tf.int32)}

    def next_log_probs(row, prefix):
        position = min(len(prefix) - 1, 4)
        source_ended = np.eye(vocab)[END] * 20.0 + 0.3 * np.arange(vocab)
        logits = memory[row, position] if mask[row, position] else source_ended
        return logits - np.log(np.exp(logits).sum())

    width = 40  # every hypothesis of 3 tokens over this vocabulary
    result = beam_search(_attention_like_step, state, start_id=START, end_id=END,
                         max_length=max_length, beam_width=width, length_penalty=0.0,
                         num_results=5)
    for row in range(batch):
        expected = enumerate_hypotheses(lambda prefix, row=row: next_log_probs(row, prefix),
                              vocab=vocab, max_length=max_length, alpha=0.0)
        assert len(expected) == width
        assert_same_hypotheses(found(result, row), expected[:5])


def test_graph_and_xla_versions_agree_with_eager():
    state = (tf.math.log(random_tables(np.random.default_rng(6), batch=3, vocab=VOCAB)),)
    common = dict(start_id=START, end_id=END, beam_width=3, num_results=2)
    eager = beam_search(bigram_step, state, max_length=6, **common)
    xla = tf.function(lambda s: beam_search(bigram_step, s, max_length=6, **common),
                      jit_compile=True)(state)
    # max_length as a tensor, in a graph: same answer.
    graph = tf.function(lambda s, n: beam_search(bigram_step, s, max_length=n, **common))(
        state, tf.constant(6))
    for result in (xla, graph):
        np.testing.assert_array_equal(result.ids.numpy(), eager.ids.numpy())
        np.testing.assert_array_equal(result.lengths.numpy(), eager.lengths.numpy())
        np.testing.assert_allclose(result.log_probs.numpy(), eager.log_probs.numpy(), rtol=1e-5)
        np.testing.assert_allclose(result.scores.numpy(), eager.scores.numpy(), rtol=1e-5)


def test_search_stops_once_no_live_beam_can_win():
    calls = []

    def counting_step(token_ids, state):
        calls.append(1)  # eagerly, tf.while_loop runs the body as Python
        return bigram_step(token_ids, state)

    # END at once has p = 0.9; any live beam has at most 0.05, and even divided
    # by the length penalty at max_length it cannot catch up.
    state = bigram_tables({START: {END: 0.9, A: 0.05, B: 0.05}, A: {A: 1.0}, B: {B: 1.0}})
    result = beam_search(counting_step, state, start_id=START, end_id=END, max_length=30,
                         beam_width=2, length_penalty=0.6)
    assert len(calls) == 1
    assert result.ids.numpy()[0, 0, :2].tolist() == [END, PAD]


def test_early_exit_waits_for_a_beam_the_length_penalty_can_still_lift():
    # END at once: log 0.5 = -0.69, score -0.69. A is behind (log 0.45 = -0.80)
    # but A A A A A scores log(0.45 * 0.99**4) / (10 / 6)**2 = -0.30 and wins:
    # stopping because -0.80 < -0.69 would be wrong; the bound divides by the
    # penalty at max_length.
    state = bigram_tables({START: {END: 0.5, A: 0.45, B: 0.05}, A: {A: 0.99, END: 0.01}})
    result = beam_search(bigram_step, state, start_id=START, end_id=END, max_length=5,
                         beam_width=2, length_penalty=2.0)
    assert result.ids.numpy()[0, 0].tolist() == [A] * 5
    np.testing.assert_allclose(result.scores.numpy()[0, 0],
                               np.log(0.45 * 0.99**4) / penalty(5, 2.0), rtol=1e-4)


def test_slots_no_hypothesis_can_fill_are_empty():
    # Only END and A are possible, and only for one token: 2 hypotheses, 3 slots.
    def two_tokens_step(token_ids, state):
        logits = tf.where(tf.range(VOCAB) == END, 0.5, -float("inf"))
        logits = tf.where(tf.range(VOCAB) == A, 0.0, logits)
        return tf.tile(logits[None], [tf.shape(token_ids)[0], 1]), state

    result = beam_search(two_tokens_step, bigram_tables(GREEDY_TRAP), start_id=START, end_id=END,
                         max_length=1, beam_width=3, num_results=3, length_penalty=0.0)
    assert result.ids.numpy()[0].tolist() == [[END], [A], [PAD]]
    assert result.lengths.numpy()[0].tolist() == [1, 1, 0]
    assert np.isfinite(result.scores.numpy()[0, :2]).all()
    assert result.scores.numpy()[0, 2] == -np.inf == result.log_probs.numpy()[0, 2]


@pytest.mark.parametrize(
    ("arguments", "name"),
    [
        (dict(beam_width=0), "beam_width"),
        (dict(beam_width=-2), "beam_width"),
        (dict(beam_width=2.5), "beam_width"),
        (dict(num_results=0), "num_results"),
        (dict(beam_width=2, num_results=3), "num_results"),
        (dict(max_length=0), "max_length"),
        (dict(max_length=-1), "max_length"),
        (dict(length_penalty=-0.5), "length_penalty"),
    ],
)
def test_bad_arguments_name_themselves(arguments, name):
    arguments = {"max_length": 4, **arguments}
    with pytest.raises(ValueError, match=name):
        beam_search(bigram_step, bigram_tables(GREEDY_TRAP), start_id=START, end_id=END,
                    **arguments)


@pytest.mark.parametrize("compact", [True, False])
def test_per_row_limits_give_each_row_its_exhaustive_answer_at_its_limit(compact):
    vocab, batch, limits = 4, 3, [3, 1, 2]
    prefixes = prefix_code([vocab - 1] * 2, vocab) + 1
    rng = np.random.default_rng(5)
    log_tables = np.log(
        rng.dirichlet(np.full(vocab, 0.7), size=(batch, prefixes)).astype("float32")
    )
    expected = [
        enumerate_hypotheses(
            lambda prefix, row=row: log_tables[row, prefix_code(prefix[1:], vocab)],
            vocab=vocab, max_length=limits[row], alpha=0.6)
        for row in range(batch)
    ]
    state = (tf.constant(log_tables), tf.fill([batch], -1))
    result = beam_search(prefix_step, state, start_id=START, end_id=END, max_length=3,
                         max_lengths=tf.constant(limits), beam_width=40, length_penalty=0.6,
                         num_results=3, live_beams_only=compact)
    for row in range(batch):
        assert_same_hypotheses(found(result, row), expected[row][:3])
        assert result.lengths.numpy()[row].max() <= limits[row]


def test_per_row_limits_equal_each_row_alone_with_its_limit():
    rng = np.random.default_rng(6)
    tables = random_tables(rng, batch=4, vocab=VOCAB)
    tables[:, :, END] = 0.02  # rarely ends: limits decide
    tables /= tables.sum(axis=-1, keepdims=True)
    log_tables = tf.math.log(tables)
    limits = [2, 7, 4, 5]
    common = dict(start_id=START, end_id=END, beam_width=3, num_results=2)
    together = beam_search(bigram_step, (log_tables,), max_length=7,
                           max_lengths=tf.constant(limits), **common)
    for row, limit in enumerate(limits):
        alone = beam_search(bigram_step, (log_tables[row : row + 1],), max_length=limit, **common)
        np.testing.assert_array_equal(together.ids.numpy()[row, :, :limit], alone.ids.numpy()[0])
        assert (together.ids.numpy()[row, :, limit:] == PAD).all()
        for got, want in zip(together[1:], alone[1:]):
            np.testing.assert_allclose(got.numpy()[row], want.numpy()[0], rtol=1e-5)


def _hashed_prefix_step(memory):
    """Logits that depend on the row and on the whole prefix (through a hash
    of it carried in the state), so beams of one row really diverge."""
    table_size = memory.shape[1]

    def step_fn(token_ids, state):
        table, prefix_hash = state
        logits = tf.gather(table, prefix_hash, batch_dims=1)  # (n, vocab)
        return logits, (table, (prefix_hash * 7 + token_ids + 1) % table_size)

    return step_fn


@pytest.mark.parametrize("alpha", [0.0, 0.6, 1.0])
@pytest.mark.parametrize("num_results", [1, 2, 4])
def test_dropping_doomed_beams_never_changes_the_results(alpha, num_results):
    rng = np.random.default_rng(int(alpha * 10) + num_results)
    rows = 64
    memory = (rng.normal(size=(rows, 13, 7)) * 1.5).astype("float32")
    memory[:, :, 3] += rng.normal(size=(rows, 13)).astype("float32")  # end token, id 3
    state = (tf.constant(memory), tf.zeros([rows], tf.int32))
    limits = tf.constant(rng.integers(1, 8, size=rows), tf.int32)
    computed = []

    def counting_step(token_ids, state):
        computed.append(int(token_ids.shape[0]))
        return _hashed_prefix_step(memory)(token_ids, state)

    results = {}
    for compact in (True, False):
        computed.clear()
        results[compact] = beam_search(counting_step, state, start_id=2, end_id=3, max_length=7,
                                       beam_width=4, length_penalty=alpha,
                                       num_results=num_results, max_lengths=limits,
                                       live_beams_only=compact)
        results[compact, "work"] = sum(computed)
    live, fixed = results[True], results[False]
    np.testing.assert_array_equal(live.ids.numpy(), fixed.ids.numpy())
    np.testing.assert_array_equal(live.lengths.numpy(), fixed.lengths.numpy())
    np.testing.assert_allclose(live.scores.numpy(), fixed.scores.numpy(), rtol=1e-6)
    np.testing.assert_allclose(live.log_probs.numpy(), fixed.log_probs.numpy(), rtol=1e-6)
    assert results[True, "work"] < results[False, "work"]
