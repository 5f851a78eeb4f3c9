"""Strings in, strings out, all in the TF graph: the piece `translate` runs and
`export` saves.

    text ─► normalise + tokenise + lookup ─► encoder_model ─► search over
    decoder_model steps ─► ids ─► tokens ─► detokenise ─► translation
"""

from __future__ import annotations

import tensorflow as tf

from keras_s2s import decoding
from keras_s2s.text import END_ID, PAD_ID, START_ID

METHODS = ("greedy", "beam", "sample")


def default_max_lengths(source_lengths: tf.Tensor, model_limit: int) -> tf.Tensor:
    """Each translation may run to twice its own source's length plus 10
    tokens, and never past the model's `max_target_length`.

    Per row, not per batch, so a sentence gets the same translation alone as
    in any batch, and the search stops paying for a short sentence's beams
    once they cannot improve within its own limit.
    """
    return tf.minimum(tf.cast(2 * source_lengths + 10, tf.int32), model_limit)


def serving_variables(model) -> list[tf.Variable]:
    """The `tf.Variable`s under the model's Keras variables, to track in a SavedModel.

    Not the Keras variables themselves: on export, a Keras 3 variable writes a
    *new* `tf.Variable` initialised from its own (`_export_to_saved_model_graph`),
    and the checkpoint names that copy, while the traced graph reads the
    original. `tf.saved_model.load` copes (it restores through the object
    graph), but TF Serving's C++ `LoadSavedModel` runs the saver's restore op
    into the copy, and every signature then fails with "Could not find variable
    ..." (keras-team/keras#20095, #19274; tensorflow/tensorflow#72963;
    tensorflow/serving#2250). Tracking the underlying variables gives one
    variable, restored and read alike.
    """
    return [variable.value for variable in model.variables]


class _NotSaved:
    """Holds an object without making it part of a `tf.Module`'s saved tree."""

    def __init__(self, value):
        self.value = value


class Translator(tf.Module):
    """A model plus a fixed decoding method, callable on `tf.string[batch]`.

    Args:
        model: a `keras_s2s.models.Seq2Seq`.
        method: `"greedy"`, `"beam"` or `"sample"`.
        beam_width, length_penalty, num_results: beam search settings.
        temperature, top_k, seed: sampling settings.
        max_length: fixed maximum translation length in tokens, capped by the
            model's `max_target_length`; `None` means `default_max_lengths`
            (twice each source's length plus 10, per sentence).

    Calling it returns a dict: `translation` (`string[batch]`, or
    `string[batch, num_results]` when `num_results > 1`), `score` (same shape:
    the length-normalised log-probability for beam search, the summed
    log-probability otherwise) and `length` (tokens, end token included).
    """

    def __init__(
        self,
        model,
        *,
        method: str = "greedy",
        beam_width: int = 4,
        length_penalty: float = 0.6,
        num_results: int = 1,
        temperature: float = 1.0,
        top_k: int = 0,
        seed: int | None = None,
        max_length: int | None = None,
    ):
        super().__init__(name=f"{method}_translator")
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
        if num_results != 1 and method != "beam":
            raise ValueError(
                f"num_results={num_results} needs method='beam' (got method={method!r})."
            )
        if max_length is not None and (not isinstance(max_length, int) or max_length < 1):
            raise ValueError(f"max_length must be a positive integer or None, got {max_length!r}.")
        # Track the model's variables, not the Keras model itself: the model
        # object would drag its optimizer's slots (2x the weights for Adam) into
        # every SavedModel.
        self._model = _NotSaved(model)
        self.model_variables = serving_variables(model)
        self.method = method
        self.options = dict(
            beam_width=beam_width, length_penalty=length_penalty, num_results=num_results,
            temperature=temperature, top_k=top_k, seed=seed,
        )
        self.max_length = max_length
        self._validate_search_options()

    def _validate_search_options(self):
        # Run the search functions' own argument checks now, at construction,
        # rather than at first call inside a traced graph.
        o = self.options
        if self.method == "beam":
            decoding.validate_beam_arguments(
                beam_width=o["beam_width"], num_results=o["num_results"],
                length_penalty=o["length_penalty"],
            )
        elif self.method == "sample":
            decoding.validate_sampling_arguments(temperature=o["temperature"], top_k=o["top_k"])

    @property
    def model(self):
        return self._model.value

    def search(self, text):
        """`tf.string[batch]` -> dict of token `ids` `(batch, num_results, time)`,
        `scores` and `lengths` `(batch, num_results)`, and `source_lengths`.

        The decoding half of `__call__`, without detokenising; a plain method
        (not a `tf.function`) so exports do not carry it.
        """
        model = self.model
        source = model.source_encoder.encode(text)
        source_lengths = tf.cast(source.row_lengths(), tf.int32)
        # One extra padding column keeps the time axis >= 1 even when every
        # input is empty; padding is masked, so it changes nothing else.
        encoder_token_ids = tf.pad(source.to_tensor(default_value=PAD_ID), [[0, 0], [0, 1]])
        state = model.initial_state(encoder_token_ids)
        if self.max_length is not None:
            # Never past the model's own limit (a Transformer's key/value cache
            # holds max_target_length positions; the RNNs document the same cap).
            max_length = min(self.max_length, model.target_encoder.max_length)
            max_lengths = None
        else:
            max_lengths = default_max_lengths(source_lengths, model.target_encoder.max_length)
            # The output buffer's width: the longest row limit (at least 1).
            max_length = tf.reduce_max(tf.concat([max_lengths, [1]], axis=0))
        common = dict(start_id=START_ID, end_id=END_ID, max_length=max_length,
                      max_lengths=max_lengths, pad_id=PAD_ID)
        o = self.options
        if self.method == "beam":
            result = decoding.beam_search(
                model.decode_step, state, beam_width=o["beam_width"],
                length_penalty=o["length_penalty"], num_results=o["num_results"], **common,
            )
            ids, scores, lengths = result.ids, result.scores, result.lengths
        else:
            if self.method == "greedy":
                result = decoding.greedy_search(model.decode_step, state, **common)
            else:
                result = decoding.sample(
                    model.decode_step, state, temperature=o["temperature"],
                    top_k=o["top_k"], seed=o["seed"], **common,
                )
            # Same layout as beam search: (batch, num_results=1, time).
            ids, scores = result.ids[:, None, :], result.log_probs[:, None]
            lengths = result.lengths[:, None]
        return {"ids": ids, "scores": scores, "lengths": lengths,
                "source_lengths": source_lengths}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def __call__(self, text):
        found = self.search(text)
        ids, scores, lengths = found["ids"], found["scores"], found["lengths"]
        model, o = self.model, self.options
        batch = tf.shape(ids)[0]
        num_results = tf.shape(ids)[1]
        flat_ids = tf.reshape(ids, [batch * num_results, -1])  # (batch * results, time)
        translations = tf.reshape(model.target_encoder.decode(flat_ids), [batch, num_results])
        # An empty input means nothing to translate: empty output, score 0.
        is_empty = tf.equal(found["source_lengths"], 0)[:, None]
        translations = tf.where(is_empty, tf.constant(""), translations)
        scores = tf.where(is_empty, tf.zeros_like(scores), scores)
        lengths = tf.where(is_empty, tf.zeros_like(lengths), lengths)
        if o["num_results"] == 1:
            translations, scores, lengths = translations[:, 0], scores[:, 0], lengths[:, 0]
        return {"translation": translations, "score": scores, "length": lengths}
