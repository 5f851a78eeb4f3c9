"""Strings in, strings out, all in the TF graph: the piece `translate` runs and
`export` saves.

    text ─► normalise + tokenise + lookup ─► encoder_model ─► search over
    decoder_model steps ─► ids ─► tokens ─► detokenise ─► translation
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_s2s import decoding
from keras_s2s.decoding.controls import Controls
from keras_s2s.decoding.settings import DecodingSettings
from keras_s2s.subwords import SUFFIX_MARKER
from keras_s2s.text import END_ID, PAD_ID, START_ID
from keras_s2s.unknown_words import copied_unknown_words, unknown_word_mode


def default_max_lengths(source_lengths: tf.Tensor, model_limit: int) -> tf.Tensor:
    """Each translation may run to twice its own source's length plus 10
    tokens, and never past the model's `max_target_length`.

    Per row, not per batch, so a sentence gets the same translation alone as
    in any batch, and the search stops paying for a short sentence's beams
    once they cannot improve within its own limit.
    """
    return tf.minimum(tf.cast(2 * source_lengths + 10, tf.int32), model_limit)


def encoder_ids(source: tf.RaggedTensor) -> tf.Tensor:
    """Source ids `(batch, time)`, padded with `PAD_ID` to the longest row.

    The time axis is at least 1, even when every input is empty: then, and
    only then, one padding column (each decoding step attends over every column).
    """
    ids = source.to_tensor(default_value=PAD_ID)
    return tf.pad(ids, [[0, 0], [0, tf.maximum(1 - tf.shape(ids)[1], 0)]])


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
    """A model plus fixed decoding settings, callable on `tf.string[batch]`.

    Args:
        model: a `keras_s2s.models.Seq2Seq`.
        decoding: a `keras_s2s.decoding.DecodingSettings` (default: greedy);
            or its fields as keyword arguments.

    Calling it returns a dict: `translation` (`string[batch]`, or
    `string[batch, num_results]` when `num_results > 1`), `score` (same shape:
    the length-normalised log-probability for beam search, the summed
    log-probability otherwise) and `length` (tokens, end token included).
    `with_prefix(text, prefix)` does the same with each translation forced to
    start with its prefix; `translate(text, prefix=None, seed=None)` is the
    plain (untraced) method behind both, for other graphs (the export) to call.

    Example:
        >>> translator = Translator(model, method="beam", beam_width=4)
        >>> translator(tf.constant(["¿Dónde está?"]))["translation"]
    """

    def __init__(self, model, decoding: DecodingSettings | None = None, **decoding_options):
        self.decoding = DecodingSettings.from_options(decoding, **decoding_options)
        super().__init__(name=f"{self.decoding.method}_translator")
        self.unknown_words = unknown_word_mode(model, self.decoding.replace_unknown)
        # Track the model's variables, not the Keras model itself: the model
        # object would drag its optimizer's slots (2x the weights for Adam) into
        # every SavedModel.
        self._model = _NotSaved(model)
        self.model_variables = serving_variables(model)
        # The XLA-compiled search (Python only: `export` refuses jit_compile).
        self._compiled_search = _NotSaved(
            tf.function(self._search_ids, jit_compile=True) if self.decoding.jit_compile
            else None)

    @property
    def model(self):
        return self._model.value

    def _length_limits(self, source_lengths, prefix_lengths):
        """(buffer width, per-row limits or None), never past the model's limit.

        Under `jit_compile` the width is a Python int (XLA compiles per shape):
        the widest any row's limit may be; each row still stops at its own.
        """
        model_limit = self.model.target_encoder.max_length
        if self.decoding.max_length is not None:
            # A Transformer's key/value cache holds max_target_length positions;
            # the RNNs document the same cap.
            return min(self.decoding.max_length, model_limit), None
        # A forced prefix does not eat into the continuation's budget.
        max_lengths = tf.minimum(default_max_lengths(source_lengths, model_limit)
                                 + prefix_lengths, model_limit)
        if self.decoding.jit_compile:
            return model_limit, max_lengths
        # The output buffer's width: the longest row limit (at least 1).
        return tf.reduce_max(tf.concat([max_lengths, [1]], axis=0)), max_lengths

    def _controls(self, batch, prefix):
        settings = self.decoding
        # The automatic n-gram ban depends on the model's tokenization.
        settings = settings.for_tokenization(self.model.target_encoder.tokenization)
        controls = Controls(min_lengths=tf.fill([batch], settings.min_length),
                            no_repeat_ngram_size=settings.no_repeat_ngram_size,
                            repetition_penalty=settings.repetition_penalty,
                            word_starts=self._word_starts())
        if prefix is None:
            return controls, tf.zeros([batch], tf.int32)
        prefix_ids = self.model.target_encoder.encode(prefix)
        prefix_lengths = tf.cast(prefix_ids.row_lengths(), tf.int32)
        controls = controls._replace(
            prefix_ids=tf.pad(prefix_ids.to_tensor(PAD_ID), [[0, 0], [0, 1]]),
            prefix_lengths=prefix_lengths,
            # The minimum counts the continuation too.
            min_lengths=controls.min_lengths + prefix_lengths)
        return controls, prefix_lengths

    def _word_starts(self):
        """bool `(vocab,)` for subword targets: False for pieces that continue a
        word, so the n-gram ban leaves a word's own pieces alone; None for words."""
        if self.model.target_encoder.tokenization == "word":
            return None
        return tf.constant([not token.startswith(SUFFIX_MARKER)
                            for token in self.model.target_vocabulary])

    def search(self, text, prefix=None, seed=None):
        """`tf.string[batch]` -> dict of token `ids` `(batch, num_results, time)`,
        `scores` and `lengths` `(batch, num_results)`, `source_lengths` and the
        `encoder_token_ids` the search read. The decoding half of `translate`."""
        model, settings = self.model, self.decoding
        source = model.source_encoder.encode(text)
        source_lengths = tf.cast(source.row_lengths(), tf.int32)
        encoder_token_ids = encoder_ids(source)
        controls, prefix_lengths = self._controls(tf.shape(source_lengths)[0], prefix)
        max_length, max_lengths = self._length_limits(source_lengths, prefix_lengths)
        seed = settings.seed if seed is None else seed
        search_ids = self._search_ids
        if settings.jit_compile:
            # XLA compiles once per shape: sources are padded up to a multiple of 8
            # tokens (a bucket); the output width is static (_length_limits).
            width = tf.shape(encoder_token_ids)[1]
            encoder_token_ids = tf.pad(encoder_token_ids, [[0, 0], [0, -width % 8]])
            search_ids = self._compiled_search.value
        ids, scores, lengths = search_ids(encoder_token_ids, max_length, max_lengths, controls,
                                          seed)
        return {"ids": ids, "scores": scores, "lengths": lengths,
                "source_lengths": source_lengths, "encoder_token_ids": encoder_token_ids}

    def _search_ids(self, encoder_token_ids, max_length, max_lengths, controls, seed):
        """Encoder, then the settings' search: `(ids (batch, results, time),
        scores, lengths (batch, results))`."""
        model = self.model
        common = dict(start_id=START_ID, end_id=END_ID, max_length=max_length,
                      max_lengths=max_lengths, pad_id=PAD_ID, controls=controls)
        # Each weight is read once, here, not once per step: in this scope every
        # Keras variable stands for the tensor read now, which the search's while
        # loop carries as a loop invariant (74 fewer ops per Transformer step).
        read_once = [(v, tf.convert_to_tensor(v.value)) for v in model.weights]
        with keras.StatelessScope(state_mapping=read_once):
            return self._search_in_scope(encoder_token_ids, common, seed)

    def _search_in_scope(self, encoder_token_ids, common, seed):
        model, settings = self.model, self.decoding
        state = model.initial_state(encoder_token_ids)
        step = model.decoding_step()
        if settings.method == "beam":
            result = decoding.beam_search(
                step, state, beam_width=settings.beam_width,
                length_penalty=settings.length_penalty, num_results=settings.num_results,
                **common)
            ids, scores, lengths = result.ids, result.scores, result.lengths
        else:
            if settings.method == "greedy":
                result = decoding.greedy_search(step, state, **common)
            else:
                result = decoding.sample(
                    step, state, temperature=settings.temperature,
                    top_k=settings.top_k, top_p=settings.top_p, seed=seed, **common)
            # Same layout as beam search: (batch, num_results=1, time).
            ids, scores = result.ids[:, None, :], result.log_probs[:, None]
            lengths = result.lengths[:, None]
        return ids, scores, lengths

    def _detokenize(self, text, found):
        """`(batch, results, time)` ids -> `string[batch, results]`."""
        ids, encoder_token_ids = found["ids"], found["encoder_token_ids"]
        batch, num_results = tf.shape(ids)[0], tf.shape(ids)[1]
        flat_ids = tf.reshape(ids, [batch * num_results, -1])  # (batch * results, time)
        words = None
        if self.unknown_words == "copy":
            words = copied_unknown_words(self.model, text, encoder_token_ids, flat_ids)
        texts = self.model.target_encoder.decode(flat_ids, unknown_words=words,
                                                 drop_unknown=self.unknown_words == "drop")
        return tf.reshape(texts, [batch, num_results])

    def translate(self, text, prefix=None, seed=None):
        """The translation graph, untraced: a dict as `__call__` returns."""
        found = self.search(text, prefix=prefix, seed=seed)
        translations, scores, lengths = self._detokenize(text, found), found["scores"], \
            found["lengths"]
        # An empty input means nothing to translate: empty output, score 0.
        is_empty = tf.equal(found["source_lengths"], 0)[:, None]
        if prefix is not None:  # ...unless a prefix was asked for
            is_empty &= tf.equal(tf.strings.length(prefix), 0)[:, None]
        translations = tf.where(is_empty, tf.constant(""), translations)
        scores = tf.where(is_empty, tf.zeros_like(scores), scores)
        lengths = tf.where(is_empty, tf.zeros_like(lengths), lengths)
        if self.decoding.num_results == 1:
            translations, scores, lengths = translations[:, 0], scores[:, 0], lengths[:, 0]
        return {"translation": translations, "score": scores, "length": lengths}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def __call__(self, text):
        return self.translate(text)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text"),
                                  tf.TensorSpec([None], tf.string, name="prefix")])
    def with_prefix(self, text, prefix):
        return self.translate(text, prefix=prefix)
