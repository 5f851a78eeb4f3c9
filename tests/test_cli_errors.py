"""Every error the command can hit is one line on stderr, no traceback, exit code 2.

A table of bad invocations: each row is a command line, its stdin, and the
pattern its one stderr line must match. Most are caught before TensorFlow is
imported, which `test_errors_come_before_tensorflow_is_imported` checks in a
fresh process.
"""

import io
import json
import pathlib
import re
import subprocess
import sys
import zipfile

import pytest

from keras_s2s.cli import main
from keras_s2s.data import synthetic_pairs

SHIPPED_MODEL = pathlib.Path(__file__).resolve().parents[1] / "saved_models" / "spa_eng"


@pytest.fixture()
def files(tmp_path):
    """Named files for the table: `{name}` in a row becomes this path."""
    pairs = synthetic_pairs(100, seed=4)
    good = "".join(f"{s}\t{t}\n" for s, t in pairs)
    contents = {
        "pairs.tsv": good.encode(),
        "small.tsv": "".join(f"{s}\t{t}\n" for s, t in list(pairs)[:15]).encode(),
        "latin1.tsv": "mañana\ttomorrow\n".encode("latin-1") + good.encode(),
        "one_column.tsv": b"uno\tone\ndos\n",
        # 40 copies of one pair: every validation pair is also a training pair.
        "repeated.tsv": b"uno dos\tone two\n" * 40,
        "model.h5": b"not a keras file",
        "broken.keras": b"PK but not a zip",
    }
    for name, content in contents.items():
        (tmp_path / name).write_bytes(content)
    with zipfile.ZipFile(tmp_path / "fake.keras", "w") as archive:
        archive.writestr("config.json", "{}")
    (tmp_path / "empty_dir").mkdir()
    return tmp_path


def _invocation(row, files):
    return [part.format(**{name.replace(".", "_"): str(files / name)
                           for name in ("pairs.tsv", "small.tsv", "latin1.tsv",
                                        "one_column.tsv", "repeated.tsv", "model.h5",
                                        "broken.keras", "fake.keras", "empty_dir")},
                        missing=str(files / "missing"), shipped=str(SHIPPED_MODEL))
            for part in row]


