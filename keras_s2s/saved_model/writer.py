"""`keras_s2s.export(...)`: writes a SavedModel that stock TF Serving serves,
as the next version of a model base path (the layout and signatures are in
`contract.py`).

Safe to run while a server polls the base path, and concurrently with other
exports into it:

- the SavedModel is written into a fresh directory from `tempfile.mkdtemp`
  (a random, never-reused name starting with a dot, which TF Serving
  ignores; created exclusively, so a pre-existing file or link of that name
  is never written through);
- the version number is claimed under an exclusive lock on the base path
  directory itself (`flock`, so no lock file is left behind), by renaming the
  finished directory to the next free integer; a number taken meanwhile by
  something not holding the lock makes it try the next one.

The graph holds only TensorFlow and tensorflow-text ops and pins no device.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import shutil
import tempfile

import tensorflow as tf

from keras_s2s.decoding.settings import DecodingSettings
from keras_s2s.saved_model import contract
from keras_s2s.saved_model.warmup import warmup_inputs, write_warmup_requests
from keras_s2s.scoring import PairScorer
from keras_s2s.translation_graph import Translator


class ExportModule(tf.Module):
    """The model's variables, its lookup tables, one translator per decoding
    signature and the pair scorer, as one trackable tree; `signatures()` are
    the serving functions, made from the contract's input specs."""

    def __init__(self, model, settings: dict[str, DecodingSettings]):
        super().__init__(name="keras_s2s_translator")
        # Tables must be attributes (tracked) to be saved with the graph.
        self.lookup_tables = [*model.source_encoder.lookup_tables(),
                              *model.target_encoder.lookup_tables()]
        self.translators = {name: Translator(model, settings[name])
                            for name in contract.DECODING_SIGNATURES}
        # Scores rank as the n-best list does, so a beam hypothesis scores the same.
        self.scorer = PairScorer(model,
                                 length_penalty=settings["translate_n_best"].length_penalty)

    def _outputs(self, name, translated):
        """A translator's `translation` and `score`, under the contract's keys."""
        text_key, score_key = contract.SIGNATURES[name].outputs
        return {text_key: translated["translation"], score_key: translated["score"]}

    def _python_function(self, name):
        translator = self.translators.get(name)
        if name == "translate_prefix":
            return lambda text, prefix: self._outputs(name, translator.translate(
                text, prefix=prefix))
        if name == "translate_sample":
            return lambda text, seed: self._outputs(name, translator.translate(text, seed=seed))
        if name == "score":
            return lambda text, target: self.scorer(text, target)
        return lambda text: self._outputs(name, translator.translate(text))

    def signatures(self) -> dict:
        """`{signature name: tf.function}`, every signature of the contract."""
        return {name: tf.function(self._python_function(name), input_signature=[
                    contract.input_spec(key) for key in signature.inputs])
                for name, signature in contract.SIGNATURES.items()}


def next_version(base_path: pathlib.Path) -> int:
    """1 + the highest integer-named entry under `base_path` (1 if none)."""
    versions = [int(p.name) for p in base_path.iterdir() if p.name.isdigit()]
    return max(versions, default=0) + 1


