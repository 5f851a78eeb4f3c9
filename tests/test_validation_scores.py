"""val_bleu / val_chrf during training: logged, equal to sacrebleu, and watchable."""

import contextlib
import io

import keras
import numpy as np
import pytest
import sacrebleu

import keras_s2s
from keras_s2s.data import synthetic_pairs
from keras_s2s.validation_scores import ValidationScores, sample_indices

# The course's GRU on words (the recipe's default model is tested on its own).
TINY = dict(architecture="gru", tokenization="word",
            embedding_dim=16, hidden_dim=32, max_source_length=8, max_target_length=8)


@pytest.fixture(scope="module")
def bleu_run(tmp_path_factory):
    """4 epochs of a tiny GRU whose best checkpoint and early stopping watch val_bleu
    (no averaging: the model ends on the best epoch)."""
    checkpoint = tmp_path_factory.mktemp("bleu") / "best.keras"
    pairs, validation = synthetic_pairs(600, seed=1), synthetic_pairs(80, seed=3)
    keras.utils.set_random_seed(0)
    model = keras_s2s.build_model(pairs, **TINY)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        history = keras_s2s.train(model, pairs, validation, epochs=4, batch_size=16,
                                  learning_rate=1e-2, monitor="val_bleu", average_last=0,
                                  early_stopping_patience=3, checkpoint_path=checkpoint,
                                  verbose=2)
    return model, validation, history.history, checkpoint, output.getvalue()


def corpus_bleu(model, pairs):
    translations = keras_s2s.translate(list(pairs.sources), model)
    return sacrebleu.corpus_bleu(translations, [list(pairs.targets)]).score


def test_val_bleu_and_chrf_are_in_history_and_the_progress_output(bleu_run):
    _, _, history, _, output = bleu_run
    assert len(history["val_bleu"]) == len(history["val_chrf"]) == len(history["loss"]) == 4
    assert all(0 <= score <= 100 for score in history["val_bleu"] + history["val_chrf"])
    assert output.count("val_bleu: ") == 4 and output.count("val_chrf: ") == 4


def test_the_best_checkpoint_and_restored_weights_are_the_best_bleu_epoch(bleu_run):
    model, validation, history, checkpoint, _ = bleu_run
    scores = history["val_bleu"]
    assert max(scores) > min(scores) and max(scores) > 5  # it learns; epochs differ
    # Recomputed with sacrebleu on the same sentences: the model ends on the
    # best epoch (mode max, not Keras' "auto", which would pick min for bleu).
    assert corpus_bleu(model, validation) == pytest.approx(max(scores), abs=1e-9)
    assert corpus_bleu(keras_s2s.load(checkpoint), validation) == pytest.approx(max(scores),
                                                                                abs=1e-9)


def test_scores_every_n_epochs_on_an_even_sample(tmp_path):
    pairs, validation = synthetic_pairs(200, seed=1), synthetic_pairs(30, seed=3)
    model = keras_s2s.build_model(pairs, **TINY)
    history = keras_s2s.train(model, pairs, validation, epochs=2, batch_size=32,
                              validation_bleu_every=2, validation_bleu_sample_size=10,
                              early_stopping_patience=0, verbose=0)
    assert len(history.history["val_bleu"]) == 1  # logged at epoch 2 only
    scores = ValidationScores(validation, sample_size=10)
    assert scores.sources == [validation.sources[i] for i in sample_indices(30, 10)]
    scores.set_model(model)
    logs = {}
    scores.on_epoch_end(1, logs)
    expected = sacrebleu.corpus_bleu(keras_s2s.translate(scores.sources, model),
                                     [scores.references]).score
    assert logs["val_bleu"] == pytest.approx(history.history["val_bleu"][0]) \
        == pytest.approx(expected)


def test_sample_indices_spread_over_the_whole_split():
    assert sample_indices(10, 4) == [0, 3, 6, 9]
    assert sample_indices(3, 500) == [0, 1, 2]
    indices = sample_indices(10_000, 500)
    assert len(set(indices)) == 500 and indices[-1] == 9_999
    assert np.ptp(np.diff(indices)) <= 1  # evenly spaced


@pytest.mark.parametrize("options, message", [
    (dict(monitor="val_bleu"), "monitor='val_bleu' needs validation data"),
    (dict(monitor="val_chrf"), "monitor='val_chrf' needs validation data"),
    (dict(validation_bleu_every=2), "validation_bleu_every=2 needs validation data"),
])
def test_bleu_without_validation_data_is_an_error_naming_the_option(options, message):
    pairs = synthetic_pairs(50, seed=1)
    model = keras_s2s.build_model(pairs, **TINY)
    with pytest.raises(ValueError, match=message):
        keras_s2s.train(model, pairs, epochs=1, verbose=0, **options)
    assert not model.compiled  # refused before anything was built or trained
