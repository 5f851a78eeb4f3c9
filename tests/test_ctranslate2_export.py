"""A converted Transformer is the same model in CTranslate2: the same
teacher-forced log-probabilities, the same greedy ids and, with length penalty
0, the same beam-search ids as our own search."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

ctranslate2 = pytest.importorskip(
    "ctranslate2", reason="ctranslate2 is not installed (pip install keras_s2s[bench])")

import keras_s2s  # noqa: E402
from keras_s2s.ctranslate2_export import NOTES_FILE, export_ctranslate2  # noqa: E402
from keras_s2s.ctranslate2_translation import (  # noqa: E402
    padded_ids,
    search_ctranslate2,
    source_tokens,
    translate_ctranslate2,
)
from keras_s2s.data import synthetic_pairs  # noqa: E402
from keras_s2s.decoding import beam_search, greedy_search  # noqa: E402
from keras_s2s.text import END_ID, PAD_ID, START_ID  # noqa: E402

MAX_LENGTH = 12


def _random_transformer():
    """A tiny untrained Transformer whose outputs still vary by sentence and step.

    Keras' tiny uniform embedding init makes a random model say the same token
    forever; unit-normal embeddings and a raised [END] logit give translations
    that end after 3-6 tokens or run to the limit, and beams that beat greedy.
    """
    keras.utils.set_random_seed(0)
    model = keras_s2s.build_model(
        synthetic_pairs(100, seed=1), architecture="transformer", tokenization="word",
        hidden_dim=16,
        num_layers=2, num_heads=2, max_source_length=MAX_LENGTH, max_target_length=MAX_LENGTH)
    generator = np.random.default_rng(0)
    for embedding in (model.source_embedding, model.target_embedding):
        for table in (embedding.token_embedding.embeddings,
                      embedding.position_embedding.embeddings):
            table.assign(generator.normal(size=table.shape).astype("float32"))
    projection = model.output_projection
    projection.kernel.assign(2.0 * projection.kernel)
    projection.bias.assign(3.0 * tf.one_hot(END_ID, projection.bias.shape[0]))
    return model


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    model = _random_transformer()
    path = export_ctranslate2(model, tmp_path_factory.mktemp("ct2") / "model")
    translator = ctranslate2.Translator(str(path), device="cpu", intra_threads=1)
    texts = synthetic_pairs(32, seed=2, min_length=1, max_length=8).sources
    return model, path, translator, texts


def _our_state(model, texts):
    return model.initial_state(model.source_encoder.encode(tf.constant(texts)).to_tensor())


def test_the_directory_holds_what_ctranslate2_reads_and_our_notes(converted):
    model, path, _, _ = converted
    config = json.loads((path / "config.json").read_text())
    assert config["decoder_start_token"] == config["bos_token"] == "[START]"
    assert config["eos_token"] == "[END]" and config["unk_token"] == "[UNK]"
    assert config["layer_norm_epsilon"] == pytest.approx(1e-3)  # Keras', not CT2's 1e-6
    assert json.loads((path / "source_vocabulary.json").read_text()) == model.source_vocabulary
    assert json.loads((path / "target_vocabulary.json").read_text()) == model.target_vocabulary
    assert "length penalty" in (path / NOTES_FILE).read_text().lower()


def test_teacher_forced_log_probabilities_match(converted):
    model, _, translator, texts = converted
    targets = synthetic_pairs(32, seed=2, min_length=1, max_length=8).targets
    scored = translator.score_batch(source_tokens(model, texts),
                                    [t.split() for t in targets])
    target_ids = model.target_encoder.encode(tf.constant(targets))
    decoder_ids = tf.concat([tf.fill([len(texts), 1], START_ID),
                             target_ids.to_tensor(default_value=PAD_ID)], axis=1)
    encoder_ids = model.source_encoder.encode(tf.constant(texts)).to_tensor()
    log_probs = tf.nn.log_softmax(model([encoder_ids, decoder_ids])).numpy()
    for row, result in enumerate(scored):
        expected = [*target_ids[row].numpy(), END_ID]
        ours = [log_probs[row, step, token] for step, token in enumerate(expected)]
        np.testing.assert_allclose(result.log_probs, ours, atol=1e-4)


def test_greedy_ids_are_ours(converted):
    model, _, translator, texts = converted
    ours = greedy_search(model.decode_step, _our_state(model, texts), start_id=START_ID,
                         end_id=END_ID, max_length=MAX_LENGTH)
    found = search_ctranslate2(translator, model, texts, max_length=MAX_LENGTH)
    lengths = ours.lengths.numpy()
    assert 0 < np.sum(lengths < MAX_LENGTH) < len(texts)  # some end, at several lengths
    assert len(set(lengths)) >= 3
    np.testing.assert_array_equal(padded_ids(found.ids, MAX_LENGTH), ours.ids.numpy())
    np.testing.assert_allclose(found.scores, ours.log_probs.numpy(), atol=1e-4)


def test_beam_4_ids_without_length_penalty_are_ours(converted):
    model, _, translator, texts = converted
    state = _our_state(model, texts)
    ours = beam_search(model.decode_step, state, start_id=START_ID, end_id=END_ID,
                       max_length=MAX_LENGTH, beam_width=4, length_penalty=0.0)
    greedy = greedy_search(model.decode_step, state, start_id=START_ID, end_id=END_ID,
                           max_length=MAX_LENGTH)
    found = search_ctranslate2(translator, model, texts, beam_size=4, max_length=MAX_LENGTH)
    best = ours.ids.numpy()[:, 0]
    assert np.any(best != greedy.ids.numpy())  # the beam really searched
    np.testing.assert_array_equal(padded_ids(found.ids, MAX_LENGTH), best)
    np.testing.assert_allclose(found.scores, ours.log_probs.numpy()[:, 0], atol=1e-4)


def test_strings_match_translate_with_per_sentence_limits(converted):
    model, _, translator, texts = converted
    texts = [*texts[:8], ""]  # an empty input translates to "" on both sides
    # The converted model searches without our controls (CTranslate2's min_decoding_length
    # 0, no n-gram ban): compare with our search without them.
    plain = dict(min_length=0, no_repeat_ngram_size=0)
    assert (translate_ctranslate2(translator, model, texts)
            == keras_s2s.translate(texts, model, **plain))
    assert (translate_ctranslate2(translator, model, texts, beam_size=4)
            == keras_s2s.translate(texts, model, method="beam", beam_width=4,
                                   length_penalty=0.0, **plain))


def test_int8_export_translates(converted, tmp_path):
    model, path, _, texts = converted
    int8_path = export_ctranslate2(model, tmp_path / "int8", quantization="int8")
    assert (int8_path / "model.bin").stat().st_size < (path / "model.bin").stat().st_size
    translator = ctranslate2.Translator(str(int8_path), device="cpu", intra_threads=1)
    found = search_ctranslate2(translator, model, texts, max_length=MAX_LENGTH)
    assert all(0 < len(ids) <= MAX_LENGTH for ids in found.ids)


def test_bad_input_is_a_value_error_naming_it(converted, tmp_path):
    model, path, _, _ = converted
    gru = keras_s2s.build_model(synthetic_pairs(20, seed=1), architecture="gru",
                                embedding_dim=8, hidden_dim=8)
    with pytest.raises(ValueError, match="TransformerSeq2Seq.*RNNSeq2Seq"):
        export_ctranslate2(gru, tmp_path / "gru")
    with pytest.raises(ValueError, match="exists"):
        export_ctranslate2(model, path)
    with pytest.raises(ValueError, match="quantization"):
        export_ctranslate2(model, tmp_path / "bad", quantization="int3")
    assert not (tmp_path / "gru").exists() and not (tmp_path / "bad").exists()


def test_the_command_line_exports_what_translates_the_same(converted, tmp_path):
    # As a user types it, in a fresh process: keras-s2s export --format ctranslate2.
    model, _, _, texts = converted
    model_path = tmp_path / "transformer.keras"
    model.save(model_path)
    output = tmp_path / "ct2" / "spa_eng"

    def export(*options):
        return subprocess.run(
            [sys.executable, "-m", "keras_s2s.cli", "export", "--model", str(model_path),
             "--output", str(output), "--format", "ctranslate2", *options],
            capture_output=True, text=True, cwd=tmp_path)

    done = export()
    assert done.returncode == 0, done.stderr
    assert f"Wrote {output} (CTranslate2, float32 weights" in done.stdout
    assert (output / NOTES_FILE).exists()
    translator = ctranslate2.Translator(str(output), device="cpu", intra_threads=1)
    # CTranslate2 writes [UNK] where the model does (ours copies a source word there).
    plain = dict(min_length=0, no_repeat_ngram_size=0, replace_unknown=False)
    assert (translate_ctranslate2(translator, model, texts)
            == keras_s2s.translate(texts, model, **plain))
    # One line and exit code 2 for what would be ignored or overwritten.
    for options, message in (((), "exists; give a directory to create"),
                             (("--method", "greedy"), "--method greedy has no effect with "
                              "--format ctranslate2")):
        refused = export(*options)
        assert refused.returncode == 2 and message in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    refused = subprocess.run(
        [sys.executable, "-m", "keras_s2s.cli", "export", "--model", str(model_path),
         "--output", str(tmp_path / "saved_models"), "--quantization", "int8"],
        capture_output=True, text=True, cwd=tmp_path)
    assert refused.returncode == 2
    assert "--quantization int8 applies to --format ctranslate2 only" in refused.stderr


def test_the_command_lines_quantizations_are_ctranslate2s():
    from ctranslate2.specs.model_spec import ACCEPTED_MODEL_TYPES

    from keras_s2s.cli.parser import CTRANSLATE2_QUANTIZATIONS

    assert set(CTRANSLATE2_QUANTIZATIONS) == set(ACCEPTED_MODEL_TYPES)
