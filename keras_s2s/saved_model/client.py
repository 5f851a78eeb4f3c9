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

import numpy as np
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

    def _fits(self, name, settings) -> bool:
        exported = self.info.decoding(name)
        if exported is None:
            return False
        # Automatic settings (None) compare by what they mean for this export's model.
        tokenization = self.info.config.get("tokenization", "word")
        settings = settings.for_tokenization(tokenization)
        exported = exported.for_tokenization(tokenization)
        if settings.method != exported.method:
            return False
        if name == "translate_n_best":  # returns its first num_results of exported's
            return (settings.num_results <= exported.num_results and
                    settings.replace(num_results=exported.num_results) == exported)
        if name == "translate_sample":  # the seed is an input of the signature
            return settings.replace(seed=None) == exported.replace(seed=None)
        return settings == exported

    def signature_for(self, settings, *, prefix: bool = False) -> str:
        """The signature that decodes with `settings` (from a prefix, if
        `prefix`), or a ValueError saying what the export can do instead."""
        names = ["translate_prefix"] if prefix else [
            "serving_default", "translate_greedy", "translate_n_best", "translate_sample"]
        for name in names:
            if self._fits(name, settings):
                return name
        if prefix and "translate_prefix" not in self.info.signatures:
            raise ValueError(f"{self.path} has no translate_prefix signature (exported before "
                             "it existed); re-export the model to translate from a prefix.")
        closest = "translate_prefix" if prefix else {
            "greedy": "translate_greedy", "beam": "serving_default",
            "sample": "translate_sample"}[settings.method]
        exported = self.info.decoding(closest) or self.info.decoding("serving_default")
        tokenization = self.info.config.get("tokenization", "word")
        settings = settings.for_tokenization(tokenization)
        exported = exported.for_tokenization(tokenization)
        differences = ", ".join(
            f"{key}={value!r} (exported: {exported.as_dict()[key]!r})"
            for key, value in settings.as_dict().items()
            if value != exported.as_dict()[key] and key != "num_results")
        n_best = self.info.decoding("translate_n_best")
        if settings.method == "beam" and settings.num_results > n_best.num_results:
            differences = (f"num_results={settings.num_results} (translate_n_best returns at "
                           f"most {n_best.num_results})")
        raise ValueError(
            f"{self.path} cannot decode with {differences or settings}: an export decodes "
            "as it was exported; re-export to change its settings, or translate with the "
            ".keras model.")

    def __call__(self, texts, prefixes=None, *, settings):
        """Translations and scores (`(batch,)`, or `(batch, num_results)` when
        `settings.num_results > 1`) of `texts`, through its signature."""
        name = self.signature_for(settings, prefix=prefixes is not None)
        text_key, score_key = contract.SIGNATURES[name].outputs
        inputs = {contract.TEXT: tf.constant(texts, tf.string)}
        if prefixes is not None:
            inputs[contract.PREFIX] = tf.constant(prefixes, tf.string)
        if name == "translate_sample":
            seed = settings.seed if settings.seed is not None else np.random.randint(2**62)
            inputs[contract.SEED] = tf.constant(seed, tf.int64)
        outputs = self.module.signatures[name](**inputs)
        translations, scores = outputs[text_key].numpy(), outputs[score_key].numpy()
        if translations.ndim == 2 and settings.num_results == 1:
            return translations[:, 0], scores[:, 0]
        if translations.ndim == 2:
            return translations[:, :settings.num_results], scores[:, :settings.num_results]
        return translations, scores

    def score(self, sources, targets) -> dict:
        """The `score` signature's outputs, as NumPy arrays."""
        if "score" not in self.info.signatures:
            raise ValueError(f"{self.path} has no score signature (exported before it "
                             "existed); re-export the model to score pairs through it.")
        outputs = self.module.signatures["score"](
            **{contract.TEXT: tf.constant(sources, tf.string),
               contract.TARGET: tf.constant(targets, tf.string)})
        return {key: value.numpy() for key, value in outputs.items()}


_loaded_versions: dict[pathlib.Path, SavedModelTranslator] = {}


def open_export(path) -> SavedModelTranslator:
    """The client of `path`'s version as of now (each version loaded once)."""
    version_dir = find_version_directory(path).resolve()
    if version_dir not in _loaded_versions:
        _loaded_versions[version_dir] = SavedModelTranslator(version_dir)
    return _loaded_versions[version_dir]
