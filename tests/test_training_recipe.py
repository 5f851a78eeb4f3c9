"""train()'s recipe options: checked up front, wired through, and resumed after a crash."""

import json
import math
import signal
import subprocess
import sys
import textwrap
import time

import keras
import numpy as np
import pytest

import keras_s2s
from keras_s2s.averaging import SNAPSHOT_PATTERN
from keras_s2s.data import synthetic_pairs
from keras_s2s.data.pipeline import make_dataset
from keras_s2s.recipe import check_recipe
from keras_s2s.resume import STATE_FILE, TrainingBackup
from keras_s2s.schedules import (
    InverseSquareRootSchedule,
    WarmupCosineSchedule,
    automatic_warmup_steps,
)
from keras_s2s.text import PAD_ID
from keras_s2s.training import compile_model
from keras_s2s.training_settings import TrainingSettings

# The course's GRU on words (the recipe's default model is tested on its own).
SMALL = dict(architecture="gru", tokenization="word",
             embedding_dim=8, hidden_dim=16, max_source_length=8, max_target_length=8)


class EveryBatch(keras.callbacks.Callback):
    """Records the learning rate before, and the weights after, every batch."""

    def __init__(self):
        super().__init__()
        self.learning_rates, self.weights, self.epoch_weights = [], [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.learning_rates.append(float(self.model.optimizer.learning_rate))

    def on_train_batch_end(self, batch, logs=None):
        self.weights.append(self.model.get_weights())

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_weights.append(self.model.get_weights())


@pytest.mark.parametrize("options, message", [
    (dict(label_smoothing=1.0), r"label_smoothing must be a number in \[0, 1\)"),
    (dict(learning_rate_schedule="step"), r"learning_rate_schedule must be one of \('constant', "
                                          r"'inverse_sqrt', 'cosine'\), got 'step'"),
    (dict(learning_rate_schedule="inverse_sqrt", warmup_steps=0),
     "'inverse_sqrt' needs warmup_steps >= 1"),
    (dict(learning_rate_schedule="constant", warmup_steps=100), "'constant' has no warm-up"),
    (dict(learning_rate_schedule="cosine", warmup_steps=10_000),
     r"total_steps must be an integer > warmup_steps \(10000\)"),
    (dict(gradient_accumulation_steps=0), "gradient_accumulation_steps must be an integer >= 1"),
    (dict(use_ema="yes"), "use_ema must be True or False"),
    (dict(average_last=-1), r"average_last must be an integer >= 0 \(0: no averaging\)"),
    (dict(average_last=2.5), "average_last must be an integer >= 0"),
    (dict(use_ema=True, average_last=3), "use_ema=True and average_last=3 .* choose one"),
    (dict(monitor="accuracy"), r"monitor must be one of \('val_loss', 'val_cross_entropy', "
                               r"'val_bleu', 'val_chrf'\), got 'accuracy'"),
    (dict(monitor="val_bleu", validation_bleu_every=2), "needs validation_bleu_every=1"),
    (dict(validation_bleu_every=-1), "validation_bleu_every must be an integer >= 0"),
    (dict(validation_bleu_sample_size=0), "validation_bleu_sample_size must be an integer >= 1"),
])
def test_bad_recipe_options_are_refused_before_training(tmp_path, options, message):
    pairs = synthetic_pairs(60, seed=1)
    model = keras_s2s.build_model(pairs, **SMALL)
    with pytest.raises(ValueError, match=message):
        keras_s2s.train(model, pairs, synthetic_pairs(20, seed=3), epochs=1,
                        backup_dir=tmp_path / "backup", verbose=0, **options)
    assert not model.compiled and not (tmp_path / "backup").exists()


def test_the_defaults_are_the_recipe_and_a_compiled_model_keeps_its_own():
    pairs = synthetic_pairs(60, seed=1)
    model = keras_s2s.build_model(pairs, **SMALL)
    keras_s2s.train(model, pairs, epochs=2, verbose=0)
    schedule = model.optimizer.learning_rate_schedule if hasattr(
        model.optimizer, "learning_rate_schedule") else model.optimizer._learning_rate
    steps = 2 * math.ceil(60 / 64)  # two epochs of one batch
    assert isinstance(schedule, WarmupCosineSchedule)
    assert (schedule.peak_learning_rate, schedule.total_steps) == (pytest.approx(2e-3), steps)
    assert schedule.warmup_steps == automatic_warmup_steps("cosine", steps) == 0
    assert model.loss.label_smoothing == 0.1
    config = model.optimizer.get_config()
    assert not config["use_ema"] and config["gradient_accumulation_steps"] is None
    keras_s2s.train(model, pairs, epochs=1, verbose=0)  # carrying on with the same: fine
    with pytest.raises(ValueError, match=r"already compiled.*label_smoothing=0.0 \(compiled "
                                         r"with 0.1\)"):
        keras_s2s.train(model, pairs, epochs=1, label_smoothing=0.0, verbose=0)
    # compile_model's own choice (no smoothing, a constant rate) is what it records.
    own = compile_model(keras_s2s.build_model(pairs, **SMALL))
    with pytest.raises(ValueError, match=r"label_smoothing=0.1 \(compiled with 0.0\), "
                                         r"learning_rate_schedule='cosine' \(compiled with "
                                         r"'constant'\)"):
        keras_s2s.train(own, pairs, epochs=1, verbose=0)
    keras_s2s.train(own, pairs, epochs=1, verbose=0, label_smoothing=0.0,
                    learning_rate_schedule="constant")


def test_automatic_warm_up_is_a_twentieth_of_the_run_capped_at_1000():
    assert [automatic_warmup_steps("cosine", n) for n in (10, 400, 100_000)] == [0, 20, 1000]
    assert [automatic_warmup_steps("inverse_sqrt", n) for n in (10, 400)] == [1, 20]
    assert automatic_warmup_steps("constant", 400) == 0


def test_averaging_covers_at_most_the_second_half_of_the_run():
    averaged = {epochs: check_recipe(TrainingSettings(epochs=epochs), has_validation=True)
                .average_last for epochs in (1, 3, 4, 10, 30)}
    assert averaged == {1: 1, 3: 2, 4: 2, 10: 5, 30: 5}
    assert check_recipe(TrainingSettings(epochs=30, average_last=0),
                        has_validation=True).average_last == 0


def hand_computed_losses(model, pairs, smoothing):
    """(smoothed loss, cross-entropy) over the real tokens of `pairs`, in numpy."""
    data = make_dataset(pairs, source_encoder=model.source_encoder,
                        target_encoder=model.target_encoder, batch_size=64, shuffle=False,
                        batching="sorted")
    smoothed, plain = [], []
    for inputs, targets in data:
        logits = model(inputs, training=False).numpy().astype("float64")
        log_probabilities = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        targets = targets.numpy()
        real = targets != PAD_ID
        true = np.take_along_axis(log_probabilities, targets[..., None], -1)[..., 0]
        plain.extend(-true[real])
        smoothed.extend((-(1 - smoothing) * true - smoothing * log_probabilities.mean(-1))[real])
    return np.mean(smoothed), np.mean(plain)


def test_smoothed_loss_and_plain_cross_entropy_are_both_logged(tmp_path):
    pairs, validation = synthetic_pairs(200, seed=1), synthetic_pairs(40, seed=3)
    model = keras_s2s.build_model(pairs, **SMALL)
    history = keras_s2s.train(model, pairs, validation, epochs=1, batch_size=64,
                              batching="sorted", label_smoothing=0.2,
                              learning_rate_schedule="cosine", warmup_steps=1,
                              early_stopping_patience=0, verbose=0).history
    smoothed, plain = hand_computed_losses(model, validation, 0.2)  # one validation batch
    assert history["val_loss"][0] == pytest.approx(smoothed, rel=1e-5)
    assert history["val_cross_entropy"][0] == pytest.approx(plain, rel=1e-5)
    assert history["val_perplexity"][0] == pytest.approx(np.exp(plain), rel=1e-5)
    assert {"cross_entropy", "perplexity", "masked_accuracy"} <= set(history)
    # A compiled save loads back with its smoothing, metrics, schedule and step.
    model.save(tmp_path / "compiled.keras")
    loaded = keras_s2s.load(tmp_path / "compiled.keras", compile=True)
    assert loaded.loss.get_config() == model.loss.get_config()
    assert loaded.loss.label_smoothing == 0.2
    assert loaded.optimizer.get_config()["learning_rate"] == \
        model.optimizer.get_config()["learning_rate"]
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 4
    assert float(loaded.optimizer.learning_rate) == pytest.approx(
        float(model.optimizer.learning_rate))


def test_gradient_accumulation_updates_the_weights_every_nth_batch():
    pairs = synthetic_pairs(160, seed=1)
    model = keras_s2s.build_model(pairs, **SMALL)
    recorder = EveryBatch()
    keras_s2s.train(model, pairs, epochs=1, batch_size=16, batching="sorted",
                    gradient_accumulation_steps=2, early_stopping_patience=0,
                    callbacks=[recorder], verbose=0)
    changed = [not all(np.array_equal(a, b) for a, b in zip(before, after))
               for before, after in zip(recorder.weights, recorder.weights[1:])]
    assert len(recorder.weights) == 10
    assert changed == [True, False, True, False, True, False, True, False, True]  # batches 2-10
    assert int(model.optimizer.iterations) == 5  # updates, not batches


def test_use_ema_ends_on_the_moving_average_of_the_weights():
    pairs = synthetic_pairs(96, seed=1)
    model = keras_s2s.build_model(pairs, **SMALL)
    recorder = EveryBatch()
    # Early stopping would restore the best epoch's raw weights; with EMA it must not.
    keras_s2s.train(model, pairs, epochs=2, batch_size=16, batching="sorted",
                    use_ema=True, average_last=0, early_stopping_patience=1, callbacks=[recorder],
                    verbose=0)
    # Keras' EMA: the first step copies the weights, then average = 0.99 average + 0.01 w.
    expected = [w.astype("float64") for w in recorder.weights[0]]
    for weights in recorder.weights[1:]:
        expected = [0.99 * e + 0.01 * w for e, w in zip(expected, weights)]
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    assert not all(np.allclose(g, r) for g, r in zip(model.get_weights(), recorder.weights[-1]))


def crash_after_epoch(monkeypatch, crash_epoch):
    """Training dies (KeyboardInterrupt) right after `crash_epoch`'s backup is committed."""
    save = TrainingBackup.on_epoch_end

    def save_then_crash(self, epoch, logs=None):
        save(self, epoch, logs)
        if epoch == crash_epoch:
            raise KeyboardInterrupt("killed")

    monkeypatch.setattr(TrainingBackup, "on_epoch_end", save_then_crash)


def test_resume_keeps_the_schedule_step_and_the_snapshots_to_average(tmp_path, monkeypatch):
    pairs = synthetic_pairs(192, seed=1)
    backup = tmp_path / "backup"
    options = dict(epochs=3, batch_size=32, batching="sorted", learning_rate=1e-2,
                   learning_rate_schedule="inverse_sqrt", warmup_steps=4, average_last=2,
                   early_stopping_patience=0, backup_dir=backup, verbose=0)
    crash_after_epoch(monkeypatch, crash_epoch=1)
    with pytest.raises(KeyboardInterrupt):
        keras_s2s.train(keras_s2s.build_model(pairs, **SMALL), pairs, **options)
    monkeypatch.undo()
    assert json.loads((backup / STATE_FILE).read_text())["epoch"] == 2
    snapshots = sorted(p.name for p in (backup / "snapshots").iterdir())
    assert snapshots == ["snapshot-epoch-0001.npz", "snapshot-epoch-0002.npz"]
    assert all(SNAPSHOT_PATTERN.fullmatch(name) for name in snapshots)
    with np.load(backup / "snapshots" / "snapshot-epoch-0002.npz") as arrays:
        epoch_2 = [arrays[f"arr_{i}"] for i in range(len(arrays.files))]
    # As if a longer run had been killed after a later epoch's snapshot but before
    # its backup: the resumed run must not average it in.
    np.savez(backup / "snapshots" / "snapshot-epoch-0004.npz", *[w * 0 for w in epoch_2])

    fresh, recorder = keras_s2s.build_model(pairs, **SMALL), EveryBatch()  # a new process
    keras_s2s.train(fresh, pairs, callbacks=[recorder], **options)
    steps_per_epoch = len(recorder.learning_rates)  # only epoch 3 ran: 6 batches
    assert steps_per_epoch == 6 and int(fresh.optimizer.iterations) == 3 * steps_per_epoch
    schedule = InverseSquareRootSchedule(1e-2, 4)
    expected_rates = [float(schedule(2 * steps_per_epoch + i)) for i in range(steps_per_epoch)]
    np.testing.assert_allclose(recorder.learning_rates, expected_rates, rtol=1e-6)
    # The final weights: the mean of epoch 2 (from before the crash) and epoch 3.
    for got, second, third in zip(fresh.get_weights(), epoch_2, recorder.epoch_weights[-1]):
        np.testing.assert_array_equal(
            got, ((second.astype("float64") + third) / 2).astype(got.dtype))
    assert not backup.exists()  # snapshots and backup cleaned up after a complete run


# Trains with a schedule and averaging, backed up; prints the optimizer's step
# and learning rate at the end as JSON.
RECIPE_SCRIPT = textwrap.dedent("""
    import json, sys
    import keras_s2s
    from keras_s2s.data import synthetic_pairs

    pairs = synthetic_pairs(600, seed=1)
    model = keras_s2s.build_model(pairs, architecture="gru", tokenization="word",
                                  embedding_dim=8, hidden_dim=16, max_source_length=8,
                                  max_target_length=8)
    keras_s2s.train(model, pairs, epochs=4, batch_size=16, batching="sorted",
                    learning_rate=1e-2, learning_rate_schedule="inverse_sqrt", warmup_steps=8,
                    average_last=2, early_stopping_patience=0, backup_dir=sys.argv[1],
                    verbose=2)
    print(json.dumps({"iterations": int(model.optimizer.iterations),
                      "learning_rate": float(model.optimizer.learning_rate)}))
""")


@pytest.mark.slow
def test_a_sigkilled_recipe_run_resumes_its_schedule_and_averaging(tmp_path):
    backup = tmp_path / "backup"
    command = [sys.executable, "-c", RECIPE_SCRIPT, str(backup)]
    first = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
    done = json.loads((backup / STATE_FILE).read_text())["epoch"]
    assert 1 <= done < 4 and (backup / "snapshots").is_dir()

    second = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr[-3000:]
    assert f"Resuming from {backup}: {done} of 4 epochs done." in second.stdout
    assert "Weights averaged over epochs 3, 4." in second.stdout
    result = json.loads(second.stdout.strip().splitlines()[-1])
    steps_per_epoch = 600 // 16 + 1  # sorted batches: 37 full, 1 partial
    assert result["iterations"] == 4 * steps_per_epoch  # not (4 - done) epochs' worth
    expected = float(InverseSquareRootSchedule(1e-2, 8)(4 * steps_per_epoch))
    assert result["learning_rate"] == pytest.approx(expected, rel=1e-6)
    assert not backup.exists()
