"""Loaders: exact pairs, counted skips, and errors that name file and line."""

import gzip

import pytest

from keras_s2s.data import (
    DataFormatError,
    SentencePairs,
    load_anki,
    load_corpus,
    load_tsv,
    split_pairs,
    synthetic_pairs,
)
from keras_s2s.data.corpus import split_of_chapter
from keras_s2s.data.synthetic import NUMBER_WORDS


def _write(tmp_path, name, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_reads_columns_and_counts_skips(tmp_path, capsys):
    path = _write(tmp_path, "p.tsv", "hola\thello\n\n  \t world\nadiós\tbye\tx\n".encode())
    pairs = load_tsv(path)
    assert list(pairs) == [("hola", "hello"), ("adiós", "bye")]
    assert pairs.references == ("p.tsv:1", "p.tsv:4")
    out = capsys.readouterr().out
    assert "Read 2 pairs" in out and "skipped 2 lines" in out and "1 blank" in out


def test_anki_format_puts_english_second(tmp_path):
    content = "Go.\tVe.\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272\n"
    content += "Hi.\tHola.\tCC-BY 2.0 (France) Attribution: tatoeba.org #538123\n"
    path = _write(tmp_path, "spa.txt", content.encode())
    assert list(load_anki("spa", path=path)) == [("Ve.", "Go."), ("Hola.", "Hi.")]
    assert list(load_anki("spa", path=path, reverse=True))[0] == ("Go.", "Ve.")
    assert list(load_tsv(path, source_column=1, target_column=0, verbose=False))[1] == (
        "Hola.", "Hi.")


def test_bom_crlf_mixed_line_endings_and_gzip(tmp_path):
    raw = b"\xef\xbb\xbfuno\tone\r\ndos\ttwo\rtres\tthree\n"
    expected = [("uno", "one"), ("dos", "two"), ("tres", "three")]
    assert list(load_tsv(_write(tmp_path, "a.tsv", raw), verbose=False)) == expected
    gz = _write(tmp_path, "a.tsv.gz", gzip.compress(raw))
    assert list(load_tsv(gz, verbose=False)) == expected


def test_max_words_filter(tmp_path):
    path = _write(tmp_path, "p.tsv", b"a b c\tx y\na\tx\n")
    assert list(load_tsv(path, max_words=2, verbose=False)) == [("a", "x")]


@pytest.mark.parametrize(
    ("content", "options", "message"),
    [
        (b"uno\tone\ndos\n", {}, r"bad.tsv:2: line has 1 column"),
        (b"uno\tone\n", {"target_column": 5}, r"bad.tsv:1: .*at least 6"),
        (b"uno\tone\n\xff\xfe\tx\n", {}, r"bad.tsv:2: not valid utf-8"),
        (b"", {}, r"bad.tsv: no sentence pairs"),
        (b"\n\n", {}, r"bad.tsv: no sentence pairs"),
        (b"uno\tone\n", {"source_column": -1}, r"source_column"),
        (b"uno\tone\n", {"target_column": 0}, r"both 0"),
    ],
)
def test_errors_name_the_file_and_line(tmp_path, content, options, message):
    path = _write(tmp_path, "bad.tsv", content)
    with pytest.raises(DataFormatError, match=message):
        load_tsv(path, verbose=False, **options)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.tsv"):
        load_tsv(tmp_path / "nope.tsv")


def test_bundled_corpus_split_is_whole_deterministic_and_by_chapter():
    splits = load_corpus("bible-spa-eng")
    sizes = [len(splits.train), len(splits.validation), len(splits.test)]
    assert sum(sizes) == 29_143  # every line of the bundled file, none lost
    assert sizes[1] > 1000 and sizes[2] > 1000
    chapters = {
        name: {ref.rsplit(":", 1)[0] for ref in getattr(splits, name).references}
        for name in ("train", "validation", "test")
    }
    assert not chapters["train"] & chapters["test"]
    assert not chapters["train"] & chapters["validation"]
    assert all(split_of_chapter(c) == "test" for c in chapters["test"])
    assert load_corpus("bible-spa-eng").test == splits.test


def test_length_filter_is_a_subset_of_the_same_split():
    short = load_corpus("bible-spa-eng", max_words=20)
    full = load_corpus("bible-spa-eng")
    assert 10_000 < len(short.train) < 12_000
    assert set(short.test.references) <= set(full.test.references)
    assert all(len(s.split()) <= 20 and len(t.split()) <= 20 for s, t in short.test)


def test_unknown_corpus_lists_the_available_ones():
    with pytest.raises(ValueError, match="bible-spa-eng"):
        load_corpus("klingon")


def test_synthetic_pairs_are_deterministic_word_for_word():
    pairs = synthetic_pairs(100, seed=3, min_length=2, max_length=4)
    assert pairs == synthetic_pairs(100, seed=3, min_length=2, max_length=4)
    assert pairs != synthetic_pairs(100, seed=4, min_length=2, max_length=4)
    for source, target in pairs:
        assert 2 <= len(source.split()) <= 4
        assert target.split() == [NUMBER_WORDS[w] for w in source.split()]


def test_split_pairs_holds_out_every_twentieth():
    pairs = SentencePairs(tuple(map(str, range(100))), tuple(map(str, range(100))))
    train, validation = split_pairs(pairs)
    assert len(train) == 95 and validation.sources == ("19", "39", "59", "79", "99")
    with pytest.raises(ValueError, match="pair up"):
        SentencePairs(("a",), ())
