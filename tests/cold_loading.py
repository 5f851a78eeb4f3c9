"""Runs an export the way servers do: in a fresh process that imports only
tensorflow and tensorflow_text, through both loaders used in the field —
TF Serving's C++ `LoadSavedModel` (via the C API, `server_loader.py`) and
TensorFlow 2's `tf.saved_model.load` — and checks that they agree."""

import json
import pathlib
import subprocess
import sys
import textwrap

import numpy as np

import keras_s2s.saved_model.server_loader as server_loader
from keras_s2s.saved_model import contract

SIGNATURES = tuple(contract.SIGNATURES)


def signature_inputs(texts, *, prefix=None, target=None, seed=0):
    """Each signature's inputs for `texts` (empty prefixes, the texts as
    targets, unless given)."""
    values = {contract.TEXT: list(texts), contract.PREFIX: list(prefix or [""] * len(texts)),
              contract.TARGET: list(target or texts), contract.SEED: seed}
    return {name: {key: values[key] for key in signature.inputs}
            for name, signature in contract.SIGNATURES.items()}


def run_cold(version_dir, texts, signatures=SIGNATURES, **inputs):
    """`{"c_api": {signature: outputs}, "tf2": {...}}`, outputs as lists
    (strings decoded), from one new process that never imports keras_s2s.
    `inputs`: `prefix=`, `target=`, `seed=` (see `signature_inputs`)."""
    script = textwrap.dedent(f"""
        import importlib.util, json, sys
        spec = importlib.util.spec_from_file_location("server_loader",
                                                      {str(server_loader.__file__)!r})
        server_loader = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(server_loader)  # imports tensorflow, tensorflow_text only
        import numpy as np
        import tensorflow as tf
        requests = json.loads(sys.stdin.read())
        served = server_loader.CppSavedModel({str(version_dir)!r})
        loaded = tf.saved_model.load({str(version_dir)!r})
        results = {{"c_api": {{}}, "tf2": {{}}}}
        for name, inputs in requests.items():
            arrays = {{k: np.array(v, dtype=object if isinstance(v, list) else np.int64)
                      for k, v in inputs.items()}}
            outputs = served.run(name, arrays)
            results["c_api"][name] = {{k: server_loader._plain(v) for k, v in outputs.items()}}
            outputs = loaded.signatures[name](**{{k: tf.constant(v) for k, v in arrays.items()}})
            results["tf2"][name] = {{k: server_loader._plain(v.numpy())
                                    for k, v in outputs.items()}}
        assert "keras_s2s" not in sys.modules, "a served export must not need keras_s2s"
        print(json.dumps(results))
    """)
    requests = {name: values for name, values in signature_inputs(texts, **inputs).items()
                if name in signatures}
    completed = subprocess.run([sys.executable, "-c", script], input=json.dumps(requests),
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def assert_loaders_agree(results):
    """The C++ loader's outputs equal the TF2 loader's, signature by signature."""
    for name, expected in results["tf2"].items():
        served = results["c_api"][name]
        assert sorted(served) == sorted(expected), name
        for key, value in expected.items():
            if value and isinstance(np.ravel(np.array(value, dtype=object))[0], str):
                assert served[key] == value, (name, key)
            else:
                np.testing.assert_allclose(served[key], value, rtol=1e-4, atol=1e-5,
                                           err_msg=f"{name}/{key}")


def serve_cold(version_dir, texts, *, signature="serving_default"):
    """One signature's outputs through TF Serving's C++ loader, after checking
    that the TF2 loader gives the same."""
    results = run_cold(version_dir, texts, signatures=(signature,))
    assert_loaders_agree(results)
    return results["c_api"][signature]


def copy_elsewhere(version_dir, tmp_path) -> pathlib.Path:
    """A copy at another path: nothing in an export may point back at where it was written."""
    import shutil

    moved = tmp_path / "moved" / pathlib.Path(version_dir).name
    shutil.copytree(version_dir, moved)
    return moved
