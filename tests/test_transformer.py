"""The Transformer under the three-model contract: cached decoding is the
trained model, it learns, saves, decodes under XLA and exports."""

import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf
from cold_loading import serve_cold

import keras_s2s
from keras_s2s.decoding import beam_search, greedy_search
from keras_s2s.models import TransformerSeq2Seq, build_model
from keras_s2s.models.transformer_state import transpose_keys
from keras_s2s.text import END_ID, PAD_ID, START_ID, Vocabulary

SOURCE_VOCABULARY = Vocabulary.build(["a b c d e f g"], lowercase=True).tokens
TARGET_VOCABULARY = Vocabulary.build(["t u v w x y z"], lowercase=False).tokens
TINY = dict(tokenization="word", hidden_dim=16, num_heads=4, intermediate_dim=24, num_layers=2)


def _tiny_model(**options):
    keras.utils.set_random_seed(0)
    return TransformerSeq2Seq(SOURCE_VOCABULARY, TARGET_VOCABULARY, max_target_length=5,
                              **{**TINY, **options})


def _batch():
    # Three source lengths (one row all but one padding); the target rows fill
    # the whole 5-slot cache, end early, and end very early.
    encoder_ids = np.array([[4, 5, 6, 7, 8, 9], [9, 10, 4, PAD_ID, PAD_ID, PAD_ID],
                            [5, PAD_ID, PAD_ID, PAD_ID, PAD_ID, PAD_ID]], dtype="int32")
    decoder_ids = np.array([[START_ID, 4, 5, 6, 7], [START_ID, 7, 8, PAD_ID, PAD_ID],
                            [START_ID, 9, PAD_ID, PAD_ID, PAD_ID]], dtype="int32")
    return encoder_ids, decoder_ids


@pytest.fixture(scope="module")
def trained_transformer(tmp_path_factory):
    """A small Transformer trained on the synthetic number-words task (~30 s)."""
    from keras_s2s.data import synthetic_pairs

    train_pairs = synthetic_pairs(1600, seed=1)
    model = build_model(train_pairs, architecture="transformer", tokenization="word",
                        hidden_dim=64, num_layers=2,
                        num_heads=4, intermediate_dim=128, dropout=0.1,
                        max_source_length=12, max_target_length=12)
    # The plain recipe this fixture was tuned with: in a 4-epoch run the default
    # cosine decay leaves too few steps at the peak rate (74% exact match, not 96%).
    keras_s2s.train(model, train_pairs, epochs=4, batch_size=32, learning_rate=2e-3,
                    learning_rate_schedule="constant", label_smoothing=0.0, average_last=0,
                    early_stopping_patience=0, verbose=0)
    path = tmp_path_factory.mktemp("transformer") / "numbers.keras"
    model.save(path)
    return model, synthetic_pairs(200, seed=2), path


def test_cached_steps_reproduce_teacher_forced_logits():
    model = _tiny_model(dropout=0.3)  # dropout must be off at inference
    encoder_ids, decoder_ids = _batch()
    teacher_forced = model.training_model([encoder_ids, decoder_ids]).numpy()
    real = decoder_ids != PAD_ID

    state = list(model.encoder_model(tf.constant(encoder_ids)))  # what decoder_model takes
    steps = []
    for t in range(decoder_ids.shape[1]):
        logits, *state = model.decoder_model([tf.constant(decoder_ids[:, t : t + 1]), *state])
        steps.append(logits.numpy()[:, 0])
    np.testing.assert_allclose(np.stack(steps, axis=1)[real], teacher_forced[real], atol=1e-5)
    np.testing.assert_array_equal(state[0].numpy(), [5, 5, 5])  # the per-row step counter

    state = model.initial_state(tf.constant(encoder_ids))
    steps = []
    for t in range(decoder_ids.shape[1]):
        logits, state = model.decode_step(tf.constant(decoder_ids[:, t]), state)
        # Outside XLA the cache grows one slot per step; everything else keeps its shape.
        assert all(c.shape == (3, 4, t + 1, 4) for c in tf.nest.flatten(state.self_attention))
        steps.append(logits.numpy())
    np.testing.assert_allclose(np.stack(steps, axis=1)[real], teacher_forced[real], atol=1e-5)


