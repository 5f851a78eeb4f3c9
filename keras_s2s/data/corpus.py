"""Corpora bundled with the package, by name, split into train / validation / test.

`bible-spa-eng`: 29,143 Spanish–English Bible verses, derived from the World
English Bible and the Reina-Valera 1909 (both public domain; provenance and
what was left out are in its README.md, see `corpus_readme`).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from keras_s2s.data.errors import DataFormatError
from keras_s2s.data.pairs import SentencePairs
from keras_s2s.data.tsv import load_tsv

if TYPE_CHECKING:  # importlib.resources.abc is Python 3.11+; we support 3.10
    from importlib.resources.abc import Traversable

# Corpus name -> its data file, inside a folder of the same name in this package.
CORPORA = {"bible-spa-eng": "bible_spa_eng.tsv.gz"}

# A verse reference: book (maybe with a leading number), chapter, verse: "1Cor 13:4".
_VERSE = re.compile(r"(?P<chapter>\S+ \d+):\d+")

# One chapter in 20 goes to test and one to validation: about 90 / 5 / 5.
_NUM_BUCKETS = 20
_TEST_BUCKET = 0
_VALIDATION_BUCKET = 1


@dataclass(frozen=True)
class CorpusSplits:
    """A corpus cut into three disjoint parts.

    Args:
        train: pairs to fit the model on.
        validation: pairs to watch during training (early stopping, tuning).
        test: pairs to score the finished model on, once.

    Example:
        >>> splits = load_corpus("bible-spa-eng")
        >>> splits.describe()
        '29,143 pairs: 26,... train, 1,... validation, 1,... test.'
    """

    train: SentencePairs
    validation: SentencePairs
    test: SentencePairs

    def describe(self) -> str:
        """One line with the number of pairs in each split."""
        total = len(self.train) + len(self.validation) + len(self.test)
        return (
            f"{total:,} pairs: {len(self.train):,} train, {len(self.validation):,} validation, "
            f"{len(self.test):,} test."
        )


def corpus_path(name: str = "bible-spa-eng") -> Traversable:
    """Where a bundled corpus' data file is.

    For a normal (unzipped) install this is a `pathlib.Path`; in general it is
    an `importlib.resources` object, so open it with `importlib.resources.as_file`.
    """
    _check_name(name)
    return resources.files("keras_s2s.data").joinpath(name, CORPORA[name])


def corpus_readme(name: str = "bible-spa-eng") -> str:
    """A bundled corpus' README: where the text comes from, its licence, what was left out."""
    _check_name(name)
    return resources.files("keras_s2s.data").joinpath(name, "README.md").read_text("utf-8")


def chapter_of(reference: str) -> str:
    """The chapter a verse belongs to: `"Gen 1:3"` -> `"Gen 1"`."""
    match = _VERSE.fullmatch(reference)
    if match is None:
        raise DataFormatError(
            f"{reference!r} is not a verse reference like 'Gen 1:3'; "
            "the bundled corpus file may be damaged: reinstall keras_s2s."
        )
    return match["chapter"]


def split_of_chapter(chapter: str) -> str:
    """`"train"`, `"validation"` or `"test"` for a chapter like `"Gen 1"`.

    Whole chapters go to one split: neighbouring verses repeat each other's
    names and phrases, so splitting verse by verse would leak test sentences
    into training. crc32 (unlike Python's `hash`) is the same in every process
    and on every machine, so the split never changes.
    """
    bucket = zlib.crc32(chapter.encode("utf-8")) % _NUM_BUCKETS
    if bucket == _TEST_BUCKET:
        return "test"
    if bucket == _VALIDATION_BUCKET:
        return "validation"
    return "train"


def load_corpus(name: str = "bible-spa-eng", *, max_words: int | None = None) -> CorpusSplits:
    """Loads a bundled corpus, split about 90 / 5 / 5 by chapter.

    The split depends only on each verse's chapter, so it is the same on every
    run and whatever `max_words` is: a shorter-sentence run tests on a subset
    of the same test chapters.

    Args:
        name: the corpus; one of `CORPORA` (now only `"bible-spa-eng"`).
        max_words: keep pairs with at most this many words on both sides,
            filtered after splitting (`None` keeps all).

    Returns:
        `CorpusSplits` whose pairs carry their verse as reference ("Gen 1:1").

    Example:
        >>> splits = load_corpus("bible-spa-eng", max_words=20)
        >>> splits.train.sources[0]
        'En el principio crió Dios los cielos y la tierra.'
    """
    with resources.as_file(corpus_path(name)) as path:
        pairs = load_tsv(path, source_column=0, target_column=1, reference_column=2, verbose=False)
    rows = {"train": [], "validation": [], "test": []}
    for index, reference in enumerate(pairs.references):
        rows[split_of_chapter(chapter_of(reference))].append(index)
    splits = {split: pairs.select(indices) for split, indices in rows.items()}
    if max_words is not None:
        splits = {split: part.filter_by_length(max_words) for split, part in splits.items()}
    return CorpusSplits(**splits)


def _check_name(name: str):
    if name not in CORPORA:
        available = ", ".join(sorted(CORPORA))
        raise ValueError(
            f"Unknown corpus {name!r}. Available: {available}. "
            "For your own pairs use load_tsv(path)."
        )
