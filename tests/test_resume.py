"""Faults during training: SIGKILL and resume, crashes mid-save, damaged backups."""

import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile

import pytest

import keras_s2s
from keras_s2s.checkpointing import save_model_atomically
from keras_s2s.data import synthetic_pairs
from keras_s2s.resume import STATE_FILE, TrainingBackup

# The course's GRU on words (the recipe's default model is tested on its own).
SMALL = dict(architecture="gru", tokenization="word",
             embedding_dim=8, hidden_dim=16, max_source_length=12, max_target_length=12)


@pytest.fixture()
def pairs_file(tmp_path):
    pairs = synthetic_pairs(1000, seed=1)
    path = tmp_path / "pairs.tsv"
    path.write_text("".join(f"{s}\t{t}\n" for s, t in pairs), encoding="utf-8")
    return path


@pytest.mark.slow
def test_sigkilled_run_resumes_at_the_epoch_it_reached(pairs_file, tmp_path):
    backup, output = tmp_path / "backup", tmp_path / "model.keras"
    command = [sys.executable, "-m", "keras_s2s.cli", "train", "--data", str(pairs_file),
               "--embedding-dim", "16", "--hidden-dim", "32", "--epochs", "4",
               "--batch-size", "16", "--learning-rate", "0.01", "--backup-dir", str(backup),
               "--output", str(output)]
    first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not (backup / STATE_FILE).exists():  # the first epoch's backup is committed
            assert first.poll() is None, "training ended before its first backup"
            assert time.monotonic() < deadline, "no backup within 240 s"
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    first.stdout.close()
    done = json.loads((backup / STATE_FILE).read_text())["epoch"]
    assert 1 <= done < 4 and not output.exists()

    second = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"Resuming from {backup}: {done} of 4 epochs done." in second.stdout
    epochs_run = [int(n) for n in re.findall(r"^Epoch (\d+)/4", second.stdout, re.MULTILINE)]
    assert epochs_run[0] == done + 1 and epochs_run[-1] <= 4  # not from scratch
    assert not backup.exists()  # a finished run leaves no backup behind
    model = keras_s2s.load(output)
    translations = keras_s2s.translate(["uno dos tres", "nueve"], model)
    assert all(isinstance(text, str) and text for text in translations)


def crash_after_epoch(monkeypatch, crash_epoch):
    """Makes training die (KeyboardInterrupt) right after `crash_epoch`'s backup."""
    save = TrainingBackup.on_epoch_end

    def save_then_crash(self, epoch, logs=None):
        save(self, epoch, logs)
        if epoch == crash_epoch:
            raise KeyboardInterrupt("killed")

    monkeypatch.setattr(TrainingBackup, "on_epoch_end", save_then_crash)


def test_resume_restores_optimizer_early_stopping_and_best_checkpoint(tmp_path, monkeypatch):
    pairs, validation = synthetic_pairs(400, seed=1), synthetic_pairs(60, seed=3)
    options = dict(epochs=4, batch_size=32, backup_dir=tmp_path / "backup",
                   checkpoint_path=tmp_path / "best.keras", early_stopping_patience=3,
                   verbose=0)
    model = keras_s2s.build_model(pairs, **SMALL)
    crash_after_epoch(monkeypatch, crash_epoch=1)
    with pytest.raises(KeyboardInterrupt):
        keras_s2s.train(model, pairs, validation, **options)
    monkeypatch.undo()
    state = json.loads((tmp_path / "backup" / STATE_FILE).read_text())
    assert state["epoch"] == 2
    steps_per_epoch = int(model.optimizer.iterations.numpy()) // 2
    best_before = state["callbacks"]["checkpoint"]["best"]
    assert best_before < 10 and (tmp_path / "best.keras").exists()

    fresh = keras_s2s.build_model(pairs, **SMALL)  # as a new process would
    history = keras_s2s.train(fresh, pairs, validation, **options)
    assert len(history.history["loss"]) == 2  # epochs 3 and 4 only
    assert int(fresh.optimizer.iterations.numpy()) == 4 * steps_per_epoch
    assert keras_s2s.load(tmp_path / "best.keras") is not None


