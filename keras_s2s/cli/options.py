"""Option groups more than one command shares: decoding, data, model, output.

No option without an effect: every parser refuses abbreviations
(`allow_abbrev=False`, so `--beam 4` is not read as `--beam-width 4`), every
error is one line (`OneLineParser`), every option states its default, and an
option that does not apply to what was asked (`--beam-width` with
`--method greedy`, `--source-column` with `--corpus`) is an error, checked in
`keras_s2s.cli.checks`.
"""

from __future__ import annotations

import argparse

from keras_s2s.cli.defaults import signature_defaults
from keras_s2s.data.corpus import CORPORA
from keras_s2s.data.sanity import MAX_PAIR_CHARACTERS
from keras_s2s.decoding.settings import METHODS, field_help

UNSET = argparse.SUPPRESS
# Where `keras_s2s.translate(texts)` looks with no model (keras_s2s.translation
# .DEFAULT_MODEL, which imports TensorFlow; tests/test_cli.py keeps them equal).
DEFAULT_MODEL = "saved_models/spa_eng"
FORMATS = ("text", "tsv", "jsonl")
_METAVARS = {int: "N", float: "X", bool: "yes|no"}


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block), exit code 2."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but an unknown option is reported by the command it
        was given to (`keras-s2s translate: error: ...`), not by the top parser."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            commands = getattr(self, "commands", {})
            commands.get(getattr(parsed, "command", None), self).error(
                f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def positive_integer(text: str) -> int:
    """An argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def boolean(text: str) -> bool:
    """An argparse type: yes/no, true/false, 1/0, on/off."""
    if text.lower() in ("yes", "true", "1", "on"):
        return True
    if text.lower() in ("no", "false", "0", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected yes or no, got {text!r}")


def add_decoding_options(parser, *, methods=METHODS, default_method="greedy", skip=()):
    """One option per `DecodingSettings` field, with its help and default
    (`default_method`: the method the command uses when --method is not given)."""
    group = parser.add_argument_group(
        "decoding (the fields of keras_s2s.decoding.DecodingSettings)",
        "An option of one method is an error with another (--beam-width with --method "
        "greedy, --temperature without --method sample): it would have no effect.")
    for name, (default, text, applies_to, kind) in field_help().items():
        if name in skip:
            continue
        where = "" if len(applies_to) == len(METHODS) else f"{'/'.join(applies_to)} only"
        # Some help texts explain their default themselves.
        if kind is bool:  # the command line says yes and no
            text = text.replace("False", "no").replace("True", "yes")
        stated = "" if "default" in text else f"default {default}"
        note = "; ".join(part for part in (stated, where) if part)
        options = dict(type=boolean if kind is bool else kind, default=UNSET,
                       metavar=_METAVARS.get(kind, "VALUE"),
                       help=f"{text} ({note})" if note else text)
        if name == "method":
            options.update(choices=list(methods), type=str, metavar="{" + ",".join(methods) + "}",
                           help=f"{text} (default {default_method})")
        group.add_argument("--" + name.replace("_", "-"), **options)


def add_training_options(parser):
    """One option per `TrainingSettings` field, with its help and default."""
    from keras_s2s.training_settings import BATCHINGS, MONITORS, SCHEDULES, field_help

    choices = {"batching": BATCHINGS, "learning_rate_schedule": SCHEDULES,
               "monitor": tuple(MONITORS)}
    group = parser.add_argument_group("training (the fields of "
                                      "keras_s2s.training_settings.TrainingSettings)")
    for name, (default, text, kind) in field_help().items():
        # A help text that explains its own (automatic) default says it itself.
        value = "none" if default is None else \
            ("yes" if default else "no") if isinstance(default, bool) else default
        shown = "" if "(default:" in text else f" (default {value})"
        options = dict(type=boolean if kind is bool else kind, default=UNSET,
                       metavar=_METAVARS.get(kind, "VALUE"), help=text + shown)
        if name in choices:
            options.update(choices=list(choices[name]), type=str,
                           metavar="{" + ",".join(choices[name]) + "}")
        group.add_argument("--" + name.replace("_", "-"), **options)


def add_data_options(parser, *, split_help: str | None = None):
    """--corpus or --data (not both), how to read --data, and the filters."""
    group = parser.add_argument_group("data")
    source = group.add_mutually_exclusive_group()
    source.add_argument("--corpus", choices=sorted(CORPORA), default=UNSET,
                        help="a bundled corpus, split 90/5/5 into train/validation/test by "
                        "chapter (default bible-spa-eng, unless --data is given)")
    source.add_argument("--data", metavar="FILE.tsv", default=UNSET,
                        help="a tab-separated pairs file (.tsv or .tsv.gz) instead of a "
                        "corpus; one pair in 20 (the 20th, 40th, ...) is its validation split "
                        "(default: none, the corpus)")
    group.add_argument("--source-column", type=int, default=UNSET, metavar="N",
                       help="0-based column of the source sentence in --data (default 0)")
    group.add_argument("--target-column", type=int, default=UNSET, metavar="N",
                       help="0-based column of the target sentence in --data (default 1)")
    group.add_argument("--encoding", default=UNSET,
                       help="text encoding of --data, e.g. latin-1 (default utf-8)")
    group.add_argument("--skip-header", action="store_true", default=UNSET,
                       help="the first line of --data names the columns: skip it "
                       "(default: off; a first line like 'source<TAB>target' is warned about)")
    group.add_argument("--max-words", type=positive_integer, default=None, metavar="N",
                       help="keep pairs with at most this many words per side "
                       "(default: no limit)")
    group.add_argument("--max-characters", type=positive_integer, metavar="N",
                       default=MAX_PAIR_CHARACTERS,
                       help="skip (and count) pairs with a side longer than this; longer "
                       "'sentences' are usually a missing line break "
                       f"(default {MAX_PAIR_CHARACTERS})")
    if split_help is not None:
        group.add_argument("--split", choices=["train", "validation", "test", "all"],
                           default=None, help=split_help + "; pairs also in train are "
                           "left out of validation and test, as training does")
    return group


def add_model_option(parser, *, keras_only: bool = False):
    if keras_only:
        parser.add_argument("--model", required=True, metavar="FILE.keras",
                            help="a .keras model file (required: no default)")
        return
    parser.add_argument("--model", default=DEFAULT_MODEL, metavar="PATH",
                        help="a .keras model file or an exported SavedModel directory "
                        f"(default {DEFAULT_MODEL}, the shipped model, as in Python's "
                        "keras_s2s.translate)")


def add_verbosity_options(parser, *, progress: bool = True):
    group = parser.add_argument_group("messages")
    group.add_argument("--verbose", action="store_true",
                       help="show TensorFlow's log lines, library warnings and, for an error, "
                       "its traceback (default: off)")
    if progress:
        group.add_argument("--quiet", action="store_true",
                           help="no progress line on stderr (default: shown when stderr "
                           "is a terminal)")


def default_of(module: str, function: str, name: str) -> str:
    """`"default X"` for a library parameter, for help texts."""
    return f"default {signature_defaults(module, function)[name]}"
