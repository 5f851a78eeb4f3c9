"""The keras-s2s command: real runs on tiny data, outputs that match Python's,
help that states every default. (Errors: test_cli_errors.py; streaming:
test_cli_streaming.py.)"""

import inspect
import io
import json
import re
import sys

import pytest

import keras_s2s
from keras_s2s.cli import main
from keras_s2s.cli.parser import build_parser
from keras_s2s.data import SentencePairs, drop_training_overlap, load_corpus, synthetic_pairs


def _write_pairs(path, pairs, header=None):
    lines = ([header] if header else []) + [f"{s}\t{t}" for s, t in pairs]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture()
def pairs_file(tmp_path):
    return _write_pairs(tmp_path / "pairs.tsv", synthetic_pairs(200, seed=5))


def test_train_then_evaluate_scores_the_validation_split_training_used(pairs_file, tmp_path,
                                                                       capsys):
    model_path = tmp_path / "tiny.keras"
    code = main(["train", "--data", str(pairs_file), "--embedding-dim", "8",
                 "--hidden-dim", "8", "--epochs", "1", "--output", str(model_path)])
    out = capsys.readouterr().out
    assert code == 0 and model_path.exists()
    assert not list(tmp_path.glob("*.partial.keras"))  # the temporary file was renamed
    counts = re.search(r"pairs\.tsv: (\d+) train, (\d+) validation pairs", out)
    validation_count = int(counts[2])
    assert f"Greedy translation of the validation split ({validation_count} pairs): BLEU" in out

    assert main(["evaluate", "--model", str(model_path), "--data", str(pairs_file),
                 "--split", "validation"]) == 0
    line = capsys.readouterr().out.strip()
    assert re.fullmatch(rf"BLEU \d+\.\d  chrF \d+\.\d  on {re.escape(str(pairs_file))} "
                        rf"\(validation split\): {validation_count} pairs( \(left out: \d+ "
                        r"pairs also in train\))?; decoding --method greedy", line), line


def test_evaluate_names_corpus_split_filter_pairs_and_decoding(trained, capsys):
    _, _, path = trained
    assert main(["evaluate", "--model", str(path), "--corpus", "bible-spa-eng",
                 "--max-words", "6", "--method", "beam", "--beam-width", "2"]) == 0
    splits = load_corpus(max_words=6)
    test, dropped = drop_training_overlap(splits.train, splits.test)
    left_out = f" (left out: {dropped} pairs also in train)" if dropped else ""
    line = capsys.readouterr().out.strip()
    assert line.endswith(f"on bible-spa-eng (test split), --max-words 6: {len(test)} pairs"
                         f"{left_out}; decoding --method beam --beam-width 2 "
                         "--length-penalty 0.6 --num-results 1"), line