@contextlib.contextmanager
def _export_lock(base_path: pathlib.Path):
    """An exclusive advisory lock held while a version number is claimed."""
    try:
        import fcntl
    except ImportError:  # not POSIX: the rename retry below still avoids overwriting
        yield
        return
    descriptor = os.open(base_path, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def publish(temporary: pathlib.Path, base_path: pathlib.Path) -> pathlib.Path:
    """Renames the finished `temporary` directory to the next free version."""
    with _export_lock(base_path):
        version = next_version(base_path)
        for _ in range(1000):
            final = base_path / str(version)
            # rename() would silently replace an *empty* directory: check first.
            if not os.path.lexists(final):
                try:
                    os.rename(temporary, final)
                    return final
                except OSError:
                    if not os.path.lexists(final):
                        raise
            version += 1  # taken by a writer that did not hold the lock
    raise RuntimeError(f"{base_path}: could not claim a version number.")


def _prepare_base_path(base_path) -> pathlib.Path:
    base_path = pathlib.Path(base_path)
    if base_path.exists() and not base_path.is_dir():
        raise ValueError(f"{base_path} is a file; the export's base path must be a directory "
                         "(e.g. saved_models/<name>), one version per subdirectory.")
    base_path.mkdir(parents=True, exist_ok=True)
    return base_path


def _readable_by_others(directory: pathlib.Path) -> None:
    # mkdtemp makes a 0700 directory; a server running as another user must
    # read the version, so give it the permissions a plain mkdir would have.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(directory, 0o777 & ~umask)


def export(model, base_path: str | os.PathLike, *, decoding: DecodingSettings | None = None,
           sampling: DecodingSettings | None = None, **decoding_options) -> pathlib.Path:
    """Writes `model` as the next version of a TF Serving model base path.

    The version is written under a temporary, non-numeric name (which TF
    Serving ignores) and renamed once complete, so a server polling the base
    path never loads half a model; an existing version is never overwritten,
    and concurrent exports get distinct versions. Each version carries a
    warm-up file, so a server's first real request does not pay for tracing.

    Args:
        model: a trained `keras_s2s` model (or the path of a `.keras` file).
        base_path: e.g. `"saved_models/spa_eng"`; created if missing.
        decoding: the `DecodingSettings` of `serving_default` (or its fields
            as keyword arguments). Default: beam search, `beam_width=4`,
            `length_penalty=0.6`; `translate_n_best` returns `num_results`
            hypotheses (`beam_width` of them by default) and
            `translate_greedy` is greedy search (see
            `keras_s2s.saved_model.contract.signature_settings`).
            `max_length` defaults per sentence (twice its source length plus
            10), as in `keras_s2s.translate`.
        sampling: `DecodingSettings(method="sample", ...)` for
            `translate_sample` (default: temperature 1, no truncation).

    Returns:
        The version directory written, e.g. `saved_models/spa_eng/1`.

    Example:
        >>> keras_s2s.export(model, "saved_models/spa_eng")
        PosixPath('saved_models/spa_eng/1')
        >>> keras_s2s.export(model, "saved_models/spa_eng", beam_width=8, num_results=8)
        PosixPath('saved_models/spa_eng/2')
    """
    from keras_s2s.saving import model_from

    if decoding is None:
        decoding_options.setdefault("method", "beam")
    settings = contract.signature_settings(
        DecodingSettings.from_options(decoding, **decoding_options), sampling)
    if any(signature.jit_compile for signature in settings.values()):
        # Stock TF Serving runs XLA-compiled graphs only with --xla_cpu_compilation_enabled.
        raise ValueError("jit_compile=True cannot be exported: TF Serving does not compile "
                         "with XLA by default. Export without it; it is a setting for "
                         "translate() in Python.")
    model = model_from(model)
    module = ExportModule(model, settings)
    base_path = _prepare_base_path(base_path)
    temporary = pathlib.Path(tempfile.mkdtemp(prefix=".writing-", dir=base_path))
    try:
        tf.saved_model.save(module, str(temporary), signatures=module.signatures())
        # What each graph does, with automatic settings made concrete: a later
        # keras_s2s with other automatic defaults must still read the export right.
        tokenization = model.target_encoder.tokenization
        signatures = {name: s.for_tokenization(tokenization).as_dict()
                      for name, s in settings.items()}
        signatures["score"] = {"length_penalty": module.scorer.length_penalty}
        contract.ExportInfo(signatures=signatures, config=model.get_config()).write(temporary)
        write_warmup_requests(temporary, warmup_inputs(model),
                              model_name=base_path.resolve().name)
        _readable_by_others(temporary)
        return publish(temporary, base_path)
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)
