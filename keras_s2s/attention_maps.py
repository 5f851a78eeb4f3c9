"""Where the decoder looked: attention weights of a translation, and a heatmap.

The weights come from re-running the model teacher-forced on the tokens the
search chose. Decoding feeds exactly those tokens, step by step, so each row
is the very distribution that produced the next token, computed in one pass
instead of threading the weights through every search loop.
"""

from __future__ import annotations

import weakref
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from keras_s2s.decoding.settings import DecodingSettings
from keras_s2s.text import END_ID, START_ID
from keras_s2s.translation_graph import Translator


class AttentionMap(NamedTuple):
    """A translation with its attention weights.

    Attributes:
        source_tokens: the source as the model read it (normalised, cut into
            word pieces for WordPiece models, truncated to `max_source_length`;
            words outside the vocabulary kept as written).
        target_tokens: the translation's tokens, then `"[END]"` if it ended.
        weights: float32 `(len(target_tokens), len(source_tokens))`; row i is
            the attention over the source while the decoder produced target
            token i. Each row sums to 1.
        translation: the detokenised translation.
        score: the search's score for it.
    """

    source_tokens: list[str]
    target_tokens: list[str]
    weights: np.ndarray
    translation: str
    score: float


_searches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled_search(model, settings):
    cache = _searches.setdefault(model, {})
    if settings not in cache:
        cache[settings] = tf.function(Translator(model, settings).search)
    return cache[settings]


def attention_map(model, text: str, *, decoding: DecodingSettings | None = None,
                  **decoding_options) -> AttentionMap:
    """Translates `text` with `model` and returns where each output token looked.

    Args:
        model: a trained model with attention (`gru-attention`,
            `lstm-attention`, `transformer`); a `.keras` path also works.
        text: one source sentence.
        decoding: `DecodingSettings` (or its fields as keyword arguments), as
            in `keras_s2s.translate`; greedy or beam search, one result.

    Example:
        >>> result = attention_map(model, "¿Dónde está?")
        >>> result.target_tokens, result.weights.shape
        (['Where', 'is', 'it', '?', '[END]'], (5, 3))
    """
    from keras_s2s.saving import model_from

    settings = DecodingSettings.from_options(decoding, **decoding_options)
    model = model_from(model)
    if not getattr(model, "has_attention", False):
        raise ValueError(
            f"{type(model).__name__} has no attention to show; use an architecture with "
            "attention ('gru-attention', 'lstm-attention' or 'transformer')."
        )
    if not isinstance(text, str):
        raise TypeError(f"text must be one string, got {type(text).__name__}.")
    if settings.method not in ("greedy", "beam") or settings.num_results != 1:
        raise ValueError(f"attention maps need greedy or beam search with num_results=1, "
                         f"got method={settings.method!r}, num_results={settings.num_results}.")
    source_encoder, target_encoder = model.source_encoder, model.target_encoder
    source_tokens = source_encoder.tokens(tf.constant([text]))[0].numpy()
    source_tokens = [token.decode("utf-8") for token in source_tokens]
    if not source_tokens:  # an empty input translates to "": nothing to attend to
        return AttentionMap([], [], np.zeros((0, 0), np.float32), "", 0.0)
    encoder_ids = source_encoder.encode(tf.constant([text])).to_tensor()

    found = _compiled_search(model, settings)(tf.constant([text]))
    length = int(found["lengths"][0, 0])
    target_ids = found["ids"][0, 0, :length].numpy()
    score = float(found["scores"][0, 0])

    decoder_ids = tf.constant([[START_ID, *target_ids[:-1]]], tf.int32)
    weights = model.attention_weights(encoder_ids, decoder_ids)
    weights = np.asarray(weights)[0, :, : len(source_tokens)]
    target_tokens = [
        "[END]" if token_id == END_ID else token.decode("utf-8")
        for token_id, token in zip(
            target_ids, target_encoder.vocabulary.lookup_tokens(target_ids).numpy()
        )
    ]
    translation = target_encoder.decode(target_ids[None, :])[0].numpy().decode("utf-8")
    return AttentionMap(source_tokens, target_tokens, weights, translation, score)


def plot_attention(result: AttentionMap, path=None, *, ax=None, title: str | None = None):
    """Draws `result.weights` as a source × target heatmap (matplotlib).

    Args:
        result: an `AttentionMap` (from `attention_map` or
            `translate(..., return_attention=True)`).
        path: if given, the figure is also saved there (PNG by extension).
        ax: an existing matplotlib Axes to draw in; default a new figure.
        title: default: the translation.

    Returns:
        The matplotlib `Figure`.

    Example:
        >>> plot_attention(keras_s2s.translate("¿Dónde está?", model,
        ...                return_attention=True), "attention.png")
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "plot_attention needs matplotlib: pip install 'keras_s2s[plot]' (or matplotlib)."
        ) from None
    if ax is None:
        width = max(4.0, 0.45 * len(result.source_tokens) + 1.5)
        height = max(3.0, 0.35 * len(result.target_tokens) + 1.2)
        figure, ax = plt.subplots(figsize=(width, height))
    else:
        figure = ax.figure
    image = ax.imshow(result.weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(result.source_tokens)), result.source_tokens, rotation=90)
    ax.set_yticks(range(len(result.target_tokens)), result.target_tokens)
    ax.set_xlabel("source")
    ax.set_ylabel("translation")
    ax.set_title(result.translation if title is None else title, fontsize=10)
    figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    figure.tight_layout()
    if path is not None:
        figure.savefig(path, dpi=100)
    return figure