def _run_translate(argv, stdin, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    assert main(argv) == 0
    return capsys.readouterr()


def test_n_best_text_and_jsonl_match_python_order_and_scores(trained, capsys, monkeypatch):
    model, _, path = trained
    sources = ["uno dos", "siete ocho nueve"]
    beam = dict(method="beam", beam_width=3, num_results=2)
    expected = keras_s2s.translate(sources, model, **beam)
    options = ["--method", "beam", "--beam-width", "3", "--num-results", "2"]
    text = _run_translate(["translate", "--model", str(path), *options], "\n".join(sources),
                          capsys, monkeypatch).out
    assert text.splitlines() == ["\t".join(f"{t}\t{s:.4f}" for t, s in n_best)
                                 for n_best in expected]
    jsonl = _run_translate(["translate", "--model", str(path), "--format", "jsonl", *options],
                           "\n".join(sources), capsys, monkeypatch).out
    records = [json.loads(line) for line in jsonl.splitlines()]
    assert [(r["line"], r["source"]) for r in records] == [(1, sources[0]), (2, sources[1])]
    assert [r["translations"] for r in records] == [[t for t, _ in n] for n in expected]
    for record, n_best in zip(records, expected):
        assert record["scores"] == pytest.approx([score for _, score in n_best])


def test_tsv_has_a_header_and_one_row_per_result(trained, capsys, monkeypatch):
    model, _, path = trained
    expected = keras_s2s.translate(["uno dos", "tres cuatro"], model, with_scores=True)
    tsv = _run_translate(["translate", "--model", str(path), "--format", "tsv"],
                         "uno dos\ntres cuatro\n", capsys, monkeypatch).out
    assert tsv.splitlines() == ["line\trank\ttranslation\tscore"] + [
        f"{line}\t1\t{text}\t{score:.4f}" for line, (text, score) in enumerate(expected, 1)]


def test_score_prints_one_line_per_pair_as_keras_s2s_score(trained, tmp_path, capsys):
    model, _, path = trained
    pairs = SentencePairs(["uno dos", "tres"], ["one two", "five"])
    data = _write_pairs(tmp_path / "scored.tsv", pairs)
    expected = keras_s2s.score(list(pairs.sources), list(pairs.targets), model)
    assert main(["score", "--model", str(path), "--data", str(data)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{s.log_prob:.4f}\t{s.score:.4f}" for s in expected]
    assert main(["score", "--model", str(path), "--data", str(data), "--format", "jsonl"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["reference"] for r in records] == ["scored.tsv:1", "scored.tsv:2"]
    for record, pair_score in zip(records, expected):
        assert record["token_log_probs"] == pytest.approx(pair_score.token_log_probs, abs=1e-5)


class Stop(Exception):
    pass


def _stop_before_training(monkeypatch):
    """`keras-s2s train` stops where TensorFlow would be imported: after every data check."""
    import keras_s2s.cli.train as train_command

    def stop(verbose):
        raise Stop

    monkeypatch.setattr(train_command, "import_tensorflow", stop)


def test_header_row_is_warned_about_and_skipped_on_request(tmp_path, capsys, monkeypatch):
    data = _write_pairs(tmp_path / "with_header.tsv", synthetic_pairs(60, seed=6),
                        header="source\ttarget")
    _stop_before_training(monkeypatch)
    for extra, warned, train_count in (([], True, 58), (["--skip-header"], False, 57)):
        with pytest.raises(Stop):  # stop where training would start
            main(["train", "--data", str(data), *extra])
        captured = capsys.readouterr()
        assert ("with_header.tsv:1 looks like a header ('source' / 'target')" in captured.err
                ) == warned
        assert f"with_header.tsv: {train_count} train," in captured.out


def test_english_to_spanish_columns_are_warned_about(tmp_path, capsys, monkeypatch):
    splits = load_corpus(max_words=20)
    swapped = SentencePairs(splits.train.targets[:100], splits.train.sources[:100])
    data = _write_pairs(tmp_path / "eng_spa.tsv", swapped)
    _stop_before_training(monkeypatch)
    with pytest.raises(Stop):
        main(["train", "--data", str(data)])
    assert ("the source column (0) looks English and the target column (1) Spanish, so this "
            "is English->Spanish; for Spanish->English give --source-column 1 "
            "--target-column 0.") in capsys.readouterr().err


def test_validation_data_lets_a_small_file_train(tmp_path, capsys, monkeypatch):
    pairs = synthetic_pairs(40, seed=9)
    small = _write_pairs(tmp_path / "small.tsv", pairs.take(15))
    validation = _write_pairs(tmp_path / "held_out.tsv", pairs.select(range(15, 40)))
    _stop_before_training(monkeypatch)
    with pytest.raises(Stop):
        main(["train", "--data", str(small), "--validation-data", str(validation)])
    overlap = len(set(pairs.select(range(15, 40))) & set(pairs.take(15)))
    assert f"small.tsv: 15 train, {25 - overlap} validation pairs" in capsys.readouterr().out


def test_input_in_the_target_language_is_warned_about_once(trained, capsys, monkeypatch):
    _, _, path = trained
    captured = _run_translate(["translate", "--model", str(path), "--chunk-lines", "1"],
                              "one two\nthree four\n", capsys, monkeypatch)
    assert len(captured.out.splitlines()) == 2
    warnings = captured.err.strip().splitlines()  # checked on the first chunk only
    assert warnings == ["keras-s2s translate: warning: 0% of the input's words are in the "
                        "model's source vocabulary but 100% in its target vocabulary: is the "
                        "input in the target language (source and target swapped)?"]


def test_batching_options_reach_train(pairs_file, tmp_path, monkeypatch):
    seen = {}

    def fake_train(model, train_pairs, validation_pairs, **options):
        seen.update(options)
        raise Stop

    monkeypatch.setattr(keras_s2s, "train", fake_train)
    with pytest.raises(Stop):
        main(["train", "--data", str(pairs_file), "--embedding-dim", "8", "--hidden-dim", "8",
              "--batching", "sorted", "--batch-tokens", "48",
              "--output", str(tmp_path / "x.keras")])
    # The options become one TrainingSettings (every other field at its library default);
    # a log (not a terminal) gets one line per epoch.
    from keras_s2s.training_settings import TrainingSettings

    assert seen == {"settings": TrainingSettings(batching="sorted", batch_tokens=48),
                    "verbose": 2}


def test_bad_model_option_value_is_reported(tmp_path, pairs_file, capsys):
    code = main(["train", "--data", str(pairs_file), "--hidden-dim", "0", "--epochs", "1",
                 "--output", str(tmp_path / "x.keras")])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(error) == 1 and "hidden_dim must be" in error[0]


def test_export_command_writes_versions(trained, tmp_path, capsys):
    _, _, path = trained
    base = tmp_path / "saved_models" / "numbers"
    assert main(["export", "--model", str(path), "--output", str(base), "--method",
                 "greedy"]) == 0
    assert "numbers/1" in capsys.readouterr().out
    assert main(["translate", "--model", str(base), "uno dos"]) == 0
    assert capsys.readouterr().out.strip() == "one two"


def test_default_model_is_the_one_python_uses():
    from keras_s2s.cli.options import DEFAULT_MODEL
    from keras_s2s.translation import DEFAULT_MODEL as PYTHON_DEFAULT

    assert DEFAULT_MODEL == PYTHON_DEFAULT
    assert build_parser().parse_args(["translate"]).model == PYTHON_DEFAULT


def test_every_option_has_help_with_its_default():
    parser = build_parser()
    for name, command in parser.commands.items():
        for action in command._actions:
            if action.option_strings and action.dest != "help":
                assert "default" in (action.help or ""), f"{name} {action.option_strings}"


def test_help_defaults_are_the_library_signature_defaults():
    from keras_s2s.cli.defaults import signature_defaults
    from keras_s2s.models.rnn import RNNSeq2Seq

    for function, (module, name) in (
        (keras_s2s.train, ("keras_s2s.training", "train")),
        (keras_s2s.build_model, ("keras_s2s.models.building", "build_model")),
        (keras_s2s.score, ("keras_s2s.scoring", "score")),
        (RNNSeq2Seq.__init__, ("keras_s2s.models.rnn", "RNNSeq2Seq.__init__")),
    ):
        actual = {parameter.name: parameter.default for parameter in
                  inspect.signature(function).parameters.values()
                  if parameter.default is not inspect.Parameter.empty}
        assert signature_defaults(module, name) == actual
