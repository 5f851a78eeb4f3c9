"""WordPiece subword units: a vocabulary learned from the training words, and
in-graph tokenisation with tensorflow-text's `WordpieceTokenizer`.

Why: the bundled corpus has ~28k Spanish word types; a word vocabulary of a
few thousand maps every rarer word to [UNK]. WordPiece spells a rare word with
pieces it knows ("bendijeron" -> "bend", "##ije", "##ron"), so (almost) nothing
is unknown and the decoder can write words it never saw whole.

Words come from the same normalisation and punctuation split as word-level
tokenisation (`keras_s2s.text.tokenize`); each word is then cut greedily into
the longest known pieces, word-internal pieces marked with `##`.
"""

from __future__ import annotations

import collections
from collections.abc import Mapping

import tensorflow as tf
import tensorflow_text as tf_text
from tensorflow_text.tools.wordpiece_vocab import wordpiece_tokenizer_learner_lib as learner

SUFFIX_MARKER = "##"


def learn_wordpiece_vocabulary(
    word_counts: Mapping[str, int], *, max_size: int, reserved_tokens: list[str]
) -> list[str]:
    """Learns `max_size` tokens (reserved ones first) from word counts, or all
    the learner finds when the texts hold fewer.

    Uses tensorflow-text's WordPiece learner (the one behind its
    `bert_vocab_from_dataset`) on our own word counts, so the pieces match the
    words our tokeniser produces. Every character seen in training is kept, bare
    and as a `##` suffix, so any word made of known characters can be spelled.

    The learner picks pieces by a whole-number count threshold, so the sizes it
    can reach jump (on the bundled corpus a 5k request came back with ~2k). We
    ask it for more pieces than needed and keep the characters plus its most
    frequent pieces, which hits `max_size` exactly.
    """
    counts = collections.Counter(word_counts)
    for token in reserved_tokens:
        counts.pop(token, None)
    word_counts = sorted(counts.items())  # sorted: the same vocabulary on every run
    characters = sorted({character for word, _ in word_counts for character in word})
    essential = list(dict.fromkeys(
        [*reserved_tokens, *characters, *(SUFFIX_MARKER + c for c in characters)]
    ))
    if len(essential) > max_size:
        raise ValueError(
            f"A WordPiece vocabulary needs at least {len(essential)} tokens for these texts "
            f"(the reserved ones, and one per character seen, bare and as a suffix); "
            f"max_size is {max_size}."
        )
    learned = learner.learn(
        word_counts, 2 * max_size, list(reserved_tokens),
        lower_thresh=1,  # small corpora: allow pieces seen only a few times
        joiner=SUFFIX_MARKER,
    )
    # After the reserved tokens and characters, the learner lists its pieces
    # most frequent first: keep as many of those as fit.
    kept = set(essential)
    pieces = [token for token in dict.fromkeys(learned) if token not in kept]
    return essential + pieces[: max_size - len(essential)]


class WordpieceSplitter:
    """Words -> pieces in the graph, over a fixed token list.

    Args:
        tokens: the vocabulary (its reserved tokens included).
        unknown_token: what a word that cannot be spelled becomes.
    """

    def __init__(self, tokens: list[str], *, unknown_token: str):
        self.tokens = tokens
        self.unknown_token = unknown_token
        self._tokenizer = None
        self.table = None  # token -> id, for the tokenizer's membership checks

    def lookup_tables(self) -> list:
        """The lookup tables the tokenizer uses (an export must track them)."""
        self._wordpiece()
        return [self.table]

    def _wordpiece(self):
        if self._tokenizer is None:
            with tf.init_scope():  # eager tables, usable from tf.data and tf.function
                self.table = tf.lookup.StaticHashTable(
                    tf.lookup.KeyValueTensorInitializer(
                        tf.constant(self.tokens), tf.range(len(self.tokens), dtype=tf.int64)
                    ),
                    default_value=-1,
                )
                self._tokenizer = tf_text.WordpieceTokenizer(
                    self.table, suffix_indicator=SUFFIX_MARKER, unknown_token=self.unknown_token,
                    token_out_type=tf.string, max_bytes_per_word=100,
                )
        return self._tokenizer

    def split(self, words: tf.RaggedTensor) -> tf.RaggedTensor:
        """Ragged `tf.string[batch, (words)]` -> ragged `tf.string[batch, (pieces)]`."""
        pieces = self._wordpiece().tokenize(words)  # (batch, words, pieces)
        return pieces.merge_dims(1, 2)


def join_pieces(pieces: tf.RaggedTensor) -> tf.RaggedTensor:
    """Ragged pieces -> ragged words: each `##piece` is glued to the one before.

    Example: ["bend", "##ije", "##ron", "."] -> ["bendijeron", "."].
    """
    text = tf.strings.reduce_join(pieces, axis=-1, separator=" ")
    text = tf.strings.regex_replace(text, " " + SUFFIX_MARKER, "")
    # A translation may (rarely) start with a suffix piece: show it bare.
    text = tf.strings.regex_replace(text, "^" + SUFFIX_MARKER, "")
    return tf.strings.split(text)
