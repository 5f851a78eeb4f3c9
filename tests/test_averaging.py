"""Checkpoint averaging: exact means, the config check, and the snapshot callback."""

import shutil

import keras
import numpy as np
import pytest

import keras_s2s
from keras_s2s.averaging import CheckpointSnapshots, average_checkpoints, mean_weights
from keras_s2s.data import synthetic_pairs
from keras_s2s.data.pipeline import make_dataset
from keras_s2s.training import compile_model

# The course's GRU on words (the recipe's default model is tested on its own).
SMALL = dict(architecture="gru", tokenization="word",
             embedding_dim=8, hidden_dim=16, max_source_length=8, max_target_length=8)


def exact_mean(*weight_lists):
    return [np.mean(np.stack(ws).astype("float64"), axis=0).astype(ws[0].dtype)
            for ws in zip(*weight_lists)]


class EpochWeights(keras.callbacks.Callback):
    """Records the model's weights at the end of every epoch."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


@pytest.fixture(scope="module")
def snapshot_run(tmp_path_factory):
    """A tiny GRU trained 6 epochs on the number-words task with CheckpointSnapshots(keep=2)."""
    directory = tmp_path_factory.mktemp("snapshots")
    pairs = synthetic_pairs(600, seed=1)
    keras.utils.set_random_seed(0)
    model = compile_model(keras_s2s.build_model(pairs, architecture="gru", tokenization="word",
                                                embedding_dim=16, hidden_dim=32,
                                                max_source_length=8, max_target_length=8),
                          learning_rate=1e-2)
    data = make_dataset(pairs, source_encoder=model.source_encoder,
                        target_encoder=model.target_encoder, batch_size=16)
    recorder = EpochWeights()
    snapshots = CheckpointSnapshots(directory / "kept", keep=2,
                                    averaged_path=directory / "averaged.keras")
    model.fit(data, epochs=6, callbacks=[recorder, snapshots], verbose=0)
    return model, recorder.weights, snapshots, directory


def test_snapshots_keep_the_last_k_epochs_and_the_model_ends_on_their_mean(snapshot_run):
    model, epoch_weights, snapshots, _ = snapshot_run
    assert [p.name for p in snapshots.snapshot_paths()] == ["snapshot-epoch-0005.npz",
                                                            "snapshot-epoch-0006.npz"]
    for got, expected in zip(model.get_weights(), exact_mean(*epoch_weights[-2:])):
        np.testing.assert_array_equal(got, expected)
    assert not all(np.array_equal(a, b) for a, b in zip(*epoch_weights[-2:]))  # a real mean


def test_the_averaged_model_saves_loads_and_translates(snapshot_run):
    model, _, _, directory = snapshot_run
    loaded = keras_s2s.load(directory / "averaged.keras")
    for got, expected in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, expected)
    test = synthetic_pairs(60, seed=2)
    translations = keras_s2s.translate(list(test.sources), loaded)
    assert translations == keras_s2s.translate(list(test.sources), model)
    exact = np.mean([t == r for t, r in zip(translations, test.targets)])
    assert exact > 0.3  # it has learned the task (a 6-epoch GRU: ~0.6)


def test_averaging_identical_checkpoints_changes_nothing(tmp_path):
    model = keras_s2s.build_model(synthetic_pairs(50, seed=1), **SMALL)
    model.save(tmp_path / "a.keras")
    for name in ("b.keras", "c.keras"):
        shutil.copy(tmp_path / "a.keras", tmp_path / name)
    averaged = average_checkpoints([tmp_path / n for n in ("a.keras", "b.keras", "c.keras")])
    for got, expected in zip(averaged.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(got, expected)


def test_averaging_two_checkpoints_gives_their_exact_mean(tmp_path):
    pairs = synthetic_pairs(50, seed=1)
    first, second = (keras_s2s.build_model(pairs, **SMALL) for _ in range(2))
    assert first.name != second.name  # names may differ, configs otherwise match
    first.save(tmp_path / "first.keras")
    second.save(tmp_path / "second.keras")
    averaged = average_checkpoints([tmp_path / "first.keras", tmp_path / "second.keras"])
    expected = exact_mean(first.get_weights(), second.get_weights())
    assert len(averaged.weights) == len(expected) == 10
    for variable, mean in zip(averaged.weights, expected):
        np.testing.assert_array_equal(variable.numpy(), mean, err_msg=variable.path)


@pytest.mark.parametrize("other_options, message", [
    (dict(architecture="lstm"), "'cell_type' differs \\('gru' vs 'lstm'\\)"),
    (dict(architecture="gru-attention"), "'attention' differs \\(None vs 'luong'\\)"),
    (dict(hidden_dim=24), "'hidden_dim' differs \\(16 vs 24\\)"),
    (dict(pairs=synthetic_pairs(3, seed=9)), "'source_vocabulary' differs"),
])
def test_different_models_are_refused_naming_both_files_and_the_key(tmp_path, other_options,
                                                                    message):
    pairs = other_options.pop("pairs", synthetic_pairs(50, seed=1))
    keras_s2s.build_model(synthetic_pairs(50, seed=1), **SMALL).save(tmp_path / "base.keras")
    keras_s2s.build_model(pairs, **{**SMALL, **other_options}).save(tmp_path / "other.keras")
    with pytest.raises(ValueError, match=message) as error:
        average_checkpoints([tmp_path / "base.keras", tmp_path / "other.keras"])
    assert str(tmp_path / "base.keras") in str(error.value)
    assert str(tmp_path / "other.keras") in str(error.value)


def test_missing_files_and_empty_lists_are_errors(tmp_path):
    with pytest.raises(ValueError, match="at least one path"):
        average_checkpoints([])
    with pytest.raises(ValueError, match=f"no model file at {tmp_path / 'gone.keras'}"):
        average_checkpoints([tmp_path / "gone.keras"])
    with pytest.raises(ValueError, match="keep must be an integer >= 1, got 0"):
        CheckpointSnapshots(tmp_path, keep=0)
    with pytest.raises(ValueError, match="shapes"):
        mean_weights([[np.zeros(2)], [np.zeros(3)]])
