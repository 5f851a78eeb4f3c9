"""The keras-s2s command: a real run on a tiny file, and one-line errors."""

import pytest

from keras_s2s.cli import main


@pytest.fixture()
def pairs_file(tmp_path):
    path = tmp_path / "pairs.tsv"
    lines = ["uno dos\tone two\n", "tres\tthree\n", "dos tres uno\ttwo three one\n"] * 20
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_train_then_translate_and_evaluate(pairs_file, tmp_path, capsys):
    model_path = tmp_path / "tiny.keras"
    code = main(["train", "--data", str(pairs_file), "--embedding-dim", "8",
                 "--hidden-dim", "8", "--epochs", "1", "--output", str(model_path)])
    out = capsys.readouterr().out
    assert code == 0 and model_path.exists()
    assert "BLEU" in out and "chrF" in out and "source:" in out
    assert not list(tmp_path.glob("*.partial.keras"))  # the temporary file was renamed

    assert main(["translate", "--model", str(model_path), "uno", "tres"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 2

    assert main(["evaluate", "--model", str(model_path), "--data", str(pairs_file)]) == 0
    assert "BLEU" in capsys.readouterr().out


def test_missing_column_is_a_one_line_error(tmp_path, capsys):
    path = tmp_path / "bad.tsv"
    path.write_text("uno\tone\ndos\n", encoding="utf-8")
    code = main(["train", "--data", str(path), "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 2
    assert "bad.tsv" in err and "2" in err
    assert len(err.strip().splitlines()) == 1


def test_missing_model_is_a_one_line_error(tmp_path, capsys):
    code = main(["translate", "--model", str(tmp_path / "none.keras"), "hola"])
    err = capsys.readouterr().err
    assert code == 2 and "none.keras" in err and len(err.strip().splitlines()) == 1


def test_bad_option_value_is_reported(tmp_path, pairs_file, capsys):
    code = main(["train", "--data", str(pairs_file), "--hidden-dim", "0", "--epochs", "1",
                 "--output", str(tmp_path / "x.keras")])
    assert code == 2 and "hidden_dim" in capsys.readouterr().err


def test_batching_options_reach_train(pairs_file, tmp_path, monkeypatch):
    import keras_s2s

    seen = {}

    class Stop(Exception):
        pass

    def fake_train(model, train_pairs, validation_pairs, **options):
        seen.update(options)
        raise Stop

    monkeypatch.setattr(keras_s2s, "train", fake_train)
    with pytest.raises(Stop):
        main(["train", "--data", str(pairs_file), "--embedding-dim", "8", "--hidden-dim", "8",
              "--batching", "sorted", "--batch-tokens", "48",
              "--output", str(tmp_path / "x.keras")])
    assert seen["batching"] == "sorted" and seen["batch_tokens"] == 48


def test_batch_tokens_without_sorted_batching_is_a_one_line_error(pairs_file, tmp_path, capsys):
    code = main(["train", "--data", str(pairs_file), "--embedding-dim", "8", "--hidden-dim", "8",
                 "--epochs", "1", "--batch-tokens", "48", "--output", str(tmp_path / "x.keras")])
    err = capsys.readouterr().err
    assert code == 2 and "batch_tokens" in err and "sorted" in err
    assert len(err.strip().splitlines()) == 1


def test_export_command_writes_versions(trained, tmp_path, capsys):
    _, _, path = trained
    base = tmp_path / "saved_models" / "numbers"
    assert main(["export", "--model", str(path), "--output", str(base), "--method",
                 "greedy"]) == 0
    assert "numbers/1" in capsys.readouterr().out
    assert main(["translate", "--model", str(base), "uno dos"]) == 0
    assert capsys.readouterr().out.strip() == "one two"
