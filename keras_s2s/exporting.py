"""`keras_s2s.export(...)`: a TensorFlow SavedModel that stock TF Serving
serves: strings in, translations out, in TF Serving's versioned layout.

    saved_models/spa_eng/1/saved_model.pb     <- what TF Serving's --model_base_path
    saved_models/spa_eng/1/variables/...         (here saved_models/spa_eng) holds
    saved_models/spa_eng/2/...

Signatures (all take `text: string[batch]`):

- `serving_default`: `translation: string[batch]`, `score: float32[batch]`,
  beam search (or greedy) as chosen at export;
- `translate_n_best`: `translations: string[batch, N]`, `scores: float32[batch, N]`;
- `translate_greedy`: `translation`, `score`.

The graph holds only TensorFlow and tensorflow-text ops, and no device is
pinned, so it serves on CPU and GPU alike. Loading it needs `tensorflow` and
`tensorflow_text` (for the text ops), not keras_s2s nor Keras.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil

import tensorflow as tf

from keras_s2s.translator import Translator

EXPORT_INFO_FILE = "keras_s2s_export.json"  # in assets.extra/, which TF Serving ignores


class ExportModule(tf.Module):
    """The model, its lookup tables and three translators, as one trackable tree."""

    def __init__(self, model, *, method, beam_width, length_penalty, n_best, max_length):
        super().__init__(name="keras_s2s_translator")
        # Tables must be attributes (tracked) to be saved with the graph.
        self.lookup_tables = [*model.source_encoder.lookup_tables(),
                              *model.target_encoder.lookup_tables()]
        beam = dict(beam_width=beam_width, length_penalty=length_penalty, max_length=max_length)
        self.default = Translator(
            model, method=method, **(beam if method == "beam" else {"max_length": max_length})
        )
        self.greedy = Translator(model, method="greedy", max_length=max_length)
        self.n_best = Translator(model, method="beam", num_results=n_best, **beam)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve_default(self, text):
        outputs = self.default(text)
        return {"translation": outputs["translation"], "score": outputs["score"]}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve_greedy(self, text):
        outputs = self.greedy(text)
        return {"translation": outputs["translation"], "score": outputs["score"]}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve_n_best(self, text):
        outputs = self.n_best(text)
        return {"translations": outputs["translation"], "scores": outputs["score"]}


def next_version(base_path: pathlib.Path) -> int:
    """1 + the highest integer-named directory under `base_path` (1 if none)."""
    versions = [int(p.name) for p in base_path.iterdir() if p.is_dir() and p.name.isdigit()]
    return max(versions, default=0) + 1


def export(
    model,
    base_path: str | os.PathLike,
    *,
    method: str = "beam",
    beam_width: int = 4,
    length_penalty: float = 0.6,
    n_best: int = 4,
    max_length: int | None = None,
) -> pathlib.Path:
    """Writes `model` as the next version of a TF Serving model base path.

    The version is written under a temporary, non-numeric name (which TF
    Serving ignores) and renamed once complete, so a server polling the base
    path never loads half a model; an existing version is never overwritten.

    Args:
        model: a trained `keras_s2s` model (or the path of a `.keras` file).
        base_path: e.g. `"saved_models/spa_eng"`; created if missing.
        method: `serving_default`'s search, `"beam"` or `"greedy"`.
        beam_width, length_penalty: beam search settings (also for n-best).
        n_best: hypotheses returned by the `translate_n_best` signature
            (at most `beam_width`).
        max_length: fixed maximum translation length; default per sentence (twice
            its source length plus 10), as in `keras_s2s.translate`.

    Returns:
        The version directory written, e.g. `saved_models/spa_eng/1`.

    Example:
        >>> keras_s2s.export(model, "saved_models/spa_eng")
        PosixPath('saved_models/spa_eng/1')
    """
    if isinstance(model, (str, os.PathLike)):
        from keras_s2s.saving import load

        model = load(model)
    if method not in ("beam", "greedy"):
        raise ValueError(f"method must be 'beam' or 'greedy', got {method!r}.")
    module = ExportModule(model, method=method, beam_width=beam_width,
                          length_penalty=length_penalty, n_best=n_best, max_length=max_length)
    base_path = pathlib.Path(base_path)
    base_path.mkdir(parents=True, exist_ok=True)
    version = next_version(base_path)
    temporary = base_path / f".writing-{version}-{os.getpid()}"
    final = base_path / str(version)
    try:
        tf.saved_model.save(
            module,
            str(temporary),
            signatures={
                "serving_default": module.serve_default,
                "translate_greedy": module.serve_greedy,
                "translate_n_best": module.serve_n_best,
            },
        )
        info = dict(method=method, beam_width=beam_width, length_penalty=length_penalty,
                    n_best=n_best, max_length=max_length, config=model.get_config())
        (temporary / "assets.extra").mkdir(exist_ok=True)
        (temporary / "assets.extra" / EXPORT_INFO_FILE).write_text(json.dumps(info))
        if final.exists():  # another export took this number meanwhile
            raise FileExistsError(f"{final} already exists; not overwriting it.")
        os.rename(temporary, final)
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)
    return final
