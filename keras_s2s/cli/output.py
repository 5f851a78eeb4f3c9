"""Where results go and how they look: text, tsv or jsonl, on stdout or in a
file that appears complete.

Formats (the same for `translate` and `score`, field for field):

- `text`: one line per input line; an n-best list is
  `translation<TAB>score<TAB>translation<TAB>score...`, best first, the order
  of Python's `(text, score)` pairs.
- `tsv`: a header line, then one row per result (`line`, `rank`,
  `translation`, `score` for translate), tabs and newlines inside a field
  written as spaces.
- `jsonl`: one JSON object per input line.

Example:
    >>> sink = LineSink("out.txt")
    >>> sink.write(format_translation(1, "hola", [("hello", -0.4)], "text"), lines=1)
    >>> sink.publish()
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import sys

from keras_s2s.cli.interrupts import interrupts_deferred

TRANSLATION_TSV_HEADER = "line\trank\ttranslation\tscore\n"
SCORE_TSV_HEADER = "reference\tlog_prob\tscore\tsource\ttarget\n"


def _field(text: str) -> str:
    return " ".join(text.split("\t")).replace("\n", " ").replace("\r", " ")


def format_translation(line: int, source: str | None, hypotheses, form: str, *,
                       problem: str | None = None) -> str:
    """The output of one input line, newline included.

    Args:
        line: the input's 1-based line number.
        source: the input text (None when it could not be read).
        hypotheses: `[(translation, score), ...]`, best first; `score` is None
            when not computed (text format with one result).
        form: "text", "tsv" or "jsonl".
        problem: why the line has no translation (e.g. invalid UTF-8).
    """
    if form == "jsonl":
        record = {"line": line, "source": source}
        if problem is not None:
            record.update(translation="", score=None, error=problem)
        elif len(hypotheses) == 1:
            record.update(translation=hypotheses[0][0], score=hypotheses[0][1])
        else:
            record.update(translations=[text for text, _ in hypotheses],
                          scores=[score for _, score in hypotheses])
        return json.dumps(record, ensure_ascii=False) + "\n"
    if form == "tsv":
        if problem is not None:
            return f"{line}\t1\t\t\n"
        return "".join(f"{line}\t{rank}\t{_field(text)}\t{score:.4f}\n"
                       for rank, (text, score) in enumerate(hypotheses, start=1))
    if problem is not None:
        return "\n"
    if len(hypotheses) == 1:
        return _field(hypotheses[0][0]) + "\n"
    return "\t".join(f"{_field(text)}\t{score:.4f}" for text, score in hypotheses) + "\n"


def format_score(reference: str, source: str, target: str, pair_score, form: str) -> str:
    """One pair's `keras_s2s.scoring.PairScore`, newline included."""
    if form == "jsonl":
        return json.dumps({"reference": reference, "source": source, "target": target,
                           "log_prob": pair_score.log_prob, "score": pair_score.score,
                           "token_log_probs": pair_score.token_log_probs},
                          ensure_ascii=False) + "\n"
    if form == "tsv":
        return (f"{_field(reference)}\t{pair_score.log_prob:.4f}\t{pair_score.score:.4f}\t"
                f"{_field(source)}\t{_field(target)}\n")
    return f"{pair_score.log_prob:.4f}\t{pair_score.score:.4f}\n"


class LineSink:
    """Output lines, flushed as they come: to stdout, or to `path`.

    A file is written under a temporary name beside it and renamed onto
    `path` by `publish()`, so `path` never holds half a line; `discard()`
    removes the temporary file and leaves `path` as it was.

    Args:
        path: the output file, or None for stdout.
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = pathlib.Path(path) if path is not None else None
        self.lines = 0  # input lines whose output is written in full
        if self.path is None:
            self.temporary, self.stream = None, sys.stdout
        else:
            self.temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.partial")
            self.stream = open(self.temporary, "w", encoding="utf-8", newline="\n")  # noqa: SIM115

    def write(self, text: str, *, lines: int):
        """Writes `text` (the output of `lines` input lines) whole, and flushes."""
        with interrupts_deferred():
            self.stream.write(text)
            self.stream.flush()
            self.lines += lines

    def publish(self):
        """Makes a file output appear under its name (a no-op for stdout)."""
        if self.temporary is None:
            return
        with interrupts_deferred():
            self.stream.flush()
            os.fsync(self.stream.fileno())
            self.stream.close()
            os.replace(self.temporary, self.path)
        self.temporary = None

    def discard(self):
        if self.temporary is not None:
            self.stream.close()
            with contextlib.suppress(FileNotFoundError):
                self.temporary.unlink()
            self.temporary = None
