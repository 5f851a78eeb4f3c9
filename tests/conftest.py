import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """A small GRU trained on the synthetic number-words task (about half a minute).

    Returns `(model, test_pairs, path_of_saved_model)`; shared by the test
    modules that need a model that really translates.
    """
    import keras

    import keras_s2s
    from keras_s2s.data import synthetic_pairs

    train_pairs = synthetic_pairs(3000, seed=1)
    test_pairs = synthetic_pairs(200, seed=2)
    keras.utils.set_random_seed(0)  # the initial weights too: the same model every run
    model = keras_s2s.build_model(train_pairs, architecture="gru", tokenization="word",
                                  embedding_dim=32, hidden_dim=128, max_source_length=12,
                                  max_target_length=12)
    keras_s2s.train(model, train_pairs, epochs=12, batch_size=32, learning_rate=5e-3,
                    early_stopping_patience=0, verbose=0)
    path = tmp_path_factory.mktemp("model") / "synthetic.keras"
    model.save(path)
    return model, test_pairs, path


@pytest.fixture(scope="session")
def greedy_export(trained, tmp_path_factory):
    """`trained`'s model exported once, greedy: the version directory (named 1,
    the first in its base). Tests that damage or extend an export copy it."""
    import keras_s2s

    model, _, _ = trained
    return keras_s2s.export(model, tmp_path_factory.mktemp("greedy_export") / "numbers",
                            method="greedy")


@pytest.fixture(scope="session")
def trained_attention(tmp_path_factory):
    """The same task learned by the attention architecture: `(model, test_pairs)`."""
    import keras

    import keras_s2s
    from keras_s2s.data import synthetic_pairs

    train_pairs = synthetic_pairs(2000, seed=1)
    keras.utils.set_random_seed(0)  # the initial weights too: the same model every run
    model = keras_s2s.build_model(train_pairs, architecture="gru-attention",
                                  tokenization="word", embedding_dim=32, hidden_dim=64,
                                  max_source_length=12, max_target_length=12)
    keras_s2s.train(model, train_pairs, epochs=8, batch_size=32, learning_rate=5e-3,
                    early_stopping_patience=0, verbose=0)
    return model, synthetic_pairs(200, seed=2)
