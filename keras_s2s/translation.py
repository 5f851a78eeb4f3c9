"""`keras_s2s.translate(...)`: the Python entry point.

Checks the input here, in Python, so a wrong argument gets a clear message
instead of a traceback from inside a TF graph; the translating itself is the
compiled `Translator` graph.
"""

from __future__ import annotations

import functools
import os
import pathlib
import weakref

import numpy as np

from keras_s2s.translator import Translator

# Inputs are translated in chunks of this many sentences, sorted by length so a
# chunk holds similar lengths (less padding), then put back in order.
CHUNK_SIZE = 64

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


def _resolve_model(model):
    if model is None:
        model = _default_model_path()
    if isinstance(model, (str, os.PathLike)):
        if pathlib.Path(model).is_dir():
            from keras_s2s.saved_model.client import open_export

            return open_export(model)
        from keras_s2s.saving import load

        return load(model)
    return model


def _default_model_path():
    """The shipped demo model, when run from the repository's top directory."""
    if pathlib.Path(DEFAULT_MODEL).is_dir():
        return DEFAULT_MODEL
    raise ValueError(
        "translate() needs a model: pass a model object, a `.keras` file or a SavedModel "
        f"directory. With no model it uses {DEFAULT_MODEL}/ when run from the repository's "
        "top directory (clone the repository), or train your own with `make demo`."
    )


def _keras_translator(model, options):
    """A function chunk of strings -> (translations, scores), cached per options."""
    key = tuple(sorted(options.items()))
    cache = _translators.setdefault(model, {})
    if key not in cache:
        cache[key] = Translator(model, **options)
    translator = cache[key]

    def run(texts):
        outputs = translator(np.array(texts, dtype=object))
        return outputs["translation"].numpy(), outputs["score"].numpy()

    return run


def translate(
    texts,
    model=None,
    *,
    method: str = "greedy",
    beam_width: int = 4,
    length_penalty: float = 0.6,
    num_results: int = 1,
    max_length: int | None = None,
    temperature: float = 1.0,
    top_k: int = 0,
    seed: int | None = None,
    return_attention: bool = False,
):
    """Translates a sentence or a list of sentences.

    Args:
        texts: a string, or a list of strings (bytes must be UTF-8).
        model: a trained `keras_s2s` model, the path of a `.keras` file, or a
            SavedModel from `keras_s2s.export` (a base path, whose latest
            version is used, or a version directory). Default: the shipped
            `saved_models/spa_eng` when run from the repository's top directory.
            A SavedModel decodes as exported: greedy, or beam with the exported
            `beam_width` / `length_penalty`; it cannot sample.
        method: `"greedy"` (most probable next token each step), `"beam"`
            (keeps `beam_width` candidates, ranks by length-normalised
            log-probability) or `"sample"` (random, for diverse outputs).
        beam_width, length_penalty, num_results: beam search settings
            (`length_penalty` is GNMT's alpha; 0 ranks by the raw sum).
        max_length: maximum translation length in tokens. Default: twice
            each sentence's own source length plus 10 (so a sentence's
            translation does not depend on the others), capped by the model's
            `max_target_length`. Inputs longer than the model's
            `max_source_length` tokens are truncated to it.
        temperature, top_k, seed: sampling settings.
        return_attention: return, for each input, a
            `keras_s2s.attention_maps.AttentionMap` (translation, tokens and
            the target × source attention weights, for `keras_s2s.plot_attention`)
            instead of a string. Needs a model with attention (not a
            SavedModel), greedy or beam search and `num_results=1`.

    Returns:
        The same shape as `texts`: a string, or a list of strings. With
        `num_results > 1`, each translation is instead a list of
        `(translation, score)` pairs, best first. An empty input gives "".

    Example:
        >>> keras_s2s.translate("¿Dónde está?", model)
        'Where is it?'
    """
    from keras_s2s.saved_model.client import SavedModelTranslator

    texts, single = _check_texts(texts)
    model = _resolve_model(model)
    if return_attention:
        return _translate_with_attention(
            texts, single, model, method=method, beam_width=beam_width,
            length_penalty=length_penalty, num_results=num_results, max_length=max_length,
        )
    options = dict(
        method=method, beam_width=beam_width, length_penalty=length_penalty,
        num_results=num_results, max_length=max_length,
    )
    if isinstance(model, SavedModelTranslator):
        model.signature_for(**options)  # fail early on options the export cannot honour
        run = functools.partial(model, **options)
    else:
        run = _keras_translator(
            model, dict(options, temperature=temperature, top_k=top_k, seed=seed)
        )

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    results = [None] * len(texts)
    for start in range(0, len(order), CHUNK_SIZE):
        chunk = order[start : start + CHUNK_SIZE]
        translations, scores = run([texts[i] for i in chunk])
        for row, index in enumerate(chunk):
            if num_results == 1:
                results[index] = translations[row].decode("utf-8")
            else:
                results[index] = [
                    (text.decode("utf-8"), float(score))
                    for text, score in zip(translations[row], scores[row])
                ]
    return results[0] if single else results


def _translate_with_attention(texts, single, model, *, num_results, **options):
    from keras_s2s.attention_maps import attention_map
    from keras_s2s.saved_model.client import SavedModelTranslator

    if isinstance(model, SavedModelTranslator):
        raise ValueError(
            "return_attention=True needs the Keras model (a model object or a .keras file); "
            "an exported SavedModel returns translations and scores only."
        )
    if num_results != 1:
        raise ValueError(f"return_attention=True needs num_results=1, got {num_results}.")
    results = [attention_map(model, text, **options) for text in texts]
    return results[0] if single else results
