"""`keras_s2s.decoding.top_k.top_k` is `tf.math.top_k`, ties and all, and beam
search over a real-sized vocabulary finds the same hypotheses with either."""

import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.decoding import beam_search
from keras_s2s.decoding import top_k as top_k_module
from keras_s2s.decoding.top_k import CHUNK, top_k
from keras_s2s.masking import NEG_INF


@pytest.mark.parametrize("seed", range(6))
def test_same_values_and_indices_as_tf_top_k_with_many_ties(seed):
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 12))
    size = int(rng.integers(4 * k * CHUNK, 4 * k * CHUNK + 3 * CHUNK))  # ragged last chunk
    # Few distinct values: ties everywhere, at the k-th place too. Some rows
    # are banned almost everywhere (NEG_INF), one entirely.
    values = rng.integers(0, 5, size=(9, size)).astype("float32")
    values[2, rng.random(size) < 0.99] = NEG_INF
    values[3] = NEG_INF
    values[4, -1] = 9.0  # the best value in the padded last chunk
    want = tf.math.top_k(values, k=k)
    for run in (top_k, tf.function(top_k, jit_compile=True)):
        got = run(tf.constant(values), k)
        np.testing.assert_array_equal(got[0].numpy(), want.values.numpy())
        np.testing.assert_array_equal(got[1].numpy(), want.indices.numpy())


def test_chunking_is_used_at_vocabulary_size_and_not_below():
    """The chunked path must be the one the tests above check."""
    def op_types(size):
        graph = tf.function(lambda x: top_k(x, 8)).get_concrete_function(
            tf.TensorSpec([None, size])).graph
        return [op.type for op in graph.get_operations()]

    assert "Max" in op_types(5000)  # the chunk maxima
    assert op_types(100).count("TopKV2") == 1 and "Max" not in op_types(100)


def _row_and_prefix_step(table):
    """Logits from the row and a hash of the whole prefix: beams really diverge."""
    def step_fn(token_ids, state):
        memory, prefix_hash = state
        logits = tf.gather(memory, prefix_hash, batch_dims=1)  # (n, vocab)
        return logits, (memory, (prefix_hash * 7 + token_ids + 1) % table)
    return step_fn


@pytest.mark.parametrize("live_beams_only", [True, False])
def test_beam_search_over_a_large_vocabulary_equals_the_plain_top_k(live_beams_only,
                                                                    monkeypatch):
    rng = np.random.default_rng(0)
    rows, table, vocab = 6, 11, 3000
    # Rounded logits: equal scores among candidates, so tie order matters.
    memory = np.round(rng.normal(size=(rows, table, vocab)) * 2, 1).astype("float32")
    memory[:, :, 3] += 1.5  # the end token (3), likely enough to end hypotheses
    state = (tf.constant(memory), tf.zeros([rows], tf.int32))
    options = dict(start_id=2, end_id=3, max_length=6, beam_width=4, length_penalty=0.6,
                   num_results=3, live_beams_only=live_beams_only)
    chunked = beam_search(_row_and_prefix_step(table), state, **options)
    monkeypatch.setattr(top_k_module, "CHUNK", vocab * 100)  # always tf.math.top_k
    plain = beam_search(_row_and_prefix_step(table), state, **options)
    np.testing.assert_array_equal(chunked.ids.numpy(), plain.ids.numpy())
    np.testing.assert_array_equal(chunked.lengths.numpy(), plain.lengths.numpy())
    np.testing.assert_array_equal(chunked.log_probs.numpy(), plain.log_probs.numpy())
