"""KerasHub's samplers driving our model's `decode_step`, and one scorer for
every search's output, so their results and ours can be compared.

KerasHub's samplers (`keras_hub.samplers.GreedySampler`, `BeamSampler`) fill a
fixed-width `prompt` of token ids in a `while_loop`, calling

    next(prompt, cache, index) -> (logits (batch, vocab), hidden_states, cache)

for the token at position `index`; the prompt's first `index` positions are
given (here: `[START]` alone), and `cache` is any nest of batch-first tensors
(here: our decoder state, which `BeamSampler` repeats per beam and reorders
as beams move). Differences from our search that show up in the results:

- a row stops only when every row (every beam of every row, for beam search)
  holds `[END]`; finished rows and beams keep being extended;
- `BeamSampler` keeps no separate set of finished hypotheses: an ended beam
  stays in the beam and keeps adding (garbage) tokens' log-probabilities, and
  the final pick is the beam with the highest total, tokens after `[END]`
  included. Ours retires a beam at `[END]` and ranks the finished ones.

Example:
    >>> search = keras_hub_search(model, keras_hub.samplers.BeamSampler(num_beams=4), 40)
    >>> ids = search(encoder_token_ids)  # (batch, 40), cut them at [END]
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from keras_s2s import decoding
from keras_s2s.text import END_ID, PAD_ID, START_ID


def encoder_ids(model, sentences) -> tf.Tensor:
    """Sentences -> padded encoder ids `(batch, source + 1)`, as our Translator pads them."""
    ragged = model.source_encoder.encode(tf.constant(list(sentences)))
    return tf.pad(ragged.to_tensor(default_value=PAD_ID), [[0, 0], [0, 1]])


def our_search(model, beam_width: int, max_length: int):
    """Our greedy (`beam_width=1`) or beam search (length penalty 0) in the same
    form as `keras_hub_search`: encoder ids -> best ids `(batch, max_length)`."""

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)])
    def search(encoder_token_ids):
        state = model.initial_state(encoder_token_ids)
        common = dict(start_id=START_ID, end_id=END_ID, max_length=max_length)
        if beam_width == 1:
            return decoding.greedy_search(model.decode_step, state, **common).ids
        return decoding.beam_search(model.decode_step, state, beam_width=beam_width,
                                    length_penalty=0.0, **common).ids[:, 0]

    return search


def decode_step_as_next(model):
    """Our `decode_step` in KerasHub's `next(prompt, cache, index)` form.

    Args:
        model: a `keras_s2s` model; `cache` is its decoder state (a tuple).

    Returns:
        `next(prompt, cache, index) -> (logits float32 (batch, vocab), None, new cache)`:
        KerasHub ignores the hidden states, and our step has none to give.

    Example:
        >>> keras_hub.samplers.GreedySampler()(decode_step_as_next(model), prompt,
        ...     cache=model.initial_state(encoder_ids), index=1, mask=given)
    """

    def next_logits(prompt, cache, index):
        # The sampler asks for position `index`; its input is the token before it.
        token_ids = tf.cast(prompt[:, index - 1], tf.int32)
        logits, state = model.decode_step(token_ids, tuple(cache))
        return tf.cast(logits, tf.float32), None, state

    return next_logits


def keras_hub_search(model, sampler, max_length: int):
    """A `tf.function`: encoder ids `(batch, source)` -> generated ids `(batch, max_length)`.

    Args:
        model: a `keras_s2s` model (its `initial_state` and `decode_step`).
        sampler: a `keras_hub.samplers.Sampler` (e.g. `GreedySampler()`).
        max_length: generated tokens at most (the prompt is one wider, for [START]).

    Example:
        >>> search = keras_hub_search(model, keras_hub.samplers.GreedySampler(), 40)
        >>> cut_at_end(search(encoder_ids(model, ["¿Dónde está?"])).numpy())
    """
    next_logits = decode_step_as_next(model)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)])
    def search(encoder_token_ids):
        state = model.initial_state(encoder_token_ids)
        batch = tf.shape(encoder_token_ids)[0]
        prompt = tf.concat([tf.fill([batch, 1], START_ID),
                            tf.fill([batch, max_length], PAD_ID)], axis=1)
        given = tf.concat([tf.ones([batch, 1], tf.bool),
                           tf.zeros([batch, max_length], tf.bool)], axis=1)
        prompt = sampler(next_logits, prompt, cache=state, index=1, mask=given,
                         stop_token_ids=[END_ID])
        return prompt[:, 1:]

    return search


def cut_at_end(ids: np.ndarray) -> list[list[int]]:
    """Each row's tokens up to and including its first `[END]` (all, if none)."""
    rows = []
    for row in np.asarray(ids):
        ends = np.flatnonzero(row == END_ID)
        rows.append(row[: ends[0] + 1].tolist() if len(ends) else row.tolist())
    return rows


def sequence_log_probs(model, encoder_token_ids, hypotheses: list[list[int]]) -> np.ndarray:
    """Teacher-forced log-probability of each hypothesis (tokens after [START]).

    One scorer for every search: the same numbers whichever loop produced the
    tokens, so a lower value means the search really found a less likely
    translation.

    Args:
        model: the model whose `training_model` scores (teacher forcing).
        encoder_token_ids: `(batch, source)` ids, as the searches were given.
        hypotheses: per row, generated ids (from `cut_at_end`).

    Example:
        >>> sequence_log_probs(model, inputs, cut_at_end(search(inputs).numpy()))
        array([-4.1, -7.9, ...], dtype=float32)
    """
    width = max(len(h) for h in hypotheses)
    targets = np.full([len(hypotheses), width], PAD_ID, np.int32)
    for row, hypothesis in enumerate(hypotheses):
        targets[row, : len(hypothesis)] = hypothesis
    decoder_ids = np.concatenate([np.full([len(hypotheses), 1], START_ID, np.int32),
                                  targets[:, :-1]], axis=1)
    logits = model.training_model([tf.convert_to_tensor(encoder_token_ids),
                                   tf.convert_to_tensor(decoder_ids)], training=False)
    log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32)).numpy()
    chosen = np.take_along_axis(log_probs, targets[:, :, None], axis=2)[:, :, 0]
    real = np.arange(width)[None, :] < np.array([len(h) for h in hypotheses])[:, None]
    return np.where(real, chosen, 0.0).sum(axis=1)
