"""`load_tsv`: sentence pairs from a tab-separated file (.tsv, or gzip-compressed).

Nothing is dropped quietly. Two kinds of line are skipped, counted and
reported: blank lines, and lines whose source or target is empty. Anything
else that is wrong (too few columns, bytes that are not valid text, no pairs
at all) stops the load with the file name, the line number and what to do.
"""

from __future__ import annotations

import gzip
import os
import pathlib
import re

from keras_s2s.data.errors import DataFormatError
from keras_s2s.data.pairs import SentencePairs

__all__ = ["DataFormatError", "load_tsv"]

# Only the three line endings files really use. str.splitlines() would also
# break at U+2028, U+0085 or a form feed, which can sit inside a sentence.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def load_tsv(
    path: str | os.PathLike,
    *,
    source_column: int = 0,
    target_column: int = 1,
    max_words: int | None = None,
    encoding: str = "utf-8",
    verbose: bool = True,
    reference_column: int | None = None,
    skip_header: bool = False,
) -> SentencePairs:
    """Reads sentence pairs from a tab-separated file.

    Columns are split on tabs only; quotes are ordinary characters (the Anki
    files contain unbalanced ones). Each field is stripped of surrounding
    whitespace. A UTF-8 byte-order mark and `\\n`, `\\r\\n` or `\\r` line
    endings (even mixed) are accepted. A file starting with the gzip magic
    bytes is decompressed, whatever its name.

    Args:
        path: the file.
        source_column: 0-based column of the source sentence.
        target_column: 0-based column of the target sentence. The Anki /
            Tatoeba files are `english<TAB>spanish<TAB>attribution`, so
            Spanish→English is `source_column=1, target_column=0`.
        max_words: keep only pairs with at most this many words on both sides
            (`None` keeps all).
        encoding: the file's text encoding.
        verbose: print one line: pairs read, lines skipped and why, and how
            many pairs `max_words` kept.
        reference_column: a column that names each pair (such as a verse
            "Gen 1:1"); by default, and where that field is empty, a pair's
            reference is `"<file name>:<line>"`.
        skip_header: the first non-blank line names the columns (such as
            `source<TAB>target`): skip it. `keras_s2s.data.sanity.header_row`
            says whether a first pair looks like one.

    Returns:
        `SentencePairs` in file order, with references.

    Raises:
        FileNotFoundError: there is no such file.
        DataFormatError: invalid columns, a line with too few columns, text
            that is not valid in `encoding`, or a file without a single pair.

    Example:
        >>> pairs = load_tsv("spa.txt", source_column=1, target_column=0)
        Read 2 pairs from spa.txt; skipped 0 lines.
        >>> list(pairs)
        [('Ve.', 'Go.'), ('Hola.', 'Hi.')]
    """
    path = pathlib.Path(path)
    columns = {"source_column": source_column, "target_column": target_column}
    if reference_column is not None:
        columns["reference_column"] = reference_column
    _check_columns(path, columns)
    if max_words is not None and max_words < 1:
        raise ValueError(f"max_words must be >= 1 (or None for no limit), got {max_words}.")
    needed = max(columns.values()) + 1

    lines = _read_lines(path, encoding)
    if not lines:
        raise DataFormatError(f"{path}: no sentence pairs: the file is empty.")
    sources, targets, references = [], [], []
    blank_lines = empty_sentence_lines = 0
    header_line = next((number for number, line in enumerate(lines, start=1)
                        if line.strip()), None) if skip_header else None
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            blank_lines += 1
            continue
        fields = line.split("\t")
        if line_number == header_line:
            continue
        if len(fields) < needed:
            raise _too_few_columns_error(path, line_number, len(fields), columns)
        source = fields[source_column].strip()
        target = fields[target_column].strip()
        if not source or not target:
            empty_sentence_lines += 1
            continue
        reference = fields[reference_column].strip() if reference_column is not None else ""
        sources.append(source)
        targets.append(target)
        references.append(reference or f"{path.name}:{line_number}")

    if not sources:
        raise DataFormatError(
            f"{path}: no sentence pairs found ({blank_lines} blank lines, "
            f"{empty_sentence_lines} lines with an empty source or target). "
            "Check that this is the right file and that its columns are separated by tabs."
        )
    pairs = SentencePairs(sources=sources, targets=targets, references=references)
    report = f"Read {len(pairs):,} pairs from {path.name}; " + _skipped(
        blank_lines, empty_sentence_lines
    ) + ("; skipped the header line" if skip_header else "")
    if max_words is not None:
        pairs = pairs.filter_by_length(max_words)
        report += f"; kept {len(pairs):,} with at most {max_words} words per side"
    if verbose:
        print(report + ".")
    return pairs