def test_a_crash_while_writing_a_backup_resumes_from_the_previous_one(tmp_path, monkeypatch):
    pairs = synthetic_pairs(200, seed=1)
    options = dict(epochs=3, batch_size=32, backup_dir=tmp_path / "backup",
                   early_stopping_patience=0, verbose=0)
    model = keras_s2s.build_model(pairs, **SMALL)
    real_save_weights = type(model).save_weights
    calls = []

    def die_halfway_through_the_second(self, path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2:
            with open(path, "wb") as half_written:
                half_written.write(b"\x89HDF\r\n")
            raise KeyboardInterrupt("killed mid-write")
        return real_save_weights(self, path, *args, **kwargs)

    monkeypatch.setattr(type(model), "save_weights", die_halfway_through_the_second)
    with pytest.raises(KeyboardInterrupt):
        keras_s2s.train(model, pairs, **options)
    monkeypatch.undo()
    backup = tmp_path / "backup"
    assert json.loads((backup / STATE_FILE).read_text())["epoch"] == 1
    # (snapshots/: the last epochs' weights the default recipe averages at the end)
    assert sorted(p.name for p in backup.iterdir()) == ["epoch-0001.weights.h5", "snapshots",
                                                        STATE_FILE]
    history = keras_s2s.train(keras_s2s.build_model(pairs, **SMALL), pairs, **options)
    assert len(history.history["loss"]) == 2


def test_damaged_or_foreign_backups_are_clear_errors(tmp_path):
    pairs = synthetic_pairs(100, seed=1)
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / STATE_FILE).write_text('{"epoch": 2, "weig')
    model = keras_s2s.build_model(pairs, **SMALL)
    with pytest.raises(ValueError, match=f"{STATE_FILE} is not a keras_s2s training backup.*"
                                         f"delete {backup}"):
        keras_s2s.train(model, pairs, epochs=3, backup_dir=backup, verbose=0)
    (backup / STATE_FILE).write_text('{"epoch": 2, "weights": "epoch-0002.weights.h5"}')
    with pytest.raises(ValueError, match="epoch-0002.weights.h5, which is missing"):
        keras_s2s.train(model, pairs, epochs=3, backup_dir=backup, verbose=0)
    # A backup written by a different architecture.
    other = keras_s2s.build_model(pairs, **{**SMALL, "architecture": "lstm"})
    other.save_weights(backup / "epoch-0002.weights.h5")
    with pytest.raises(ValueError, match="(?s)Could not resume from .*different model"):
        keras_s2s.train(model, pairs, epochs=3, backup_dir=backup, verbose=0)


def test_a_crash_during_save_leaves_the_previous_best_model_whole(tmp_path, monkeypatch):
    pairs = synthetic_pairs(100, seed=1)
    model = keras_s2s.build_model(pairs, **SMALL)
    path = tmp_path / "best.keras"
    save_model_atomically(model, path)
    before = path.read_bytes()

    def die_mid_save(self, filepath, *args, **kwargs):
        with open(filepath, "wb") as partial:
            partial.write(before[: len(before) // 3])  # a truncated zip...
        raise KeyboardInterrupt("killed mid-save")  # ...and the process dies

    monkeypatch.setattr(type(model), "save", die_mid_save)
    with pytest.raises(KeyboardInterrupt):
        save_model_atomically(model, path)
    assert path.read_bytes() == before and zipfile.is_zipfile(path)
    assert os.listdir(tmp_path) == ["best.keras"]  # no temporary file left behind


def test_model_paths_must_end_in_keras(tmp_path, capsys):
    pairs = synthetic_pairs(50, seed=1)
    model = keras_s2s.build_model(pairs, **SMALL)
    with pytest.raises(ValueError, match="checkpoint_path must end in .keras"):
        keras_s2s.train(model, pairs, epochs=1, checkpoint_path=tmp_path / "best.h5")
    from keras_s2s.cli import main

    assert main(["train", "--output", str(tmp_path / "model.h5")]) == 2
    error = capsys.readouterr().err
    assert "--output must end in .keras" in error and len(error.strip().splitlines()) == 1
