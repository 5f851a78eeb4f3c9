"""load_tsv / load_anki / SentencePairs: exact pairs, counted skips, errors naming file and line."""

import dataclasses
import gzip
import zipfile

import pytest

from keras_s2s.data import (
    DataFormatError,
    SentencePairs,
    download_anki_pairs,
    load_anki,
    load_tsv,
)
from keras_s2s.data import anki as anki_module


def write(tmp_path, name: str, content: bytes):
    path = tmp_path / name
    path.write_bytes(content)
    return path


ANKI_LINES = (
    "Go.\tVe.\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM) & #4986655 (cueyayotl)\n"
    "Hi.\tHola.\tCC-BY 2.0 (France) Attribution: tatoeba.org #538123 (CM) & #431975 (Leono)\n"
    "I'm sure Tom is at home.\tEstoy seguro de que Tom está en casa.\tCC-BY 2.0 (France)\n"
)


# --- reading ---------------------------------------------------------------------------------


def test_reads_exact_pairs_and_reports_every_skipped_line(tmp_path, capsys):
    content = (
        "hola\thello\n"  # 1
        "\n"  # 2 blank
        "   \t  \n"  # 3 blank: only whitespace and a tab
        "  adiós  \t goodbye \n"  # 4 surrounding whitespace is stripped
        "solo\t\n"  # 5 empty target
        " \tonly target\n"  # 6 empty source
        "gracias\tthank you\tignored third column\n"  # 7
    )
    pairs = load_tsv(write(tmp_path, "pairs.tsv", content.encode("utf-8")))
    assert list(pairs) == [("hola", "hello"), ("adiós", "goodbye"), ("gracias", "thank you")]
    assert pairs.references == ("pairs.tsv:1", "pairs.tsv:4", "pairs.tsv:7")
    report = capsys.readouterr().out
    assert report.count("\n") == 1  # one line
    assert "Read 3 pairs from pairs.tsv" in report
    assert "skipped 4 lines (2 blank, 2 with an empty source or target)" in report


def test_a_clean_file_reports_no_skips_and_verbose_false_prints_nothing(tmp_path, capsys):
    path = write(tmp_path, "clean.tsv", b"uno\tone\ndos\ttwo\n")
    load_tsv(path)
    assert capsys.readouterr().out == "Read 2 pairs from clean.tsv; skipped 0 lines.\n"
    load_tsv(path, verbose=False)
    assert capsys.readouterr().out == ""


def test_chooses_columns(tmp_path):
    path = write(tmp_path, "three.tsv", b"uno\tone\teins\ndos\ttwo\tzwei\n")
    assert list(load_tsv(path, source_column=2, target_column=0, verbose=False)) == [
        ("eins", "uno"),
        ("zwei", "dos"),
    ]
    assert list(load_tsv(path, source_column=1, target_column=2, verbose=False))[1] == (
        "two",
        "zwei",
    )


def test_reference_column_names_pairs_and_falls_back_to_the_line(tmp_path):
    path = write(tmp_path, "verses.tsv", b"Sea la luz.\tLet there be light.\tGen 1:3\nA\tB\t \n")
    pairs = load_tsv(path, reference_column=2, verbose=False)
    assert pairs.references == ("Gen 1:3", "verses.tsv:2")


def test_byte_order_mark_crlf_lone_cr_and_no_final_newline(tmp_path):
    raw = b"\xef\xbb\xbfuno\tone\r\ndos\ttwo  \rtres\tthree\r\n\r\ncuatro\tfour"
    pairs = load_tsv(write(tmp_path, "endings.tsv", raw), verbose=False)
    assert list(pairs) == [("uno", "one"), ("dos", "two"), ("tres", "three"), ("cuatro", "four")]
    # A CRLF counts as one line ending, so line numbers match an editor's.
    assert pairs.references[-1] == "endings.tsv:5"


def test_unicode_line_separators_inside_a_sentence_do_not_split_it(tmp_path):
    # str.splitlines() would cut at U+2028 / U+0085 and shift every later line number.
    raw = "a\u2028b\tc\u0085d\nsegunda\tsecond\n".encode()
    pairs = load_tsv(write(tmp_path, "separators.tsv", raw), verbose=False)
    assert list(pairs) == [("a\u2028b", "c\u0085d"), ("segunda", "second")]
    assert pairs.references == ("separators.tsv:1", "separators.tsv:2")


