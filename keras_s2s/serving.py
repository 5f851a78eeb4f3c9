"""Using an exported SavedModel from Python, through its serving signatures.

`keras_s2s.translate(texts, model="saved_models/spa_eng")` lands here: the
base path's latest version (or the version directory given) is loaded with
`tf.saved_model.load` and called exactly as TF Serving would call it.
"""

from __future__ import annotations

import json
import pathlib

import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the text ops the graph uses)

from keras_s2s.exporting import EXPORT_INFO_FILE


def find_version_directory(path: str | pathlib.Path) -> pathlib.Path:
    """A version directory itself, or the highest version under a base path."""
    path = pathlib.Path(path)
    if (path / "saved_model.pb").exists():
        return path
    versions = sorted(
        (int(p.name), p) for p in path.iterdir() if p.is_dir() and p.name.isdigit()
    ) if path.is_dir() else []
    if not versions:
        raise FileNotFoundError(
            f"{path} holds no SavedModel: expected saved_model.pb in it, or integer "
            "version directories (1/, 2/, ...) as written by keras_s2s.export."
        )
    return versions[-1][1]


class SavedModelTranslator:
    """A loaded export, called through its signatures.

    Args:
        path: a model base path (latest version is used) or a version directory.
    """

    def __init__(self, path):
        self.path = find_version_directory(path)
        if not (self.path / "variables").is_dir():
            raise ValueError(f"{self.path}: the SavedModel's variables/ directory is missing.")
        try:
            self.module = tf.saved_model.load(str(self.path))
        except (OSError, ValueError, tf.errors.OpError) as error:
            raise ValueError(f"Could not load the SavedModel in {self.path}: {error}") from None
        info_file = self.path / "assets.extra" / EXPORT_INFO_FILE
        self.info = json.loads(info_file.read_text()) if info_file.exists() else {}

    def signature_for(self, *, method, beam_width, length_penalty, num_results, max_length):
        """Picks the signature that computes what was asked, or says why none does."""
        info = self.info
        if method == "sample":
            raise ValueError("method='sample' is not exported; use a .keras model to sample.")
        if max_length is not None and max_length != info.get("max_length"):
            raise ValueError(f"{self.path} was exported with max_length="
                             f"{info.get('max_length')}; max_length cannot change after export.")
        if method == "greedy":
            return self.module.signatures["translate_greedy"], "translation", "score"
        if (beam_width, length_penalty) != (info.get("beam_width"), info.get("length_penalty")):
            raise ValueError(
                f"{self.path} was exported with beam_width={info.get('beam_width')}, "
                f"length_penalty={info.get('length_penalty')}; re-export to change them."
            )
        if num_results == 1 and info.get("method") == "beam":
            return self.module.signatures["serving_default"], "translation", "score"
        if num_results > info.get("n_best", 1):
            raise ValueError(f"{self.path} returns at most n_best={info.get('n_best')} results.")
        return self.module.signatures["translate_n_best"], "translations", "scores"

    def __call__(self, texts, *, method, num_results, **options):
        signature, text_key, score_key = self.signature_for(
            method=method, num_results=num_results, **options
        )
        outputs = signature(text=tf.constant(texts, dtype=tf.string))
        translations, scores = outputs[text_key].numpy(), outputs[score_key].numpy()
        if translations.ndim == 2 and num_results == 1:
            translations, scores = translations[:, 0], scores[:, 0]
        elif translations.ndim == 2:
            translations, scores = translations[:, :num_results], scores[:, :num_results]
        return translations, scores
