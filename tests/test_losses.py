"""The label-smoothed masked loss and the per-token cross-entropy / perplexity metrics."""

import keras
import numpy as np
import pytest

from keras_s2s.losses import (
    CrossEntropy,
    MaskedAccuracy,
    MaskedCrossEntropy,
    Perplexity,
    masked_loss,
)
from keras_s2s.text import END_ID, PAD_ID

VOCABULARY = 5


def log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def smoothed_by_hand(targets, logits, smoothing):
    """-sum_v q(v) log p(v) per real token, q = (1 - s) one-hot + s / V, averaged."""
    log_probabilities = log_softmax(logits.astype("float64"))
    losses = []
    for row, column in zip(*np.nonzero(targets != PAD_ID)):
        target_distribution = np.full(VOCABULARY, smoothing / VOCABULARY)
        target_distribution[targets[row, column]] += 1 - smoothing
        losses.append(-(target_distribution * log_probabilities[row, column]).sum())
    return np.mean(losses)


@pytest.fixture()
def batch():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, VOCABULARY)).astype("float32")
    targets = np.array([[4, 3, END_ID], [4, END_ID, PAD_ID]], dtype="int32")
    return targets, logits


@pytest.mark.parametrize("smoothing", [0.0, 0.1, 0.3])
def test_smoothed_loss_is_the_hand_computed_mean_over_real_tokens(batch, smoothing):
    targets, logits = batch
    expected = smoothed_by_hand(targets, logits, smoothing)
    loss = masked_loss(label_smoothing=smoothing)
    assert float(loss(targets, logits)) == pytest.approx(expected, rel=1e-6)
    # Extra padding positions with huge, random logits change nothing.
    rng = np.random.default_rng(1)
    padded_logits = np.concatenate([logits, 1e3 * rng.normal(size=(2, 2, VOCABULARY))], axis=1)
    padded_targets = np.pad(targets, [[0, 0], [0, 2]])
    assert float(loss(padded_targets, padded_logits)) == pytest.approx(expected, rel=1e-6)


def test_smoothing_follows_keras_categorical_crossentropy(batch):
    """Mass spread over the whole vocabulary, true token included (Keras' convention)."""
    targets, logits = batch
    real = targets != PAD_ID
    keras_loss = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.2)
    expected = float(keras_loss(np.eye(VOCABULARY)[targets[real]], logits[real]))
    assert float(masked_loss(0.2)(targets, logits)) == pytest.approx(expected, rel=1e-6)


def test_smoothing_raises_the_loss_of_a_confident_right_answer():
    targets = np.array([[4]])
    confident = np.array([[[0, 0, 0, 0, 20.0]]], dtype="float32")
    assert float(masked_loss(0.0)(targets, confident)) < 1e-6
    # Smoothing wants mass on the other tokens too: about s·(V-1)/V·20 = 3.2.
    assert float(masked_loss(0.2)(targets, confident)) > 3.0


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, float("nan"), True, "0.1", None])
def test_label_smoothing_outside_zero_one_is_refused(bad):
    with pytest.raises(ValueError, match=r"label_smoothing must be a number in \[0, 1\)"):
        masked_loss(label_smoothing=bad)


def test_cross_entropy_and_perplexity_average_over_the_tokens_of_all_batches(batch):
    targets, logits = batch
    short_targets = np.array([[3, PAD_ID, PAD_ID]], dtype="int32")  # 1 real token, not 5
    short_logits = np.random.default_rng(2).normal(size=(1, 3, VOCABULARY)).astype("float32")
    all_targets = np.concatenate([targets, short_targets])
    all_logits = np.concatenate([logits, short_logits])
    per_token = -np.take_along_axis(log_softmax(all_logits.astype("float64")),
                                    all_targets[..., None], axis=-1)[..., 0]
    expected = per_token[all_targets != PAD_ID].mean()  # 6 tokens, each counted once
    cross_entropy, perplexity = CrossEntropy(), Perplexity()
    for metric in (cross_entropy, perplexity):
        metric.update_state(targets, logits)
        metric.update_state(short_targets, short_logits)
    assert float(cross_entropy.result()) == pytest.approx(expected, rel=1e-6)
    assert float(perplexity.result()) == pytest.approx(np.exp(expected), rel=1e-6)
    # The metric ignores smoothing: it is the loss at label_smoothing=0.
    assert float(masked_loss(0.0)(all_targets, all_logits)) == pytest.approx(expected, rel=1e-6)


def test_loss_and_metrics_serialize_under_their_registered_names():
    # Old .keras files name the accuracy "keras_s2s>MaskedAccuracy"; it must still resolve.
    assert keras.saving.get_registered_name(MaskedAccuracy) == "keras_s2s>MaskedAccuracy"
    for original in (MaskedCrossEntropy(label_smoothing=0.1), Perplexity(), CrossEntropy()):
        copy = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(original))
        assert type(copy) is type(original) and copy.get_config() == original.get_config()
    assert MaskedCrossEntropy(label_smoothing=0.1).get_config()["label_smoothing"] == 0.1
