"""`jit_compile=True`: the same translations from an XLA-compiled search, and
a clear refusal where it cannot apply (an export)."""

import numpy as np
import pytest
import tensorflow as tf

import keras_s2s
from keras_s2s.decoding import DecodingSettings


def _same_translations(model, sources, **settings):
    texts = tf.constant(sources)
    plain = keras_s2s.Translator(model, **settings)(texts)
    compiled_translator = keras_s2s.Translator(model, jit_compile=True, **settings)
    compiled = compiled_translator(texts)
    assert compiled["translation"].numpy().tolist() == plain["translation"].numpy().tolist()
    np.testing.assert_array_equal(compiled["length"].numpy(), plain["length"].numpy())
    np.testing.assert_allclose(compiled["score"].numpy(), plain["score"].numpy(), rtol=1e-4,
                               atol=1e-5)
    return compiled_translator


@pytest.mark.parametrize(("method", "architecture"), [("greedy", "gru"),
                                                       ("beam", "gru-attention")])
def test_compiled_search_translates_as_the_graph_does(trained, trained_attention, method,
                                                      architecture):
    model, test_pairs = trained[:2] if architecture == "gru" else trained_attention
    # Sources of 1 to 11 words and an empty one, each row with its own limit.
    sources = list(test_pairs.sources[:15]) + [""]
    translator = _same_translations(model, sources, method=method)
    # The search that ran is the XLA-compiled one.
    assert translator._compiled_search.value.experimental_get_tracing_count() >= 1


def test_a_fixed_max_length_and_a_prefix_compile_too(trained):
    model, test_pairs, _ = trained
    sources = list(test_pairs.sources[:6])
    prefixes = tf.constant([test_pairs.targets[i].split()[0] for i in range(6)])
    options = dict(method="beam", max_length=7)
    plain_translator = keras_s2s.Translator(model, **options)
    compiled_translator = keras_s2s.Translator(model, jit_compile=True, **options)
    plain = plain_translator.with_prefix(tf.constant(sources), prefixes)
    compiled = compiled_translator.with_prefix(tf.constant(sources), prefixes)
    assert compiled["translation"].numpy().tolist() == plain["translation"].numpy().tolist()


def test_export_refuses_jit_compile_and_bad_values_name_the_setting(trained, tmp_path):
    model, _, _ = trained
    with pytest.raises(ValueError, match="jit_compile=True cannot be exported"):
        keras_s2s.export(model, tmp_path / "m", method="greedy", jit_compile=True)
    assert not (tmp_path / "m").exists() or not any((tmp_path / "m").iterdir())
    with pytest.raises(ValueError, match="jit_compile"):
        DecodingSettings(jit_compile="yes")


def test_the_cli_flag_translates_the_same_and_export_has_none(trained, tmp_path, capsys):
    from keras_s2s.cli import main

    _, test_pairs, path = trained
    sources = list(test_pairs.sources[:3])
    assert main(["translate", "--model", str(path), *sources]) == 0
    plain = capsys.readouterr().out
    assert main(["translate", "--model", str(path), "--jit-compile", "yes", *sources]) == 0
    assert capsys.readouterr().out == plain and plain.strip().splitlines() == list(
        test_pairs.targets[:3])
    with pytest.raises(SystemExit) as exited:  # argparse: unrecognised arguments
        main(["export", "--model", str(path), "--output", str(tmp_path / "m"),
              "--jit-compile", "yes"])
    error = capsys.readouterr().err.strip().splitlines()
    assert exited.value.code == 2 and len(error) == 1 and "--jit-compile" in error[0]
