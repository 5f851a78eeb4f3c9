"""Translating with a converted model: our tokenizer in front of a
`ctranslate2.Translator`, our detokenizer behind it.

    text ─► model.source_encoder.tokens ─► Translator.translate_batch (C++)
         ─► target tokens ─► ids ─► model.target_encoder.decode ─► translation

The Keras model is still needed, for its vocabularies and text settings (the
CTranslate2 directory holds the vocabularies but not our normalisation). With
`length_penalty=0` the ids are those of `keras_s2s.translate` (greedy, or beam
search with the same `beam_size`), up to float rounding on near-ties.
"""

from __future__ import annotations

import weakref
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from keras_s2s.text import PAD_ID
from keras_s2s.translation_graph import default_max_lengths


class CTranslate2Result(NamedTuple):
    """One hypothesis per sentence.

    ids: per sentence, the generated target ids, `[END]` included when produced
        (no start token); `[]` for an empty input.
    scores: per sentence, CTranslate2's score: the summed log-probability
        divided by `length ** length_penalty` (with 0: the plain sum, as ours).
    """

    ids: list[list[int]]
    scores: list[float]


# Per model: its tokenizer and detokenizer as compiled graphs. Run op by op
# (eagerly) they cost milliseconds per call, as much as CTranslate2's whole
# search of a short sentence; our Translator runs them inside its graph too.
_text_functions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled_text_functions(model):
    if model not in _text_functions:
        _text_functions[model] = (
            tf.function(model.source_encoder.tokens,
                        input_signature=[tf.TensorSpec([None], tf.string)]),
            tf.function(model.target_encoder.decode,
                        input_signature=[tf.TensorSpec([None, None], tf.int32)]),
        )
    return _text_functions[model]


def source_tokens(model, texts) -> list[list[str]]:
    """Sentences -> the tokens our model reads (normalised, truncated to
    `max_source_length`, word pieces for a WordPiece model).

    Example:
        >>> source_tokens(model, ["¿Dónde está?"])
        [['¿', 'dónde', 'está', '?']]
    """
    tokens, _ = _compiled_text_functions(model)
    ragged = tokens(tf.constant(list(texts), dtype=tf.string))
    return [[token.decode("utf-8") for token in row] for row in ragged.to_list()]


def detokenize_ids(model, ids: list[list[int]]) -> list[str]:
    """Target id lists -> text, by our target encoder (cut at `[END]`,
    punctuation re-attached), as `keras_s2s.translate` writes it.

    Example:
        >>> detokenize_ids(model, search_ctranslate2(translator, model, texts).ids)
    """
    if not ids:
        return []
    _, decode = _compiled_text_functions(model)
    return [text.decode("utf-8") for text in decode(padded_ids(ids)).numpy()]


def search_ctranslate2(translator, model, texts, *, beam_size: int = 1,
                       length_penalty: float = 0.0, max_length: int | None = None,
                       max_batch_size: int = 64) -> CTranslate2Result:
    """Decodes `texts` with a converted model; ids comparable with ours.

    Args:
        translator: a `ctranslate2.Translator` on `export_ctranslate2(model, ...)`.
        model: the Keras model it was converted from (tokenizer, vocabularies).
        beam_size: 1 is greedy search.
        length_penalty: CTranslate2's alpha (`log_prob / length ** alpha`, not
            our GNMT form): 0 is the same search as ours.
        max_length: tokens per translation; `None` gives each sentence our
            default limit (twice its source tokens plus 10, at most
            `max_target_length`), which takes one call per distinct limit.
        max_batch_size: sentences per CTranslate2 batch.

    Returns:
        `CTranslate2Result(ids, scores)`, in the order of `texts`.

    Example:
        >>> found = search_ctranslate2(translator, model, ["¿Dónde está?"])
        >>> found.ids[0]  # e.g. [57, 12, 9, 3]
    """
    limit = model.target_encoder.max_length
    if max_length is not None and (not isinstance(max_length, int) or not 1 <= max_length):
        raise ValueError(f"max_length must be a positive integer or None, got {max_length!r}.")
    tokens = source_tokens(model, texts)
    if max_length is None:
        lengths = tf.constant([len(row) for row in tokens], tf.int32)
        limits = default_max_lengths(lengths, limit).numpy().tolist()
    else:
        limits = [min(max_length, limit)] * len(tokens)
    ids, scores = [[] for _ in tokens], [0.0] * len(tokens)
    target_ids = {token: index for index, token in enumerate(model.target_vocabulary)}
    # An empty input translates to nothing, as in our Translator.
    for row_limit in sorted(set(limits)):
        rows = [i for i, row in enumerate(tokens) if row and limits[i] == row_limit]
        if not rows:
            continue
        results = translator.translate_batch(
            [tokens[i] for i in rows], max_batch_size=max_batch_size, beam_size=beam_size,
            length_penalty=length_penalty, max_decoding_length=row_limit,
            # Ours may end at the first step; CTranslate2's default (1) may not.
            min_decoding_length=0, return_end_token=True, return_scores=True,
            max_input_length=model.source_encoder.max_length,
        )
        for i, result in zip(rows, results):
            ids[i] = [target_ids[token] for token in result.hypotheses[0]]
            scores[i] = float(result.scores[0])
    return CTranslate2Result(ids=ids, scores=scores)


def padded_ids(ids: list[list[int]], width: int | None = None) -> np.ndarray:
    """Ragged id lists -> int32 `(batch, width)`, `[PAD]` after each row."""
    width = max([len(row) for row in ids] + [1]) if width is None else width
    array = np.full([len(ids), width], PAD_ID, dtype=np.int32)
    for row, row_ids in enumerate(ids):
        array[row, : len(row_ids)] = row_ids[:width]
    return array


def translate_ctranslate2(translator, model, texts, **options) -> list[str]:
    """Translates sentences with a converted model: strings in, strings out.

    Args:
        translator, model: as `search_ctranslate2`.
        texts: a list of sentences.
        **options: `search_ctranslate2`'s (`beam_size`, `length_penalty`,
            `max_length`, `max_batch_size`).

    Returns:
        One translation per sentence, detokenised by our target encoder (cut at
        `[END]`, punctuation re-attached), so it compares with
        `keras_s2s.translate(texts, model, min_length=0, no_repeat_ngram_size=0)`
        (CTranslate2 searches here without our decoding controls).

    Example:
        >>> translate_ctranslate2(translator, model, ["¿Dónde está?"])
        ['Where is it?']
    """
    return detokenize_ids(model, search_ctranslate2(translator, model, texts, **options).ids)