def test_state_is_batch_first_with_a_preallocated_cache():
    model = _tiny_model()
    encoder_ids, _ = _batch()
    state = model.initial_state(tf.constant(encoder_ids))
    assert state.step.dtype == tf.int32 and state.step.shape == (3,)
    caches, cross = tf.nest.flatten(state.self_attention), tf.nest.flatten(state.cross_attention)
    assert len(caches) == len(cross) == 4  # keys and values of 2 layers
    assert all(c.shape == (3, 4, 0, 4) for c in caches)  # outside XLA: empty, it grows
    # The Functional encoder_model (and XLA) give the preallocated buffer instead.
    buffers = model.encoder_model(tf.constant(encoder_ids))[1:5]
    assert all(c.shape == (3, 4, 5, 4) for c in buffers)  # (batch, heads, max_target_length, 4)
    # Cross keys transposed, for the product with the query (transformer_state); values not.
    assert [c.shape for c in cross] == [(3, 4, 4, 6), (3, 4, 6, 4)] * 2  # source time: 6
    np.testing.assert_array_equal(state.source_mask.numpy(), encoder_ids != PAD_ID)
    # The Functional models carry the same tensors, flat, in this order (keys heads-first).
    functional = model.encoder_model(tf.constant(encoder_ids))
    assert len(functional) == len(tf.nest.flatten(state)) == 10
    assert [c.shape for c in functional[5:9]] == [(3, 4, 6, 4)] * 4


def test_encoder_on_real_tokens_only_is_the_padded_encoder_model():
    # initial_state runs the encoder's position-wise layers on the real tokens
    # alone (keras_s2s.models.packed_tokens); the Functional encoder_model, on
    # every position. They must agree wherever the decoder looks.
    model = _tiny_model()
    encoder_ids, _ = _batch()
    encoder_ids = np.concatenate([encoder_ids, np.zeros((1, 6), "int32")])  # + an empty row
    state = model.initial_state(tf.constant(encoder_ids))
    padded = model.encoder_model(tf.constant(encoder_ids))[5:9]  # cross keys/values, flat
    real = encoder_ids != PAD_ID
    real[3] = True  # an empty row attends over all its padding: all of it must agree
    for packed, full in zip(tf.nest.flatten([transpose_keys(kv) for kv in state.cross_attention]),
                            padded):
        packed, full = packed.numpy(), full.numpy()  # (batch, heads, time, head_dim)
        np.testing.assert_allclose(packed.transpose(0, 2, 1, 3)[real],
                                   full.transpose(0, 2, 1, 3)[real], atol=1e-6)
        assert not packed.transpose(0, 2, 1, 3)[~real].any()  # padding: zeros, never read
        assert full.transpose(0, 2, 1, 3)[~real].any()  # (the padded encoder fills it)


def test_mixed_precision_keeps_float32_logits_and_a_stable_state():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = _tiny_model()
    finally:
        keras.mixed_precision.set_global_policy("float32")
    encoder_ids, decoder_ids = _batch()
    assert model.training_model([encoder_ids, decoder_ids]).dtype == tf.float32
    state = model.initial_state(tf.constant(encoder_ids))
    flat = list(model.encoder_model(tf.constant(encoder_ids)))  # the Functional state
    logits, *new_state = model.decoder_model([tf.constant(decoder_ids[:, :1]), *flat])
    assert logits.dtype == tf.float32
    assert state.self_attention[0].keys.dtype == tf.float16  # the caches: compute dtype
    # A while_loop needs every state tensor to keep its dtype from step to step.
    assert [t.dtype for t in new_state] == [t.dtype for t in flat]
    _, stepped = model.decode_step(tf.constant(decoder_ids[:, 0]), state)
    assert [t.dtype for t in tf.nest.flatten(stepped)] == [t.dtype for t in flat]
    logits, stepped = model.decoding_step()(tf.constant(decoder_ids[:, 0]), state)  # fused
    assert logits.dtype == tf.float32
    assert [t.dtype for t in tf.nest.flatten(stepped)] == [t.dtype for t in flat]


