"""`keras_s2s.translate(...)`: the Python entry point.

Checks the input here, in Python, so a wrong argument gets a clear message
instead of a traceback from inside a TF graph; the translating itself is the
compiled `Translator` graph.
"""

from __future__ import annotations

import os
import weakref

import numpy as np

from keras_s2s.translator import Translator

# Inputs are translated in chunks of this many sentences, sorted by length so a
# chunk holds similar lengths (less padding), then put back in order.
CHUNK_SIZE = 64

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
    return text


def _resolve_model(model):
    if model is None:
        raise ValueError(
            "translate() needs a model: pass a model object or the path of a saved "
            "`.keras` model (train one with `make demo` or `keras-s2s train`)."
        )
    if isinstance(model, (str, os.PathLike)):
        from keras_s2s.saving import load

        return load(model)
    return model


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
):
    """Translates a sentence or a list of sentences.

    Args:
        texts: a string, or a list of strings (bytes must be UTF-8).
        model: a trained `keras_s2s` model, or the path of a `.keras` file.
        method: `"greedy"` (most probable next token each step), `"beam"`
            (keeps `beam_width` candidates, ranks by length-normalised
            log-probability) or `"sample"` (random, for diverse outputs).
        beam_width, length_penalty, num_results: beam search settings
            (`length_penalty` is GNMT's alpha; 0 ranks by the raw sum).
        max_length: maximum translation length in tokens. Default: twice the
            longest source in the chunk plus 10, capped by the model's
            `max_target_length`. Inputs longer than the model's
            `max_source_length` tokens are truncated to it.
        temperature, top_k, seed: sampling settings.

    Returns:
        The same shape as `texts`: a string, or a list of strings. With
        `num_results > 1`, each translation is instead a list of
        `(translation, score)` pairs, best first. An empty input gives "".

    Example:
        >>> keras_s2s.translate("¿Dónde está?", model)
        'Where is it?'
    """
    texts, single = _check_texts(texts)
    model = _resolve_model(model)
    options = dict(
        method=method, beam_width=beam_width, length_penalty=length_penalty,
        num_results=num_results, temperature=temperature, top_k=top_k, seed=seed,
        max_length=max_length,
    )
    key = tuple(sorted(options.items()))
    cache = _translators.setdefault(model, {})
    if key not in cache:
        cache[key] = Translator(model, **options)
    translator = cache[key]

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    results = [None] * len(texts)
    for start in range(0, len(order), CHUNK_SIZE):
        chunk = order[start : start + CHUNK_SIZE]
        outputs = translator(np.array([texts[i] for i in chunk], dtype=object))
        translations = outputs["translation"].numpy()
        scores = outputs["score"].numpy()
        for row, index in enumerate(chunk):
            if num_results == 1:
                results[index] = translations[row].decode("utf-8")
            else:
                results[index] = [
                    (text.decode("utf-8"), float(score))
                    for text, score in zip(translations[row], scores[row])
                ]
    return results[0] if single else results
