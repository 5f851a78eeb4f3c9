"""WordPiece subwords: vocabulary learning, in-graph tokenisation, a model that
learns with them and an export that serves them cold."""


import keras
import numpy as np
import pytest
import tensorflow as tf
from cold_loading import serve_cold

import keras_s2s
from keras_s2s.data import synthetic_pairs
from keras_s2s.text import RESERVED_TOKENS, UNKNOWN_ID, SentenceEncoder, Vocabulary

TEXTS = [
    "Y bendijeron a Dios.", "Y bendijo a su hijo.", "Los hijos de Israel bendecían.",
    "Dijo Dios: sea la luz.", "Y fue la luz; y vio Dios que la luz era buena.",
] * 3


def _encoder(max_size=60, max_length=64):
    vocabulary = Vocabulary.build(TEXTS, lowercase=True, max_size=max_size,
                                  tokenization="wordpiece")
    return vocabulary, SentenceEncoder(vocabulary, lowercase=True, max_length=max_length,
                                       tokenization="wordpiece")


def test_vocabulary_is_capped_reserved_first_and_deterministic():
    vocabulary, _ = _encoder()
    assert tuple(vocabulary.tokens[:4]) == RESERVED_TOKENS
    assert len(vocabulary) <= 60
    assert any(token.startswith("##") for token in vocabulary.tokens)
    again, _ = _encoder()
    assert again.tokens == vocabulary.tokens


def test_unseen_words_are_spelled_in_pieces_not_unknown():
    _, encoder = _encoder()
    text = tf.constant(["bendecid a Israel: hijos de la luz."])  # "bendecid" never seen
    pieces = [p.decode() for p in encoder.tokens(text)[0].numpy()]
    assert "".join(p.removeprefix("##") for p in pieces) == "bendecidaisrael:hijosdelaluz."
    assert any(p.startswith("##") for p in pieces)
    ids = encoder.encode(text)
    assert UNKNOWN_ID not in ids.flat_values.numpy()
    assert encoder.decode(ids.to_tensor()).numpy()[0].decode() == (
        "bendecid a israel: hijos de la luz."
    )


def test_a_character_never_seen_makes_its_word_unknown():
    _, encoder = _encoder()
    ids = encoder.encode(tf.constant(["luz ω"])).flat_values.numpy()
    assert ids[-1] == UNKNOWN_ID and ids[0] != UNKNOWN_ID


def test_max_length_counts_pieces():
    _, encoder = _encoder(max_length=3)
    # "bendecid" was never seen whole: each is spelled in 2+ pieces.
    pieces = encoder.tokens(tf.constant(["bendecid bendecid"]))[0].numpy()
    assert len(pieces) == 3


def test_too_small_a_vocabulary_for_the_alphabet_says_why():
    with pytest.raises(ValueError, match="one per character seen"):
        Vocabulary.build(TEXTS, lowercase=True, max_size=10, tokenization="wordpiece")
    with pytest.raises(ValueError, match=r"tokenization must be one of \('word', 'wordpiece'\)"):
        Vocabulary.build(TEXTS, lowercase=True, tokenization="bpe")


@pytest.fixture(scope="module")
def wordpiece_model():
    keras.utils.set_random_seed(0)
    train_pairs = synthetic_pairs(3000, seed=1)
    # Small vocabularies, so the number words are really cut into pieces.
    model = keras_s2s.build_model(
        train_pairs, architecture="gru", tokenization="wordpiece",
        source_vocabulary_size=40, target_vocabulary_size=40,
        embedding_dim=32, hidden_dim=128, max_source_length=40, max_target_length=40,
    )
    keras_s2s.train(model, train_pairs, epochs=16, batch_size=32, learning_rate=5e-3,
                    early_stopping_patience=0, verbose=0)
    return model, synthetic_pairs(100, seed=2)


def test_wordpiece_model_learns_the_task_and_round_trips(wordpiece_model, tmp_path):
    model, test_pairs = wordpiece_model
    assert any(t.startswith("##") for t in model.target_vocabulary)
    pieces = model.target_encoder.tokens(tf.constant(list(test_pairs.targets)))
    assert pieces.row_lengths().numpy().mean() > 1.3 * np.mean(
        [len(t.split()) for t in test_pairs.targets])  # words really are cut
    hypotheses = keras_s2s.translate(list(test_pairs.sources), model)
    exact = np.mean([h == t for h, t in zip(hypotheses, test_pairs.targets)])
    assert exact >= 0.9, list(zip(hypotheses, test_pairs.targets))[:5]
    path = tmp_path / "wordpiece.keras"
    model.save(path)
    reloaded = keras_s2s.load(path)
    assert reloaded.target_encoder.tokenization == "wordpiece"
    assert keras_s2s.translate(list(test_pairs.sources[:20]), reloaded) == hypotheses[:20]


@pytest.mark.slow
def test_wordpiece_export_serves_cold_with_tensorflow_text(wordpiece_model, tmp_path):
    model, test_pairs = wordpiece_model
    sources = list(test_pairs.sources[:10])
    version = keras_s2s.export(model, tmp_path / "wordpiece")
    served = serve_cold(version, sources)["translation"]
    assert served == keras_s2s.translate(sources, model, method="beam")


def test_vocabulary_fills_the_requested_size_and_keeps_every_character():
    # Many distinct words from a few syllables: far more candidate pieces than
    # the size asked for, so the vocabulary must come out exactly that size.
    rng = np.random.default_rng(0)
    syllables = ["ben", "di", "je", "ron", "hi", "jo", "is", "ra", "el", "luz", "ma", "ño"]
    words = {"".join(rng.choice(syllables, size=rng.integers(1, 5))): int(rng.integers(1, 50))
             for _ in range(3000)}
    vocabulary = Vocabulary.build(
        [" ".join([word] * count) for word, count in words.items()],
        lowercase=True, max_size=120, tokenization="wordpiece")
    assert len(vocabulary) == 120
    assert tuple(vocabulary.tokens[:4]) == RESERVED_TOKENS
    characters = {character for word in words for character in word}
    assert characters <= set(vocabulary.tokens)
    assert {"##" + character for character in characters} <= set(vocabulary.tokens)
    encoder = SentenceEncoder(vocabulary, lowercase=True, max_length=64,
                              tokenization="wordpiece")
    ids = encoder.encode(tf.constant(list(words)[:200])).flat_values.numpy()
    assert UNKNOWN_ID not in ids
