"""`keras_s2s.translate(...)`: the Python entry point.

Checks the input here, in Python, so a wrong argument gets a clear message
instead of a traceback from inside a TF graph; the translating itself is the
compiled `Translator` graph.
"""

from __future__ import annotations

import functools
import pathlib
import re
import weakref

import numpy as np

from keras_s2s.arguments import check_positive_integer
from keras_s2s.decoding.settings import DecodingSettings
from keras_s2s.translation_graph import Translator

# Inputs are sorted by length and translated in chunks of similar lengths (less
# padding), then put back in order. A chunk holds at most BATCH_TOKENS source
# tokens, padding included, and at most MAX_BATCH sentences: many short
# sentences share one batch, long ones come a few at a time. Results do not
# depend on the chunking (each sentence has its own length limit).
BATCH_TOKENS = 2048
MAX_BATCH = 256
_TOKEN = re.compile(r"\w+|[^\w\s]")  # about one token per word or punctuation mark

# Where `translate(texts)` with no model looks (relative to the working directory).
DEFAULT_MODEL = "saved_models/spa_eng"

_translators: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _check_texts(texts) -> tuple[list[str], bool]:
    """Returns (list of str, whether the caller passed a single string)."""
    if isinstance(texts, (str, bytes)):
        return [_check_text(texts, where="texts")], True
    if texts is None:
        raise TypeError("texts must be a string or a list of strings, got None.")
    if isinstance(texts, np.ndarray):
        texts = texts.tolist()
    if not isinstance(texts, (list, tuple)):
        raise TypeError(
            f"texts must be a string or a list of strings, got {type(texts).__name__}."
        )
    return [_check_text(text, where=f"texts[{i}]") for i, text in enumerate(texts)], False


