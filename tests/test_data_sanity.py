"""Data checks: header rows, over-long pairs, swapped languages, pairs shared
by training and held-out splits, and the command line's one data recipe."""

import pytest

from keras_s2s.cli import datasets
from keras_s2s.cli.parser import build_parser
from keras_s2s.data import (
    MAX_PAIR_CHARACTERS,
    DataFormatError,
    SentencePairs,
    drop_long_pairs,
    drop_training_overlap,
    header_row,
    input_language_warning,
    load_corpus,
    load_tsv,
    looks_english_to_spanish,
    synthetic_pairs,
)


@pytest.mark.parametrize(("first", "is_header"), [
    (("source", "target"), True), (("Spa", "ENG"), True), (("#src", "tgt"), True),
    (("spanish", "english"), True), (("hola", "hello"), False), (("uno dos", "one"), False),
    (("source text", "target"), False)])
def test_header_row_is_a_first_pair_of_column_or_language_names(first, is_header):
    pairs = SentencePairs([first[0], "hola"], [first[1], "hello"])
    assert (header_row(pairs) == first) is is_header


def test_skip_header_skips_the_first_non_blank_line_and_keeps_line_numbers(tmp_path):
    path = tmp_path / "headed.tsv"
    path.write_text("\nsource\ttarget\nuno\tone\ndos\ttwo\n", encoding="utf-8")
    pairs = load_tsv(path, skip_header=True, verbose=False)
    assert list(pairs) == [("uno", "one"), ("dos", "two")]
    assert pairs.references == ("headed.tsv:3", "headed.tsv:4")
    assert len(load_tsv(path, verbose=False)) == 3  # by default the header is a pair


def test_long_pairs_are_dropped_and_counted():
    long_side = "palabra " * 200  # 1,600 characters
    pairs = SentencePairs(["uno", long_side, "dos"], ["one", "word", long_side[:999]])
    kept, dropped = drop_long_pairs(pairs)
    assert list(kept) == [("uno", "one"), ("dos", long_side[:999])] and dropped == 1
    assert MAX_PAIR_CHARACTERS == 1000


def test_stop_words_tell_english_to_spanish_from_spanish_to_english():
    train = load_corpus().train
    assert not looks_english_to_spanish(train)
    assert looks_english_to_spanish(SentencePairs(train.targets, train.sources))
    assert not looks_english_to_spanish(synthetic_pairs(50))  # neither language's words


def test_input_in_the_target_language_is_warned_about():
    train = load_corpus(max_words=20).train
    source_vocabulary = sorted({w.lower() for s in train.sources for w in s.split()})
    target_vocabulary = sorted({w for t in train.targets for w in t.split()})
    assert input_language_warning(train.sources[:50], source_vocabulary,
                                  target_vocabulary) is None
    warning = input_language_warning(train.targets[:50], source_vocabulary, target_vocabulary)
    assert "is the input in the target language" in warning


def test_training_overlap_is_dropped_and_counted_in_order():
    train = SentencePairs(["a", "b"], ["A", "B"])
    held_out = SentencePairs(["c", "a", "b", "a"], ["C", "A", "x", "A"])
    kept, dropped = drop_training_overlap(train, held_out)
    assert list(kept) == [("c", "C"), ("b", "x")] and dropped == 2  # same pair only


@pytest.mark.parametrize(("content", "python_advice", "command_line_advice"), [
    ("mañana\ttomorrow\n".encode("latin-1"), "encoding='latin-1'", "--encoding latin-1"),
    (b"uno\tone\ndos\n", "source_column=0 and target_column=1",
     "--source-column 0 and --target-column 1"),
])
def test_errors_give_python_advice_in_python_and_option_advice_on_the_command_line(
        tmp_path, content, python_advice, command_line_advice):
    path = tmp_path / "bad.tsv"
    path.write_bytes(content)
    with pytest.raises(DataFormatError) as raised:
        load_tsv(path, verbose=False)
    assert python_advice in str(raised.value) and "--" not in str(raised.value)
    assert command_line_advice in raised.value.command_line_message
    assert python_advice not in raised.value.command_line_message


def _arguments(command_line):
    return build_parser().parse_args(command_line.split())


def test_evaluate_validation_split_is_the_one_training_used_whatever_the_filter(tmp_path):
    path = tmp_path / "pairs.tsv"
    pairs = synthetic_pairs(400, seed=7, max_length=8)
    path.write_text("".join(f"{s}\t{t}\n" for s, t in pairs), encoding="utf-8")
    trained_on = datasets.training_splits(_arguments(f"train --data {path} --max-words 4"))
    for max_words in (4, 3):
        scored, description = datasets.selected_pairs(_arguments(
            f"evaluate --data {path} --split validation --max-words {max_words}"))
        expected = trained_on.parts["validation"].filter_by_length(max_words)
        assert scored == expected
        assert f"(validation split), --max-words {max_words}: {len(expected)} pairs" in \
            description
    assert not set(trained_on.parts["validation"]) & set(trained_on.parts["train"])


def test_over_long_pairs_are_left_out_of_training_and_counted(tmp_path):
    path = tmp_path / "pairs.tsv"
    lines = [f"{s}\t{t}" for s, t in synthetic_pairs(100, seed=8)]
    lines[5] = "uno " * 300 + "\tone"  # a missing line break, say
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    splits = datasets.training_splits(_arguments(f"train --data {path}"))
    assert all(len(source) < 1000 for source in splits.parts["train"].sources)
    assert "left out: 1 train pairs over 1,000 characters" in datasets.describe_splits(splits)


def test_corpus_held_out_splits_leave_out_pairs_also_in_train():
    splits = datasets.training_splits(_arguments("train --max-words 20"))
    corpus = load_corpus(max_words=20)
    for name in ("validation", "test"):
        expected, dropped = drop_training_overlap(corpus.train, getattr(corpus, name))
        assert splits.parts[name] == expected and dropped > 0
        assert not set(splits.parts[name]) & set(splits.parts["train"])