def test_the_searches_step_fuses_the_self_attention_projections_into_one_product():
    model = _tiny_model()
    encoder_ids, decoder_ids = _batch()
    # decoding_step(), what the Translator's searches call, gives decode_step's logits...
    plain_state = fused_state = model.initial_state(tf.constant(encoder_ids))
    fused_step = model.decoding_step()
    for t in range(decoder_ids.shape[1]):
        plain, plain_state = model.decode_step(tf.constant(decoder_ids[:, t]), plain_state)
        fused, fused_state = fused_step(tf.constant(decoder_ids[:, t]), fused_state)
        np.testing.assert_allclose(fused.numpy(), plain.numpy(), atol=1e-5)
    # ...with one product for the query, key and value projections: per decoder
    # layer 6 MatMuls in the Translator's loop (QKV, self output, cross query,
    # cross output, 2 feed-forward), plus the output layer; unfused it is 8 per layer.
    translator = keras_s2s.Translator(model)
    graph = translator.__call__.get_concrete_function().graph.as_graph_def()
    (body,) = [f for f in graph.library.function if f.signature.name.startswith("while_body")]
    assert sum(node.op == "MatMul" for node in body.node_def) == 6 * model.num_layers + 1


def test_inference_models_hold_the_training_models_variables():
    model = _tiny_model()
    training = {id(v) for v in model.training_model.weights}
    encoder = {id(v) for v in model.encoder_model.weights}
    decoder = {id(v) for v in model.decoder_model.weights}
    assert encoder | decoder == training == {id(v) for v in model.weights}
    assert not encoder & decoder  # cross-attention keys/values are the encoder's part
    encoder_ids, decoder_ids = _batch()
    first_tokens = tf.constant(decoder_ids[:, :1])

    def first_step_logits():
        state = list(model.encoder_model(tf.constant(encoder_ids)))
        return model.decoder_model([first_tokens, *state])[0].numpy()

    before = first_step_logits()
    for variable in (model.cross_key_values[0].value_projection.kernel,  # via encoder_model
                     model.decoder_blocks[1].feed_forward.contract.kernel):  # via decoder_model
        # Random, not a constant shift: LayerNorm outputs sum to zero over features.
        variable.assign(variable + np.random.default_rng(0).normal(size=variable.shape))
        after = first_step_logits()
        assert not np.allclose(before, after)
        before = after


def test_save_and_load_give_identical_logits_and_translations(trained_transformer, tmp_path):
    model, test_pairs, _ = trained_transformer
    path = tmp_path / "copy.keras"
    model.save(path)
    loaded = keras_s2s.load(path)
    assert type(loaded) is TransformerSeq2Seq
    assert loaded.get_config() == model.get_config()
    encoder_ids = model.source_encoder.encode(tf.constant(test_pairs.sources[:8])).to_tensor()
    decoder_ids = tf.fill([8, 3], START_ID)
    np.testing.assert_array_equal(loaded([encoder_ids, decoder_ids]).numpy(),
                                  model([encoder_ids, decoder_ids]).numpy())
    sources = list(test_pairs.sources[:20])
    assert keras_s2s.translate(sources, loaded) == keras_s2s.translate(sources, model)


def test_learns_the_synthetic_task(trained_transformer):
    model, test_pairs, _ = trained_transformer
    translations = keras_s2s.translate(list(test_pairs.sources), model)
    exact = np.mean([t == r for t, r in zip(translations, test_pairs.targets)])
    assert exact >= 0.95, list(zip(translations, test_pairs.targets))[:5]


def test_beam_of_one_is_greedy_and_greedy_compiles_with_xla(trained_transformer):
    model, test_pairs, _ = trained_transformer
    encoder_ids = model.source_encoder.encode(tf.constant(test_pairs.sources[:32])).to_tensor()
    common = dict(start_id=START_ID, end_id=END_ID, max_length=12)
    state = model.initial_state(encoder_ids)
    greedy = greedy_search(model.decode_step, state, **common)
    beam = beam_search(model.decode_step, state, beam_width=1, length_penalty=0.0, **common)
    np.testing.assert_array_equal(beam.ids.numpy()[:, 0], greedy.ids.numpy())
    np.testing.assert_array_equal(beam.lengths.numpy()[:, 0], greedy.lengths.numpy())

    @tf.function(jit_compile=True)
    def compiled_greedy(encoder_ids):
        return greedy_search(model.decode_step, model.initial_state(encoder_ids), **common)

    compiled = compiled_greedy(encoder_ids)
    np.testing.assert_array_equal(compiled.ids.numpy(), greedy.ids.numpy())
    np.testing.assert_allclose(compiled.log_probs.numpy(), greedy.log_probs.numpy(), atol=1e-4)
    # Not a trivially agreeing pair: these are the right translations.
    words = model.target_encoder.decode(greedy.ids).numpy()
    assert [w.decode() for w in words[:8]] == list(test_pairs.targets[:8])


