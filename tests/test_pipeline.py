"""The tf.data pipeline: teacher forcing shift, bucketing, masked loss."""

import numpy as np
import pytest
import tensorflow as tf

from keras_s2s.data.pipeline import make_dataset, teacher_forcing_arrays
from keras_s2s.text import END_ID, PAD_ID, START_ID, SentenceEncoder, Vocabulary
from keras_s2s.training import MaskedAccuracy, masked_loss


class Pairs:
    def __init__(self, sources, targets):
        self.sources, self.targets = sources, targets

    def __len__(self):
        return len(self.sources)


SOURCES = ["uno", "uno dos", "uno dos tres cuatro cinco seis", "tres", "dos tres"]
TARGETS = ["one", "one two", "one two three four five six", "three", "two three"]


def _encoders(max_length=16):
    source = SentenceEncoder(Vocabulary.build(SOURCES, lowercase=True), lowercase=True,
                             max_length=max_length)
    target = SentenceEncoder(Vocabulary.build(TARGETS, lowercase=False), lowercase=False,
                             max_length=max_length)
    return source, target


def test_decoder_input_is_target_shifted_by_one():
    source_encoder, target_encoder = _encoders()
    dataset = make_dataset(Pairs(SOURCES, TARGETS), source_encoder=source_encoder,
                           target_encoder=target_encoder, batch_size=2, shuffle=False)
    seen = 0
    for (_, decoder_ids), target_ids in dataset:
        decoder_ids, target_ids = decoder_ids.numpy(), target_ids.numpy()
        for row_in, row_out in zip(decoder_ids, target_ids):
            length = int((row_out != PAD_ID).sum())
            assert row_in[0] == START_ID
            assert row_out[length - 1] == END_ID
            # What the decoder sees at step t+1 is what it had to predict at step t.
            np.testing.assert_array_equal(row_in[1:length], row_out[: length - 1])
            assert (row_in[length:] == PAD_ID).all() and (row_out[length:] == PAD_ID).all()
            seen += 1
    assert seen == len(SOURCES)


def test_target_words_come_out_in_order():
    source_encoder, target_encoder = _encoders()
    _, _, targets = teacher_forcing_arrays(
        SOURCES, TARGETS, source_encoder=source_encoder, target_encoder=target_encoder
    )
    tokens = target_encoder.vocabulary.tokens
    assert [tokens[i] for i in targets[1].numpy()] == ["one", "two", "[END]"]


def test_long_targets_keep_room_for_the_end_token():
    source_encoder, target_encoder = _encoders(max_length=3)
    _, decoder_inputs, targets = teacher_forcing_arrays(
        SOURCES, TARGETS, source_encoder=source_encoder, target_encoder=target_encoder
    )
    assert max(len(row) for row in targets.to_list()) == 3
    assert targets[2].numpy()[-1] == END_ID
    assert decoder_inputs[2].numpy()[0] == START_ID


def test_buckets_group_similar_lengths():
    sources = ["a"] * 50 + ["a b c d e f g h i j k l m n"] * 50
    targets = ["x"] * 50 + ["x y z w x y z w x y z w x y"] * 50
    source_encoder = SentenceEncoder(Vocabulary.build(sources, lowercase=True),
                                     lowercase=True, max_length=32)
    target_encoder = SentenceEncoder(Vocabulary.build(targets, lowercase=False),
                                     lowercase=False, max_length=32)
    dataset = make_dataset(Pairs(sources, targets), source_encoder=source_encoder,
                           target_encoder=target_encoder, batch_size=10, seed=1)
    widths = sorted({int(target.shape[1]) for _, target in dataset})
    # Short pairs never get padded to the long ones' width.
    assert widths == [2, 15]


def test_padding_is_masked_out_of_loss_and_accuracy():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 3, 7)).astype("float32")
    targets = np.array([[4, 5, END_ID], [6, END_ID, PAD_ID]], dtype="int32")
    # Same data with two extra padding positions whose logits are garbage.
    padded_logits = np.concatenate([logits, 100 * rng.normal(size=(2, 2, 7))], axis=1)
    padded_targets = np.pad(targets, [[0, 0], [0, 2]])
    loss = masked_loss()
    expected = -np.mean([
        tf.nn.log_softmax(logits[b, t]).numpy()[targets[b, t]]
        for b in range(2) for t in range(3) if targets[b, t] != PAD_ID
    ])
    assert float(loss(targets, logits)) == pytest.approx(expected, rel=1e-5)
    assert float(loss(padded_targets, padded_logits)) == pytest.approx(expected, rel=1e-5)

    accuracy = MaskedAccuracy()
    accuracy.update_state(padded_targets, padded_logits)
    predicted = logits.argmax(-1)
    real = targets != PAD_ID
    assert float(accuracy.result()) == pytest.approx((predicted == targets)[real].mean())


def test_empty_pairs_are_an_error():
    source_encoder, target_encoder = _encoders()
    with pytest.raises(ValueError, match="0 sentence pairs"):
        make_dataset(Pairs([], []), source_encoder=source_encoder, target_encoder=target_encoder)


@pytest.mark.parametrize("bucket_boundaries", [(2, 4, 8), None])
def test_dataset_states_its_true_number_of_batches(bucket_boundaries):
    sources = [" ".join(["uno"] * n) for n in range(1, 12)] * 3
    targets = [" ".join(["one"] * n) for n in range(1, 12)] * 3
    source_encoder = SentenceEncoder(Vocabulary.build(sources, lowercase=True),
                                     lowercase=True, max_length=32)
    target_encoder = SentenceEncoder(Vocabulary.build(targets, lowercase=False),
                                     lowercase=False, max_length=32)
    dataset = make_dataset(Pairs(sources, targets), source_encoder=source_encoder,
                           target_encoder=target_encoder, batch_size=4,
                           bucket_boundaries=bucket_boundaries)
    batches = list(dataset)
    assert int(dataset.cardinality()) == len(batches)
    assert sum(int(target.shape[0]) for _, target in batches) == len(sources)
