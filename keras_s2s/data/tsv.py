"""`load_tsv`: sentence pairs from any tab-separated file (.tsv or .tsv.gz).

Problems are reported with the file and line, never swallowed: a line that is
blank or has an empty sentence is skipped *and counted*; a line without enough
columns, or with bytes that are not UTF-8, stops the load with the line number.
"""

from __future__ import annotations

import gzip
import os
import pathlib

from keras_s2s.data.pairs import SentencePairs


class DataFormatError(ValueError):
    """A data file is not what the loader needs; the message names file and line."""


def _read_bytes(path: pathlib.Path) -> bytes:
    if not path.exists():
        raise FileNotFoundError(f"No such data file: {path}")
    if path.is_dir():
        raise DataFormatError(f"{path} is a directory, not a tab-separated pairs file.")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # gzip magic, whatever the file is called
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DataFormatError(f"{path}: damaged gzip file ({error}).") from None
    return raw


def load_tsv(
    path: str | os.PathLike,
    *,
    source_column: int = 0,
    target_column: int = 1,
    max_words: int | None = None,
    encoding: str = "utf-8",
    verbose: bool = True,
) -> SentencePairs:
    """Reads sentence pairs from a tab-separated file.

    Args:
        path: the file; gzip-compressed files are recognised by content.
        source_column, target_column: 0-based columns. For the Anki/Tatoeba
            files (`english<TAB>spanish<TAB>attribution`) Spanish→English is
            `source_column=1, target_column=0`.
        max_words: keep only pairs with at most this many words on both sides.
        encoding: text encoding of the file.
        verbose: print one line saying how many pairs were read and skipped.

    Returns:
        `SentencePairs` whose references are `"<file name>:<line>"`.

    Raises:
        FileNotFoundError: no such file.
        DataFormatError: bad columns, a line with too few columns, undecodable
            bytes, or no pairs at all (the message names the file and line).

    Example:
        >>> pairs = load_tsv("spa.txt", source_column=1, target_column=0)
        Read 141,543 pairs from spa.txt (skipped 0 lines).
    """
    path = pathlib.Path(path)
    for name, value in (("source_column", source_column), ("target_column", target_column)):
        if not isinstance(value, int) or value < 0:
            raise DataFormatError(f"{name} must be a column index >= 0, got {value!r}.")
    if source_column == target_column:
        raise DataFormatError(
            f"source_column and target_column are both {source_column}: choose two columns."
        )
    needed = max(source_column, target_column) + 1
    raw = _read_bytes(path)
    if raw.startswith(b"\xef\xbb\xbf"):  # UTF-8 byte-order mark
        raw = raw[3:]
    sources, targets, references = [], [], []
    blank = empty_field = 0
    # splitlines() accepts \n, \r\n and a lone \r, mixed in one file.
    for number, line_bytes in enumerate(raw.splitlines(), start=1):
        try:
            line = line_bytes.decode(encoding)
        except UnicodeDecodeError as error:
            raise DataFormatError(
                f"{path}:{number}: not valid {encoding} (byte {error.start + 1} of the line); "
                "re-save the file as UTF-8."
            ) from None
        if not line.strip():
            blank += 1
            continue
        fields = line.split("\t")
        if len(fields) < needed:
            raise DataFormatError(
                f"{path}:{number}: line has {len(fields)} column(s), but source column "
                f"{source_column} and target column {target_column} need at least {needed} "
                "(columns are separated by tabs)."
            )
        source, target = fields[source_column].strip(), fields[target_column].strip()
        if not source or not target:
            empty_field += 1
            continue
        sources.append(source)
        targets.append(target)
        references.append(f"{path.name}:{number}")
    if not sources:
        raise DataFormatError(
            f"{path}: no sentence pairs found ({blank} blank lines, {empty_field} lines "
            "with an empty sentence)."
        )
    pairs = SentencePairs(tuple(sources), tuple(targets), tuple(references))
    skipped = blank + empty_field
    if verbose:
        why = f": {blank} blank, {empty_field} with an empty sentence" if skipped else ""
        print(f"Read {len(pairs):,} pairs from {path.name} (skipped {skipped} lines{why}).")
    if max_words is not None:
        kept = pairs.filter_by_length(max_words)
        if verbose:
            print(f"Kept {len(kept):,} pairs of at most {max_words} words per side.")
        pairs = kept
    return pairs
