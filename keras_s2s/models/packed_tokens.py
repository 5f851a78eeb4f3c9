"""The Transformer encoder at inference, run on a batch's real tokens only.

A batch is padded to its longest sentence: the CTranslate2 benchmark's
batches of 64 (the bundled corpus' test sentences sorted by length) are 26%
padding. Everything in an encoder block but attention treats each position
alone (LayerNorm, the projections, the feed-forward), so it can run on the
real tokens packed into a 2-D `(tokens, hidden)` matrix: fewer rows, and a
2-D Dense is one fused MatMul where a 3-D one goes through `tf.tensordot`.
Attention mixes positions: it runs on the padded layout, its inputs put back
in place (`PackedTokens.unpack`) and its output gathered (`PackedTokens.pack`).

The results at real positions are the padded encoder's: the same row-wise
arithmetic, and padding is masked as keys. Padding positions hold zeros
instead of what the padded encoder computes there, which no one reads: the
decoder masks them too. An empty row (no real token) keeps all its positions,
because with nothing to mask its attention is uniform over its padding and
reads those positions' values.

XLA needs static shapes, and the packed row count is not: under
`jit_compile` the Functional `encoder_model` (padded) runs instead.
Training runs padded too (`training_model`): the packing is an inference
speed-up, held equal to `encoder_model` by a test.
"""

from __future__ import annotations

import tensorflow as tf

from keras_s2s.text import PAD_ID


class PackedTokens:
    """Where a batch's real tokens sit in the padded `(batch, time)` layout.

    Built from the source mask `(batch, time)` (nonzero where a token is);
    `pack` and `unpack` move per-position vectors between the padded layout
    `(batch, time, width)` and the packed one `(tokens, width)`, in row-major
    order (sentence by sentence, position by position).
    """

    def __init__(self, source_mask):
        real = tf.not_equal(source_mask, 0)
        real = real | ~tf.reduce_any(real, axis=1, keepdims=True)  # an empty row: all of it
        shape = tf.shape(real)
        self.batch, self.time = shape[0], shape[1]
        real = tf.reshape(real, [-1])
        self.positions = tf.where(real)[:, 0]  # (tokens,): each real token's flat position
        # (batch * time,): each position's packed row, or one past the last (a zero row).
        rows = tf.cumsum(tf.cast(real, tf.int32)) - 1
        self.rows = tf.where(real, rows, tf.shape(self.positions)[0])

    def pack(self, x):
        """`(batch, time, width) -> (tokens, width)`."""
        return tf.gather(tf.reshape(x, [-1, x.shape[-1]]), self.positions)

    def unpack(self, x):
        """`(tokens, width) -> (batch, time, width)`, zeros at padding."""
        # A gather from the rows plus a zero row: faster than a ScatterNd here.
        padded = tf.gather(tf.pad(x, [[0, 1], [0, 0]]), self.rows)
        return tf.reshape(padded, [self.batch, self.time, x.shape[-1]])


def encode_real_tokens(model, encoder_token_ids):
    """`TransformerSeq2Seq._encode` at inference, on the real tokens only.

    Returns `(cross-attention (keys, values) per decoder layer, source_mask)`,
    as `_encode` does (see the module docstring for what differs at padding),
    but with the keys transposed as the decoding state holds them,
    `(batch, heads, head_dim, time)` (`keras_s2s.models.transformer_state`).
    """
    source_mask = tf.cast(tf.not_equal(encoder_token_ids, PAD_ID), tf.float32)
    tokens = PackedTokens(source_mask)
    x = tokens.pack(model.source_embedding(encoder_token_ids))
    for block in model.encoder_blocks:
        x = block.packed(x, tokens, source_mask)
    x = model.encoder_norm(x)
    return ([projection.packed(x, tokens, keys_transposed=True)
             for projection in model.cross_key_values], source_mask)
