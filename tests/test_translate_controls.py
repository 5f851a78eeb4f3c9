"""The decoding controls through `translate`, `score` and the graph: prefixes,
minimum length, unknown-word copying, scoring, and the errors bad values get."""

import numpy as np
import pytest
import tensorflow as tf

import keras_s2s
from keras_s2s.text import END_ID, START_ID, UNKNOWN_ID

SOURCES = ["uno dos tres", "nueve", "cuatro cinco seis siete", "cero"]


def test_prefix_starts_every_result_and_a_batch_equals_its_rows_alone(trained):
    model, _, _ = trained
    prefixes = ["three", "", "four five", "nine nine"]
    for options in (dict(), dict(method="beam", beam_width=3, num_results=2)):
        together = keras_s2s.translate(SOURCES, model, prefix=prefixes, **options)
        for source, prefix, result in zip(SOURCES, prefixes, together):
            alone = keras_s2s.translate(source, model, prefix=prefix, **options)
            if isinstance(result, list):  # n-best: the same texts, scores to float noise
                assert [t for t, _ in alone] == [t for t, _ in result]
                np.testing.assert_allclose([s for _, s in alone], [s for _, s in result],
                                           rtol=1e-6)
            else:
                assert alone == result
            for text in ([t for t, _ in result] if isinstance(result, list) else [result]):
                assert text.startswith(prefix)
    # The empty prefix changes nothing; the model goes on sensibly after one.
    assert keras_s2s.translate(SOURCES[1], model, prefix="") == keras_s2s.translate(
        SOURCES[1], model)
    assert keras_s2s.translate("uno dos tres", model, prefix="one") == "one two three"


def _step_by_step_log_prob(model, source, target_ids):
    """Summed log-probability of `target_ids` (end token included) fed to
    `decode_step` one token at a time: a path independent of `score`'s."""
    encoder_ids = model.source_encoder.encode(tf.constant([source])).to_tensor()
    state, token, total = model.initial_state(encoder_ids), START_ID, 0.0
    for next_id in target_ids:
        logits, state = model.decode_step(tf.constant([token]), state)
        total += float(tf.nn.log_softmax(logits)[0, next_id])
        token = next_id
    return total


