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

from keras_s2s.saved_model import contract
from keras_s2s.saved_model.warmup import warmup_texts, write_warmup_requests
from keras_s2s.translator import Translator


class ExportModule(tf.Module):
    """The model's variables, its lookup tables and three translators, as one
    trackable tree; its three `serve_*` functions are the signatures."""

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

    @tf.function(input_signature=[contract.text_spec()])
    def serve_default(self, text):
        outputs = self.default(text)
        return {"translation": outputs["translation"], "score": outputs["score"]}

    @tf.function(input_signature=[contract.text_spec()])
    def serve_greedy(self, text):
        outputs = self.greedy(text)
        return {"translation": outputs["translation"], "score": outputs["score"]}

    @tf.function(input_signature=[contract.text_spec()])
    def serve_n_best(self, text):
        outputs = self.n_best(text)
        return {"translations": outputs["translation"], "scores": outputs["score"]}

    def signatures(self) -> dict:
        functions = {"serving_default": self.serve_default,
                     "translate_greedy": self.serve_greedy,
                     "translate_n_best": self.serve_n_best}
        assert set(functions) == set(contract.SIGNATURES)
        return functions


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
    path never loads half a model; an existing version is never overwritten,
    and concurrent exports get distinct versions. Each version carries a
    warm-up file, so a server's first real request does not pay for tracing.

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
    base_path = _prepare_base_path(base_path)
    temporary = pathlib.Path(tempfile.mkdtemp(prefix=".writing-", dir=base_path))
    try:
        tf.saved_model.save(module, str(temporary), signatures=module.signatures())
        decoding = dict(method=method, beam_width=beam_width, length_penalty=length_penalty,
                        max_length=max_length)
        contract.ExportInfo(decoding=decoding, n_best=n_best,
                            config=model.get_config()).write(temporary)
        write_warmup_requests(temporary, warmup_texts(model.source_vocabulary),
                              model_name=base_path.resolve().name)
        _readable_by_others(temporary)
        return publish(temporary, base_path)
    finally:
        if temporary.exists():
            shutil.rmtree(temporary, ignore_errors=True)
