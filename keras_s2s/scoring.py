"""How probable is *this* translation? `keras_s2s.score(sources, targets, model)`.

Forced decoding: one teacher-forced pass of the training model over each
(source, target) pair gives the log-probability of every target token, the
end token included, batched. Uses: reranking n-best lists, filtering noisy
pairs, checking a human translation.

    source ─► encoder ─┐
    [START] t1 t2 ─────┴► decoder ─► log p(t1), log p(t2), log p([END])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import tensorflow as tf

from keras_s2s.decoding import checks
from keras_s2s.decoding.finished import length_penalty_of
from keras_s2s.text import END_ID, PAD_ID, START_ID
from keras_s2s.translation_graph import _NotSaved, encoder_ids, serving_variables


class PairScore(NamedTuple):
    """One pair's score.

    log_prob: the summed log-probability of the target's tokens and the end token.
    token_log_probs: one per target token, then the end token's.
    score: `log_prob` divided by the GNMT length penalty
        `((5 + length) / 6) ** length_penalty`, as beam search ranks hypotheses.
    """

    log_prob: float
    token_log_probs: list[float]
    score: float


class PairScorer(tf.Module):
    """The scoring graph: `(source string[batch], target string[batch])` ->
    `log_prob`, `score` float32 `[batch]`, `token_log_probs` float32
    `[batch, time]` (0 after each row's end token) and `length` int32 `[batch]`.

    Targets are cut to `max_target_length - 1` tokens, so that with the end
    token they fit what the model can generate.
    """

    def __init__(self, model, *, length_penalty: float = 0.6):
        super().__init__(name="pair_scorer")
        checks.check_length_penalty(length_penalty)
        self._model = _NotSaved(model)
        self.model_variables = serving_variables(model)
        self.length_penalty = float(length_penalty)

    def __call__(self, source, target):
        model = self._model.value
        source_ids = encoder_ids(model.source_encoder.encode(source))
        target_ids = model.target_encoder.encode(target)[:, : model.target_encoder.max_length - 1]
        with_end = tf.concat([target_ids, tf.fill([target_ids.nrows(), 1], END_ID)], axis=1)
        labels = with_end.to_tensor(PAD_ID)  # (batch, time)
        decoder_ids = tf.concat([tf.fill([tf.shape(labels)[0], 1], START_ID), labels[:, :-1]],
                                axis=1)
        logits = model.training_model([source_ids, decoder_ids], training=False)
        log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32))  # (batch, time, vocab)
        token_log_probs = tf.gather(log_probs, labels, batch_dims=2)  # (batch, time)
        token_log_probs = tf.where(tf.not_equal(labels, PAD_ID), token_log_probs, 0.0)
        lengths = tf.cast(with_end.row_lengths(), tf.int32)
        total = tf.reduce_sum(token_log_probs, axis=1)
        return {"log_prob": total, "score": total / length_penalty_of(lengths,
                                                                      self.length_penalty),
                "token_log_probs": token_log_probs, "length": lengths}


def _check_pairs(sources, targets):
    from keras_s2s.translation import _check_texts

    sources, single = _check_texts(sources)
    targets, single_target = _check_texts(targets)
    if single != single_target or len(sources) != len(targets):
        raise ValueError(f"sources and targets must pair up: got {len(sources)} source(s) and "
                         f"{len(targets)} target(s).")
    return sources, targets, single


def score(sources, targets, model=None, *, length_penalty: float = 0.6,
          batch_size: int = 64):
    """Scores given translations: how probable each target is, given its source.

    Args:
        sources, targets: a string each, or two lists of strings of the same length.
        model: a model, a `.keras` path, or an export (its `score` signature);
            default: as `keras_s2s.translate`.
        length_penalty: GNMT alpha of the normalised `score` (beam search's
            default, so a beam hypothesis scores here as beam search ranked it).
        batch_size: pairs per teacher-forced pass.

    Returns:
        A `PairScore` (for single strings) or a list of them.

    Example:
        >>> keras_s2s.score("¿Dónde está?", "Where is it?", model).log_prob
        -2.31
    """
    from keras_s2s.saving import model_from
    from keras_s2s.translation import _default_model_path

    sources, targets, single = _check_pairs(sources, targets)
    checks.check_positive_integer("batch_size", batch_size)
    model = model_from(model if model is not None else _default_model_path())
    if hasattr(model, "training_model"):
        scorer = tf.function(PairScorer(model, length_penalty=length_penalty).__call__)
    else:  # an export: its `score` signature, with the length penalty it was exported with
        exported = model.info.signatures.get("score", {}).get("length_penalty")
        if exported is not None and exported != length_penalty:
            raise ValueError(f"{model.path} scores with length_penalty={exported}; "
                             f"got length_penalty={length_penalty}.")
        scorer = model.score
    results = []
    for start in range(0, len(sources), batch_size):
        outputs = scorer(tf.constant(sources[start : start + batch_size], tf.string),
                         tf.constant(targets[start : start + batch_size], tf.string))
        outputs = {key: np.asarray(value) for key, value in outputs.items()}
        for row, length in enumerate(outputs["length"]):
            results.append(PairScore(float(outputs["log_prob"][row]),
                                     outputs["token_log_probs"][row, :length].tolist(),
                                     float(outputs["score"][row])))
    return results[0] if single else results