def test_reads_gzip_by_content(tmp_path):
    raw = "uno\tone\n\nmañana\ttomorrow\n".encode()
    expected = [("uno", "one"), ("mañana", "tomorrow")]
    compressed = gzip.compress(raw)
    assert list(load_tsv(write(tmp_path, "pairs.tsv.gz", compressed), verbose=False)) == expected
    # Named like a plain file but compressed: still read.
    assert list(load_tsv(write(tmp_path, "pairs.tsv", compressed), verbose=False)) == expected


def test_other_encodings(tmp_path):
    path = write(tmp_path, "latin.tsv", "mañana\ttomorrow\n".encode("latin-1"))
    assert list(load_tsv(path, encoding="latin-1", verbose=False)) == [("mañana", "tomorrow")]


def test_max_words_keeps_short_pairs_and_says_how_many(tmp_path, capsys):
    path = write(tmp_path, "lengths.tsv", b"a b c\tx\na\tx y z\na b\tx y\n\n")
    pairs = load_tsv(path, max_words=2)
    assert list(pairs) == [("a b", "x y")]
    assert pairs.references == ("lengths.tsv:3",)
    report = capsys.readouterr().out
    assert "Read 3 pairs" in report and "1 blank" in report
    assert "kept 1 with at most 2 words per side" in report
    assert report.count("\n") == 1


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "options", "expected_parts"),
    [
        (
            b"uno\tone\ndos\ttwo\ntres\n",
            {},
            ["bad.tsv:3:", "line has 1 column,", "source_column=0 and target_column=1",
             "at least 2", "tabs"],
        ),
        (
            b"uno\tone\n",
            {"target_column": 3},
            ["bad.tsv:1:", "line has 2 columns", "target_column=3", "at least 4"],
        ),
        (
            b"uno\tone\ndos\ttwo\r\n\xff\xfe\tx\n",
            {},
            ["bad.tsv:3:", "not valid utf-8", "\\xff", "Re-save"],
        ),
        (
            "uno\tone\r\nmal\u00e9\tbad\n".encode("latin-1"),
            {},
            ["bad.tsv:2:", "not valid utf-8"],
        ),
        (b"", {}, ["bad.tsv:", "the file is empty", "no sentence pairs"]),
        (b"\xef\xbb\xbf", {}, ["bad.tsv:", "the file is empty"]),
        (b"\n  \n\t\n", {}, ["bad.tsv:", "no sentence pairs", "3 blank lines"]),
        (b"uno\t\n", {}, ["bad.tsv:", "no sentence pairs", "1 lines with an empty"]),
        (b"uno\tone\n", {"source_column": -1}, ["bad.tsv:", "source_column", "-1"]),
        (b"uno\tone\n", {"target_column": 0}, ["bad.tsv:", "both 0", "two different"]),
        (b"uno\tone\n", {"target_column": "1"}, ["bad.tsv:", "target_column", "'1'"]),
    ],
)
def test_errors_name_the_file_the_line_and_the_fix(tmp_path, content, options, expected_parts):
    path = write(tmp_path, "bad.tsv", content)
    with pytest.raises(DataFormatError) as raised:
        load_tsv(path, verbose=False, **options)
    message = str(raised.value)
    for part in expected_parts:
        assert part in message, f"{part!r} not in {message!r}"


def test_data_format_error_is_a_value_error():
    assert issubclass(DataFormatError, ValueError)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.tsv"):
        load_tsv(tmp_path / "nope.tsv")


def test_damaged_gzip_and_directories_are_reported(tmp_path):
    damaged = write(tmp_path, "cut.tsv.gz", gzip.compress(b"uno\tone\n" * 100)[:30])
    with pytest.raises(DataFormatError, match="cut.tsv.gz: damaged gzip"):
        load_tsv(damaged)
    with pytest.raises(DataFormatError, match="directory"):
        load_tsv(tmp_path)


def test_max_words_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match="max_words"):
        load_tsv(write(tmp_path, "p.tsv", b"a\tb\n"), max_words=0)


# --- Anki / Tatoeba files ----------------------------------------------------------------------


