"""Search functions against step functions whose right answers are known."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.decoding import beam_search, greedy_search, sample

PAD, START, END, A, B, C = 0, 2, 3, 4, 5, 6
VOCAB = 7


def _table_step(table):
    """A step function whose next-token distribution depends on the previous token."""
    log_table = tf.constant(np.log(np.maximum(table, 1e-12)), tf.float32)

    def step_fn(token_ids, state):
        return tf.gather(log_table, token_ids), state

    return step_fn


def _course_picture_table():
    # After START: A 0.5, B 0.4, END 0.1. After A the best is C (0.35); after B
    # the sentence ends with 0.9. Greedy takes A (then C, END: p = 0.17), but
    # B END (p = 0.36) is the better whole sequence.
    table = np.full((VOCAB, VOCAB), 0.0)
    table[START, [A, B, END]] = [0.5, 0.4, 0.1]
    table[A, [C, END, A, B]] = [0.35, 0.3, 0.2, 0.15]
    table[B, [END, A, B, C]] = [0.9, 0.04, 0.03, 0.03]
    table[C, [END, A]] = [0.97, 0.03]
    table[END, END] = table[PAD, END] = 1.0
    return table


def _state(batch):
    return (tf.zeros([batch, 2]),)


def test_greedy_takes_the_locally_best_token():
    result = greedy_search(_table_step(_course_picture_table()), _state(1),
                           start_id=START, end_id=END, max_length=5)
    assert result.ids.numpy().tolist() == [[A, C, END, PAD, PAD]]
    assert result.lengths.numpy().tolist() == [3]
    np.testing.assert_allclose(result.log_probs.numpy(), [np.log(0.5 * 0.35 * 0.97)], rtol=1e-5)


def test_beam_finds_the_better_whole_sequence_greedy_misses():
    result = beam_search(_table_step(_course_picture_table()), _state(1), start_id=START,
                         end_id=END, max_length=5, beam_width=2, length_penalty=0.0,
                         num_results=2)
    assert result.ids.numpy()[0, 0].tolist() == [B, END, PAD, PAD, PAD]
    assert result.lengths.numpy()[0].tolist() == [2, 3]
    np.testing.assert_allclose(result.log_probs.numpy()[0],
                               np.log([0.4 * 0.9, 0.5 * 0.35 * 0.97]), rtol=1e-5)
    np.testing.assert_allclose(result.scores.numpy(), result.log_probs.numpy())


def test_beam_width_one_is_greedy():
    step_fn = _table_step(_course_picture_table())
    greedy = greedy_search(step_fn, _state(3), start_id=START, end_id=END, max_length=6)
    beam = beam_search(step_fn, _state(3), start_id=START, end_id=END, max_length=6,
                       beam_width=1, length_penalty=0.0)
    np.testing.assert_array_equal(beam.ids.numpy()[:, 0], greedy.ids.numpy())
    np.testing.assert_array_equal(beam.lengths.numpy()[:, 0], greedy.lengths.numpy())
    np.testing.assert_allclose(beam.log_probs.numpy()[:, 0], greedy.log_probs.numpy(), rtol=1e-6)


def test_length_penalty_can_prefer_the_longer_hypothesis():
    # END now (p=0.30) against A then END (0.6 * 0.45 = 0.27): the raw sum prefers
    # the short one; GNMT normalisation with alpha = 2 prefers the longer.
    table = np.zeros((VOCAB, VOCAB))
    table[START, [END, A, B]] = [0.30, 0.60, 0.10]
    table[A, [END, C]] = [0.45, 0.55]
    table[B, END] = table[C, END] = 0.5
    table[B, B] = table[C, C] = 0.5
    table[END, END] = table[PAD, END] = 1.0
    step_fn = _table_step(table)
    common = dict(start_id=START, end_id=END, max_length=3, beam_width=4, num_results=2)
    raw = beam_search(step_fn, _state(1), length_penalty=0.0, **common)
    assert raw.ids.numpy()[0, 0].tolist() == [END, PAD, PAD]
    normalised = beam_search(step_fn, _state(1), length_penalty=2.0, **common)
    assert normalised.ids.numpy()[0, 0].tolist() == [A, END, PAD]
    lengths = normalised.lengths.numpy()[0]
    expected = normalised.log_probs.numpy()[0] / ((5 + lengths) / 6) ** 2.0
    np.testing.assert_allclose(normalised.scores.numpy()[0], expected, rtol=1e-6)


def test_finished_hypotheses_are_frozen():
    step_fn = _table_step(_course_picture_table())
    for result in (
        greedy_search(step_fn, _state(2), start_id=START, end_id=END, max_length=8),
        beam_search(step_fn, _state(2), start_id=START, end_id=END, max_length=8,
                    beam_width=3, num_results=3),
    ):
        ids = result.ids.numpy().reshape(-1, 8)
        lengths = result.lengths.numpy().reshape(-1)
        for row, length in zip(ids, lengths):
            assert row[length - 1] == END  # ended, and nothing after the end token
            assert (row[length:] == PAD).all()
            assert (row[: length - 1] != END).all()


def _memory_step(memory_logits):
    """Logits come from a per-row 'encoder output' in the state: [batch, time, vocab].

    If a search forgot to tile this tensor per beam, rows would read each
    other's memory (or the shapes would not match).
    """
    def step_fn(token_ids, state):
        memory, mask, step = state
        logits = tf.gather(memory, tf.minimum(step, tf.shape(memory)[1] - 1), axis=1,
                           batch_dims=1)
        logits += 0.0 * tf.reduce_sum(mask, axis=1, keepdims=True)
        return logits, (memory, mask, step + 1)

    return step_fn


def test_rows_of_a_batch_equal_each_row_alone():
    rng = np.random.default_rng(0)
    memory = rng.normal(size=(4, 6, VOCAB)).astype("float32") * 3
    memory[0, 1, END] = 20.0  # row 0 ends at once at step 1; the others run longer
    mask = np.ones((4, 5), "float32")
    state = (tf.constant(memory), tf.constant(mask), tf.zeros([4], tf.int32))
    step_fn = _memory_step(memory)
    for search in (
        lambda s: greedy_search(step_fn, s, start_id=START, end_id=END, max_length=6),
        lambda s: beam_search(step_fn, s, start_id=START, end_id=END, max_length=6,
                              beam_width=3, num_results=2),
    ):
        together = search(state)
        for row in range(4):
            alone = search(tuple(t[row : row + 1] for t in state))
            np.testing.assert_array_equal(together.ids.numpy()[row], alone.ids.numpy()[0])
            np.testing.assert_allclose(together.log_probs.numpy()[row],
                                       alone.log_probs.numpy()[0], rtol=1e-5)


def test_finished_rows_leave_the_batch_and_results_do_not_change():
    rng = np.random.default_rng(1)
    memory = rng.normal(size=(8, 6, VOCAB)).astype("float32")
    memory[:6, 0, END] = 30.0  # rows 0-5 end at the first step, rows 6-7 run on
    memory[6:, :, END] = -30.0
    state = (tf.constant(memory), tf.ones((8, 5)), tf.zeros([8], tf.int32))
    step_fn = _memory_step(memory)
    seen = []

    def recording_step(token_ids, state):
        seen.append(int(token_ids.shape[0]))  # eager: the real batch of this step
        return step_fn(token_ids, state)

    for search, width in (
        (lambda s, compact: greedy_search(recording_step, s, start_id=START, end_id=END,
                                          max_length=6, drop_finished_rows=compact), 1),
        (lambda s, compact: beam_search(recording_step, s, start_id=START, end_id=END,
                                        max_length=6, beam_width=2, length_penalty=0.0,
                                        live_beams_only=compact), 2),
    ):
        seen.clear()
        compacted = search(state, compact=True)
        # The first step runs one beam per row (the other slots would be
        # copies of it); afterwards only rows 6-7 are computed.
        assert seen[0] == 8 and seen[-1] == 2 * width, seen
        if width > 1:  # beams drop as soon as their row is settled (greedy: a quarter)
            assert seen[1:] == [2 * width] * (len(seen) - 1), seen
        seen.clear()
        full = search(state, compact=False)
        assert set(seen) == {8 * width}
        np.testing.assert_array_equal(compacted.ids.numpy(), full.ids.numpy())
        np.testing.assert_array_equal(compacted.lengths.numpy(), full.lengths.numpy())
        np.testing.assert_allclose(compacted.log_probs.numpy(), full.log_probs.numpy())


def test_searches_compile_with_xla_and_agree_with_eager():
    step_fn = _table_step(_course_picture_table())

    @tf.function(jit_compile=True)
    def compiled(state):
        greedy = greedy_search(step_fn, state, start_id=START, end_id=END, max_length=6)
        beam = beam_search(step_fn, state, start_id=START, end_id=END, max_length=6,
                           beam_width=3, num_results=2)
        return greedy, beam

    greedy, beam = compiled(_state(2))
    eager_greedy = greedy_search(step_fn, _state(2), start_id=START, end_id=END, max_length=6)
    eager_beam = beam_search(step_fn, _state(2), start_id=START, end_id=END, max_length=6,
                             beam_width=3, num_results=2)
    np.testing.assert_array_equal(greedy.ids.numpy(), eager_greedy.ids.numpy())
    np.testing.assert_array_equal(beam.ids.numpy(), eager_beam.ids.numpy())
    np.testing.assert_allclose(beam.scores.numpy(), eager_beam.scores.numpy(), rtol=1e-6)


def test_sampling_is_reproducible_for_a_seed_and_respects_top_k():
    flat = np.full((VOCAB, VOCAB), 1.0 / VOCAB)
    step_fn = _table_step(flat)
    common = dict(start_id=START, end_id=END, max_length=12)
    first = sample(step_fn, _state(16), seed=7, **common).ids.numpy()
    again = tf.function(lambda s: sample(step_fn, s, seed=7, **common))(_state(16)).ids.numpy()
    other = sample(step_fn, _state(16), seed=8, **common).ids.numpy()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)

    picture = _table_step(_course_picture_table())
    top1 = sample(picture, _state(4), seed=1, top_k=1, **common)
    greedy = greedy_search(picture, _state(4), **common)
    np.testing.assert_array_equal(top1.ids.numpy(), greedy.ids.numpy())
    # With top_k=2 after START only A or B may appear first, never END.
    top2 = sample(picture, _state(200), seed=3, top_k=2, temperature=5.0, **common)
    assert set(top2.ids.numpy()[:, 0]) <= {A, B}


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda f, s: beam_search(f, s, start_id=2, end_id=3, max_length=4, beam_width=0),
         "beam_width"),
        (lambda f, s: beam_search(f, s, start_id=2, end_id=3, max_length=4, beam_width=2,
                                  num_results=3), "num_results"),
        (lambda f, s: greedy_search(f, s, start_id=2, end_id=3, max_length=-1), "max_length"),
        (lambda f, s: beam_search(f, s, start_id=2, end_id=3, max_length=4,
                                  length_penalty=-1.0), "length_penalty"),
        (lambda f, s: sample(f, s, start_id=2, end_id=3, max_length=4, temperature=0.0),
         "temperature"),
        (lambda f, s: sample(f, s, start_id=2, end_id=3, max_length=4, top_k=-2), "top_k"),
    ],
)
def test_bad_arguments_name_themselves(call, name):
    with pytest.raises(ValueError, match=name):
        call(_table_step(_course_picture_table()), _state(1))


def test_wide_beam_equals_exhaustive_search_on_a_tiny_random_model():
    import keras

    from keras_s2s.models import RNNSeq2Seq
    from keras_s2s.text import RESERVED_TOKENS

    keras.utils.set_random_seed(3)
    source_vocabulary = list(RESERVED_TOKENS) + ["a", "b", "c"]
    target_vocabulary = list(RESERVED_TOKENS) + ["x", "y"]  # 6 target tokens
    model = RNNSeq2Seq(source_vocabulary, target_vocabulary, embedding_dim=4, hidden_dim=8)
    # Larger weights make the distribution peaked enough for ties not to matter.
    kernel = model.output_projection.kernel
    kernel.assign(kernel * 6.0)
    source = tf.constant([[4, 5, 6]], tf.int32)
    max_length, vocab = 4, len(target_vocabulary)
    # Real words only (PAD, UNK and START never make sense mid-sentence), so mask
    # the others out of the step function, and enumerate the same space.
    allowed = [END, 4, 5]
    bias = tf.constant([0.0 if i in allowed else -1e9 for i in range(vocab)])

    def step_fn(token_ids, state):
        logits, state = model.decode_step(token_ids, state)
        return logits + bias, state

    candidates = []
    for length in range(1, max_length + 1):
        for words in itertools.product([4, 5], repeat=length - 1):
            candidates.append(list(words) + [END])
    candidates += [list(w) for w in itertools.product([4, 5], repeat=max_length)]

    def score(sequence):
        decoder_input = tf.constant([[START] + sequence[:-1]], tf.int32)
        logits = model.training_model([source, decoder_input]).numpy()[0] + bias.numpy()
        log_probs = tf.nn.log_softmax(logits).numpy()
        return float(sum(log_probs[t, token] for t, token in enumerate(sequence)))

    ranked = sorted(candidates, key=score, reverse=True)
    width = len(candidates)
    result = beam_search(step_fn, model.initial_state(source), start_id=START, end_id=END,
                         max_length=max_length, beam_width=width, length_penalty=0.0,
                         num_results=5)
    found = [row[:n].tolist() for row, n in zip(result.ids.numpy()[0], result.lengths.numpy()[0])]
    assert found == ranked[:5]
    np.testing.assert_allclose(result.log_probs.numpy()[0], [score(s) for s in ranked[:5]],
                               atol=1e-4)
