"""`keras-s2s check-export` and the warm-up file TF Serving replays."""

import json
import shutil
import subprocess
import sys

import pytest

import keras_s2s
from keras_s2s.saved_model import contract, server_loader
from keras_s2s.saved_model.warmup import WARMUP_BATCH_SIZES, read_warmup_requests
from keras_s2s.saved_model.writer import export


@pytest.fixture(scope="module")
def version(trained, tmp_path_factory):
    model, _, _ = trained
    return export(model, tmp_path_factory.mktemp("check") / "numbers", num_results=2)


def _check_cli(path):
    completed = subprocess.run([sys.executable, "-m", "keras_s2s.cli", "check-export",
                                str(path)], capture_output=True, text=True, timeout=300)
    errors = [line for line in completed.stderr.splitlines()
              if line.startswith("keras-s2s check-export")]
    return completed.returncode, completed.stdout, errors


def test_warmup_file_holds_requests_for_every_signature(version):
    requests = read_warmup_requests(version)
    assert sorted((name, len(inputs[contract.TEXT])) for name, inputs in requests) == sorted(
        (name, size) for name in contract.SIGNATURES for size in WARMUP_BATCH_SIZES)


def _as_json(value):
    if value.dtype == object:
        return [v.decode() for v in value.reshape(-1)]
    return value.tolist()


def test_warmup_requests_replay_through_the_cpp_loader(version, trained):
    model, _, _ = trained
    requests = read_warmup_requests(version)
    # One cold process, as a server: TF Serving's loader, every request in turn.
    completed = subprocess.run(
        [sys.executable, server_loader.__file__, str(version)], capture_output=True, text=True,
        input=json.dumps([{"signature": name, "inputs": {k: _as_json(v) for k, v in
                                                         inputs.items()}}
                          for name, inputs in requests]), timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    replies = [json.loads(line) for line in completed.stdout.strip().splitlines()]
    assert len(replies) == len(requests) and {n for n, _ in requests} == set(contract.SIGNATURES)
    for (name, inputs), served in zip(requests, replies):
        texts = _as_json(inputs[contract.TEXT])
        key = contract.SIGNATURES[name].outputs[0]
        assert len(served[key]) == len(texts), name
        beam = dict(method="beam", beam_width=4, length_penalty=0.6)
        if name == "translate_greedy":
            assert served[key] == keras_s2s.translate(texts, model)
        elif name == "serving_default":
            assert served[key] == keras_s2s.translate(texts, model, **beam)
        elif name == "translate_n_best":
            assert [row[0] for row in served[key]] == keras_s2s.translate(texts, model, **beam)
        elif name == "translate_prefix":
            prefixes = _as_json(inputs[contract.PREFIX])
            assert served[key] == keras_s2s.translate(texts, model, prefix=prefixes, **beam)
        elif name == "score":
            expected = keras_s2s.score(texts, _as_json(inputs[contract.TARGET]), model)
            assert served[key] == pytest.approx([s.log_prob for s in expected], rel=1e-4)


@pytest.mark.slow
def test_check_export_passes_on_a_good_export(version):
    report = keras_s2s.check_export(version.parent)
    assert report.ok, str(report)
    names = [check.name for check in report.checks]
    for expected in ("ops", "GPU kernels in the decoding loop", "C++ loader (TF Serving)",
                     "signatures, C++ == TF2 loader", "warm-up replay (C++ loader)", "timing"):
        assert expected in names
    assert "NormalizeUTF8" in str(report)  # the tensorflow-text op, listed as such
    code, out, errors = _check_cli(version)
    assert code == 0 and errors == [] and "every check passed" in out


@pytest.fixture()
def broken(version, tmp_path):
    copy = tmp_path / "broken" / "1"
    shutil.copytree(version, copy)
    return copy


def test_check_export_fails_without_variables(broken):
    shutil.rmtree(broken / "variables")
    code, _, errors = _check_cli(broken)
    assert code == 1 and len(errors) == 1
    assert "files failed" in errors[0] and "variables is missing" in errors[0]


@pytest.mark.slow  # a fresh process; the exit code is held by the test above
def test_check_export_fails_on_truncated_variables(broken):
    data = next((broken / "variables").glob("variables.data-*"))
    data.write_bytes(data.read_bytes()[:100])
    code, _, errors = _check_cli(broken)
    assert code == 1 and len(errors) == 1 and "C++ loader (TF Serving) failed" in errors[0]


@pytest.mark.slow  # a fresh process; the exit code is held by the tests above
def test_check_export_names_an_op_outside_tensorflow_and_tensorflow_text(broken):
    from tensorflow.core.protobuf import saved_model_pb2

    proto = saved_model_pb2.SavedModel()
    proto.ParseFromString((broken / "saved_model.pb").read_bytes())
    renamed = 0
    for function in proto.meta_graphs[0].graph_def.library.function:
        for node in function.node_def:
            if node.op == "NormalizeUTF8":
                node.op, renamed = "MadeUpCustomOp", renamed + 1
    assert renamed
    (broken / "saved_model.pb").write_bytes(proto.SerializeToString())
    code, _, errors = _check_cli(broken)
    assert code == 1 and len(errors) == 1
    assert "ops outside TensorFlow core and tensorflow-text: MadeUpCustomOp" in errors[0]
