"""Fake decoder steps whose right answers are known, and an exhaustive search
to compare the real searches with (shared by the search tests).

`bigram_step` reads next-token probabilities from a fixed table per row;
`prefix_step` has any distribution per whole prefix; `enumerate_hypotheses`
lists every hypothesis with its log-probability and score, best first.
"""

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


def random_tables(rng, batch, vocab):
    return rng.dirichlet(np.full(vocab, 0.7), size=(batch, vocab)).astype("float32")


def penalty(length, alpha):
    return ((5.0 + length) / 6.0) ** alpha


def enumerate_hypotheses(next_log_probs, *, vocab, max_length, alpha):
    """Every hypothesis (ended by END, or cut at max_length), best first, as
    `(tokens, log_prob, score)`. `next_log_probs(prefix)` sees START + tokens."""
    hypotheses = []

    def extend(prefix, log_prob):
        generated = prefix[1:]
        if generated and (generated[-1] == END or len(generated) == max_length):
            score = log_prob / penalty(len(generated), alpha)
            hypotheses.append((generated, log_prob, score))
            return
        step_log_probs = next_log_probs(prefix)
        for token in range(vocab):
            extend(prefix + [token], log_prob + float(step_log_probs[token]))

    extend([START], 0.0)
    return sorted(hypotheses, key=lambda hypothesis: -hypothesis[2])


def found(result, row):
    """Row `row` of a result as `(tokens, log_prob, score)` triples."""
    return [
        (ids[:length].tolist(), log_prob, score)
        for ids, length, log_prob, score in zip(
            result.ids.numpy()[row], result.lengths.numpy()[row],
            result.log_probs.numpy()[row], result.scores.numpy()[row])
    ]


def assert_same_hypotheses(found, expected):
    assert [tokens for tokens, _, _ in found] == [tokens for tokens, _, _ in expected]
    np.testing.assert_allclose([f[1] for f in found], [e[1] for e in expected], rtol=1e-4)
    np.testing.assert_allclose([f[2] for f in found], [e[2] for e in expected], rtol=1e-4)


def prefix_code(tokens, vocab):
    """A distinct integer for every prefix of generated tokens (0 for none)."""
    code = 0
    for token in tokens:
        code = code * (vocab + 1) + token + 1
    return code


def prefix_step(token_ids, state):
    """Any distribution per prefix: state = (tables (batch, prefixes, vocab), code).

    The code of the prefix so far lives in the state, so each beam's state
    differs and is right only if the search re-orders the state with its beams.
    (A bigram table alone would also make sequences with the same transitions in
    another order exactly tie.)
    """
    tables, code = state
    vocab = tf.shape(tables)[-1]
    is_first = tf.equal(code, -1)  # only START so far
    code = tf.where(is_first, 0, code * (vocab + 1) + token_ids + 1)
    return tf.gather(tables, code, batch_dims=1), (tables, code)
