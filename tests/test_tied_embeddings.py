"""Tied embeddings: the output softmax reads the target embedding's very
matrix, and the model contract still holds (teacher-forced logits equal the
step-by-step ones, save/load, an export served cold equals translate)."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from cold_loading import assert_loaders_agree, run_cold

import keras_s2s
from keras_s2s.data import synthetic_pairs
from keras_s2s.text import PAD_ID, START_ID

OPTIONS = {
    "gru": dict(embedding_dim=8, hidden_dim=16),  # 16 -> 8 through the mapping layer
    "gru-attention": dict(embedding_dim=16, hidden_dim=16),  # same width: no mapping
    "transformer": dict(hidden_dim=16, num_layers=1, num_heads=2, intermediate_dim=32),
}
TEXTS = ["uno dos tres", "nueve", ""]


def _model(architecture, tie):
    keras.utils.set_random_seed(5)
    return keras_s2s.build_model(synthetic_pairs(50, seed=0), architecture=architecture,
                                 max_source_length=10, max_target_length=10,
                                 tie_embeddings=tie, **OPTIONS[architecture])


def _target_embedding(model):
    embedding = model.target_embedding
    return getattr(embedding, "token_embedding", embedding).embeddings


@pytest.mark.parametrize("architecture", sorted(OPTIONS))
def test_tied_output_uses_the_embedding_variable_and_saves_parameters(architecture):
    tied, untied = _model(architecture, True), _model(architecture, False)
    assert tied.output_projection.embedding.embeddings is _target_embedding(tied)
    assert sum(v is _target_embedding(tied) for v in tied.weights) == 1  # held once
    vocabulary, width = _target_embedding(tied).shape
    mapping = 0 if architecture != "gru" else 16 * width
    assert untied.count_params() - tied.count_params() == vocabulary * (
        OPTIONS[architecture]["hidden_dim"]) - mapping
    # Training the embedding moves the output logits, and nothing else holds a copy.
    encoder_ids = np.array([[4, 5, 6]], "int32")
    decoder_ids = np.array([[START_ID, 4]], "int32")
    before = tied([encoder_ids, decoder_ids]).numpy()
    variable = _target_embedding(tied)
    variable.assign(variable + 0.5)
    assert not np.allclose(tied([encoder_ids, decoder_ids]).numpy(), before)


@pytest.mark.slow
@pytest.mark.parametrize("architecture", sorted(OPTIONS))
def test_tied_models_keep_the_contract(architecture, tmp_path):
    model = _model(architecture, True)
    encoder_ids = np.array([[4, 5, 6, 7], [8, 9, PAD_ID, PAD_ID]], "int32")
    decoder_ids = np.array([[START_ID, 4, 5], [START_ID, 6, PAD_ID]], "int32")
    teacher_forced = model.training_model([encoder_ids, decoder_ids]).numpy()
    state, steps = model.initial_state(tf.constant(encoder_ids)), []
    for t in range(decoder_ids.shape[1]):
        logits, state = model.decode_step(tf.constant(decoder_ids[:, t]), state)
        steps.append(logits.numpy())
    real = decoder_ids != PAD_ID
    np.testing.assert_allclose(np.stack(steps, axis=1)[real], teacher_forced[real], atol=1e-5)

    model.save(tmp_path / "tied.keras")
    loaded = keras_s2s.load(tmp_path / "tied.keras")
    assert loaded.output_projection.embedding.embeddings is _target_embedding(loaded)
    np.testing.assert_array_equal(loaded([encoder_ids, decoder_ids]).numpy(), teacher_forced)
    greedy = keras_s2s.translate(TEXTS, model)
    assert keras_s2s.translate(TEXTS, loaded) == greedy

    version = keras_s2s.export(model, tmp_path / "served")
    results = run_cold(version, TEXTS, signatures=("translate_greedy",))
    assert_loaders_agree(results)
    assert results["c_api"]["translate_greedy"]["translation"] == greedy


def test_tied_gradient_fits_in_memory_at_a_real_size():
    """The gradient of a batch of 64 x 47 tokens into an 8k x 256 tied matrix
    needs about the logits' size (0.1 GB), not (batch, time, vocab, d) (24 GB,
    what einsum's broadcast gradient built: the shipped model's first run died
    of it). Measured as the peak memory of a fresh process."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import resource, keras, tensorflow as tf
        from keras_s2s.models.tied_output import TiedOutputProjection
        embedding = keras.layers.Embedding(8000, 256)
        embedding.build((None,))
        output = TiedOutputProjection(embedding, input_dim=512)
        @tf.function
        def gradient(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(output(x))
            return tape.gradient(loss, embedding.embeddings)
        assert gradient(tf.random.normal([64, 47, 512])).shape == (8000, 256)
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
    """)
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                               timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    peak_megabytes = int(completed.stdout.split()[-1])
    # Alone it peaks near 1 GB, but one run inside the whole suite read 5.8 GB (cause
    # not found); half the einsum's 24 GB still tells the two apart.
    assert peak_megabytes < 12_000, peak_megabytes
