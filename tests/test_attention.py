"""Luong and Bahdanau attention under the model contract; attention maps and plots."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_s2s
from keras_s2s.models import RNNSeq2Seq
from keras_s2s.text import PAD_ID, START_ID, Vocabulary

SOURCE_VOCABULARY = Vocabulary.build(["a b c d e f g"], lowercase=True).tokens
TARGET_VOCABULARY = Vocabulary.build(["t u v w x y z"], lowercase=False).tokens


def _model(attention, cell_type="gru"):
    keras.utils.set_random_seed(0)
    return RNNSeq2Seq(SOURCE_VOCABULARY, TARGET_VOCABULARY, cell_type=cell_type,
                      attention=attention, embedding_dim=8, hidden_dim=16,
                      num_layers=2, dropout=0.3)


ENCODER_IDS = np.array([[4, 5, 6, 7, 8], [9, 10, 4, PAD_ID, PAD_ID]], dtype="int32")
DECODER_IDS = np.array([[START_ID, 4, 5, 6], [START_ID, 7, 8, PAD_ID]], dtype="int32")


@pytest.mark.parametrize("cell_type", ["gru", "lstm"])
def test_bahdanau_step_by_step_logits_equal_teacher_forced(cell_type):
    model = _model("bahdanau", cell_type)
    teacher_forced = model.training_model([ENCODER_IDS, DECODER_IDS]).numpy()
    state = model.initial_state(tf.constant(ENCODER_IDS))
    by_model, by_step = [], []
    step_state = state
    for t in range(DECODER_IDS.shape[1]):
        outputs = model.decoder_model([tf.constant(DECODER_IDS[:, t : t + 1]),
                                      *tf.nest.flatten(state)])
        by_model.append(outputs[0].numpy()[:, 0])
        state = outputs[1:]
        logits, step_state = model.decode_step(tf.constant(DECODER_IDS[:, t]), step_state)
        by_step.append(logits.numpy())
    real = DECODER_IDS != PAD_ID
    np.testing.assert_allclose(np.stack(by_model, 1)[real], teacher_forced[real], atol=1e-5)
    np.testing.assert_allclose(np.stack(by_step, 1)[real], teacher_forced[real], atol=1e-5)


def test_luong_and_bahdanau_score_differently_and_round_trip(tmp_path):
    luong, bahdanau = _model("luong"), _model("bahdanau")
    assert isinstance(bahdanau.attention, keras_s2s.models.BahdanauAttention)
    assert len(bahdanau.trainable_weights) > len(luong.trainable_weights)  # W_k and v
    logits = bahdanau.training_model([ENCODER_IDS, DECODER_IDS]).numpy()
    path = tmp_path / "bahdanau.keras"
    bahdanau.save(path)
    reloaded = keras_s2s.load(path)
    assert reloaded.attention_type == "bahdanau"
    np.testing.assert_allclose(
        reloaded.training_model([ENCODER_IDS, DECODER_IDS]).numpy(), logits, atol=1e-6
    )


def test_unknown_attention_type_is_rejected_by_name():
    with pytest.raises(ValueError, match=r"attention must be one of \(None, 'luong', 'bahdanau'\)"):
        _model("dot")


@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
def test_attention_weights_ignore_source_padding(attention):
    model = _model(attention)
    weights = model.attention_model([ENCODER_IDS, DECODER_IDS]).numpy()  # (2, 4, 5)
    assert weights.shape == (2, 4, 5)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-5)
    assert np.all(weights[1, :, 3:] < 1e-6)  # row 1 has 3 real source tokens
    # Row 1 alone, without padding, attends exactly the same way.
    alone = model.attention_model([ENCODER_IDS[1:, :3], DECODER_IDS[1:]]).numpy()
    np.testing.assert_allclose(alone[0], weights[1, :, :3], atol=1e-6)


def test_attention_map_explains_the_translation_it_returns(trained_attention):
    model, test_pairs = trained_attention
    text = test_pairs.sources[0]
    result = keras_s2s.translate(text, model, return_attention=True)
    assert result.translation == keras_s2s.translate(text, model)
    assert result.source_tokens == text.lower().split()  # number words: no punctuation
    assert result.target_tokens[-1] == "[END]"
    assert " ".join(result.target_tokens[:-1]) == result.translation
    assert result.weights.shape == (len(result.target_tokens), len(result.source_tokens))
    np.testing.assert_allclose(result.weights.sum(axis=1), 1.0, atol=1e-5)
    # Beam search too; its translation is the beam's best.
    beam = keras_s2s.translate([text], model, method="beam", return_attention=True)[0]
    assert beam.translation == keras_s2s.translate(text, model, method="beam")


def test_plot_attention_writes_a_png_of_the_heatmap(trained_attention, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.image
    import matplotlib.pyplot as plt

    model, test_pairs = trained_attention
    result = keras_s2s.attention_map(model, test_pairs.sources[1])
    path = tmp_path / "attention.png"
    figure = keras_s2s.plot_attention(result, path)
    image = matplotlib.image.imread(path)
    width, height = figure.get_size_inches() * 100  # saved at dpi=100
    assert image.shape == (round(height), round(width), 4)
    axes = figure.axes[0]
    assert [t.get_text() for t in axes.get_xticklabels()] == result.source_tokens
    assert [t.get_text() for t in axes.get_yticklabels()] == result.target_tokens
    assert axes.images[0].get_array().shape == result.weights.shape
    plt.close(figure)


def test_return_attention_needs_a_model_with_attention(trained, tmp_path):
    model, _, _ = trained  # plain GRU
    with pytest.raises(ValueError, match="no attention to show"):
        keras_s2s.translate("uno dos", model, return_attention=True)
    with pytest.raises(ValueError, match="num_results=1"):
        keras_s2s.translate("uno dos", model, method="beam", num_results=2,
                            return_attention=True)


def test_attention_option_on_a_model_without_attention_is_rejected():
    pairs = keras_s2s.data.synthetic_pairs(20, seed=0)
    with pytest.raises(ValueError, match="applies to the RNN attention architectures"):
        keras_s2s.build_model(pairs, architecture="gru", attention="bahdanau")
    model = keras_s2s.build_model(pairs, architecture="lstm-attention", attention="bahdanau",
                                  embedding_dim=4, hidden_dim=8)
    assert isinstance(model.attention, keras_s2s.models.BahdanauAttention)


@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
def test_padding_mask_stays_finite_under_mixed_float16(attention):
    # -1e9 overflows float16 to -inf; 0 * -inf was NaN in every score.
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = _model(attention)
        weights = model.attention_model([ENCODER_IDS, DECODER_IDS]).numpy()
        logits = model.training_model([ENCODER_IDS, DECODER_IDS]).numpy()
        # A decoder_model step hands back the state in the dtypes it got.
        state = model.initial_state(tf.constant(ENCODER_IDS))
        state = tf.nest.flatten(state)  # decoder_model takes the flat list
        stepped = model.decoder_model([tf.constant(DECODER_IDS[:, :1]), *state])[1:]
        assert [t.dtype for t in stepped] == [t.dtype for t in state]
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert np.isfinite(weights).all() and np.isfinite(logits).all()
    assert np.all(weights[1, :, 3:] < 1e-3)
