"""The pairs a command works on, from --corpus or --data, checked and described.

One recipe for every command, so `evaluate --split validation` scores exactly
what `train` validated on:

1. read: the bundled corpus, or the --data file (`--skip-header`, columns,
   `--encoding`);
2. split: the corpus by chapter (train / validation / test); a file by
   position, one pair in 20 to validation (`keras_s2s.data.split_pairs`), or
   all of it for training when `--validation-data` is given; splitting before
   filtering keeps a pair in the same split whatever the filters;
3. filter: `--max-words`, then `--max-characters` (skipped and counted);
4. leave out of validation and test every pair that is also in train.

Plain Python: runs before TensorFlow is imported, so data mistakes are
reported at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from keras_s2s import data
from keras_s2s.cli.checks import check_input_file
from keras_s2s.cli.messages import CommandLineError

MIN_FILE_PAIRS = 20  # split_pairs' validation_every: fewer leave no validation pair


@dataclass
class Splits:
    """Named splits (`train`, `validation`, maybe `test`) and what was done to them.

    `name` says where the pairs came from ("bible-spa-eng", "pairs.tsv");
    `filters` the filters given; `left_out` `(split, count, reason)` of the
    pairs left out; `warnings` what looks wrong but is not an error.
    """

    name: str
    parts: dict
    is_corpus: bool = False
    filters: str = ""
    left_out: list = field(default_factory=list)
    warnings: list = field(default_factory=list)


def _read_file(path, args, option: str, splits_warnings: list):
    check_input_file(path, option)
    pairs = data.load_tsv(path, source_column=getattr(args, "source_column", 0),
                          target_column=getattr(args, "target_column", 1),
                          encoding=getattr(args, "encoding", "utf-8"),
                          skip_header=getattr(args, "skip_header", False), verbose=False)
    header = None if getattr(args, "skip_header", False) else data.header_row(pairs)
    if header is not None:
        line = pairs.references[0].rsplit(":", 1)[-1]  # after any blank lines
        splits_warnings.append(
            f"{path}:{line} looks like a header ({header[0]!r} / {header[1]!r}) and is read "
            "as a pair; give --skip-header to skip it.")
    if data.looks_english_to_spanish(pairs):
        columns = (getattr(args, "source_column", 0), getattr(args, "target_column", 1))
        splits_warnings.append(
            f"in {path} the source column ({columns[0]}) looks English and the target "
            f"column ({columns[1]}) Spanish, so this is English->Spanish; for Spanish->"
            f"English give --source-column {columns[1]} --target-column {columns[0]}.")
    return pairs


def read_splits(args, *, for_training: bool = False) -> Splits:
    """Steps 1 and 2: the unfiltered splits the options name (and, for a file
    outside training, `all` of it)."""
    if getattr(args, "data", None) is None:
        name = getattr(args, "corpus", "bible-spa-eng")
        corpus = data.load_corpus(name)
        return Splits(name, {"train": corpus.train, "validation": corpus.validation,
                             "test": corpus.test}, is_corpus=True)
    splits = Splits(args.data, {})
    pairs = _read_file(args.data, args, "--data", splits.warnings)
    if getattr(args, "validation_data", None) is not None:
        splits.parts = {"train": pairs, "validation": _read_file(
            args.validation_data, args, "--validation-data", splits.warnings)}
        return splits
    if len(pairs) < MIN_FILE_PAIRS and (for_training or args.split in ("train", "validation")):
        raise CommandLineError(
            f"{args.data} has {len(pairs)} pairs, too few to hold out a validation split (one "
            f"pair in {MIN_FILE_PAIRS} is validation): add pairs, or give --validation-data "
            "FILE.tsv.")
    splits.parts = dict(zip(("train", "validation"), data.split_pairs(pairs)))
    if not for_training:
        splits.parts["all"] = pairs
    return splits


def filter_splits(splits: Splits, args) -> Splits:
    """Steps 3 and 4, in place: length filters, then training overlap."""
    if args.max_words is not None:
        splits.parts = {name: part.filter_by_length(args.max_words)
                        for name, part in splits.parts.items()}
        splits.filters = f"--max-words {args.max_words}"
    for name, part in list(splits.parts.items()):
        splits.parts[name], dropped = data.drop_long_pairs(part, args.max_characters)
        if dropped:
            splits.left_out.append((name, dropped, f"over {args.max_characters:,} characters"))
    for name in ("validation", "test"):
        if name in splits.parts:
            splits.parts[name], dropped = data.drop_training_overlap(
                splits.parts["train"], splits.parts[name])
            if dropped:
                splits.left_out.append((name, dropped, "also in train"))
    return splits


def training_splits(args) -> Splits:
    """The train / validation (/ test) splits of `keras-s2s train`, every one
    holding pairs, or a CommandLineError before any training."""
    splits = filter_splits(read_splits(args, for_training=True), args)
    for name, part in splits.parts.items():
        if len(part) == 0:
            raise _empty(splits, name)
    return splits


def selected_pairs(args) -> tuple[data.SentencePairs, str]:
    """For evaluate and score: the pairs of `--split`, and a description
    naming the data, the split, the filters and the number of pairs."""
    splits = filter_splits(read_splits(args), args)
    split = args.split or ("all" if getattr(args, "data", None) is not None else "test")
    pairs = splits.parts[split]
    if len(pairs) == 0:
        raise _empty(splits, split)
    filters = f", {splits.filters}" if splits.filters else ""
    return pairs, (f"{_where(splits, split)}{filters}: {len(pairs):,} pairs"
                   f"{describe_left_out(splits, split)}")


def _where(splits: Splits, split: str) -> str:
    return f"{splits.name} ({'all pairs' if split == 'all' else split + ' split'})"


def _empty(splits: Splits, split: str) -> CommandLineError:
    after = f" after {splits.filters}" if splits.filters else ""
    advice = "loosen the filter" if splits.filters else "add pairs"
    if split == "validation" and not splits.is_corpus:
        advice += ", or give --validation-data FILE.tsv"
    return CommandLineError(f"no pairs left in {_where(splits, split)}{after}"
                            f"{describe_left_out(splits, split)}: {advice}.")


def describe_left_out(splits: Splits, only: str | None = None) -> str:
    """` (left out: 12 test pairs also in train)`, or "" when nothing was."""
    reasons = [f"{count:,} {name + ' ' if only is None else ''}pairs {reason}"
               for name, count, reason in splits.left_out if only is None or name == only]
    return f" (left out: {'; '.join(reasons)})" if reasons else ""


def describe_splits(splits: Splits) -> str:
    """`pairs.tsv, --max-words 20: 57 train, 3 validation pairs (left out: ...)`."""
    counts = ", ".join(f"{len(part):,} {name}" for name, part in splits.parts.items())
    filters = f", {splits.filters}" if splits.filters else ""
    return f"{splits.name}{filters}: {counts} pairs{describe_left_out(splits)}."
