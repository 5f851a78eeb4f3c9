"""`.keras` files saved by an earlier keras_s2s (commit in expected.json) still
load and translate exactly as they did then, greedy and beam, every architecture.

The files and their translations were written once by
`tests/data/legacy_models/make_legacy_models.py` with that version: a record of
what the old code did, not a result of the code under test.
"""

import json
import pathlib

import numpy as np
import pytest

import keras_s2s

LEGACY = pathlib.Path(__file__).parent / "data" / "legacy_models"
EXPECTED = json.loads((LEGACY / "expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(EXPECTED["models"]))
def test_old_keras_file_translates_as_it_did(name):
    model = keras_s2s.load(LEGACY / f"{name}.keras")
    texts, expected = EXPECTED["texts"], EXPECTED["models"][name]
    # The decoding of that version: empty translations allowed, [UNK] shown.
    then = dict(min_length=0, replace_unknown=False, no_repeat_ngram_size=0)
    assert keras_s2s.translate(texts, model, **then) == expected["greedy"]
    beam = keras_s2s.translate(texts, model, method="beam", beam_width=3, num_results=2,
                               **then)
    assert [[text for text, _ in row] for row in beam] == [
        [text for text, _ in row] for row in expected["beam"]]
    np.testing.assert_allclose([[score for _, score in row] for row in beam],
                               [[score for _, score in row] for row in expected["beam"]],
                               rtol=1e-5, atol=1e-6)
