"""tf.distribute and mixed precision: the same training under MirroredStrategy
(two logical CPUs) and MultiWorkerMirroredStrategy (two processes), and a
mixed_bfloat16 model that trains, decodes and exports."""

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_s2s
from keras_s2s.data import synthetic_pairs
from keras_s2s.distribution import (
    STRATEGIES,
    check_model_precision,
    make_strategy,
    model_strategy,
    training_scope,
)

# The course's GRU on words (the recipe's default model is tested on its own).
SMALL = dict(architecture="gru", tokenization="word",
             embedding_dim=8, hidden_dim=16, max_source_length=12, max_target_length=12)


def run_python(script: str, *args, env=None, timeout=240):
    completed = subprocess.run([sys.executable, "-c", script, *args], capture_output=True,
                               text=True, timeout=timeout, env=env)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


# Logical devices must be configured before TensorFlow initialises them, so this
# runs in a fresh process.
MIRRORED_SCRIPT = textwrap.dedent("""
    import json
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras, keras_s2s
    from keras_s2s.data import synthetic_pairs
    from keras_s2s.distribution import training_scope

    pairs = synthetic_pairs(256, seed=1)
    probe = list(synthetic_pairs(20, seed=2).sources)
    results = {}
    for name, strategy in [("default", None),
                           ("mirrored", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))]:
        with training_scope(strategy) as scope:
            keras.utils.set_random_seed(0)
            model = keras_s2s.build_model(pairs, architecture="gru", tokenization="word",
                                          embedding_dim=8, hidden_dim=16,
                                          max_source_length=12, max_target_length=12)
            initial = [w.tolist() for w in model.get_weights()[:2]]
            history = keras_s2s.train(model, pairs, epochs=3, batch_size=32, learning_rate=1e-2,
                                      early_stopping_patience=0, verbose=0)
        results[name] = dict(
            replicas=scope.num_replicas_in_sync, initial=initial, loss=history.history["loss"],
            variable=type(model.variables[0].value).__name__,
            greedy=keras_s2s.translate(probe, model),
            beam=keras_s2s.translate(probe, model, method="beam", beam_width=1))
    print(json.dumps(results))
""")


@pytest.mark.slow
def test_mirrored_on_two_cpus_trains_like_the_default_strategy():
    results = run_python(MIRRORED_SCRIPT)
    default, mirrored = results["default"], results["mirrored"]
    assert (default["replicas"], mirrored["replicas"]) == (1, 2)
    assert mirrored["variable"] == "MirroredVariable"
    assert mirrored["initial"] == default["initial"]  # same seed, same starting weights
    # Each replica averages the loss over its own half of a batch, so the two
    # runs' gradients differ slightly (measured: losses within 0.1%). Weights
    # are not compared: Adam turns tiny gradient differences into full steps.
    np.testing.assert_allclose(mirrored["loss"], default["loss"], rtol=5e-3)
    assert mirrored["loss"][-1] < mirrored["loss"][0]
    # The mirrored model translates, and beam width 1 is its greedy search.
    assert all(isinstance(text, str) for text in mirrored["greedy"])
    assert mirrored["beam"] == mirrored["greedy"]
    assert sum(bool(text) for text in mirrored["greedy"]) >= 15


WORKER_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import keras, keras_s2s
    from keras_s2s.data import synthetic_pairs
    from keras_s2s.distribution import is_chief, training_scope

    pairs = synthetic_pairs(256, seed=1)
    with training_scope("multi-worker") as strategy:
        keras.utils.set_random_seed(0)
        model = keras_s2s.build_model(pairs, architecture="gru", tokenization="word",
                                      embedding_dim=8, hidden_dim=16,
                                      max_source_length=12, max_target_length=12)
        history = keras_s2s.train(model, pairs, epochs=2, batch_size=32,
                                  early_stopping_patience=0, verbose=0)
    np.savez(sys.argv[1], *model.get_weights())
    print(json.dumps({"replicas": strategy.num_replicas_in_sync, "chief": is_chief(strategy),
                      "loss": history.history["loss"],
                      "steps": int(model.optimizer.iterations.numpy())}))