# (command line, stdin, pattern of the one stderr line). {x_y} is the file x.y above.
BAD_INVOCATIONS = [
    # options that would do nothing
    ("translate --model {fake_keras} --beam 4 hola", "", r"unrecognized arguments: --beam"),
    ("translate --model {fake_keras} --beam-width 4 hola", "",
     r"--beam-width 4 has no effect with --method greedy: it applies to --method beam"),
    ("translate --model {fake_keras} --temperature 0.5 hola", "",
     r"--temperature 0.5 has no effect with --method greedy: it applies to --method sample"),
    ("translate --model {fake_keras} --method beam --top-k 5 hola", "",
     r"--top-k 5 has no effect with --method beam"),
    ("translate --model {fake_keras} --num-results 2 hola", "", r"--num-results 2 has no effect"),
    ("evaluate --model {fake_keras} --corpus bible-spa-eng --seed 1", "",
     r"--seed 1 has no effect with --method greedy"),
    ("train --corpus bible-spa-eng --source-column 1", "",
     r"--source-column applies to --data files"),
    ("train --corpus bible-spa-eng --encoding latin-1", "", r"--encoding applies to --data"),
    ("train --data {pairs_tsv} --batch-tokens 48", "",
     r"--batch-tokens applies to --batching sorted only"),
    ("train --data {pairs_tsv} --corpus bible-spa-eng", "",
     r"argument --corpus: not allowed with argument --data"),
    ("train --data {pairs_tsv} --epochs 0", "",
     r"--epochs must be an integer >= 1 \(passes over the training pairs\), got 0"),
    # bad values
    ("translate --model {fake_keras} --method beam --beam-width 2 --num-results 3 hola", "",
     r"--num-results must be an integer from 1 to --beam-width 2, got 3"),
    ("translate --model {fake_keras} --max-length 0 hola", "",
     r"--max-length must be an integer >= 1, got 0"),
    ("translate --model {fake_keras} --replace-unknown maybe hola", "", r"expected yes or no"),
    ("translate --model {fake_keras} --chunk-lines 0", "", r"--chunk-lines: must be at least 1"),
    ("translate --model {fake_keras} --encoding klingon", "", r"unknown encoding: klingon"),
    ("export --model {fake_keras} --output {missing} --method sample", "",
     r"argument --method: invalid choice: 'sample'"),
    # paths
    ("translate --model {missing}.keras hola", "", r"no model at .*missing\.keras"),
    ("translate --model {model_h5} hola", "", r"model\.h5: expected a \.keras model file"),
    ("translate --model {broken_keras} hola", "", r"broken\.keras is not a valid \.keras file"),
    ("translate --model {empty_dir} hola", "", r"empty_dir holds no SavedModel"),
    ("translate --model {fake_keras} --output {empty_dir} hola", "", r"is a directory"),
    ("translate --model {fake_keras} --output {missing}/out.txt hola", "", r"no directory"),
    ("export --model {fake_keras} --output {pairs_tsv}", "",
     r"--output .*pairs\.tsv is a file; the export's base path must be a directory"),
    ("export --model {empty_dir} --output {missing}", "", r"--model takes a \.keras file"),
    ("check-export {missing}", "", r"no SavedModel at .*missing"),
    ("train --data {missing}.tsv", "", r"--data .*missing\.tsv: no such file"),
    ("train --data {pairs_tsv} --output {model_h5}", "", r"--output must end in \.keras"),
    ("score --model {fake_keras} --data {missing}.tsv", "", r"no such file"),
    # data mistakes, all before training
    ("train --data {latin1_tsv}", "", r"latin1\.tsv:1: not valid utf-8 .*--encoding latin-1"),
    ("train --data {one_column_tsv}", "",
     r"one_column\.tsv:2: line has 1 column, but --source-column 0 and --target-column 1"),
    ("train --data {small_tsv}", "",
     r"small\.tsv has 15 pairs, too few to hold out a validation split.*--validation-data"),
    ("train --corpus bible-spa-eng --max-words 3", "",
     r"no pairs left in bible-spa-eng \(validation split\) after --max-words 3"),
    ("train --data {repeated_tsv}", "",
     r"no pairs left in .*repeated\.tsv \(validation split\) \(left out: 2 pairs also in "
     r"train\)"),
    ("train --data {pairs_tsv} --max-characters 3", "", r"no pairs left in"),
    ("evaluate --model {fake_keras} --data {pairs_tsv} --split test", "",
     r"--data files are split into train and validation only"),
    ("evaluate --model {fake_keras} --data {small_tsv} --split validation", "",
     r"too few to hold out a validation split"),
    # found once TensorFlow is loaded: still one line
    ("translate --model {fake_keras} hola", "", r"Could not load the model in .*fake\.keras"),
    ("translate --model {shipped} --method beam --beam-width 8 hola", "",
     r"cannot decode with --beam-width 8 \(exported: 4\)"),
    ("score --model {shipped}/2 --data {pairs_tsv}", "", r"has no score signature"),
]


@pytest.mark.parametrize(("command_line", "stdin", "pattern"), BAD_INVOCATIONS,
                         ids=[row[0] for row in BAD_INVOCATIONS])
def test_bad_invocation_is_one_line_and_exit_code_2(command_line, stdin, pattern, files,
                                                    capsys, monkeypatch):
    monkeypatch.chdir(files)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin.encode())))
    argv = _invocation(command_line.split(), files)
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, captured.err
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert lines[0].startswith(f"keras-s2s {argv[0]}: error: "), lines[0]
    assert re.search(pattern, lines[0]), lines[0]


def test_no_model_given_and_no_shipped_model_here(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["translate", "hola"]) == 2
    error = capsys.readouterr().err.strip()
    assert error == ("keras-s2s translate: error: no --model given, and the shipped model "
                     "saved_models/spa_eng/ is not in the current directory: give --model "
                     "FILE.keras (or a SavedModel directory), or run from the repository's top "
                     "directory.")


def test_errors_come_before_tensorflow_is_imported(files):
    """In a fresh process: the rows that need no model are answered without
    TensorFlow (so in well under a second, not after its ~5-10 s import)."""
    rows = [_invocation(row[0].split(), files) for row in BAD_INVOCATIONS
            if "Could not load" not in row[2] and "{shipped}" not in row[0]]
    script = (
        "import json, sys\n"
        "from keras_s2s.cli import main\n"
        "codes = []\n"
        "for argv in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        codes.append(main(argv))\n"
        "    except SystemExit as exit_:\n"
        "        codes.append(exit_.code)\n"
        "print(json.dumps({'codes': codes, 'tensorflow': 'tensorflow' in sys.modules}))\n")
    completed = subprocess.run([sys.executable, "-c", script, json.dumps(rows)],
                               capture_output=True, text=True, timeout=120, cwd=files,
                               stdin=subprocess.DEVNULL)
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result == {"codes": [2] * len(rows), "tensorflow": False}, completed.stderr
