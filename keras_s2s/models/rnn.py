"""The RNN encoder–decoder (GRU or LSTM), with attention as an optional part.

Without attention, the classic model the course draws:

    source ids ─► embedding ─► RNN × num_layers ─► final states ─┐
                                                                  ▼
    [START] y1 y2 ─► embedding ─► RNN × num_layers (started from those states)
                                   ─► dense ─► logits over the target vocabulary

The encoder's final state is the sentence's vector representation. With
`attention="luong"` or `"bahdanau"`, the encoder is bidirectional and every
decoder step also looks back at all encoder outputs:

    decoder RNN output ─► query ─► attention weights over the encoder outputs
        └──► [context; query] ─► linear ─► logits

The decoder's inference state then carries the encoder outputs and their
padding mask beside the RNN state (`[*rnn_states, encoder_outputs,
encoder_mask]`), so `decoder_model` keeps the DESIGN.md contract. The same
layer objects make all three Functional models.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
import tensorflow as tf

from keras_s2s.arguments import check_choice, check_positive_integer, check_rate
from keras_s2s.decoding.row_constants import attend_by_row
from keras_s2s.models.architectures import ATTENTION_TYPES, CELL_TYPES
from keras_s2s.models.attention_layers import ATTENTION_LAYERS
from keras_s2s.models.base import Seq2Seq
from keras_s2s.models.tied_output import TiedOutputProjection


class AttentionRNNState(NamedTuple):
    """An attention RNN's decoding state: `encoder_model`'s outputs, named."""

    # One per sentence in a beam search, never copied per beam (decoding.row_constants).
    row_constants = ("encoder_outputs", "encoder_mask")

    rnn_states: tuple  # (batch, hidden) each: per layer h (GRU) or h, c (LSTM)
    encoder_outputs: tf.Tensor  # (batch, source_time, hidden)
    encoder_mask: tf.Tensor  # float32 (batch, source_time)

    @classmethod
    def of(cls, state) -> AttentionRNNState:
        """From any nest whose flat order is `[*rnn_states, outputs, mask]`."""
        if isinstance(state, cls):
            return state
        *rnn_states, encoder_outputs, encoder_mask = tf.nest.flatten(state)
        return cls(tuple(rnn_states), encoder_outputs, encoder_mask)


@keras.saving.register_keras_serializable(package="keras_s2s")
class RNNSeq2Seq(Seq2Seq):
    """GRU/LSTM encoder–decoder, with or without attention.

    Args:
        source_vocabulary, target_vocabulary: token lists (see `Seq2Seq`).
        cell_type: `"gru"` or `"lstm"`.
        embedding_dim: size of the token embeddings.
        hidden_dim: size of the decoder's state, which the encoder's final
            state starts. With attention the encoder is bidirectional and each
            direction has `hidden_dim // 2` units (so `hidden_dim` must be even).
        num_layers: stacked RNN layers on each side.
        attention: `None` (the classic model), `"luong"` (multiplicative) or
            `"bahdanau"` (additive); see `keras_s2s.models.attention_layers`.
        dropout: dropout rate on embeddings, RNN outputs (and the attention
            vector). Separate layers, not the RNN's own `dropout=` argument,
            which would rule out the fused cuDNN kernel on GPU.
        tie_embeddings: the output softmax shares the target embedding's
            matrix (see `keras_s2s.models.tied_output`).
        **kwargs: text settings of `Seq2Seq` (`max_source_length`, ...).

    Example:
        >>> model = RNNSeq2Seq(source_vocabulary, target_vocabulary, cell_type="gru",
        ...                    embedding_dim=128, hidden_dim=256, attention="luong")
        >>> logits = model([encoder_token_ids, decoder_token_ids])  # (batch, time, vocab)
    """

    def __init__(self, source_vocabulary, target_vocabulary, *, cell_type: str = "gru",
                 embedding_dim: int = 192, hidden_dim: int = 384, num_layers: int = 1,
                 attention: str | None = None, dropout: float = 0.0,
                 tie_embeddings: bool = False, **kwargs):
        super().__init__(source_vocabulary, target_vocabulary, **kwargs)
        check_choice("cell_type", cell_type, CELL_TYPES)
        for name, value in (("embedding_dim", embedding_dim), ("hidden_dim", hidden_dim),
                            ("num_layers", num_layers)):
            check_positive_integer(name, value)
        check_rate("dropout", dropout)
        check_choice("attention", attention, (None, *ATTENTION_TYPES))
        check_choice("tie_embeddings", tie_embeddings, (False, True))
        if attention is not None and hidden_dim % 2:
            raise ValueError(
                f"hidden_dim must be even with attention (the bidirectional encoder gives "
                f"each direction hidden_dim // 2 units), got {hidden_dim}.")
        self.cell_type, self.embedding_dim, self.hidden_dim = cell_type, embedding_dim, hidden_dim
        self.num_layers, self.attention_type, self.dropout = num_layers, attention, dropout
        self.tie_embeddings = tie_embeddings
        self._make_layers()
        self._build_functional_models()

    # Attribute names and creation order are those of the two classes this one
    # replaced: a `.keras` file stores each weight under its attribute path.
    def _make_layers(self):
        rnn_class = keras.layers.GRU if self.cell_type == "gru" else keras.layers.LSTM
        hidden, embedding = self.hidden_dim, self.embedding_dim
        self.source_embedding = keras.layers.Embedding(
            len(self.source_vocabulary), embedding, mask_zero=True, name="source_embedding")
        self.target_embedding = keras.layers.Embedding(
            len(self.target_vocabulary), embedding, mask_zero=True, name="target_embedding")
        if self.has_attention:  # bidirectional: both directions' states start the decoder
            self.encoder_rnns = [keras.layers.Bidirectional(
                rnn_class(hidden // 2, return_sequences=True, return_state=True),
                name=f"encoder_{i}") for i in range(self.num_layers)]
        else:
            self.encoder_rnns = [
                rnn_class(hidden, return_sequences=True, return_state=True, name=f"encoder_{i}")
                for i in range(self.num_layers)]
        # reset_after=True (Keras' default) keeps GRUs cuDNN-compatible on GPU.
        self.decoder_rnns = [
            rnn_class(hidden, return_sequences=True, return_state=True, name=f"decoder_{i}")
            for i in range(self.num_layers)]
        if self.has_attention:
            self.attention = ATTENTION_LAYERS[self.attention_type](hidden, name="attention")
            # Linear on purpose: a tanh here sat on a unigram plateau in our runs.
            self.attention_projection = keras.layers.Dense(
                hidden, use_bias=False, name="attention_projection")
        self.dropout_layer = keras.layers.Dropout(self.dropout, name="dropout")
        # float32 even under a mixed-precision policy: the softmax over the
        # vocabulary and the loss need float32's range and precision.
        if self.tie_embeddings:
            self.output_projection = TiedOutputProjection(
                self.target_embedding, hidden, name="output_projection")
        else:
            self.output_projection = keras.layers.Dense(
                len(self.target_vocabulary), dtype="float32", name="output_projection")

    @property
    def has_attention(self) -> bool:
        return self.attention_type is not None

    @property
    def states_per_layer(self) -> int:
        return 2 if self.cell_type == "lstm" else 1  # LSTM carries (h, c)

    def _layer_states(self, states, i):
        k = self.states_per_layer
        return list(states[i * k : (i + 1) * k])

    # -- the wiring, shared by the Functional models and decode_step -------------------

    def _encode(self, encoder_token_ids):
        """Symbolic: ids -> (decoder's initial states, encoder outputs, padding mask)."""
        x = self.dropout_layer(self.source_embedding(encoder_token_ids))
        k, states = self.states_per_layer, []
        for rnn in self.encoder_rnns:
            x, *layer_states = rnn(x)
            x = self.dropout_layer(x)
            if self.has_attention:  # forward and backward states, side by side
                forward, backward = layer_states[:k], layer_states[k:]
                layer_states = [keras.ops.concatenate([f, b], axis=-1)
                                for f, b in zip(forward, backward)]
            states.extend(layer_states)
        mask = keras.ops.cast(keras.ops.not_equal(encoder_token_ids, 0), "float32")
        return states, x, mask

    def _output(self, y, context=None):
        """Top RNN output (and its attention context, if any) -> logits."""
        if context is None:
            return self.output_projection(y)
        vector = self.attention_projection(keras.ops.concatenate([context, y], axis=-1))
        return self.output_projection(self.dropout_layer(vector))

    def _decode(self, decoder_token_ids, states, encoder_outputs=None, encoder_mask=None):
        """Symbolic, teacher forced: -> (logits, attention weights or None, new states)."""
        y = self.dropout_layer(self.target_embedding(decoder_token_ids))
        new_states = []
        for i, rnn in enumerate(self.decoder_rnns):
            y, *layer_states = rnn(y, initial_state=self._layer_states(states, i))
            y = self.dropout_layer(y)
            new_states.extend(layer_states)
        if not self.has_attention:
            return self._output(y), None, new_states
        context, weights = self.attention(y, encoder_outputs, encoder_mask)
        return self._output(y, context), weights, new_states

    def _build_functional_models(self):
        encoder_token_ids = keras.Input(shape=(None,), dtype="int32", name="encoder_token_ids")
        decoder_token_ids = keras.Input(shape=(None,), dtype="int32", name="decoder_token_ids")
        states, encoder_outputs, encoder_mask = self._encode(encoder_token_ids)
        logits, weights, _ = self._decode(decoder_token_ids, states, encoder_outputs,
                                          encoder_mask)
        training_model = keras.Model([encoder_token_ids, decoder_token_ids], logits,
                                     name="training_model")
        state_inputs = [keras.Input(shape=(self.hidden_dim,), name=f"decoder_state_{i}")
                        for i in range(self.num_layers * self.states_per_layer)]
        if not self.has_attention:
            encoder_model = keras.Model(encoder_token_ids, states, name="encoder_model")
            step_logits, _, new_states = self._decode(decoder_token_ids, state_inputs)
            decoder_model = keras.Model([decoder_token_ids, *state_inputs],
                                        [step_logits, *new_states], name="decoder_model")
        else:
            # Same graph, other output: where each teacher-forced step looked.
            self.attention_model = keras.Model([encoder_token_ids, decoder_token_ids], weights,
                                               name="attention_model")
            encoder_model = keras.Model(encoder_token_ids, [*states, encoder_outputs,
                                                            encoder_mask], name="encoder_model")
            decoder_model = self._attention_decoder_model(decoder_token_ids, state_inputs)
        self._set_functional_models(training_model=training_model, encoder_model=encoder_model,
                                    decoder_model=decoder_model)

    def _attention_decoder_model(self, decoder_token_ids, state_inputs):
        outputs_input = keras.Input(shape=(None, self.hidden_dim), name="encoder_outputs",
                                    dtype=self.compute_dtype)  # as the encoder makes them
        mask_input = keras.Input(shape=(None,), name="encoder_mask")
        step_logits, _, new_states = self._decode(decoder_token_ids, state_inputs,
                                                  outputs_input, mask_input)
        # The encoder outputs and mask pass through unchanged, so the outputs
        # after the logits are a complete state for the next step (dtype
        # pinned: under a mixed policy an Identity would cast them).
        passthrough = [
            keras.layers.Identity(dtype=outputs_input.dtype,
                                  name="encoder_outputs_out")(outputs_input),
            keras.layers.Identity(dtype=mask_input.dtype, name="encoder_mask_out")(mask_input),
        ]
        return keras.Model([decoder_token_ids, *state_inputs, outputs_input, mask_input],
                           [step_logits, *new_states, *passthrough], name="decoder_model")

    # -- one decoding step -----------------------------------------------------------

    def _step_cells(self, token_ids, rnn_state):
        """One token through the decoder RNNs' cells, not the RNN layers.

        A length-1 sequence through an RNN layer would run a whole `while_loop`
        and mask logic per generated token, which dominated decoding time.
        Returns `(top layer output (batch, hidden), flat list of new states)`.
        """
        # A plain gather: the layer call would attach a padding mask the cells ignore.
        x = tf.gather(self.target_embedding.embeddings, token_ids)  # (batch, embedding_dim)
        new_state = []
        for i, rnn in enumerate(self.decoder_rnns):
            x, layer_state = rnn.cell(x, self._layer_states(rnn_state, i), training=False)
            new_state.extend(layer_state)
        return x, new_state

    def initial_state(self, encoder_token_ids):
        """`encoder_model`'s outputs: a tuple of RNN states, or with attention an
        `AttentionRNNState` (the same tensors, in the same flat order)."""
        state = super().initial_state(encoder_token_ids)
        return AttentionRNNState.of(state) if self.has_attention else state

    def decode_step(self, token_ids, state, beams=None):
        """One step, cell by cell; computes what `decoder_model` computes for a
        single token (a test holds them equal). `beams`, in a beam search: see
        `keras_s2s.decoding.row_constants` (the encoder outputs and mask then
        hold one entry per sentence, not per beam)."""
        if not self.has_attention:
            x, new_state = self._step_cells(token_ids, state)
            return self._output(x), tuple(new_state)
        state = AttentionRNNState.of(state)
        x, new_state = self._step_cells(token_ids, state.rnn_states)
        outputs, mask = state.encoder_outputs, state.encoder_mask
        context = attend_by_row(x, beams, tf.shape(outputs)[0],
                                lambda queries: self.attention(queries, outputs, mask)[0])
        return self._output(x, context), state._replace(rnn_states=tuple(new_state))

    def get_config(self):
        config = super().get_config()
        config.update(cell_type=self.cell_type, embedding_dim=self.embedding_dim,
                      hidden_dim=self.hidden_dim, num_layers=self.num_layers,
                      attention=self.attention_type, dropout=self.dropout,
                      tie_embeddings=self.tie_embeddings)
        return config


@keras.saving.register_keras_serializable(package="keras_s2s", name="AttentionRNNSeq2Seq")
class _SavedAttentionRNNSeq2Seq(RNNSeq2Seq):
    """Reads `.keras` files saved before 2026-12-02, when the attention model
    was its own class (always with attention, Luong by default). New files
    save as `RNNSeq2Seq`."""

    def __init__(self, source_vocabulary, target_vocabulary, *, attention="luong", **kwargs):
        super().__init__(source_vocabulary, target_vocabulary, attention=attention, **kwargs)
