"""Per-row constants (keras_s2s.decoding.row_constants): beam search that keeps
the encoder's outputs once per sentence finds exactly what it finds when they
are copied to every beam and gathered at every step (the old way)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_s2s
from keras_s2s.data import synthetic_pairs
from keras_s2s.decoding import beam_search
from keras_s2s.decoding.row_constants import (
    BeamLayout,
    attend_by_row,
    constant_fields,
    reorder,
)
from keras_s2s.text import END_ID, START_ID

TEXTS = ["uno dos tres", "nueve", "cero cero ocho siete seis cinco", "dos dos", "siete"]
MODELS = {
    "gru-attention": dict(architecture="gru-attention", embedding_dim=8, hidden_dim=16),
    "lstm-attention": dict(architecture="lstm-attention", embedding_dim=8, hidden_dim=16),
    "bahdanau": dict(architecture="gru-attention", attention="bahdanau", embedding_dim=8,
                     hidden_dim=16),
    "transformer": dict(architecture="transformer", hidden_dim=16, num_layers=2, num_heads=2,
                        intermediate_dim=32),
}


def _untrained(name):
    keras.utils.set_random_seed(5)
    model = keras_s2s.build_model(synthetic_pairs(50, seed=0), tokenization="word",
                                  max_source_length=10, max_target_length=12, **MODELS[name])
    if name != "transformer":
        # Untrained attention is nearly uniform, the same whatever the query:
        # sharpen it, so that a beam lined up with the wrong query would show.
        for weight in model.attention.weights:
            weight.assign(weight * 100.0)
    return model


def _copied_per_beam(model, state):
    """The same model and state with nothing declared constant: a plain tuple,
    every tensor repeated per beam and gathered every step, `beams` never passed."""
    structure = state

    def step(tokens, flat):
        logits, new_state = model.decode_step(tokens,
                                              tf.nest.pack_sequence_as(structure, list(flat)))
        return logits, tuple(tf.nest.flatten(new_state))

    return step, tuple(tf.nest.flatten(state))


@pytest.mark.parametrize("name", list(MODELS))
def test_beam_search_with_row_constants_equals_copying_them(name):
    model = _untrained(name)
    state = model.initial_state(model.source_encoder.encode(tf.constant(TEXTS)).to_tensor())
    assert constant_fields(state)  # the model declares them
    copied_step, copied_state = _copied_per_beam(model, state)
    assert not constant_fields(copied_state)
    common = dict(start_id=START_ID, end_id=END_ID, max_length=12, beam_width=3,
                  num_results=3, length_penalty=0.6, max_lengths=tf.constant([12, 4, 12, 7, 5]))
    for live_beams_only in (True, False):
        shared = beam_search(model.decode_step, state, live_beams_only=live_beams_only, **common)
        copied = beam_search(copied_step, copied_state, live_beams_only=live_beams_only,
                             **common)
        np.testing.assert_array_equal(shared.ids.numpy(), copied.ids.numpy())
        np.testing.assert_allclose(shared.log_probs.numpy(), copied.log_probs.numpy(),
                                   atol=1e-5)
        # Untrained models still rank differently: the results are not all one hypothesis.
        assert len({tuple(row) for row in shared.ids.numpy()[:, 0]}) > 1


@pytest.mark.parametrize("name", list(MODELS))
def test_a_step_with_row_constants_gives_each_beam_its_rows_logits(name):
    # Beams in any order, rows with 0, 1 or 3 beams: the logits equal a step on
    # a state copied to every beam (what the search did before). Compared to
    # float noise, so even nearly uniform attention would show a wrong row.
    model = _untrained(name)
    state = model.initial_state(model.source_encoder.encode(tf.constant(TEXTS)).to_tensor())
    width = 3
    rows = tf.constant([2, 0, 2, 4, 2, 3])
    slots = rows * width + tf.constant([1, 0, 0, 2, 2, 1])
    tokens = tf.constant([5, 6, 7, 8, 9, 10])
    shared, _ = model.decode_step(tokens, reorder(state, rows),
                                  beams=BeamLayout(slots, tf.constant(width)))
    copied_step, copied_state = _copied_per_beam(model, state)
    copied, _ = copied_step(tokens, tf.nest.map_structure(lambda t: tf.gather(t, rows),
                                                          copied_state))
    np.testing.assert_allclose(shared.numpy(), copied.numpy(), atol=1e-6)


def test_fixed_shape_beam_search_with_row_constants_compiles_with_xla():
    model = _untrained("transformer")
    ids = model.source_encoder.encode(tf.constant(TEXTS)).to_tensor()
    common = dict(start_id=START_ID, end_id=END_ID, max_length=12, beam_width=3,
                  length_penalty=0.0)

    @tf.function(jit_compile=True)
    def compiled(ids):
        return beam_search(model.decode_step, model.initial_state(ids), **common).ids

    eager = beam_search(model.decode_step, model.initial_state(ids), live_beams_only=False,
                        **common)
    np.testing.assert_array_equal(compiled(ids).numpy(), eager.ids.numpy())


def test_attend_by_row_gives_each_beam_its_rows_output():
    rows, width = 3, 2
    scale = tf.constant([1.0, 10.0, 100.0])  # what each row's "constants" do to a query
    seen = []

    def attend(queries):  # (rows, width, d): row r's queries, multiplied by its scale
        seen.append(queries.shape)
        return queries * scale[:, None, None]

    queries = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    # Beams at (row 0, slot 1), (row 2, slot 0), (row 2, slot 1), (row 1, slot 0).
    slots = tf.constant([1, 4, 5, 2])
    out = attend_by_row(queries, BeamLayout(slots, tf.constant(width)), rows, attend)
    np.testing.assert_allclose(out.numpy(), queries.numpy() * np.array([[1], [100], [100],
                                                                           [10]]))
    # Without a layout, query i belongs to row i, one query position each.
    out = attend_by_row(queries[:3], None, rows, attend)
    np.testing.assert_allclose(out.numpy(), queries.numpy()[:3] * np.array([[1], [10], [100]]))
    assert [tuple(shape) for shape in seen] == [(3, 2, 2), (3, 1, 2)]
