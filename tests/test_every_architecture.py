"""The same promises for every architecture: save/load, beam of one is greedy,
and an export served cold translates exactly like the Python model."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from cold_loading import assert_loaders_agree, run_cold

import keras_s2s
from keras_s2s.data import synthetic_pairs
from keras_s2s.decoding import beam_search, greedy_search
from keras_s2s.models import ARCHITECTURES
from keras_s2s.text import END_ID, START_ID

SIZES = {"transformer": dict(hidden_dim=16, num_layers=1, num_heads=2, intermediate_dim=32)}
TEXTS = ["uno dos tres", "nueve", "cero cero ocho siete seis cinco", ""]


def _untrained(architecture):
    keras.utils.set_random_seed(3)
    options = SIZES.get(architecture, dict(embedding_dim=8, hidden_dim=16))
    return keras_s2s.build_model(synthetic_pairs(50, seed=0), architecture=architecture,
                                 tokenization="word", max_source_length=10,
                                 max_target_length=10, **options)


@pytest.mark.slow
@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_save_load_beam_and_cold_export_agree(architecture, tmp_path):
    model = _untrained(architecture)
    greedy = keras_s2s.translate(TEXTS, model)
    beam = keras_s2s.translate(TEXTS, model, method="beam", beam_width=4, length_penalty=0.6)
    assert any(greedy[:3]) and greedy[3] == ""

    model.save(tmp_path / "model.keras")
    reloaded = keras_s2s.load(tmp_path / "model.keras")
    assert keras_s2s.translate(TEXTS, reloaded) == greedy
    assert keras_s2s.translate(TEXTS, reloaded, method="beam") == beam

    ids = model.source_encoder.encode(tf.constant(TEXTS[:3])).to_tensor()
    state = model.initial_state(ids)
    common = dict(start_id=START_ID, end_id=END_ID, max_length=10)
    one_beam = beam_search(model.decode_step, state, beam_width=1, length_penalty=0.0, **common)
    np.testing.assert_array_equal(one_beam.ids.numpy()[:, 0],
                                  greedy_search(model.decode_step, state, **common).ids.numpy())

    _assert_served_like_translate(model, tmp_path)


def _assert_served_like_translate(model, tmp_path):
    """Every signature, through TF Serving's C++ loader and the TF2 loader in a
    cold process, equals `keras_s2s.translate` / `keras_s2s.score` (texts) and
    the graph (scores)."""
    version = keras_s2s.export(model, tmp_path / "served", beam_width=4, length_penalty=0.6,
                               num_results=2)
    beam = dict(method="beam", beam_width=4, length_penalty=0.6)
    greedy = keras_s2s.translate(TEXTS, model)
    prefixes = [" ".join(t.split()[:1]) for t in greedy]
    results = run_cold(version, TEXTS, prefix=prefixes, target=greedy, seed=7)
    assert_loaders_agree(results)
    served = results["c_api"]
    assert served["serving_default"]["translation"] == keras_s2s.translate(TEXTS, model, **beam)
    assert served["translate_greedy"]["translation"] == greedy
    n_best = keras_s2s.translate(TEXTS, model, num_results=2, **beam)
    assert served["translate_n_best"]["translations"] == [[t for t, _ in r] for r in n_best]
    assert served["translate_prefix"]["translation"] == keras_s2s.translate(
        TEXTS, model, prefix=prefixes, **beam)
    sampled = keras_s2s.Translator(model, method="sample", seed=7)(tf.constant(TEXTS))
    assert served["translate_sample"]["translation"] == [
        t.decode() for t in sampled["translation"].numpy()]
    scored = keras_s2s.score(TEXTS, greedy, model)
    np.testing.assert_allclose(served["score"]["log_prob"], [s.log_prob for s in scored],
                               rtol=1e-4, atol=1e-5)
    direct = keras_s2s.Translator(model, **beam)(tf.constant(TEXTS))["score"].numpy()
    np.testing.assert_allclose(served["serving_default"]["score"], direct, rtol=1e-4, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("architecture", ["gru-attention", "transformer"])
def test_wordpiece_models_serve_through_the_cpp_loader(architecture, tmp_path):
    keras.utils.set_random_seed(3)
    options = SIZES.get(architecture, dict(embedding_dim=8, hidden_dim=16))
    model = keras_s2s.build_model(synthetic_pairs(200, seed=0), architecture=architecture,
                                  tokenization="wordpiece", source_vocabulary_size=60,
                                  target_vocabulary_size=60, max_source_length=16,
                                  max_target_length=16, **options)
    _assert_served_like_translate(model, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("architecture", ["lstm-attention", "transformer"])
def test_mixed_float16_models_serve_through_the_cpp_loader(architecture, tmp_path):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = _untrained(architecture)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert model.compute_dtype == "float16"
    _assert_served_like_translate(model, tmp_path)
