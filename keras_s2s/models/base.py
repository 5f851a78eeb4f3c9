"""What every encoder–decoder architecture shares: text settings, the three
Functional models, the decoding step function, and Keras serialisation.

A subclass builds its layers once and calls `_set_functional_models` with three
Functional models made from those same layer objects, so the inference models
*are* the trained model (same variables, nothing copied).
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

from keras_s2s.arguments import check_positive_integer
from keras_s2s.text import SentenceEncoder, Vocabulary


class Seq2Seq(keras.Model):
    """Base class: an encoder–decoder that owns its vocabularies and layers.

    Calling the model (or `model.fit`) runs `training_model`:
    `[encoder_token_ids, decoder_token_ids] -> logits (batch, time, vocab)`.

    Args:
        source_vocabulary: source tokens, starting with the reserved tokens
            (see `keras_s2s.text.Vocabulary`).
        target_vocabulary: target tokens, same convention.
        lowercase_source: lower-case source text before lookup (default True:
            fewer rare words).
        lowercase_target: lower-case the target (default False, so
            translations come out properly cased).
        max_source_length: longer inputs are truncated to this many tokens.
        max_target_length: translations stop after this many tokens.
        tokenization: `"word"` (default) or `"wordpiece"` subword units, for
            both sides; the vocabularies must have been built the same way.
    """

    def __init__(
        self,
        source_vocabulary: Sequence[str],
        target_vocabulary: Sequence[str],
        *,
        lowercase_source: bool = True,
        lowercase_target: bool = False,
        max_source_length: int = 64,
        max_target_length: int = 64,
        tokenization: str = "word",
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_positive_integer("max_source_length", max_source_length)
        check_positive_integer("max_target_length", max_target_length)
        self.source_encoder = SentenceEncoder(
            Vocabulary(source_vocabulary), lowercase=lowercase_source,
            max_length=max_source_length, tokenization=tokenization,
        )
        self.target_encoder = SentenceEncoder(
            Vocabulary(target_vocabulary), lowercase=lowercase_target,
            max_length=max_target_length, tokenization=tokenization,
        )

    # -- the three Functional models -------------------------------------------------

    # The RNNs with attention set this to a Functional model
    # `[encoder_token_ids, decoder_token_ids] -> weights (batch, target, source)`
    # (see `keras_s2s.attention_maps`); the plain RNNs have nothing to show.
    attention_model = None

    @property
    def has_attention(self) -> bool:
        """Whether `attention_weights` has something to show."""
        return self.attention_model is not None

    def attention_weights(self, encoder_token_ids, decoder_token_ids):
        """Teacher-forced attention weights `(batch, target, source)`, inference mode."""
        if not self.has_attention:
            raise ValueError(f"{type(self).__name__} has no attention weights.")
        return self.attention_model([encoder_token_ids, decoder_token_ids], training=False)

    def _set_functional_models(self, *, training_model, encoder_model, decoder_model):
        self.training_model = training_model
        self.encoder_model = encoder_model
        self.decoder_model = decoder_model
        # Every variable exists now (the Functional graphs built the layers).
        self.built = True

    def call(self, inputs, training=False):
        return self.training_model(inputs, training=training)

    # -- decoding hooks (used by keras_s2s.decoding via keras_s2s.translation_graph) ---

    def initial_state(self, encoder_token_ids: tf.Tensor) -> tuple:
        """`encoder_model` output as a tuple: the decoder's starting state."""
        state = self.encoder_model(encoder_token_ids, training=False)
        return tuple(state) if isinstance(state, (list, tuple)) else (state,)

    def decode_step(self, token_ids: tf.Tensor, state: tuple):
        """One decoder step: `(token_ids [batch], state) -> (logits [batch, vocab], state)`."""
        outputs = self.decoder_model([token_ids[:, None], *state], training=False)
        logits, new_state = outputs[0], tuple(outputs[1:])
        return logits[:, 0, :], new_state

    def decoding_step(self):
        """The step function a search calls: `decode_step`, or a faster form of it
        that a subclass prepares here, once per search, before the decoding loop."""
        return self.decode_step

    # -- serialisation -----------------------------------------------------------------

    @property
    def source_vocabulary(self) -> list[str]:
        return self.source_encoder.vocabulary.tokens

    @property
    def target_vocabulary(self) -> list[str]:
        return self.target_encoder.vocabulary.tokens

    def get_config(self):
        return {
            "name": self.name,
            "source_vocabulary": list(self.source_vocabulary),
            "target_vocabulary": list(self.target_vocabulary),
            "lowercase_source": self.source_encoder.lowercase,
            "lowercase_target": self.target_encoder.lowercase,
            "max_source_length": self.source_encoder.max_length,
            "max_target_length": self.target_encoder.max_length,
            "tokenization": self.target_encoder.tokenization,
        }
