"""A fake decoder step whose next-token probabilities are a fixed table per row,
so a search's right answer is known in advance (shared by the search tests)."""

import numpy as np
import tensorflow as tf

PAD, START, END, A, B, C = 0, 1, 2, 3, 4, 5
VOCAB = 6


def bigram_step(token_ids, state):
    """Next-token log-probs read from the row's own table: state (batch, vocab, vocab)."""
    (tables,) = state
    return tf.gather(tables, token_ids, batch_dims=1), state  # (batch, vocab)


def bigram_tables(*probabilities):
    """One table per row, from `{previous_token: {next_token: p}}`; rows not given
    (PAD, what finished rows are fed) end at once."""
    tables = np.full((len(probabilities), VOCAB, VOCAB), 1e-6)
    tables[:, :, END] = 1.0
    for row, table in enumerate(probabilities):
        for previous, following in table.items():
            tables[row, previous] = 1e-6
            for token, p in following.items():
                tables[row, previous, token] = p
    tables /= tables.sum(axis=-1, keepdims=True)
    return (tf.constant(np.log(tables), tf.float32),)
