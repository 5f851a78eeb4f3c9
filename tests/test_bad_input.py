"""Bad input across the public surface (what the data, translate and export
tests did not already cover): any Unicode text through translate, messy corpus
files, damaged model files."""

import shutil
import zipfile

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import keras_s2s
from keras_s2s.cli import main
from keras_s2s.data import DataFormatError, load_tsv

# --- translate: any Unicode string in, a string out --------------------------------------------

TRICKY = [
    "\x00\x01\x07\x1b[31m\x7f",  # control characters, an ANSI escape
    "uno 👍🏽 dos 👨‍👩‍👧 tres",  # emoji with modifiers and zero-width joiners
    "مرحبا بالعالم שלום עולם",  # right-to-left scripts
    "\u202eeno\u202c owt",  # a right-to-left override
    "ﷺ ﷽ ﬃ Ⅻ ｕｎｏ",  # characters that NFKC expands
    "e\u0301\u0301\u0301\u0301",  # a pile of combining accents
    "\ufeff\u200b\u2028\u2029\u0085",  # BOM, zero-width space, line/paragraph separators
    "\t\n\r \u3000",  # nothing but whitespace
    "uno " * 2500,  # 10,000 characters
]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(), min_size=1, max_size=4))
@example(TRICKY)
@example(["\U0010ffff" * 10_000])
def test_translate_never_raises_on_unicode_and_returns_strings(trained, texts):
    model, _, _ = trained
    translations = keras_s2s.translate(texts, model)
    assert isinstance(translations, list) and len(translations) == len(texts)
    assert all(isinstance(text, str) for text in translations)
    single = keras_s2s.translate(texts[0], model)
    assert single == translations[0]  # alone or in a batch, the same answer


def test_beam_search_on_tricky_text_returns_strings(trained):
    model, _, _ = trained
    results = keras_s2s.translate(TRICKY, model, method="beam", beam_width=3, num_results=2)
    assert all(len(n_best) == 2 and all(isinstance(t, str) for t, _ in n_best)
               for n_best in results)


@pytest.mark.parametrize("text", ["uno \ud800 dos", "\udfff", "ok", b"uno \xed\xa0\x80"])
def test_lone_surrogates_are_a_clear_error(trained, text):
    model, _, _ = trained
    if text == "ok":
        assert isinstance(keras_s2s.translate(text, model), str)
        return
    expected = "not valid UTF-8" if isinstance(text, bytes) else "lone surrogate"
    with pytest.raises(ValueError, match=expected):
        keras_s2s.translate(["fine", text], model)


# --- corpus files ------------------------------------------------------------------------------


def test_everything_messy_in_one_file(tmp_path, capsys):
    raw = (
        b"\xef\xbb\xbfuno\tone\n"  # 1 BOM, LF
        b"dos\ttwo\r\n"  # 2 CRLF
        b"tres\tthree\r"  # 3 lone CR
        b"\r\n"  # 4 blank (CRLF)
        b"\tfour\n"  # 5 empty source column: skipped and counted
        b"cinco\tfive\textra\tcolumns\n"  # 6 a tab inside the last field: extra columns ignored
        b"seis\t  six\t\n"  # 7 trailing tab and spaces
        b"   \n"  # 8 blank (spaces only)
        b"siete\tseven"  # 9 no final newline
    )
    path = tmp_path / "messy.tsv"
    path.write_bytes(raw)
    pairs = load_tsv(path)
    assert list(pairs) == [("uno", "one"), ("dos", "two"), ("tres", "three"),
                           ("cinco", "five"), ("seis", "six"), ("siete", "seven")]
    assert [r.split(":")[-1] for r in pairs.references] == ["1", "2", "3", "6", "7", "9"]
    assert "skipped 3 lines (2 blank, 1 with an empty source or target)" in capsys.readouterr().out


def test_a_tab_inside_the_source_shifts_the_columns_it_is_not_guessed(tmp_path):
    # TSV has no quoting: a tab typed inside a sentence splits it. With the
    # target in column 1 the pair is read as written, column by column.
    path = tmp_path / "tab.tsv"
    path.write_text("hola\tmundo\thello world\n", encoding="utf-8")
    assert list(load_tsv(path, verbose=False)) == [("hola", "mundo")]
    assert list(load_tsv(path, target_column=2, verbose=False)) == [("hola", "hello world")]


def test_invalid_utf8_after_a_lone_cr_and_in_gzip_names_the_line(tmp_path):
    import gzip

    raw = b"uno\tone\rdos\ttwo\rmal\xe9\tbad\n"
    for name, content in (("cr.tsv", raw), ("cr.tsv.gz", gzip.compress(raw))):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(DataFormatError, match=rf"{name}:3: not valid utf-8"):
            load_tsv(path)


def test_cli_reports_invalid_utf8_on_one_line(tmp_path, capsys):
    path = tmp_path / "bad.tsv"
    path.write_bytes(b"uno\tone\n\xff\xfe\tx\n")
    assert main(["train", "--data", str(path), "--epochs", "1",
                 "--output", str(tmp_path / "m.keras")]) == 2
    error = capsys.readouterr().err
    assert "bad.tsv:2: not valid utf-8" in error and len(error.strip().splitlines()) == 1


# --- damaged model files -----------------------------------------------------------------------


def test_damaged_keras_files_are_errors_naming_the_path(trained, tmp_path):
    _, _, saved = trained
    raw = saved.read_bytes()
    (tmp_path / "empty.keras").write_bytes(b"")
    (tmp_path / "half.keras").write_bytes(raw[: len(raw) // 2])
    with zipfile.ZipFile(saved) as whole, \
            zipfile.ZipFile(tmp_path / "no_weights.keras", "w") as partial:
        for name in whole.namelist():
            if not name.endswith(".h5"):
                partial.writestr(name, whole.read(name))
    for name in ("empty.keras", "half.keras", "no_weights.keras"):
        with pytest.raises(ValueError, match=name):
            keras_s2s.load(tmp_path / name)
        with pytest.raises(ValueError, match=name):
            keras_s2s.translate("uno", tmp_path / name)


@pytest.mark.parametrize("damage", ["variables/variables.index",
                                    "variables/variables.data-00000-of-00001",
                                    "variables", "saved_model.pb"])
def test_damaged_saved_models_are_errors_naming_the_path(greedy_export, tmp_path, damage):
    version = tmp_path / "export" / "1"
    shutil.copytree(greedy_export, version)
    target = version / damage
    if damage == "saved_model.pb":
        target.write_bytes(target.read_bytes()[:300])  # truncated
    elif target.is_dir():
        shutil.rmtree(target)
    else:
        target.unlink()
    with pytest.raises(ValueError, match=str(version)):
        keras_s2s.translate("uno", version)
