"""Using an export from Python: `keras_s2s.translate(texts, "saved_models/spa_eng")`.

The version directory is resolved at every call (a base path means its
highest version *now*), and each version is loaded once, with
`tf.saved_model.load`, then called through its signatures as TF Serving would
call them. Versions are immutable once published (see `writer.py`), so a
loaded version never goes stale; a newer one is simply another entry.
Resolving costs one directory listing (microseconds next to a translation).

A SavedModel is a program: its graph runs whatever ops it holds. Load only
exports you trust.
"""

from __future__ import annotations

import pathlib

import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the text ops the graph uses)

from keras_s2s.saved_model import contract


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


def _load_saved_model(version_dir: pathlib.Path):
    if not (version_dir / "variables").is_dir():
        raise ValueError(f"{version_dir}: the SavedModel's variables/ directory is missing.")
    try:
        return tf.saved_model.load(str(version_dir))
    except Exception as error:  # noqa: BLE001  (truncated files raise IndexError, protobuf
        # DecodeError, OpError...: whatever it is, the user needs the path and the reason)
        reason = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise ValueError(f"Could not load the SavedModel in {version_dir} "
                         f"({type(error).__name__}: {reason}); is it complete?") from None


class SavedModelTranslator:
    """One loaded export version, called through its signatures.

    Args:
        path: a version directory, or a base path (its highest version now).
    """

    def __init__(self, path):
        self.path = find_version_directory(path)
        self.info = contract.ExportInfo.read(self.path)
        self.module = _load_saved_model(self.path)

    def signature_for(self, *, method, beam_width, length_penalty, num_results, max_length):
        """Picks the signature that computes what was asked, or says why none does."""
        exported = self.info.decoding
        if method == "sample":
            raise ValueError("method='sample' is not exported; use a .keras model to sample.")
        if max_length is not None and max_length != exported["max_length"]:
            raise ValueError(f"{self.path} was exported with max_length="
                             f"{exported['max_length']}; max_length cannot change after export.")
        if method == "greedy":
            return "translate_greedy"
        if (beam_width, length_penalty) != (exported["beam_width"], exported["length_penalty"]):
            raise ValueError(
                f"{self.path} was exported with beam_width={exported['beam_width']}, "
                f"length_penalty={exported['length_penalty']}; re-export to change them."
            )
        if num_results == 1 and exported["method"] == "beam":
            return "serving_default"
        if num_results > self.info.n_best:
            raise ValueError(f"{self.path} returns at most n_best={self.info.n_best} results.")
        return "translate_n_best"

    def __call__(self, texts, *, method, num_results, **options):
        name = self.signature_for(method=method, num_results=num_results, **options)
        text_key, score_key = contract.SIGNATURES[name].outputs
        outputs = self.module.signatures[name](**{contract.TEXT: tf.constant(texts, tf.string)})
        translations, scores = outputs[text_key].numpy(), outputs[score_key].numpy()
        if translations.ndim == 2 and num_results == 1:
            translations, scores = translations[:, 0], scores[:, 0]
        elif translations.ndim == 2:
            translations, scores = translations[:, :num_results], scores[:, :num_results]
        return translations, scores


_loaded_versions: dict[pathlib.Path, SavedModelTranslator] = {}


def open_export(path) -> SavedModelTranslator:
    """The client of `path`'s version as of now (each version loaded once)."""
    version_dir = find_version_directory(path).resolve()
    if version_dir not in _loaded_versions:
        _loaded_versions[version_dir] = SavedModelTranslator(version_dir)
    return _loaded_versions[version_dir]
