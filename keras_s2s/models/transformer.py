"""Transformer encoder–decoder, under the same three-model contract.

    source ─► token + position embeddings ─► EncoderBlock × num_layers ─► LayerNorm
                                                          │ encoder outputs
                          per decoder layer: KeyValueProjection ─► cross keys/values
                                                                          ▼
    [START] y1 ─► token + position embeddings ─► DecoderBlock × num_layers
                  (causal self-attention, cross-attention, feed-forward)
                  ─► LayerNorm ─► Dense ─► logits over the target vocabulary

The decoding state (`TransformerState`, `keras_s2s.models.transformer_state`)
holds the self-attention cache, the encoder's cross-attention keys/values and
the source mask; the Functional `encoder_model` / `decoder_model` carry the
same tensors as a flat list.

Each step projects only the newest token into the key/value cache; the encoder
runs once per sentence, at inference on its real tokens only (`packed_tokens`).
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_s2s.arguments import check_choice, check_positive_integer, check_rate
from keras_s2s.decoding.buffers import inside_xla
from keras_s2s.models.base import Seq2Seq
from keras_s2s.models.key_value_cache import EmptyDecoderCache
from keras_s2s.models.multi_head_attention import KeyValueProjection
from keras_s2s.models.packed_tokens import encode_real_tokens
from keras_s2s.models.tied_output import TiedOutputProjection
from keras_s2s.models.transformer_layers import DecoderBlock, EncoderBlock, PositionalEmbedding
from keras_s2s.models.transformer_state import KeyValues, TransformerState, flat, transpose_keys


@keras.saving.register_keras_serializable(package="keras_s2s")
class TransformerSeq2Seq(Seq2Seq):
    """Pre-norm Transformer encoder–decoder with learned position embeddings.

    Pre-norm (LayerNorm inside each residual branch, plus a final LayerNorm on
    each side) rather than the original post-norm: it trains stably with a
    plain constant learning rate, without the warm-up schedule post-norm needs,
    at our small sizes and short CPU budgets.

    Args:
        source_vocabulary, target_vocabulary: token lists (see `Seq2Seq`).
        hidden_dim: model width (embeddings, attention, residual stream).
        num_layers: encoder blocks, and decoder blocks.
        num_heads: attention heads; must divide `hidden_dim`.
        intermediate_dim: feed-forward inner width; `None` means `4 * hidden_dim`.
        dropout: on embeddings, attention weights, feed-forward and residual
            branches (off at inference).
        tie_embeddings: the output softmax shares the target token embedding
            (see `keras_s2s.models.tied_output`).
        **kwargs: text settings of `Seq2Seq`. Sources are embedded up to
            `max_source_length` positions; the decoder's cache holds
            `max_target_length` positions, which bounds translation length.

    Example:
        >>> model = TransformerSeq2Seq(source_vocabulary, target_vocabulary,
        ...                            hidden_dim=256, num_layers=3, num_heads=4)
        >>> logits = model([encoder_token_ids, decoder_token_ids])  # (batch, time, vocab)
    """

    def __init__(
        self,
        source_vocabulary,
        target_vocabulary,
        *,
        hidden_dim: int = 256,
        num_layers: int = 3,
        num_heads: int = 4,
        intermediate_dim: int | None = None,
        dropout: float = 0.1,
        tie_embeddings: bool = False,
        **kwargs,
    ):
        super().__init__(source_vocabulary, target_vocabulary, **kwargs)
        if intermediate_dim is None:
            intermediate_dim = 4 * hidden_dim if isinstance(hidden_dim, int) else hidden_dim
        for name, value in (("hidden_dim", hidden_dim), ("num_layers", num_layers),
                            ("num_heads", num_heads), ("intermediate_dim", intermediate_dim)):
            check_positive_integer(name, value)
        if hidden_dim % num_heads:
            raise ValueError(
                f"num_heads must divide hidden_dim (each head gets hidden_dim // num_heads "
                f"dimensions), got num_heads={num_heads} and hidden_dim={hidden_dim}."
            )
        check_rate("dropout", dropout)
        check_choice("tie_embeddings", tie_embeddings, (False, True))
        self.tie_embeddings = tie_embeddings
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self._make_layers()
        self._build_functional_models()

    def _make_layers(self):
        hidden_dim, num_layers, num_heads = self.hidden_dim, self.num_layers, self.num_heads
        block_options = dict(hidden_dim=hidden_dim, num_heads=num_heads,
                             intermediate_dim=self.intermediate_dim, dropout=self.dropout)
        self.source_embedding = PositionalEmbedding(
            len(self.source_vocabulary), self.source_encoder.max_length, hidden_dim,
            name="source_embedding",
        )
        self.target_embedding = PositionalEmbedding(
            len(self.target_vocabulary), self.target_encoder.max_length, hidden_dim,
            name="target_embedding",
        )
        self.encoder_blocks = [EncoderBlock(**block_options, name=f"encoder_{i}")
                               for i in range(num_layers)]
        self.encoder_norm = keras.layers.LayerNormalization(name="encoder_norm")
        # Not part of the decoder blocks: they run once per sentence, in encoder_model.
        self.cross_key_values = [
            KeyValueProjection(hidden_dim, num_heads, name=f"cross_key_value_{i}")
            for i in range(num_layers)
        ]
        self.decoder_blocks = [DecoderBlock(**block_options, name=f"decoder_{i}")
                               for i in range(num_layers)]
        self.decoder_norm = keras.layers.LayerNormalization(name="decoder_norm")
        self.embedding_dropout = keras.layers.Dropout(self.dropout, name="embedding_dropout")
        # float32 logits even under a mixed-precision policy.
        if self.tie_embeddings:  # see keras_s2s.models.tied_output
            self.output_projection = TiedOutputProjection(
                self.target_embedding.token_embedding, hidden_dim, name="output_projection")
        else:
            self.output_projection = keras.layers.Dense(
                len(self.target_vocabulary), dtype="float32", name="output_projection"
            )
        self.empty_cache = EmptyDecoderCache(
            self.target_encoder.max_length, num_heads, hidden_dim // num_heads, 2 * num_layers,
            name="empty_cache",
        )

    # -- the wiring, shared by the Functional models and decode_step -------------------

    def _encode(self, encoder_token_ids, training=None):
        """ids -> (cross-attention KeyValues per decoder layer, source mask)."""
        source_mask = keras.ops.cast(keras.ops.not_equal(encoder_token_ids, 0), "float32")
        x = self.embedding_dropout(self.source_embedding(encoder_token_ids), training=training)
        for block in self.encoder_blocks:
            x = block(x, source_mask, training=training)
        x = self.encoder_norm(x)
        return [KeyValues(*projection(x)) for projection in self.cross_key_values], source_mask

    def _decode(self, decoder_token_ids, cross, source_mask, cache=None, step=None,
                training=None):
        """Teacher forced (`cache=None`) or one cached step; -> (logits, new cache).

        `cross` and `cache` hold one `KeyValues` per decoder layer.
        """
        y = self.target_embedding(decoder_token_ids, step)
        y = self.embedding_dropout(y, training=training)
        new_cache = []
        for i, block in enumerate(self.decoder_blocks):
            if cache is None:
                y, *_ = block(y, cross[i].keys, cross[i].values, source_mask, training=training)
            else:
                y, *layer_cache = block(y, cross[i].keys, cross[i].values, source_mask,
                                        cache_keys=cache[i].keys, cache_values=cache[i].values,
                                        step=step, buffer_length=self.target_encoder.max_length,
                                        training=training)
                new_cache.append(KeyValues(*layer_cache))
        return self.output_projection(self.decoder_norm(y)), new_cache

    def _build_functional_models(self):
        encoder_token_ids = keras.Input(shape=(None,), dtype="int32", name="encoder_token_ids")
        decoder_token_ids = keras.Input(shape=(None,), dtype="int32", name="decoder_token_ids")
        cross, source_mask = self._encode(encoder_token_ids)
        logits, _ = self._decode(decoder_token_ids, cross, source_mask)
        training_model = keras.Model(
            [encoder_token_ids, decoder_token_ids], logits, name="training_model"
        )
        step, *cache = self.empty_cache(encoder_token_ids)
        encoder_model = keras.Model(
            encoder_token_ids, [step, *cache, *flat(cross), source_mask], name="encoder_model"
        )

        state_dtype = self.decoder_blocks[0].compute_dtype
        heads, head_dim = self.num_heads, self.hidden_dim // self.num_heads
        length = self.target_encoder.max_length

        def key_value_inputs(prefix, time):
            return [KeyValues(*(keras.Input(shape=(heads, time, head_dim), dtype=state_dtype,
                                            name=f"{prefix}_{2 * i + j}") for j in (0, 1)))
                    for i in range(self.num_layers)]

        step_input = keras.Input(shape=(), dtype="int32", name="step")
        cache_inputs, cross_inputs = key_value_inputs("cache", length), key_value_inputs(
            "cross", None)
        mask_input = keras.Input(shape=(None,), name="source_mask")
        step_logits, new_cache = self._decode(
            decoder_token_ids, cross_inputs, mask_input, cache=cache_inputs, step=step_input
        )
        # The encoder's part of the state passes through unchanged (dtype too:
        # under a mixed policy an Identity would cast the float32 mask).
        passthrough = [keras.layers.Identity(dtype=t.dtype, name=f"{t.name}_out")(t)
                       for t in (*flat(cross_inputs), mask_input)]
        decoder_model = keras.Model(
            [decoder_token_ids, step_input, *flat(cache_inputs), *flat(cross_inputs),
             mask_input],
            [step_logits, keras.ops.add(step_input, 1), *flat(new_cache), *passthrough],
            name="decoder_model",
        )
        self._set_functional_models(
            training_model=training_model, encoder_model=encoder_model, decoder_model=decoder_model
        )

    has_attention = True

    def attention_weights(self, encoder_token_ids, decoder_token_ids):
        """The last decoder block's cross-attention, averaged over its heads,
        teacher forced: `(batch, target, source)` (see `keras_s2s.attention_maps`)."""
        cross, source_mask = self._encode(encoder_token_ids)
        y = self.target_embedding(decoder_token_ids)
        *earlier, last = self.decoder_blocks
        for block, layer_cross in zip(earlier, cross):
            y, *_ = block(y, layer_cross.keys, layer_cross.values, source_mask)
        return last.cross_attention_weights(y, cross[-1].keys, source_mask)

    def initial_state(self, encoder_token_ids) -> TransformerState:
        """Outside XLA: the encoder on real tokens only (`packed_tokens`) and an empty,
        growing cache (`key_value_cache`); under XLA, `encoder_model`'s outputs.
        Either way the cross keys transposed (`transformer_state`)."""
        if inside_xla():
            outputs = self.encoder_model(encoder_token_ids, training=False)
            state = tf.nest.pack_sequence_as(self._state_structure(), list(outputs))
            return state._replace(cross_attention=tuple(
                transpose_keys(kv) for kv in state.cross_attention))
        cross, source_mask = encode_real_tokens(self, tf.cast(encoder_token_ids, tf.int32))
        batch = tf.shape(encoder_token_ids)[0]
        empty = tf.zeros([batch, self.num_heads, 0, self.hidden_dim // self.num_heads],
                         self.decoder_blocks[0].compute_dtype)
        return TransformerState(step=tf.zeros([batch], tf.int32),
                                self_attention=tuple(KeyValues(empty, empty) for _ in cross),
                                cross_attention=tuple(KeyValues(*kv) for kv in cross),
                                source_mask=source_mask)

    def _state_structure(self) -> TransformerState:
        layers = tuple(KeyValues(0, 0) for _ in range(self.num_layers))
        return TransformerState(step=0, self_attention=layers, cross_attention=layers,
                                source_mask=0)

    def decode_step(self, token_ids, state: TransformerState, beams=None, fused=None):
        """One cached step on the same layers as `decoder_model` (a test holds
        them equal), without the Functional model's input/output plumbing.
        `beams`: see `keras_s2s.decoding.row_constants`. `fused`: each block's
        `fused_query_key_value()` (what `decoding_step` passes)."""
        # _decode with a cache, on 2-D activations (n, hidden): fewer ops (DecoderBlock.one_step).
        y = self.target_embedding(token_ids[:, None], state.step)[:, 0, :]
        fused = fused or (None,) * self.num_layers
        new_cache = []
        for block, cross, cache, query_key_value in zip(
                self.decoder_blocks, state.cross_attention, state.self_attention, fused):
            y, *layer_cache = block.one_step(y, cross.keys, cross.values, state.source_mask,
                                             cache.keys, cache.values, state.step,
                                             self.target_encoder.max_length, beams=beams,
                                             query_key_value=query_key_value)
            new_cache.append(KeyValues(*layer_cache))
        logits = self.output_projection(self.decoder_norm(y))
        return logits, state._replace(step=state.step + 1, self_attention=tuple(new_cache))

    def decoding_step(self):
        """`decode_step` with every block's self-attention projections fused
        (`FusedQueryKeyValue`), built now: call it once per search, before the
        loop, so that the fused weights are loop invariants (one concatenation
        per search instead of one per step)."""
        fused = tuple(block.fused_query_key_value() for block in self.decoder_blocks)

        def step(token_ids, state, beams=None):
            return self.decode_step(token_ids, state, beams=beams, fused=fused)

        return step

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_dim=self.hidden_dim,
            num_layers=self.num_layers,
            num_heads=self.num_heads,
            intermediate_dim=self.intermediate_dim,
            dropout=self.dropout,
            tie_embeddings=self.tie_embeddings,
        )
        return config

