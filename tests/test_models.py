"""The three Functional models are one model: same variables, same logits."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.models import (
    ARCHITECTURES,
    RNNSeq2Seq,
    TransformerSeq2Seq,
    build_model,
)
from keras_s2s.text import PAD_ID, START_ID, Vocabulary

SOURCE_VOCABULARY = Vocabulary.build(["a b c d e f g"], lowercase=True).tokens
TARGET_VOCABULARY = Vocabulary.build(["t u v w x y z"], lowercase=False).tokens


def _model(architecture, num_layers=2, dropout=0.0):
    keras.utils.set_random_seed(0)
    if architecture == "transformer":
        return TransformerSeq2Seq(SOURCE_VOCABULARY, TARGET_VOCABULARY, hidden_dim=16,
                                  num_heads=2, intermediate_dim=32, num_layers=num_layers,
                                  dropout=dropout)
    cell_type, _, variant = architecture.partition("-")
    return RNNSeq2Seq(SOURCE_VOCABULARY, TARGET_VOCABULARY, cell_type=cell_type,
                      attention="luong" if variant == "attention" else None,
                      embedding_dim=8, hidden_dim=16, num_layers=num_layers, dropout=dropout)


def _batch():
    # Row 1 is shorter on both sides: padding must not leak into its results.
    encoder_ids = np.array([[4, 5, 6, 7, 8], [9, 10, 4, PAD_ID, PAD_ID]], dtype="int32")
    decoder_ids = np.array([[START_ID, 4, 5, 6], [START_ID, 7, 8, PAD_ID]], dtype="int32")
    return encoder_ids, decoder_ids


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_step_by_step_decoding_reproduces_teacher_forced_logits(architecture):
    model = _model(architecture, dropout=0.3)  # dropout must be off at inference
    encoder_ids, decoder_ids = _batch()
    teacher_forced = model.training_model([encoder_ids, decoder_ids]).numpy()

    state = list(tf.nest.flatten(model.encoder_model(tf.constant(encoder_ids))))
    steps = []
    for t in range(decoder_ids.shape[1]):
        outputs = model.decoder_model([tf.constant(decoder_ids[:, t : t + 1]), *state])
        steps.append(outputs[0].numpy()[:, 0])
        state = outputs[1:]
    step_by_step = np.stack(steps, axis=1)

    real = decoder_ids != PAD_ID
    np.testing.assert_allclose(step_by_step[real], teacher_forced[real], atol=1e-5)
    # decode_step (what the search functions call) is the same computation.
    state = model.initial_state(tf.constant(encoder_ids))
    steps = []
    for t in range(decoder_ids.shape[1]):
        logits, state = model.decode_step(tf.constant(decoder_ids[:, t]), state)
        steps.append(logits.numpy())
    np.testing.assert_allclose(np.stack(steps, axis=1)[real], teacher_forced[real], atol=1e-5)


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_padding_in_the_source_does_not_change_the_encoding(architecture):
    model = _model(architecture)
    short = np.array([[9, 10, 4]], dtype="int32")
    padded = np.array([[9, 10, 4, PAD_ID, PAD_ID, PAD_ID]], dtype="int32")
    for alone, with_padding in zip(tf.nest.flatten(model.initial_state(short)),
                                   tf.nest.flatten(model.initial_state(padded))):
        alone, with_padding = alone.numpy(), with_padding.numpy()
        if with_padding.shape != alone.shape:
            # Attention states carry per-position encoder outputs and mask
            # (the Transformer's heads-first: the source axis is not always
            # axis 1): compare the real positions (the padded ones are masked out).
            with_padding = with_padding[tuple(slice(0, n) for n in alone.shape)]
        np.testing.assert_allclose(alone, with_padding, atol=1e-6)


@pytest.mark.parametrize("architecture", ["lstm", "gru-attention"])
def test_inference_models_hold_the_training_models_variables(architecture):
    model = _model(architecture)
    training = {id(v) for v in model.training_model.weights}
    encoder = {id(v) for v in model.encoder_model.weights}
    decoder = {id(v) for v in model.decoder_model.weights}
    assert encoder and decoder
    assert encoder | decoder == training  # the very same objects, nothing copied
    assert not encoder & decoder
    # Changing a training weight changes the decoder model's output.
    encoder_ids, decoder_ids = _batch()
    state = tf.nest.flatten(model.initial_state(tf.constant(encoder_ids)))
    first_tokens = tf.constant(decoder_ids[:, :1])
    before = model.decoder_model([first_tokens, *state])[0].numpy()
    kernel = model.output_projection.kernel
    kernel.assign(kernel + 1.0)
    after = model.decoder_model([first_tokens, *state])[0].numpy()
    assert not np.allclose(before, after)


@pytest.mark.parametrize("architecture", ["gru", "lstm-attention"])
def test_config_round_trip_rebuilds_the_same_architecture(architecture):
    model = _model(architecture, num_layers=1)
    clone = type(model).from_config(model.get_config())
    assert clone.get_config() == model.get_config()
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]


@pytest.mark.parametrize("architecture", ["lstm", "gru-attention"])
def test_save_and_load_keep_weights_and_vocabularies(tmp_path, architecture):
    import keras_s2s

    model = _model(architecture)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras_s2s.load(path)
    assert loaded.source_vocabulary == model.source_vocabulary
    assert loaded.target_vocabulary == model.target_vocabulary
    encoder_ids, decoder_ids = _batch()
    np.testing.assert_array_equal(loaded([encoder_ids, decoder_ids]).numpy(),
                                  model([encoder_ids, decoder_ids]).numpy())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"cell_type": "rnn"}, "cell_type"),
        ({"hidden_dim": 0}, "hidden_dim"),
        ({"num_layers": 1.5}, "num_layers"),
        ({"num_layers": True}, "num_layers"),  # a bool is not a layer count
        ({"attention": "dot"}, "attention"),
        ({"dropout": 1.0}, "dropout"),
        ({"max_source_length": -3}, "max_source_length"),
    ],
)
def test_bad_options_fail_at_construction_naming_the_option(options, message):
    for attention in (None, "luong"):
        with pytest.raises(ValueError, match=message):
            RNNSeq2Seq(SOURCE_VOCABULARY, TARGET_VOCABULARY, **{"attention": attention,
                                                                **options})


def test_attention_needs_an_even_hidden_dim():
    with pytest.raises(ValueError, match="hidden_dim must be even"):
        RNNSeq2Seq(SOURCE_VOCABULARY, TARGET_VOCABULARY, attention="luong", hidden_dim=15)


def test_cli_offers_exactly_the_library_architectures():
    from keras_s2s import cli

    assert cli.ARCHITECTURES == ARCHITECTURES


def test_build_model_rejects_unknown_architecture():
    class Pairs:
        sources, targets = ["a"], ["b"]

    with pytest.raises(ValueError, match="architecture"):
        build_model(Pairs(), architecture="rnn-9000")