def test_anki_file_is_foreign_to_english_by_default(tmp_path, capsys):
    path = write(tmp_path, "spa.txt", ANKI_LINES.encode())
    pairs = load_anki("spa", path=path)
    assert list(pairs) == [
        ("Ve.", "Go."),
        ("Hola.", "Hi."),
        ("Estoy seguro de que Tom está en casa.", "I'm sure Tom is at home."),
    ]
    assert pairs.references == ("spa.txt:1", "spa.txt:2", "spa.txt:3")
    assert "Read 3 pairs from spa.txt" in capsys.readouterr().out


def test_anki_reverse_and_max_words(tmp_path):
    path = write(tmp_path, "spa.txt", ANKI_LINES.encode())
    assert list(load_anki("spa", path=path, reverse=True)) == [
        ("Go.", "Ve."),
        ("Hi.", "Hola."),
        ("I'm sure Tom is at home.", "Estoy seguro de que Tom está en casa."),
    ]
    assert load_anki("spa", path=path, max_words=1).sources == ("Ve.", "Hola.")


def test_anki_columns_through_load_tsv(tmp_path):
    path = write(tmp_path, "spa.txt", ANKI_LINES.encode())
    pairs = load_tsv(path, source_column=1, target_column=0, verbose=False)
    assert pairs.sources[1] == "Hola." and pairs.targets[1] == "Hi."


def test_download_unzips_and_caches_without_the_network(tmp_path, monkeypatch):
    # Serve the zip from a file:// URL: the real code path, no network.
    server = tmp_path / "server"
    server.mkdir()
    with zipfile.ZipFile(server / "spa-eng.zip", "w") as archive:
        archive.writestr("_about.txt", "about the file")
        archive.writestr("spa.txt", ANKI_LINES)
    monkeypatch.setattr(anki_module, "ANKI_URL", server.as_uri() + "/{language}-eng.zip")
    cache = tmp_path / "cache"

    path = download_anki_pairs("spa", cache_dir=cache)
    assert path.name == "spa.txt" and cache in path.parents
    assert path.read_text("utf-8") == ANKI_LINES

    # Second call: served from the cache even though the "server" is gone.
    (server / "spa-eng.zip").unlink()
    assert download_anki_pairs("spa", cache_dir=cache) == path


def test_failed_download_says_how_to_use_a_local_file(tmp_path, monkeypatch):
    monkeypatch.setattr(anki_module, "ANKI_URL", (tmp_path / "{language}.zip").as_uri())
    with pytest.raises(OSError, match="path='fra.txt'"):
        download_anki_pairs("fra", cache_dir=tmp_path / "cache")


# --- SentencePairs -------------------------------------------------------------------------------


def test_sentence_pairs_basics():
    pairs = SentencePairs(
        sources=["uno dos", "tres", "cuatro cinco seis"],
        targets=("one two", "three", "four five six"),
        references=("r1", "r2", "r3"),
    )
    assert pairs.sources == ("uno dos", "tres", "cuatro cinco seis")  # stored as tuples
    assert len(pairs) == 3
    assert list(pairs)[1] == ("tres", "three")
    assert pairs.take(2) == SentencePairs(
        ("uno dos", "tres"), ("one two", "three"), ("r1", "r2")
    )
    assert len(pairs.take(10)) == 3
    assert pairs.select([2, 0]).references == ("r3", "r1")
    short = pairs.filter_by_length(2)
    assert list(short) == [("uno dos", "one two"), ("tres", "three")]
    assert short.references == ("r1", "r2")
    assert len(pairs) == 3  # filtering returned a new object
    with pytest.raises(dataclasses.FrozenInstanceError):
        pairs.sources = ()


def test_filter_by_length_counts_words_on_both_sides():
    pairs = SentencePairs(("a b", "a", "a  b\tc"), ("x", "x y z", "x"))
    assert pairs.filter_by_length(2).sources == ("a b",)
    assert pairs.filter_by_length(3) == pairs


def test_sentence_pairs_validation():
    with pytest.raises(ValueError, match="2 sources but 1 targets"):
        SentencePairs(("a", "b"), ("x",))
    with pytest.raises(ValueError, match="1 references for 2 pairs"):
        SentencePairs(("a", "b"), ("x", "y"), ("r",))
    with pytest.raises(TypeError, match=r"targets\[0\] is a bytes"):
        SentencePairs(("a",), (b"x",))
    with pytest.raises(ValueError, match="max_words"):
        SentencePairs(("a",), ("x",)).filter_by_length(0)
    with pytest.raises(ValueError, match="count"):
        SentencePairs(("a",), ("x",)).take(-1)