""")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow  # two worker processes
def test_multi_worker_training_in_two_processes_ends_with_identical_weights(tmp_path):
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    workers = []
    try:
        for index in range(2):
            config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
            env = dict(os.environ, TF_CONFIG=json.dumps(config))
            workers.append(subprocess.Popen(
                [sys.executable, "-c", WORKER_SCRIPT, str(tmp_path / f"worker{index}.npz")],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            ))
        outputs = [worker.communicate(timeout=240) for worker in workers]
    finally:
        for worker in workers:  # a hung collective must not outlive the test
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    for worker, (_, err) in zip(workers, outputs):
        assert worker.returncode == 0, err[-3000:]
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    assert [r["chief"] for r in reports] == [True, False]  # worker 0 acts as chief
    assert all(r["replicas"] == 2 for r in reports)
    # 256 pairs in global batches of 32 (16 per worker): 8 steps per epoch each.
    assert all(r["steps"] == 16 for r in reports)
    assert reports[0]["loss"] == reports[1]["loss"]  # logs are averaged over workers
    first, second = np.load(tmp_path / "worker0.npz"), np.load(tmp_path / "worker1.npz")
    assert len(first.files) == len(second.files) > 0
    for name in first.files:
        np.testing.assert_array_equal(first[name], second[name])


# --- mixed precision -------------------------------------------------------------------------


@pytest.fixture()
def restore_policy():
    yield
    keras.mixed_precision.set_global_policy("float32")


@pytest.mark.slow
def test_mixed_bfloat16_model_trains_decodes_and_exports(restore_policy, tmp_path):
    pairs = synthetic_pairs(512, seed=1)
    with training_scope(mixed_precision="mixed_bfloat16"):
        keras.utils.set_random_seed(0)
        model = keras_s2s.build_model(pairs, **SMALL)
    assert keras.mixed_precision.global_policy().name == "float32"  # the scope put it back
    assert model.decoder_rnns[0].compute_dtype == "bfloat16"
    assert model.decoder_rnns[0].variable_dtype == "float32"
    assert model.output_projection.compute_dtype == "float32"
    logits = model([tf.constant([[5, 6, 0]]), tf.constant([[2, 7]])])
    assert logits.dtype == tf.float32

    history = keras_s2s.train(model, pairs, epochs=2, batch_size=32, learning_rate=1e-2,
                              early_stopping_patience=0, verbose=0,
                              mixed_precision="mixed_bfloat16")
    losses = history.history["loss"]
    assert all(np.isfinite(losses)) and losses[1] < losses[0]

    sources = list(synthetic_pairs(8, seed=2).sources) + [""]
    greedy = keras_s2s.translate(sources, model)
    assert all(isinstance(text, str) for text in greedy) and greedy[-1] == ""
    assert keras_s2s.translate(sources, model, method="beam", beam_width=1) == greedy
    beam = keras_s2s.translate(sources, model, method="beam", beam_width=3)
    assert all(isinstance(text, str) for text in beam)

    version = keras_s2s.export(model, tmp_path / "mixed", beam_width=3, num_results=2)
    moved = tmp_path / "moved"
    shutil.copytree(version, moved)
    served = run_python(textwrap.dedent(f"""
        import json, sys
        import tensorflow as tf
        import tensorflow_text
        loaded = tf.saved_model.load({str(moved)!r})
        out = loaded.signatures["serving_default"](text=tf.constant(json.loads(sys.argv[1])))
        print(json.dumps([t.decode() for t in out["translation"].numpy()]))
    """), json.dumps(sources))
    assert served == beam


def test_mixed_precision_must_match_the_model(restore_policy):
    pairs = synthetic_pairs(64, seed=1)
    model = keras_s2s.build_model(pairs, **SMALL)  # float32
    with pytest.raises(ValueError, match="built with the 'float32' policy.*training_scope"):
        check_model_precision(model, "mixed_bfloat16")
    with pytest.raises(ValueError, match="mixed_precision must be one of"):
        keras_s2s.train(model, pairs, epochs=1, mixed_precision="float16")
    with pytest.raises(ValueError, match="mixed_precision must be one of"):
        with training_scope(mixed_precision="fp16"):
            pass
    assert keras.mixed_precision.global_policy().name == "float32"


def test_a_model_built_outside_the_strategy_is_refused_with_the_fix():
    pairs = synthetic_pairs(64, seed=1)
    model = keras_s2s.build_model(pairs, **SMALL)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
    with pytest.raises(ValueError, match=r"not built under this MirroredStrategy.*scope"):
        keras_s2s.train(model, pairs, epochs=1, strategy=strategy)
    # Training inside another strategy's scope is caught too.
    with strategy.scope(), pytest.raises(ValueError, match="not built under"):
        keras_s2s.train(model, pairs, epochs=1)
    with strategy.scope():
        inside = keras_s2s.build_model(pairs, **SMALL)
    assert model_strategy(inside) is strategy
    assert model_strategy(inside, strategy) is strategy


def test_strategy_names_are_checked():
    assert make_strategy("default") is tf.distribute.get_strategy()
    with pytest.raises(ValueError, match=r"strategy must be one of \('default', 'mirrored'"):
        make_strategy("gpu")
    env = dict(os.environ)
    env.pop("TF_CONFIG", None)
    os.environ.pop("TF_CONFIG", None)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        make_strategy("multi-worker")
    from keras_s2s import cli
    assert cli.STRATEGIES == STRATEGIES  # the CLI's copy (kept to spare --help TensorFlow)
