"""RNN encoder–decoder with attention (Luong's multiplicative or Bahdanau's
additive score, see `attention_layers`).

The classic encoder squeezes a sentence into one vector; attention lets every
decoder step look back at all encoder outputs instead:

    source ─► embedding ─► bidirectional RNN ─► encoder outputs (batch, src, hidden)
                                     │ final states ─┐             │
                                                      ▼             ▼
    [START] y1 ─► embedding ─► RNN ─► query ─► attention weights over the source
                                       │                            │ context
                                       └──► [context; query] ─► linear ─► logits

The decoder's inference state carries the encoder outputs and their padding
mask beside the RNN state, so `decoder_model` keeps the DESIGN.md contract and
beam search tiles them per beam like any other state tensor.
"""

from __future__ import annotations

import keras

from keras_s2s.models.attention_layers import ATTENTION_TYPES
from keras_s2s.models.base import Seq2Seq
from keras_s2s.models.rnn import check_rnn_options, step_decoder_cells


@keras.saving.register_keras_serializable(package="keras_s2s")
class AttentionRNNSeq2Seq(Seq2Seq):
    """GRU/LSTM encoder–decoder with a bidirectional encoder and attention.

    Args:
        source_vocabulary, target_vocabulary: token lists (see `Seq2Seq`).
        cell_type: `"gru"` or `"lstm"`.
        embedding_dim: token embedding size.
        hidden_dim: decoder state size, and encoder output size (each
            direction of the bidirectional encoder has `hidden_dim // 2` units,
            so `hidden_dim` must be even).
        num_layers: stacked RNN layers on each side.
        attention: `"luong"` (multiplicative, default: cheaper, and what the
            shipped model uses) or `"bahdanau"` (additive).
        dropout: dropout on embeddings, RNN outputs and the attention vector.
        **kwargs: text settings of `Seq2Seq`.

    Example:
        >>> model = AttentionRNNSeq2Seq(source_vocabulary, target_vocabulary,
        ...                             hidden_dim=384, dropout=0.2)
    """

    def __init__(
        self,
        source_vocabulary,
        target_vocabulary,
        *,
        cell_type: str = "gru",
        embedding_dim: int = 192,
        hidden_dim: int = 384,
        num_layers: int = 1,
        attention: str = "luong",
        dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(source_vocabulary, target_vocabulary, **kwargs)
        check_rnn_options(cell_type=cell_type, embedding_dim=embedding_dim,
                          hidden_dim=hidden_dim, num_layers=num_layers, dropout=dropout)
        if hidden_dim % 2:
            raise ValueError(
                f"hidden_dim must be even (the bidirectional encoder gives each direction "
                f"hidden_dim // 2 units), got {hidden_dim}."
            )
        if attention not in ATTENTION_TYPES:
            raise ValueError(
                f"attention must be one of {tuple(ATTENTION_TYPES)}, got {attention!r}."
            )
        self.cell_type = cell_type
        self.embedding_dim = embedding_dim
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.attention_type = attention
        self.dropout = dropout

        rnn_class = keras.layers.GRU if cell_type == "gru" else keras.layers.LSTM
        self.source_embedding = keras.layers.Embedding(
            len(self.source_vocabulary), embedding_dim, mask_zero=True, name="source_embedding"
        )
        self.target_embedding = keras.layers.Embedding(
            len(self.target_vocabulary), embedding_dim, mask_zero=True, name="target_embedding"
        )
        self.encoder_rnns = [
            keras.layers.Bidirectional(
                rnn_class(hidden_dim // 2, return_sequences=True, return_state=True),
                name=f"encoder_{i}",
            )
            for i in range(num_layers)
        ]
        self.decoder_rnns = [
            rnn_class(hidden_dim, return_sequences=True, return_state=True, name=f"decoder_{i}")
            for i in range(num_layers)
        ]
        self.attention = ATTENTION_TYPES[attention](hidden_dim, name="attention")
        # Linear on purpose: a tanh here sat on a unigram plateau in our runs.
        self.attention_projection = keras.layers.Dense(
            hidden_dim, use_bias=False, name="attention_projection"
        )
        self.dropout_layer = keras.layers.Dropout(dropout, name="dropout")
        # float32 even under a mixed-precision policy: the softmax over the
        # vocabulary and the loss need float32's range and precision.
        self.output_projection = keras.layers.Dense(
            len(self.target_vocabulary), dtype="float32", name="output_projection"
        )
        self._build_functional_models()

    @property
    def states_per_layer(self) -> int:
        return 2 if self.cell_type == "lstm" else 1

    def _encode(self, encoder_token_ids):
        """Symbolic: ids -> (decoder initial states, encoder outputs, padding mask)."""
        x = self.dropout_layer(self.source_embedding(encoder_token_ids))
        k = self.states_per_layer
        states = []
        for rnn in self.encoder_rnns:
            x, *directions = rnn(x)
            x = self.dropout_layer(x)
            forward, backward = directions[:k], directions[k:]
            # Both directions' final states, side by side, start the decoder layer.
            states.extend(keras.ops.concatenate([f, b], axis=-1)
                          for f, b in zip(forward, backward))
        mask = keras.ops.cast(keras.ops.not_equal(encoder_token_ids, 0), "float32")
        return states, x, mask

    def _attend(self, query, encoder_outputs, encoder_mask):
        """-> (logits, attention weights (batch, target time, source time))."""
        context, weights = self.attention(query, encoder_outputs, encoder_mask)
        vector = self.attention_projection(keras.ops.concatenate([context, query], axis=-1))
        return self.output_projection(self.dropout_layer(vector)), weights

    def _decode(self, decoder_token_ids, states, encoder_outputs, encoder_mask):
        y = self.dropout_layer(self.target_embedding(decoder_token_ids))
        k = self.states_per_layer
        new_states = []
        for i, rnn in enumerate(self.decoder_rnns):
            y, *layer_states = rnn(y, initial_state=list(states[i * k : (i + 1) * k]))
            y = self.dropout_layer(y)
            new_states.extend(layer_states)
        logits, weights = self._attend(y, encoder_outputs, encoder_mask)
        return logits, weights, new_states

    def _build_functional_models(self):
        encoder_token_ids = keras.Input(shape=(None,), dtype="int32", name="encoder_token_ids")
        decoder_token_ids = keras.Input(shape=(None,), dtype="int32", name="decoder_token_ids")
        states, encoder_outputs, encoder_mask = self._encode(encoder_token_ids)
        logits, weights, _ = self._decode(
            decoder_token_ids, states, encoder_outputs, encoder_mask
        )
        training_model = keras.Model(
            [encoder_token_ids, decoder_token_ids], logits, name="training_model"
        )
        # Same graph, other output: where each teacher-forced step looked.
        attention_model = keras.Model(
            [encoder_token_ids, decoder_token_ids], weights, name="attention_model"
        )
        encoder_model = keras.Model(
            encoder_token_ids, [*states, encoder_outputs, encoder_mask], name="encoder_model"
        )
        state_inputs = [
            keras.Input(shape=(self.hidden_dim,), name=f"decoder_state_{i}")
            for i in range(self.num_layers * self.states_per_layer)
        ]
        outputs_input = keras.Input(shape=(None, self.hidden_dim), name="encoder_outputs",
                                    dtype=self.compute_dtype)  # as the encoder makes them
        mask_input = keras.Input(shape=(None,), name="encoder_mask")
        step_logits, _, new_states = self._decode(
            decoder_token_ids, state_inputs, outputs_input, mask_input
        )
        # The encoder outputs and mask pass through unchanged, so the outputs
        # after the logits are a complete state for the next step.
        # (dtype pinned: under a mixed policy an Identity would cast them.)
        passthrough = [
            keras.layers.Identity(dtype=outputs_input.dtype,
                                  name="encoder_outputs_out")(outputs_input),
            keras.layers.Identity(dtype=mask_input.dtype, name="encoder_mask_out")(mask_input),
        ]
        decoder_model = keras.Model(
            [decoder_token_ids, *state_inputs, outputs_input, mask_input],
            [step_logits, *new_states, *passthrough],
            name="decoder_model",
        )
        self._set_functional_models(
            training_model=training_model, encoder_model=encoder_model, decoder_model=decoder_model
        )
        self.attention_model = attention_model

    def decode_step(self, token_ids, state):
        """One step, cell by cell (see `RNNSeq2Seq.decode_step`); equals `decoder_model`."""
        *rnn_state, encoder_outputs, encoder_mask = state
        x, new_state = step_decoder_cells(self, token_ids, rnn_state)
        logits, _ = self._attend(x[:, None, :], encoder_outputs, encoder_mask)
        logits = logits[:, 0, :]
        return logits, (*new_state, encoder_outputs, encoder_mask)

    def get_config(self):
        config = super().get_config()
        config.update(
            cell_type=self.cell_type,
            embedding_dim=self.embedding_dim,
            hidden_dim=self.hidden_dim,
            num_layers=self.num_layers,
            attention=self.attention_type,
            dropout=self.dropout,
        )
        return config
