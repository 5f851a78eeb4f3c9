"""What a translation shows where the model wrote the unknown-word token.

A word vocabulary has no entry for rare words ("estación" may be one), so the
model writes `[UNK]`. A user should never see that token (DESIGN.md, issue
#15). With attention, the decoder looked somewhere in the source when it wrote
it, usually at the word it could not translate, which is often a name that
needs no translation: we copy that source word, as the user wrote it (case
kept), as OpenNMT-tf, fairseq and CTranslate2 can ("replace_unknown_target").
Without attention (or with subwords, which have no unknown words but for
unseen characters) there is nowhere to copy from, and the token is dropped.

Modes: "copy", "drop", or "keep" (show `[UNK]`: only when asked for, with
`replace_unknown=False`).
"""

from __future__ import annotations

import tensorflow as tf

from keras_s2s.text import PAD_ID, START_ID, UNKNOWN_ID, tokenize


def unknown_word_mode(model, replace_unknown) -> str:
    """The mode `replace_unknown` (True / False / None: automatic) means for `model`."""
    can_copy = (model.has_attention and model.source_encoder.tokenization == "word"
                and model.target_encoder.tokenization == "word")
    if replace_unknown is True and not can_copy:
        raise ValueError(
            "replace_unknown=True needs a model with attention and word vocabularies (it "
            "copies the source word the decoder attended to); this model has "
            f"{'no attention' if not model.has_attention else 'subword vocabularies'}.")
    if replace_unknown is False:
        return "keep"
    return "copy" if can_copy else "drop"


def attended_source_words(model, text, encoder_token_ids, ids, source_rows):
    """For every generated position, the source word the decoder attended to most.

    Args:
        model: the model (with attention).
        text: `string[batch]`, the sources as given.
        encoder_token_ids: int32 `(batch, source time)`, as the search read them.
        ids: int32 `(rows, time)`: generated tokens.
        source_rows: int32 `(rows,)`: the source each row of `ids` translates.

    Returns:
        `string[rows, time]`: the source words (case kept).
    """
    encoder_ids = tf.gather(encoder_token_ids, source_rows)  # (rows, s)
    decoder_ids = tf.concat([tf.fill([tf.shape(ids)[0], 1], START_ID), ids[:, :-1]], axis=1)
    weights = model.attention_weights(encoder_ids, decoder_ids)  # (rows, time, s)
    weights = tf.where(tf.not_equal(encoder_ids, PAD_ID)[:, None, :],
                       tf.cast(weights, tf.float32), -1.0)
    positions = tf.argmax(weights, axis=-1, output_type=tf.int32)  # (rows, time)
    # The same tokenisation the source encoder applies, but without lower-casing.
    words = tokenize(text, lowercase=False)[:, : model.source_encoder.max_length]
    words = words.to_tensor(default_value="", shape=tf.shape(encoder_token_ids))
    return tf.gather(tf.gather(words, source_rows), positions, batch_dims=1)


def copied_unknown_words(model, text, encoder_token_ids, ids):
    """`string[batch * results, time]`: at each position, the word to write if
    the token there is unknown ("" elsewhere). `ids` is `(batch * results,
    time)`, each source's `results` rows consecutive. The attention pass runs
    only on the rows that hold an unknown token."""
    results = tf.shape(ids)[0] // tf.shape(encoder_token_ids)[0]
    with_unknown = tf.where(tf.reduce_any(tf.equal(ids, UNKNOWN_ID), axis=1))[:, 0]  # (k,)
    rows = tf.cast(with_unknown, tf.int32)
    words = attended_source_words(model, text, encoder_token_ids, tf.gather(ids, rows),
                                  rows // results)
    return tf.tensor_scatter_nd_update(tf.fill(tf.shape(ids), ""), rows[:, None], words)
