"""Checks of the command line that run before TensorFlow is imported.

A missing model file, an output path that cannot be written, a decoding
option the chosen method ignores: each is found here, in plain Python, within
a fraction of a second, instead of after the ~5-10 s TensorFlow takes to load.
Every failure is a `CommandLineError` worded with the options to change.

Example:
    >>> check_model_path("runs/none.keras")
    CommandLineError: no model at runs/none.keras: ...
"""

from __future__ import annotations

import pathlib
import zipfile

from keras_s2s.cli.messages import CommandLineError, flag
from keras_s2s.cli.options import DEFAULT_MODEL
from keras_s2s.decoding.settings import DecodingSettings, field_help

# Options that say how to read a --data file, which a bundled corpus does not take.
FILE_READING_OPTIONS = ("source_column", "target_column", "encoding", "skip_header",
                        "validation_data")


def check_model_path(path: str, *, keras_only: bool = False) -> pathlib.Path:
    """`path` as a Path, if it can be a model: a `.keras` zip file, or (unless
    `keras_only`) a SavedModel version directory or base path."""
    model = pathlib.Path(path)
    if not model.exists():
        if path == DEFAULT_MODEL:
            raise CommandLineError(
                f"no --model given, and the shipped model {DEFAULT_MODEL}/ is not in the "
                "current directory: give --model FILE.keras (or a SavedModel directory), or "
                "run from the repository's top directory.")
        raise CommandLineError(f"no model at {path}: give the .keras file `keras-s2s train "
                               "--output` wrote" + ("" if keras_only else
                                                    ", or an export directory") + ".")
    if model.is_dir():
        if keras_only:
            raise CommandLineError(f"{path} is a directory; --model takes a .keras file here.")
        versions = [p for p in model.iterdir() if p.name.isdigit()]
        if not (model / "saved_model.pb").exists() and not any(
                (version / "saved_model.pb").exists() for version in versions):
            raise CommandLineError(
                f"{path} holds no SavedModel: expected saved_model.pb in it, or version "
                "directories (1/, 2/, ...) as `keras-s2s export` writes.")
        return model
    if model.suffix != ".keras":
        raise CommandLineError(f"{path}: expected a .keras model file"
                               + ("" if keras_only else " or a SavedModel directory") + ".")
    if not zipfile.is_zipfile(model):
        raise CommandLineError(f"{path} is not a valid .keras file (not a zip archive: "
                               "truncated?).")
    return model


def check_export_path(path: str) -> pathlib.Path:
    """An export to check: a version directory, or a base path holding versions."""
    export = pathlib.Path(path)
    if not export.is_dir():
        raise CommandLineError(f"no SavedModel at {path}: give a version directory or a "
                               "base path that `keras-s2s export --output` wrote.")
    return check_model_path(path)


def check_input_file(path: str, option: str) -> pathlib.Path:
    """A file to read: it exists and is not a directory."""
    file = pathlib.Path(path)
    if not file.exists():
        raise CommandLineError(f"{option} {path}: no such file.")
    if file.is_dir():
        raise CommandLineError(f"{option} {path} is a directory; give the file inside it.")
    return file


def check_output_file(path: str, option: str, *, ending: str | None = None) -> pathlib.Path:
    """A file to write: not a directory, in a directory that exists."""
    file = pathlib.Path(path)
    if ending is not None and not str(path).endswith(ending):
        # Keras picks the format from the ending.
        raise CommandLineError(f"{option} must end in {ending} (Keras' model format), got "
                               f"{str(path)!r}.")
    if file.is_dir():
        raise CommandLineError(f"{option} {path} is a directory; give a file name.")
    if ending is None and not file.parent.is_dir():
        raise CommandLineError(f"{option} {path}: no directory {file.parent}.")
    return file


def check_base_path(path: str, option: str) -> pathlib.Path:
    """An export's base path: a directory, or a name for one."""
    base = pathlib.Path(path)
    if base.exists() and not base.is_dir():
        raise CommandLineError(
            f"{option} {path} is a file; the export's base path must be a directory (e.g. "
            "saved_models/NAME), one version per subdirectory.")
    return base


def check_data_options(args):
    """--corpus takes none of the options that say how to read a --data file."""
    if getattr(args, "data", None) is not None:
        if getattr(args, "split", None) == "test" and not hasattr(args, "corpus"):
            raise CommandLineError(
                "--data files are split into train and validation only (one pair in 20 "
                "is validation): give --split validation, train or all.")
        return
    for name in FILE_READING_OPTIONS:
        if hasattr(args, name):
            raise CommandLineError(f"{flag(name)} applies to --data files; a bundled --corpus "
                                   "is read as it is.")


def decoding_settings(args, *, default_method: str = "greedy") -> DecodingSettings:
    """The `DecodingSettings` of the decoding options given on the command line.

    Stricter than `DecodingSettings` itself: an option the method does not use
    is an error even at its default value, since giving it says the user
    expects it to do something.
    """
    fields = field_help()
    given = {name: getattr(args, name) for name in fields if hasattr(args, name)}
    method = given.setdefault("method", default_method)
    for name, value in given.items():
        applies_to = fields[name][2]
        if method not in applies_to:
            users = " or ".join(f"--method {user}" for user in applies_to)
            raise CommandLineError(
                f"{flag(name)} {value} has no effect with --method {method}: it applies to "
                f"{users}. Leave it out, or give that --method.")
    return DecodingSettings(**given)  # a bad value is a ValueError, reworded by main


def describe_settings(settings: DecodingSettings) -> str:
    """The options that reproduce `settings`: `--method beam --beam-width 4 ...`
    (the method's own options, and any shared option off its default)."""
    fields = field_help()
    parts = [f"--method {settings.method}"]
    for name, value in settings.as_dict().items():
        default, _, applies_to, _ = fields[name]
        if name == "method" or settings.method not in applies_to:
            continue
        if value != default or len(applies_to) < len(fields["method"][2]):
            shown = {True: "yes", False: "no"}.get(value, value) if isinstance(value, bool) \
                else value
            parts.append(f"{flag(name)} {shown}")
    return " ".join(parts)
