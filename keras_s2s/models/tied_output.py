"""The output softmax layer tied to the decoder's input embedding.

A decoder reads target tokens through an embedding matrix `E (vocab, d)` and
writes them through an output matrix `W (hidden, vocab)`: both say what each
target word is. Tying them (`logits = h' @ E^T + b`, Press & Wolf 2017;
fairseq's `--share-decoder-input-output-embed`) removes `vocab x hidden`
parameters (a third of the shipped model) and lets every output step train
the input embedding too, which helps most when data is small. When the
decoder's output width differs from the embedding's, a linear layer maps it
to `d` first. Unlike `keras.layers.ReversibleEmbedding` there is a bias: it
learns each word's prior frequency, which the tied matrix alone cannot.
"""

from __future__ import annotations

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="keras_s2s")
class TiedOutputProjection(keras.layers.Layer):
    """`(..., input_dim) -> (..., vocab)` logits through an embedding's matrix.

    Args:
        embedding: the `keras.layers.Embedding` whose `embeddings` (vocab, d)
            are shared (the very same variable: nothing is copied).
        input_dim: width of what comes in; if it is not `d`, a bias-free
            `Dense(d)` maps it first.

    The layer computes in float32 (its dtype), as the untied output layer
    does: the softmax over the vocabulary needs float32's range.

    Example:
        >>> embedding = keras.layers.Embedding(5000, 192)
        >>> output = TiedOutputProjection(embedding, input_dim=384)
        >>> logits = output(decoder_states)  # (batch, time, 5000)
    """

    def __init__(self, embedding, input_dim: int, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.embedding = embedding
        self.input_dim = input_dim
        self.to_embedding = None
        if input_dim != embedding.output_dim:
            self.to_embedding = keras.layers.Dense(embedding.output_dim, use_bias=False,
                                                   name="to_embedding")

    def build(self, input_shape):
        if self.to_embedding is not None:
            self.to_embedding.build(input_shape)
        self.bias = self.add_weight(shape=(self.embedding.input_dim,), initializer="zeros",
                                    name="bias")

    def call(self, x):
        if self.to_embedding is not None:
            x = self.to_embedding(x)
        matrix = tf.cast(self.embedding.embeddings, x.dtype)  # (vocab, d)
        # A plain 2-D matmul, not tf.einsum("...d,vd->...v"): the einsum's gradient
        # with a broadcast "..." materialises (batch, time, vocab, d) — 24 GB for a
        # batch of 64 x 47 tokens, 8k words, d 256 — before summing it.
        rows = tf.reshape(x, [-1, tf.shape(x)[-1]])  # (batch * time, d)
        logits = tf.matmul(rows, matrix, transpose_b=True) + tf.cast(self.bias, x.dtype)
        return tf.reshape(logits, tf.concat([tf.shape(x)[:-1], [tf.shape(matrix)[0]]], 0))

    def get_config(self):
        # The embedding is the model's own layer, passed in when the model
        # builds this one; the model's config rebuilds both.
        return {**super().get_config(), "input_dim": self.input_dim}