def test_jit_compiled_translator_gives_the_graphs_beam_translations(trained_transformer):
    model, test_pairs, _ = trained_transformer
    texts = tf.constant(list(test_pairs.sources[:12]))
    plain = keras_s2s.Translator(model, method="beam")
    compiled = keras_s2s.Translator(model, method="beam", jit_compile=True)
    expected = plain(texts)
    found = compiled(texts)
    assert found["translation"].numpy().tolist() == expected["translation"].numpy().tolist()
    np.testing.assert_allclose(found["score"].numpy(), expected["score"].numpy(), atol=1e-4)


@pytest.mark.slow
def test_export_translates_the_same_when_loaded_cold(trained_transformer, tmp_path):
    model, test_pairs, _ = trained_transformer
    version = keras_s2s.export(model, tmp_path / "numbers", beam_width=4, length_penalty=0.6)
    moved = tmp_path / "elsewhere"
    shutil.copytree(version, moved)  # nothing may point back at the export location
    # An empty input, and one longer than max_source_length (truncated, and one
    # padding column past the last learned position).
    sources = list(test_pairs.sources[:6]) + ["", "nueve " * 40]
    expected = keras_s2s.translate(sources, model, method="beam", beam_width=4,
                                   length_penalty=0.6)
    served = serve_cold(moved, sources)["translation"]
    assert served == expected
    assert served[:6] == list(test_pairs.targets[:6])
    assert served[-2] == ""


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"hidden_dim": 30, "num_heads": 4}, "num_heads must divide hidden_dim.*num_heads=4.*30"),
        ({"num_heads": 0}, "num_heads"),
        ({"hidden_dim": 2.5}, "hidden_dim"),
        ({"num_layers": 0}, "num_layers"),
        ({"intermediate_dim": -1}, "intermediate_dim"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_bad_options_fail_at_construction_naming_the_option(options, message):
    with pytest.raises(ValueError, match=message):
        TransformerSeq2Seq(SOURCE_VOCABULARY, TARGET_VOCABULARY, **options)


def test_build_model_refuses_an_embedding_dim_for_the_transformer():
    class Pairs:
        sources, targets = ["a b"], ["t u"]

    with pytest.raises(ValueError, match="embedding_dim"):
        build_model(Pairs(), architecture="transformer", embedding_dim=64)


def test_attention_map_of_a_transformer_translation(trained_transformer, tmp_path):
    model, test_pairs, _ = trained_transformer
    assert model.has_attention
    text = test_pairs.sources[3]
    result = keras_s2s.translate(text, model, return_attention=True)
    assert result.translation == keras_s2s.translate(text, model)
    assert result.weights.shape == (len(result.target_tokens), len(text.split()))
    np.testing.assert_allclose(result.weights.sum(axis=1), 1.0, atol=1e-5)
    # Source padding gets no weight, and does not change the real positions'.
    ids = model.source_encoder.encode(tf.constant([text, text + " uno uno uno"])).to_tensor()
    decoder_ids = tf.constant([[START_ID, 5, 6]] * 2)
    padded = model.attention_weights(ids, decoder_ids).numpy()
    alone = model.attention_weights(ids[:1, : len(text.split())], decoder_ids[:1]).numpy()
    assert np.all(padded[0, :, len(text.split()):] < 1e-6)
    np.testing.assert_allclose(padded[0, :, : len(text.split())], alone[0], atol=1e-5)
    figure = keras_s2s.plot_attention(result, tmp_path / "transformer.png")
    assert (tmp_path / "transformer.png").stat().st_size > 1000
    import matplotlib.pyplot as plt

    plt.close(figure)