def _check_text(text, *, where: str) -> str:
    if isinstance(text, bytes):
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(
                f"{where} is bytes that are not valid UTF-8 (byte {error.start}); "
                "pass str, or bytes encoded as UTF-8."
            ) from None
    if not isinstance(text, str):
        raise TypeError(f"{where} must be a string, got {type(text).__name__}: {text!r:.50}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        # A lone surrogate (e.g. from reading bad bytes with errors="surrogateescape")
        # is not a character; guessing a replacement would hide corrupt input.
        raise ValueError(
            f"{where} holds a lone surrogate {text[error.start]!r} at index {error.start}, "
            "which is not valid Unicode text and cannot be encoded as UTF-8; fix the input "
            "(or drop it with text.encode('utf-8', 'replace').decode())."
        ) from None
    return text


def _default_model_path():
    """The shipped demo model, when run from the repository's top directory."""
    if pathlib.Path(DEFAULT_MODEL).is_dir():
        return DEFAULT_MODEL
    raise ValueError(
        "translate() needs a model: pass a model object, a `.keras` file or a SavedModel "
        f"directory. With no model it uses {DEFAULT_MODEL}/ when run from the repository's "
        "top directory (clone the repository), or train your own with `make demo`."
    )


def _keras_translator(model, settings: DecodingSettings):
    """A function (strings, prefixes or None) -> (translations, scores), cached
    per model and settings."""
    cache = _translators.setdefault(model, {})
    if settings not in cache:
        cache[settings] = Translator(model, settings)
    translator = cache[settings]

    def run(texts, prefixes=None):
        texts = np.array(texts, dtype=object)
        if prefixes is None:
            outputs = translator(texts)
        else:
            outputs = translator.with_prefix(texts, np.array(prefixes, dtype=object))
        return outputs["translation"].numpy(), outputs["score"].numpy()

    return run


def _check_prefixes(prefix, texts, single, model, settings):
    """`prefix` as a list of strings, one per text, or None."""
    if prefix is None:
        return None
    prefixes, single_prefix = _check_texts(prefix)
    if single_prefix != single or len(prefixes) != len(texts):
        raise ValueError(f"prefix must be one string per text: got {len(prefixes)} "
                         f"prefix(es) for {len(texts)} text(s).")
    if hasattr(model, "target_encoder"):  # a Keras model: count the prefixes' tokens now
        import tensorflow as tf

        lengths = model.target_encoder.encode(tf.constant(prefixes)).row_lengths().numpy()
        limit = min(settings.max_length or model.target_encoder.max_length,
                    model.target_encoder.max_length)
        for i, length in enumerate(lengths):
            if length >= limit:
                raise ValueError(f"prefix[{i}] has {length} tokens, more than the length "
                                 f"limit leaves room for ({limit - 1}); shorten it or raise "
                                 "max_length.")
    return prefixes


def length_sorted_chunks(texts, *, batch_tokens: int = BATCH_TOKENS,
                         max_batch: int = MAX_BATCH) -> list[list[int]]:
    """Indices of `texts` in chunks of similar length, shortest first, each
    with at most `batch_tokens` tokens once padded (and `max_batch` texts)."""
    lengths = [max(len(_TOKEN.findall(text)), 1) for text in texts]  # time axis >= 1
    chunks, chunk = [], []
    for index in sorted(range(len(texts)), key=lambda i: lengths[i]):
        if chunk and ((len(chunk) + 1) * lengths[index] > batch_tokens
                      or len(chunk) == max_batch):
            chunks.append(chunk)
            chunk = []
        chunk.append(index)
    return chunks + [chunk] if chunk else chunks


def _progress_bar(count, verbose):
    if not verbose or count == 0:
        return None
    import keras

    return keras.utils.Progbar(count, unit_name="sentence")


def translate(texts, model=None, *, prefix=None, decoding: DecodingSettings | None = None,
              return_attention: bool = False, verbose: int = 0,
              batch_tokens: int = BATCH_TOKENS, with_scores: bool = False,
              **decoding_options):
    """Translates a sentence or a list of sentences.

    Args:
        texts: a string, or a list of strings (bytes must be UTF-8).
        model: a trained `keras_s2s` model, the path of a `.keras` file, or a
            SavedModel from `keras_s2s.export` (a base path, whose highest
            version at the time of the call is used, or a version directory).
            Default: the shipped `saved_models/spa_eng` when run from the
            repository's top directory. A SavedModel decodes only as exported
            (see `keras_s2s.saved_model.client`).
        prefix: a string per text (a string for a single text): each
            translation starts with its prefix's tokens, and the search goes
            on from there ("" for none). The prefix does not count against
            the default length limit.
        decoding: a `keras_s2s.decoding.DecodingSettings`; or pass its fields
            as keyword arguments (`method="beam"`, `beam_width=4`,
            `length_penalty`, `num_results`, `max_length`, `temperature`,
            `top_k`, `seed`, ...: see `DecodingSettings` for every option, its
            default and which method uses it). Default: greedy search, each
            sentence at most twice its source length plus 10 tokens (so a
            sentence's translation does not depend on the others), capped by
            the model's `max_target_length`. Inputs longer than the model's
            `max_source_length` tokens are truncated to it.
        verbose: 1 shows a Keras progress bar (sentences translated).
        batch_tokens: at most this many source tokens (padding included) per
            batch; results do not depend on it, speed does.
        return_attention: return, for each input, a
            `keras_s2s.attention_maps.AttentionMap` (translation, tokens and
            the target × source attention weights, for `keras_s2s.plot_attention`)
            instead of a string. Needs a model with attention (not a
            SavedModel), greedy or beam search and `num_results=1`.
        with_scores: with `num_results=1`, return a `(translation, score)`
            pair per input instead of a string (the score as in n-best lists).

    Returns:
        The same shape as `texts`: a string, or a list of strings. With
        `num_results > 1`, each translation is instead a list of
        `(translation, score)` pairs, best first. An empty input gives "".

    Example:
        >>> keras_s2s.translate("¿Dónde está?", model)
        'Where is it?'
        >>> keras_s2s.translate("¿Dónde está?", model, method="beam", num_results=2)
        [('Where is it?', -0.41), ('Where is he?', -1.2)]
    """
    from keras_s2s.saved_model.client import SavedModelTranslator
    from keras_s2s.saving import model_from

    settings = DecodingSettings.from_options(decoding, **decoding_options)
    check_positive_integer("batch_tokens", batch_tokens)
    texts, single = _check_texts(texts)
    model = model_from(model if model is not None else _default_model_path())
    if return_attention:
        if prefix is not None or with_scores:
            raise ValueError("return_attention=True takes neither a prefix nor with_scores.")
        return _translate_with_attention(texts, single, model, settings)
    prefixes = _check_prefixes(prefix, texts, single, model, settings)
    if isinstance(model, SavedModelTranslator):
        # Fail early on settings the export cannot honour.
        model.signature_for(settings, prefix=prefixes is not None)
        run = functools.partial(model, settings=settings)
    else:
        run = _keras_translator(model, settings)

    results = [None] * len(texts)
    progress = _progress_bar(len(texts), verbose)
    for chunk in length_sorted_chunks(texts, batch_tokens=batch_tokens):
        translations, scores = run([texts[i] for i in chunk], None if prefixes is None else
                                   [prefixes[i] for i in chunk])
        if progress is not None:
            progress.add(len(chunk))
        for row, index in enumerate(chunk):
            if settings.num_results == 1 and with_scores:
                results[index] = (translations[row].decode("utf-8"), float(scores[row]))
            elif settings.num_results == 1:
                results[index] = translations[row].decode("utf-8")
            else:
                results[index] = [
                    (text.decode("utf-8"), float(score))
                    for text, score in zip(translations[row], scores[row])
                ]
    return results[0] if single else results


def _translate_with_attention(texts, single, model, settings):
    from keras_s2s.attention_maps import attention_map
    from keras_s2s.saved_model.client import SavedModelTranslator

    if isinstance(model, SavedModelTranslator):
        raise ValueError(
            "return_attention=True needs the Keras model (a model object or a .keras file); "
            "an exported SavedModel returns translations and scores only."
        )
    if settings.num_results != 1:
        raise ValueError(f"return_attention=True needs num_results=1, got "
                         f"{settings.num_results}.")
    results = [attention_map(model, text, decoding=settings) for text in texts]
    return results[0] if single else results
