"""Writes the small `.keras` files of `test_legacy_models.py` and what they translate to.

Run once, with the keras_s2s version whose files must keep loading (the
commit is recorded in `expected.json`):

    .venv/bin/python tests/data/legacy_models/make_legacy_models.py

Each model is trained for a few steps on the synthetic task (so it translates
some sentences right and some wrong: a change in the model code shows).
"""

import json
import pathlib
import subprocess

import keras

import keras_s2s
from keras_s2s.data import synthetic_pairs

HERE = pathlib.Path(__file__).parent
TEXTS = ["uno dos tres", "nueve", "cero cero ocho siete seis cinco", "", "cuatro cuatro",
         "dos siete uno nueve"]
MODELS = {
    "gru": dict(architecture="gru", embedding_dim=8, hidden_dim=16),
    "lstm_2_layers": dict(architecture="lstm", embedding_dim=8, hidden_dim=16, num_layers=2),
    "gru_attention": dict(architecture="gru-attention", embedding_dim=8, hidden_dim=16),
    "lstm_bahdanau": dict(architecture="lstm-attention", attention="bahdanau", embedding_dim=8,
                          hidden_dim=16),
    "transformer": dict(architecture="transformer", hidden_dim=16, num_layers=2, num_heads=2,
                        intermediate_dim=32),
    "gru_attention_wordpiece": dict(architecture="gru-attention", embedding_dim=8,
                                    hidden_dim=16, tokenization="wordpiece",
                                    source_vocabulary_size=40, target_vocabulary_size=40),
}


def main():
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                            cwd=HERE).stdout.strip()
    pairs = synthetic_pairs(400, seed=5)
    expected = {"commit": commit, "texts": TEXTS, "models": {}}
    for name, options in MODELS.items():
        keras.utils.set_random_seed(11)
        model = keras_s2s.build_model(pairs, max_source_length=12, max_target_length=12,
                                      **options)
        keras_s2s.train(model, pairs, epochs=2, batch_size=32, learning_rate=1e-2,
                        early_stopping_patience=0, verbose=0)
        model.save(HERE / f"{name}.keras")
        beam = keras_s2s.translate(TEXTS, model, method="beam", beam_width=3, num_results=2)
        expected["models"][name] = {
            "greedy": keras_s2s.translate(TEXTS, model),
            "beam": [[[text, score] for text, score in row] for row in beam],
        }
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
