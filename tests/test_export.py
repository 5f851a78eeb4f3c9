"""SavedModel export: cold-loaded without keras_s2s, it translates like the model."""

import json
import pathlib
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
from cold_loading import serve_cold

import keras_s2s
from keras_s2s.saved_model.writer import export  # also keras_s2s.export


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    model, test_pairs, _ = trained
    base = tmp_path_factory.mktemp("serving") / "numbers"
    version = export(model, base, beam_width=4, length_penalty=0.6, num_results=3)
    return model, test_pairs, base, version


def test_export_writes_version_1_then_2_and_nothing_else(trained, greedy_export, tmp_path):
    model, _, _ = trained
    # The shared export was the first into its base: version 1, alone there.
    assert greedy_export.name == "1"
    assert [p.name for p in greedy_export.parent.iterdir()] == ["1"]
    shutil.copytree(greedy_export, tmp_path / "m" / "1")
    second = export(model, tmp_path / "m", method="greedy")
    assert second.name == "2"
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["1", "2"]
    assert (second / "saved_model.pb").exists()


def test_interrupted_export_leaves_no_version_behind(trained, tmp_path, monkeypatch):
    model, _, _ = trained
    real_save = tf.saved_model.save

    def save_then_die(module, directory, **kwargs):
        real_save(module, directory, **kwargs)  # the files are written...
        raise KeyboardInterrupt("killed mid-export")  # ...but the export never finishes

    monkeypatch.setattr(tf.saved_model, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        export(model, tmp_path / "m")
    assert [p.name for p in (tmp_path / "m").iterdir()] == []


@pytest.mark.slow  # a fresh process; test_check_export's replay loads cold by default
def test_cold_load_in_a_process_without_keras_s2s_translates_the_same(exported, tmp_path):
    model, test_pairs, _, version = exported
    moved = tmp_path / "elsewhere"
    shutil.copytree(version, moved)  # nothing may point back at the export location
    sources = list(test_pairs.sources[:7]) + ["", "nueve " * 40]
    expected = keras_s2s.translate(sources, model, method="beam", beam_width=4,
                                   length_penalty=0.6)
    # The same batch through the in-process graph, for the scores.
    direct = keras_s2s.Translator(model, method="beam", beam_width=4, length_penalty=0.6)
    expected_scores = direct(tf.constant(sources))["score"].numpy()
    served = serve_cold(moved, sources)
    assert served["translation"] == expected
    assert served["translation"][-2] == ""  # empty in, empty out
    np.testing.assert_allclose(served["score"], expected_scores, rtol=1e-4, atol=1e-5)


def test_signatures_take_and_return_strings(exported):
    _, _, _, version = exported
    cli = pathlib.Path(sys.executable).parent / "saved_model_cli"
    shown = subprocess.run([str(cli), "show", "--dir", str(version), "--all"],
                           capture_output=True, text=True, timeout=120, check=True).stdout
    default = shown[shown.index("signature_def['serving_default']"):]
    default = default[: default.index("Method name")]
    assert "dtype: DT_STRING" in default.split("outputs")[0]  # input text
    assert "outputs['translation'] tensor_info:\n        dtype: DT_STRING" in default
    assert "outputs['score'] tensor_info:\n        dtype: DT_FLOAT" in default
    for name in ("translate_greedy", "translate_n_best"):
        assert f"signature_def['{name}']" in shown


def test_graph_uses_only_tensorflow_and_tensorflow_text_ops(exported):
    _, _, _, version = exported
    # In a fresh process: which ops are missing from TF core, and does
    # tensorflow_text register every one of them?
    script = textwrap.dedent(f"""
        import json
        from tensorflow.core.protobuf import saved_model_pb2
        from tensorflow.python.framework import op_def_registry
        proto = saved_model_pb2.SavedModel()
        proto.ParseFromString(open({str(version / "saved_model.pb")!r}, "rb").read())
        graph = proto.meta_graphs[0].graph_def
        ops = {{n.op for n in graph.node}}
        for function in graph.library.function:
            ops |= {{n.op for n in function.node_def}}
        functions = {{f.signature.name for f in graph.library.function}}
        ops -= functions
        not_core = sorted(op for op in ops if op_def_registry.get(op) is None)
        import tensorflow_text  # noqa
        unknown = sorted(op for op in not_core if op_def_registry.get(op) is None)
        print(json.dumps({{"ops": len(ops), "not_core": not_core, "unknown": unknown}}))
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert report["ops"] > 20
    assert report["unknown"] == []
    assert set(report["not_core"]) <= {"NormalizeUTF8"}, report["not_core"]


def test_translate_accepts_base_path_and_version_directory(exported):
    model, test_pairs, base, version = exported
    sources = list(test_pairs.sources[:64])
    expected = keras_s2s.translate(sources, model, method="beam")
    assert keras_s2s.translate(sources, str(base), method="beam") == expected
    assert keras_s2s.translate(sources[0], str(version), method="beam") == expected[0]
    assert keras_s2s.translate(sources, str(base)) == keras_s2s.translate(sources, model)
    n_best = keras_s2s.translate(sources[:3], str(base), method="beam", num_results=3)
    direct = keras_s2s.translate(sources[:3], model, method="beam", num_results=3)
    assert [[t for t, _ in row] for row in n_best] == [[t for t, _ in row] for row in direct]


def test_very_long_input_is_truncated_through_the_signature(exported):
    _, _, base, _ = exported
    translation = keras_s2s.translate("uno dos " * 3000, str(base))
    assert isinstance(translation, str) and len(translation.split()) <= 12


def test_export_options_the_saved_model_cannot_honour_are_errors(exported):
    _, _, base, _ = exported
    with pytest.raises(ValueError, match="beam_width"):
        keras_s2s.translate("uno", str(base), method="beam", beam_width=8)
    # translate_sample samples as exported (the seed is its input); other sampling settings
    # are not in the graph.
    with pytest.raises(ValueError, match="top_k=5"):
        keras_s2s.translate("uno", str(base), method="sample", top_k=5)
    with pytest.raises(ValueError, match="n_best"):
        keras_s2s.translate("uno", str(base), method="beam", num_results=4)


def test_broken_saved_models_get_clear_errors(exported, tmp_path):
    _, _, _, version = exported
    with pytest.raises(FileNotFoundError, match="no SavedModel"):
        keras_s2s.translate("uno", str(tmp_path))
    broken = tmp_path / "broken" / "1"
    shutil.copytree(version, broken)
    shutil.rmtree(broken / "variables")
    with pytest.raises(ValueError, match="variables"):
        keras_s2s.translate("uno", str(broken.parent))


@pytest.mark.slow
def test_attention_model_learns_exports_and_serves_cold(trained_attention, tmp_path):
    model, test_pairs = trained_attention
    sources = list(test_pairs.sources)
    hypotheses = keras_s2s.translate(sources, model)
    exact = np.mean([h == t for h, t in zip(hypotheses, test_pairs.targets)])
    assert exact >= 0.95
    version = export(model, tmp_path / "attention")
    served = serve_cold(version, sources[:16])["translation"]
    assert served == keras_s2s.translate(sources[:16], model, method="beam")


def test_export_holds_the_weights_but_not_the_optimizer(exported):
    model, _, _, version = exported
    assert model.optimizer is not None  # trained, so Adam's slots exist...
    names = [name for name, _ in tf.train.list_variables(str(version / "variables" / "variables"))]
    assert not [name for name in names if "optimizer" in name]  # ...but are not served
    assert len(names) >= len(model.weights)


def test_package_level_export_is_the_function():
    import keras_s2s.saved_model.writer  # noqa: F401  (a submodule import must not shadow it)

    assert keras_s2s.export is export


def test_export_info_records_what_the_graph_does_not_automatic_values(exported):
    # An automatic setting (None) is written as its value for this model (3 for a
    # word vocabulary), so a keras_s2s with other automatic defaults reads it right.
    _, _, _, version = exported
    from keras_s2s.saved_model import contract

    signatures = contract.ExportInfo.read(version).signatures
    assert {signatures[name]["no_repeat_ngram_size"] for name in signatures
            if name != "score"} == {3}