def _check_columns(path: pathlib.Path, columns: dict[str, int]):
    for name, column in columns.items():
        # bool is an int to Python, but `source_column=True` is surely a mistake.
        if isinstance(column, bool) or not isinstance(column, int) or column < 0:
            raise DataFormatError(
                f"{path}: {name} must be a 0-based column index (0, 1, ...), got {column!r}."
            )
    if columns["source_column"] == columns["target_column"]:
        raise DataFormatError(
            f"{path}: source_column and target_column are both {columns['source_column']}; "
            "choose two different columns."
        )


def _read_lines(path: pathlib.Path, encoding: str) -> list[str]:
    """The file's lines as text, without line endings or a byte-order mark."""
    if not path.exists():
        raise FileNotFoundError(f"No such data file: {path}")
    if path.is_dir():
        raise DataFormatError(f"{path} is a directory; give the tab-separated file inside it.")
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # the gzip magic number
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise DataFormatError(
                f"{path}: damaged gzip file ({error}); download or compress it again."
            ) from None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        # Everything before the bad bytes decoded, so its line breaks count the line.
        before = raw[: error.start].decode(encoding, errors="replace")
        line_number = len(_LINE_BREAK.split(before))
        bad_bytes = error.object[error.start : error.end]
        problem = (f"{path}:{line_number}: not valid {encoding} (bytes {bad_bytes!r}). "
                   f"Re-save the file as {encoding}, or ")
        raise DataFormatError(
            problem + "pass the encoding it was written in (for example encoding='latin-1').",
            command_line_message=problem + "give the encoding it was written in (for "
            "example --encoding latin-1).",
        ) from None
    text = text.removeprefix("\ufeff")  # a byte-order mark is not part of the first sentence
    lines = _LINE_BREAK.split(text)
    if lines[-1] == "":
        # The newline that ends the last line does not start another one.
        lines.pop()
    return lines


def _too_few_columns_error(path, line_number: int, found: int, columns: dict[str, int]):
    return DataFormatError(
        _too_few_columns(path, line_number, found, columns, flags=False),
        command_line_message=_too_few_columns(path, line_number, found, columns, flags=True))


def _too_few_columns(path, line_number: int, found: int, columns: dict[str, int], *,
                     flags: bool) -> str:
    """The message, naming the columns as arguments (`source_column=0`) or, for
    the command line, as options (`--source-column 0`)."""
    needed = max(columns.values()) + 1
    if flags:
        named = [f"--{name.replace('_', '-')} {column}" for name, column in columns.items()]
        choose = "--source-column, --target-column"
    else:
        named = [f"{name}={column}" for name, column in columns.items()]
        choose = "source_column=, target_column="
    asked = ", ".join(named[:-1]) + " and " + named[-1]
    plural = "" if found == 1 else "s"
    return (
        f"{path}:{line_number}: line has {found} column{plural}, but {asked} need at least "
        f"{needed}. Separate the columns with tabs, or choose other columns ({choose})."
    )


def _skipped(blank_lines: int, empty_sentence_lines: int) -> str:
    skipped = blank_lines + empty_sentence_lines
    if not skipped:
        return "skipped 0 lines"
    return (
        f"skipped {skipped:,} lines ({blank_lines:,} blank, "
        f"{empty_sentence_lines:,} with an empty source or target)"
    )
