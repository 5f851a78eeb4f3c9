"""The training loss and the per-token metrics, all over real target tokens only.

Padding (`PAD_ID`) positions are left out everywhere: the course lab's loss and
accuracy averaged over padding too, which makes short sentences in long
batches look better than they are.

With label smoothing the loss is no longer the model's cross-entropy, so two
runs with different smoothing cannot be compared by their `loss`. The
`cross_entropy` and `perplexity` metrics are the plain (unsmoothed) numbers,
logged as `cross_entropy` / `val_cross_entropy` whatever the smoothing.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_s2s.text import PAD_ID
from keras_s2s.training_settings import check_label_smoothing  # noqa: F401  (its home)


def token_cross_entropy(target_ids, logits, label_smoothing: float = 0.0):
    """Cross-entropy of every target position against (smoothed) one-hot targets.

    The smoothed target puts `1 - label_smoothing` on the true token and
    spreads `label_smoothing` uniformly over the *whole* target vocabulary
    (the true token included), as `keras.losses.CategoricalCrossentropy(
    label_smoothing=...)` does; fairseq instead spreads it over the other
    tokens only. So, with V tokens and log-probabilities log p,

        loss = -(1 - s) * log p[true] - s * mean_v(log p[v])

    and since log p = logits - logsumexp(logits), without a softmax of size V:

        loss = logsumexp(logits) - (1 - s) * logits[true] - s * mean_v(logits).

    Args:
        target_ids: int `(batch, time)`; `PAD_ID` marks padding.
        logits: `(batch, time, vocabulary)`, any float type (computed in float32).
        label_smoothing: s in [0, 1).

    Returns:
        `(losses, real)`: float32 `(batch, time)` losses (0 at padding) and the
        float32 mask of real tokens.

    Example:
        >>> losses, real = token_cross_entropy([[4, 0]], tf.zeros([1, 2, 8]))
        >>> losses.numpy().round(3).tolist()  # log 8 at the real token
        [[2.079, 0.0]]
    """
    logits = tf.cast(logits, tf.float32)  # mixed precision: the softmax in float32
    target_ids = tf.cast(target_ids, tf.int32)
    log_normalizer = tf.reduce_logsumexp(logits, axis=-1)
    true_logit = tf.gather(logits, target_ids, batch_dims=2)
    losses = log_normalizer - (1.0 - label_smoothing) * true_logit
    if label_smoothing:
        losses -= label_smoothing * tf.reduce_mean(logits, axis=-1)
    real = tf.cast(tf.not_equal(target_ids, PAD_ID), tf.float32)
    return losses * real, real


@keras.saving.register_keras_serializable(package="keras_s2s")
class MaskedCrossEntropy(keras.losses.Loss):
    """Sparse cross-entropy from logits, label-smoothed, averaged over real tokens.

    The mean is over the real (non-padding) target tokens of the batch, like
    `SparseCategoricalCrossentropy(ignore_class=PAD_ID)`; the smoothing is
    described in `token_cross_entropy`.

    Args:
        label_smoothing: in [0, 1); 0 gives plain cross-entropy.
        name: the loss's name.

    Example:
        >>> model.compile(optimizer="adam", loss=MaskedCrossEntropy(label_smoothing=0.1))
    """

    def __init__(self, label_smoothing: float = 0.0, name: str = "masked_cross_entropy",
                 **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = check_label_smoothing(label_smoothing)

    def call(self, y_true, y_pred):
        losses, _ = token_cross_entropy(y_true, y_pred, self.label_smoothing)
        return losses

    def __call__(self, y_true, y_pred, sample_weight=None):
        # Keras' reduction divides by batch × time (padding included) unless
        # the losses carry a Keras mask, which only private API can attach:
        # average over the real tokens here instead.
        losses, real = token_cross_entropy(y_true, y_pred, self.label_smoothing)
        if sample_weight is not None:
            losses *= _broadcast_weights(sample_weight, losses)
        loss = tf.math.divide_no_nan(tf.reduce_sum(losses), tf.reduce_sum(real))
        # Keras sums every replica's gradients, so each replica's loss must be
        # divided by their number (what Keras does for its own mean losses).
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return loss / replicas if replicas > 1 else loss

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


def _broadcast_weights(sample_weight, losses):
    weights = tf.cast(sample_weight, losses.dtype)
    while weights.shape.rank < losses.shape.rank:  # per-sentence weights: (batch,) -> (batch, 1)
        weights = weights[..., None]
    return weights


def masked_loss(label_smoothing: float = 0.0) -> MaskedCrossEntropy:
    """The training loss: `MaskedCrossEntropy(label_smoothing)`.

    Example:
        >>> model.compile(optimizer="adam", loss=masked_loss(label_smoothing=0.1))
    """
    return MaskedCrossEntropy(label_smoothing=label_smoothing)


@keras.saving.register_keras_serializable(package="keras_s2s")
class MaskedAccuracy(keras.metrics.Mean):
    """Token accuracy over real target tokens only (padding positions ignored).

    Example:
        >>> model.compile(optimizer="adam", loss=masked_loss(), metrics=[MaskedAccuracy()])
    """

    def __init__(self, name="masked_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = tf.cast(y_true, tf.int32)
        predicted = tf.argmax(y_pred, axis=-1, output_type=tf.int32)
        mask = tf.not_equal(y_true, PAD_ID)
        correct = tf.cast(tf.equal(predicted, y_true), self.dtype)
        return super().update_state(correct, sample_weight=tf.cast(mask, self.dtype))


@keras.saving.register_keras_serializable(package="keras_s2s")
class CrossEntropy(keras.metrics.Mean):
    """Plain (unsmoothed) cross-entropy per real target token, in nats.

    Averaged over every real token the metric has seen (the whole epoch), not
    per batch, so long and short batches count by their tokens.

    Example:
        >>> model.compile(optimizer="adam", loss=masked_loss(0.1),
        ...               metrics=[CrossEntropy(), Perplexity()])
    """

    def __init__(self, name="cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        losses, real = token_cross_entropy(y_true, y_pred)
        return super().update_state(losses, sample_weight=tf.cast(real, self.dtype))


@keras.saving.register_keras_serializable(package="keras_s2s")
class Perplexity(CrossEntropy):
    """exp(cross-entropy per real target token), over everything seen.

    The exponential of the token average, not an average of per-batch
    perplexities (which would weigh the worst batches more).

    Example:
        >>> metric = Perplexity()
        >>> metric.update_state([[4, 0]], tf.zeros([1, 2, 8]))
        >>> round(float(metric.result()), 3)  # uniform over 8 tokens
        8.0
    """

    def __init__(self, name="perplexity", **kwargs):
        super().__init__(name=name, **kwargs)

    def result(self):
        return tf.exp(super().result())
