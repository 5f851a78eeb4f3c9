"""The bundled bible-spa-eng corpus: nothing lost, split by chapter, deterministic."""

import gzip
import zlib

import pytest

from keras_s2s.data import DataFormatError, corpus_path, corpus_readme, load_corpus
from keras_s2s.data.corpus import chapter_of, split_of_chapter

CORPUS_LINES = 29_143
SPLIT_NAMES = ("train", "validation", "test")


@pytest.fixture(scope="module")
def full():
    return load_corpus("bible-spa-eng")


@pytest.fixture(scope="module")
def short():
    return load_corpus("bible-spa-eng", max_words=20)


def chapters(pairs):
    return {reference.rsplit(":", 1)[0] for reference in pairs.references}


def test_every_line_lands_in_exactly_one_split(full):
    sizes = {name: len(getattr(full, name)) for name in SPLIT_NAMES}
    assert sum(sizes.values()) == CORPUS_LINES
    # About 90 / 5 / 5.
    assert 0.85 < sizes["train"] / CORPUS_LINES < 0.95
    assert 0.03 < sizes["validation"] / CORPUS_LINES < 0.07
    assert 0.03 < sizes["test"] / CORPUS_LINES < 0.07
    references = [ref for name in SPLIT_NAMES for ref in getattr(full, name).references]
    assert len(set(references)) == CORPUS_LINES  # each verse once
    assert full.describe() == (
        f"29,143 pairs: {sizes['train']:,} train, {sizes['validation']:,} validation, "
        f"{sizes['test']:,} test."
    )


def test_pairs_are_the_file_s_columns(full):
    assert full.train.references[0] == "Gen 1:1"
    assert full.train.sources[0] == "En el principio crió Dios los cielos y la tierra."
    assert full.train.targets[0] == "In the beginning, God created the heavens and the earth."
    with gzip.open(corpus_path("bible-spa-eng"), "rt", encoding="utf-8") as file:
        rows = [line.rstrip("\n").split("\t") for line in file]
    by_reference = {reference: (spanish, english) for spanish, english, reference in rows}
    for name in SPLIT_NAMES:
        part = getattr(full, name)
        for source, target, reference in zip(part.sources, part.targets, part.references):
            assert by_reference[reference] == (source, target)


def test_splits_share_no_chapter_and_follow_the_crc32_rule(full):
    train, validation, test = (chapters(getattr(full, name)) for name in SPLIT_NAMES)
    assert not train & validation and not train & test and not validation & test
    assert len(train) + len(validation) + len(test) == 1130  # chapters in the file
    expected_split = {0: "test", 1: "validation"}
    for name, names_chapters in zip(SPLIT_NAMES, (train, validation, test)):
        for chapter in names_chapters:
            bucket = zlib.crc32(chapter.encode("utf-8")) % 20
            assert expected_split.get(bucket, "train") == name
            assert split_of_chapter(chapter) == name


def test_loading_twice_gives_identical_splits(full):
    again = load_corpus("bible-spa-eng")
    assert again == full
    assert again.test.references == full.test.references


def test_max_words_filters_within_the_same_splits(full, short):
    for name in SPLIT_NAMES:
        short_part, full_part = getattr(short, name), getattr(full, name)
        assert 0 < len(short_part) < len(full_part)
        assert all(
            len(source.split()) <= 20 and len(target.split()) <= 20
            for source, target in short_part
        )
        # Exactly the short pairs of the unfiltered split, in the same order.
        assert short_part == full_part.filter_by_length(20)
        assert set(short_part.references) <= set(full_part.references)
    # The README promises about 12,000 pairs of at most 20 words per side.
    assert 11_000 < len(short.train) + len(short.validation) + len(short.test) < 13_000


def test_unknown_corpus_lists_the_available_ones():
    with pytest.raises(ValueError, match="Unknown corpus 'klingon'.*bible-spa-eng"):
        load_corpus("klingon")
    with pytest.raises(ValueError, match="bible-spa-eng"):
        corpus_path("klingon")


def test_path_and_readme():
    assert corpus_path("bible-spa-eng").name == "bible_spa_eng.tsv.gz"
    readme = corpus_readme("bible-spa-eng")
    assert "World English Bible" in readme and "Reina-Valera 1909" in readme


def test_chapter_of_a_verse():
    assert chapter_of("Gen 1:3") == "Gen 1"
    assert chapter_of("1Cor 13:4") == "1Cor 13"
    assert chapter_of("Ps 119:176") == "Ps 119"
    with pytest.raises(DataFormatError, match="not a verse reference"):
        chapter_of("bible_spa_eng.tsv.gz:17")