def test_score_of_beams_own_outputs_equals_its_reported_scores(trained):
    model, test_pairs, _ = trained
    sources = list(test_pairs.sources[:12])
    beam = keras_s2s.translate(sources, model, method="beam", beam_width=3, num_results=2,
                               min_length=0)
    hypotheses = [(s, text, score) for s, row in zip(sources, beam) for text, score in row]
    scored = keras_s2s.score([h[0] for h in hypotheses], [h[1] for h in hypotheses], model)
    np.testing.assert_allclose([s.score for s in scored], [h[2] for h in hypotheses],
                               rtol=1e-4, atol=1e-5)
    for (source, text, _), result in list(zip(hypotheses, scored))[:4]:
        ids = model.target_encoder.encode(tf.constant([text]))[0].numpy().tolist() + [END_ID]
        assert len(result.token_log_probs) == len(ids)
        np.testing.assert_allclose(result.log_prob, _step_by_step_log_prob(model, source, ids),
                                   rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(sum(result.token_log_probs), result.log_prob, rtol=1e-5)


def test_min_length_one_means_no_empty_translation_for_a_non_empty_source(trained):
    model, _, _ = trained
    kernel, bias = model.output_projection.get_weights()
    ends_at_once = keras_s2s.models.RNNSeq2Seq.from_config(model.get_config())
    ends_at_once.set_weights(model.get_weights())
    bias = bias.copy()
    bias[END_ID] += 50.0  # the end token is always the first choice
    ends_at_once.output_projection.set_weights([kernel, bias])
    for options in (dict(), dict(method="beam", beam_width=4)):
        assert keras_s2s.translate(SOURCES, ends_at_once, min_length=0, **options) == [""] * 4
        translations = keras_s2s.translate(SOURCES + [""], ends_at_once, **options)
        assert all(len(t.split()) == 1 for t in translations[:4]) and translations[4] == ""
        two = keras_s2s.translate(SOURCES, ends_at_once, min_length=2, **options)
        assert all(len(t.split()) == 2 for t in two)


def test_unknown_words_are_copied_from_the_attended_source_position():
    from keras_s2s.text import SentenceEncoder, Vocabulary
    from keras_s2s.unknown_words import attended_source_words

    class ForcedAttention:  # attends to source position 2 - t at output step t
        has_attention = True
        source_encoder = SentenceEncoder(Vocabulary.build(["a b c"], lowercase=True),
                                         lowercase=True, max_length=8)

        def attention_weights(self, encoder_ids, decoder_ids):
            weights = np.zeros((decoder_ids.shape[0], decoder_ids.shape[1],
                                encoder_ids.shape[1]), np.float32)
            for t in range(min(3, decoder_ids.shape[1])):
                weights[:, t, 2 - t] = 1.0
            return tf.constant(weights)

    model = ForcedAttention()
    text = tf.constant(["Ana ve Zaragoza"])  # all unknown to the vocabulary, cased
    encoder_ids = model.source_encoder.encode(text).to_tensor()
    ids = tf.constant([[UNKNOWN_ID, UNKNOWN_ID, UNKNOWN_ID]])
    words = attended_source_words(model, text, encoder_ids, ids, source_rows=tf.constant([0]))
    assert [w.decode() for w in words.numpy()[0]] == ["Zaragoza", "ve", "Ana"]
    target = SentenceEncoder(Vocabulary.build(["x y"], lowercase=False), lowercase=False,
                             max_length=8)
    with_end = tf.constant([[UNKNOWN_ID, 4, UNKNOWN_ID, END_ID]])
    copied = target.decode(with_end, unknown_words=tf.constant([["Zaragoza", "-", "ve", "-"]]))
    assert copied.numpy()[0].decode() == "Zaragoza x ve"
    assert target.decode(with_end, drop_unknown=True).numpy()[0].decode() == "x"
    assert target.decode(with_end).numpy()[0].decode() == "[UNK] x [UNK]"


def test_no_unknown_token_is_ever_shown_by_default(trained, trained_attention):
    for model in (trained[0], trained_attention[0]):
        biased = type(model).from_config(model.get_config())
        biased.set_weights(model.get_weights())
        bias = biased.output_projection.bias  # tied or not, the output layer has one
        bias.assign(bias.numpy() + 30.0 * np.eye(bias.shape[0])[UNKNOWN_ID])  # [UNK] always
        raw = keras_s2s.translate(SOURCES, biased, replace_unknown=False)
        assert any("[UNK]" in t for t in raw)
        shown = keras_s2s.translate(SOURCES, biased)
        assert not any("[UNK]" in t for t in shown)
        if model.has_attention:  # copied from the source, so source words appear
            source_words = {w for s in SOURCES for w in s.split()}
            assert any(set(t.split()) & source_words for t in shown)
    with pytest.raises(ValueError, match="replace_unknown=True needs a model with attention"):
        keras_s2s.translate("uno", trained[0], replace_unknown=True)


@pytest.mark.parametrize(("options", "message"), [
    (dict(min_length=5, max_length=3), "min_length=5 is more than max_length=3"),
    (dict(no_repeat_ngram_size=-1), "no_repeat_ngram_size must be an integer >= 0"),
    (dict(repetition_penalty=0), "repetition_penalty must be a number > 0"),
    (dict(method="sample", top_p=0), r"top_p must be a number in \(0, 1\]"),
    (dict(method="sample", top_p=1.5), r"top_p must be a number in \(0, 1\]"),
    (dict(top_p=0.9), "top_p=0.9 has no effect with method='greedy'"),
    (dict(beam_width=3), "beam_width=3 has no effect with method='greedy'"),
    (dict(method="beam", temperature=0.5), "temperature=0.5 has no effect with method='beam'"),
    (dict(min_length=-1), "min_length must be an integer >= 0"),
])
def test_bad_decoding_values_are_value_errors_naming_them(trained, options, message):
    with pytest.raises(ValueError, match=message):
        keras_s2s.translate("uno", trained[0], **options)


def test_bad_prefixes_and_pairs_are_value_errors(trained):
    model = trained[0]
    with pytest.raises(ValueError, match="prefix must be one string per text"):
        keras_s2s.translate(["uno", "dos"], model, prefix=["one"])
    with pytest.raises(ValueError, match=r"prefix\[0\] has 12 tokens"):
        keras_s2s.translate(["uno"], model, prefix=["one " * 12])
    with pytest.raises(ValueError, match="sources and targets must pair up"):
        keras_s2s.score(["uno", "dos"], ["one"], model)
