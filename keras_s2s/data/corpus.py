"""Bundled corpora by name, with a deterministic train / validation / test split.

`bible-spa-eng`: Spanish–English Bible verses, derived from the World English
Bible and the Reina-Valera 1909 (public domain; provenance in its README.md).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from importlib import resources

from keras_s2s.data.pairs import SentencePairs
from keras_s2s.data.tsv import load_tsv

CORPORA = {"bible-spa-eng": ("bible-spa-eng", "bible_spa_eng.tsv.gz")}


@dataclass(frozen=True)
class CorpusSplits:
    train: SentencePairs
    validation: SentencePairs
    test: SentencePairs

    def describe(self) -> str:
        return (f"{len(self.train):,} training, {len(self.validation):,} validation and "
                f"{len(self.test):,} test pairs.")


def _check_name(name: str):
    if name not in CORPORA:
        raise ValueError(f"Unknown corpus {name!r}; available: {sorted(CORPORA)}.")


def corpus_path(name: str = "bible-spa-eng"):
    """Path of a bundled corpus' data file."""
    _check_name(name)
    folder, file_name = CORPORA[name]
    return resources.files("keras_s2s.data").joinpath(folder, file_name)


def corpus_readme(name: str = "bible-spa-eng") -> str:
    """A bundled corpus' provenance and licence notes."""
    _check_name(name)
    folder, _ = CORPORA[name]
    return resources.files("keras_s2s.data").joinpath(folder, "README.md").read_text("utf-8")


def split_of_chapter(chapter: str) -> str:
    """"train", "validation" or "test" for a chapter like "Gen 1".

    Whole chapters go to one split, so neighbouring verses (which repeat each
    other's phrasing) never sit on both sides of the train/test line. The hash
    is fixed (crc32), so the split is the same on every machine and run.
    """
    bucket = zlib.crc32(chapter.encode("utf-8")) % 20
    return "test" if bucket == 0 else "validation" if bucket == 1 else "train"


def load_corpus(name: str = "bible-spa-eng", *, max_words: int | None = None) -> CorpusSplits:
    """Loads a bundled corpus, split about 90 / 5 / 5 by chapter.

    Args:
        name: corpus name; see `CORPORA`.
        max_words: keep pairs of at most this many words per side (applied
            after splitting, so the splits do not depend on it).

    Example:
        >>> splits = load_corpus("bible-spa-eng", max_words=20)
        >>> splits.describe()
    """
    _check_name(name)
    with resources.as_file(corpus_path(name)) as path:
        # Third column is the verse reference ("Gen 1:1").
        pairs = load_tsv(path, source_column=0, target_column=1, verbose=False)
        verses = load_tsv(path, source_column=2, target_column=0, verbose=False).sources
    pairs = SentencePairs(pairs.sources, pairs.targets, verses)
    indices = {"train": [], "validation": [], "test": []}
    for i, verse in enumerate(verses):
        indices[split_of_chapter(verse.rsplit(":", 1)[0])].append(i)
    splits = {split: pairs.select(rows) for split, rows in indices.items()}
    if max_words is not None:
        splits = {split: part.filter_by_length(max_words) for split, part in splits.items()}
    return CorpusSplits(**splits)
