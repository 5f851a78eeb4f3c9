"""Normalisation, tokenisation, vocabulary and detokenisation as TF ops."""

import pytest
import tensorflow as tf

from keras_s2s import text


def _strings(tensor):
    return [value.decode("utf-8") for value in tensor.numpy()]


def test_accents_are_kept_and_punctuation_split():
    normalized = text.normalize(tf.constant(["¿Dónde está? Él crió."]), lowercase=True)
    assert _strings(normalized) == ["¿ dónde está ? él crió ."]


def test_case_is_kept_unless_asked():
    sentence = tf.constant(["God said, “Let there be light.”"])
    assert _strings(text.normalize(sentence, lowercase=False)) == [
        "God said , “ Let there be light . ”"
    ]
    assert _strings(text.normalize(sentence, lowercase=True))[0].startswith("god said")


def test_unicode_forms_are_unified():
    # "á" precomposed vs "a" + combining acute; full-width letters; a tab.
    variants = tf.constant(["está", "esta\u0301", "ｅｓｔá", "\testá\u200b"])
    assert set(_strings(text.normalize(variants, lowercase=True))) == {"está"}


def test_apostrophe_inside_word_stays():
    tokens = text.tokenize(tf.constant(["God’s people don't ‘go’."]), lowercase=False)
    assert [t.decode() for t in tokens[0].numpy()] == [
        "God’s", "people", "don't", "‘", "go", "’", "."
    ]


@pytest.mark.parametrize(
    "sentence",
    [
        "Where is it?",
        "God said, “Let there be light,” and there was light.",
        "¿Dónde está? ¡Aquí!",
        'He said "no" (twice); then left...',
        "God’s Spirit was hovering: 3,000 men.",
        "",
    ],
)
def test_detokenize_inverts_tokenize(sentence):
    tokens = text.tokenize(tf.constant([sentence]), lowercase=False)
    assert _strings(text.detokenize(tokens)) == [sentence]


def test_vocabulary_reserved_ids_caps_and_order():
    vocabulary = text.Vocabulary.build(
        ["b a b c", "b a d"], lowercase=True, max_size=6, min_count=1
    )
    assert vocabulary.tokens[:4] == list(text.RESERVED_TOKENS)
    # b (3 times) before a (2), then c and d tie on 1: alphabetical, cut at 6.
    assert vocabulary.tokens[4:] == ["b", "a"]
    assert text.Vocabulary.build(["b a b c"], lowercase=True, min_count=2).tokens[4:] == ["b"]


def test_unknown_words_map_to_unknown_id():
    vocabulary = text.Vocabulary.build(["uno dos"], lowercase=True)
    ids = vocabulary.ids(tf.ragged.constant([["uno", "tres", "dos"]]))
    assert ids.to_list() == [[vocabulary.tokens.index("uno"), text.UNKNOWN_ID,
                              vocabulary.tokens.index("dos")]]


def test_vocabulary_rejects_bad_token_lists():
    with pytest.raises(ValueError, match="reserved tokens"):
        text.Vocabulary(["a", "b"])
    with pytest.raises(ValueError, match="unique"):
        text.Vocabulary(list(text.RESERVED_TOKENS) + ["a", "a"])


def test_encoder_truncates_and_decoder_stops_at_end():
    vocabulary = text.Vocabulary.build(["one two three ."], lowercase=False)
    encoder = text.SentenceEncoder(vocabulary, lowercase=False, max_length=3)
    encoded = encoder.encode(tf.constant(["one two three . one two", ""]))
    assert [len(row) for row in encoded.to_list()] == [3, 0]
    one, two = vocabulary.tokens.index("one"), vocabulary.tokens.index("two")
    period = vocabulary.tokens.index(".")
    ids = tf.constant([
        [one, two, period, text.END_ID, one],
        [text.START_ID, two, text.UNKNOWN_ID, text.END_ID, text.PAD_ID],
    ])
    assert _strings(encoder.decode(ids)) == ["one two.", "two [UNK]"]
