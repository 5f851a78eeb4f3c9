"""The classic RNN encoder–decoder (GRU or LSTM), as the course draws it.

    source ids ─► embedding ─► RNN × num_layers ─► final states ─┐
                                                                  ▼
    [START] y1 y2 ─► embedding ─► RNN × num_layers (started from those states)
                                   ─► dense ─► logits over the target vocabulary

The encoder's final state is the sentence's vector representation; the decoder
starts from it. The same layer objects make all three Functional models.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from keras_s2s.models.base import Seq2Seq

CELL_TYPES = ("gru", "lstm")


def check_rnn_options(*, cell_type, embedding_dim, hidden_dim, num_layers, dropout):
    """The options every RNN architecture shares; a ValueError names the bad one."""
    if cell_type not in CELL_TYPES:
        raise ValueError(f"cell_type must be one of {CELL_TYPES}, got {cell_type!r}.")
    for name, value in (("embedding_dim", embedding_dim), ("hidden_dim", hidden_dim),
                        ("num_layers", num_layers)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")


def step_decoder_cells(model, token_ids, rnn_state):
    """One token through `model.decoder_rnns`' cells (not the RNN layers).

    A length-1 sequence through an RNN layer would run a whole `while_loop`
    and mask logic per generated token, which dominated decoding time.
    Returns `(top layer output (batch, hidden), flat list of new states)`.
    """
    # A plain gather: the layer call would attach a padding mask the cells ignore.
    x = tf.gather(model.target_embedding.embeddings, token_ids)  # (batch, embedding_dim)
    k = model.states_per_layer
    new_state = []
    for i, rnn in enumerate(model.decoder_rnns):
        x, layer_state = rnn.cell(x, list(rnn_state[i * k : (i + 1) * k]), training=False)
        new_state.extend(layer_state)
    return x, new_state


@keras.saving.register_keras_serializable(package="keras_s2s")
class RNNSeq2Seq(Seq2Seq):
    """GRU/LSTM encoder–decoder without attention.

    Args:
        source_vocabulary, target_vocabulary: token lists (see `Seq2Seq`).
        cell_type: `"gru"` or `"lstm"`.
        embedding_dim: size of the token embeddings.
        hidden_dim: size of every RNN state (encoder and decoder alike, since
            the encoder's states start the decoder).
        num_layers: stacked RNN layers on each side.
        dropout: dropout rate on embeddings and RNN outputs. Applied as separate
            layers, not the RNN's own `dropout=` argument, which would rule out
            the fused cuDNN kernel on GPU.
        **kwargs: text settings of `Seq2Seq` (`max_source_length`, ...).

    Example:
        >>> model = RNNSeq2Seq(source_vocabulary, target_vocabulary, cell_type="gru",
        ...                    embedding_dim=128, hidden_dim=256)
        >>> logits = model([encoder_token_ids, decoder_token_ids])  # (batch, time, vocab)
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
        dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(source_vocabulary, target_vocabulary, **kwargs)
        check_rnn_options(cell_type=cell_type, embedding_dim=embedding_dim,
                          hidden_dim=hidden_dim, num_layers=num_layers, dropout=dropout)
        self.cell_type = cell_type
        self.embedding_dim = embedding_dim
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.dropout = dropout

        rnn_class = keras.layers.GRU if cell_type == "gru" else keras.layers.LSTM
        # reset_after=True (Keras' default) keeps GRUs cuDNN-compatible on GPU.
        self.source_embedding = keras.layers.Embedding(
            len(self.source_vocabulary), embedding_dim, mask_zero=True, name="source_embedding"
        )
        self.target_embedding = keras.layers.Embedding(
            len(self.target_vocabulary), embedding_dim, mask_zero=True, name="target_embedding"
        )
        self.encoder_rnns = [
            rnn_class(hidden_dim, return_sequences=True, return_state=True, name=f"encoder_{i}")
            for i in range(num_layers)
        ]
        self.decoder_rnns = [
            rnn_class(hidden_dim, return_sequences=True, return_state=True, name=f"decoder_{i}")
            for i in range(num_layers)
        ]
        self.dropout_layer = keras.layers.Dropout(dropout, name="dropout")
        # float32 even under a mixed-precision policy: the softmax over the
        # vocabulary and the loss need float32's range and precision.
        self.output_projection = keras.layers.Dense(
            len(self.target_vocabulary), dtype="float32", name="output_projection"
        )
        self._build_functional_models()

    @property
    def states_per_layer(self) -> int:
        return 2 if self.cell_type == "lstm" else 1  # LSTM carries (h, c)

    def _encode(self, encoder_token_ids):
        """Symbolic: source ids -> flat list of final states, layer by layer."""
        x = self.dropout_layer(self.source_embedding(encoder_token_ids))
        states = []
        for rnn in self.encoder_rnns:
            x, *layer_states = rnn(x)
            x = self.dropout_layer(x)
            states.extend(layer_states)
        return states

    def _decode(self, decoder_token_ids, states):
        """Symbolic: decoder ids + starting states -> logits and the new states."""
        y = self.dropout_layer(self.target_embedding(decoder_token_ids))
        k = self.states_per_layer
        new_states = []
        for i, rnn in enumerate(self.decoder_rnns):
            y, *layer_states = rnn(y, initial_state=list(states[i * k : (i + 1) * k]))
            y = self.dropout_layer(y)
            new_states.extend(layer_states)
        return self.output_projection(y), new_states

    def _build_functional_models(self):
        encoder_token_ids = keras.Input(shape=(None,), dtype="int32", name="encoder_token_ids")
        decoder_token_ids = keras.Input(shape=(None,), dtype="int32", name="decoder_token_ids")

        states = self._encode(encoder_token_ids)
        logits, _ = self._decode(decoder_token_ids, states)
        training_model = keras.Model(
            [encoder_token_ids, decoder_token_ids], logits, name="training_model"
        )
        encoder_model = keras.Model(encoder_token_ids, states, name="encoder_model")

        state_inputs = [
            keras.Input(shape=(self.hidden_dim,), name=f"decoder_state_{i}")
            for i in range(self.num_layers * self.states_per_layer)
        ]
        step_logits, new_states = self._decode(decoder_token_ids, state_inputs)
        decoder_model = keras.Model(
            [decoder_token_ids, *state_inputs], [step_logits, *new_states], name="decoder_model"
        )
        self._set_functional_models(
            training_model=training_model, encoder_model=encoder_model, decoder_model=decoder_model
        )

    def decode_step(self, token_ids, state):
        """One decoder step, cell by cell (see `step_decoder_cells`); computes
        what `decoder_model` computes for a single token (a test holds them equal)."""
        x, new_state = step_decoder_cells(self, token_ids, state)
        return self.output_projection(x), tuple(new_state)

    def get_config(self):
        config = super().get_config()
        config.update(
            cell_type=self.cell_type,
            embedding_dim=self.embedding_dim,
            hidden_dim=self.hidden_dim,
            num_layers=self.num_layers,
            dropout=self.dropout,
        )
        return config
