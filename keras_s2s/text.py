"""Text in and out of the graph: normalisation, tokenisation, vocabulary, detokenisation.

Everything that touches a string at training or serving time is a TensorFlow op
(`tf.strings`, tensorflow-text), so the very same code runs in `tf.data`, inside
an exported SavedModel (stock TF Serving ships these ops) and from Python.

Word-level tokenisation: punctuation becomes its own token, accented letters are
kept ("está" stays "está", unlike the course lab's ASCII regex), an apostrophe
between two letters stays inside its word ("God’s", "don't"), and so does a
separator between two digits ("3,000").
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Sequence

import tensorflow as tf
import tensorflow_text as tf_text

from keras_s2s.models.architectures import TOKENIZATIONS
from keras_s2s.subwords import WordpieceSplitter, join_pieces, learn_wordpiece_vocabulary

PAD_TOKEN = "[PAD]"
UNKNOWN_TOKEN = "[UNK]"
START_TOKEN = "[START]"
END_TOKEN = "[END]"
RESERVED_TOKENS = (PAD_TOKEN, UNKNOWN_TOKEN, START_TOKEN, END_TOKEN)
PAD_ID, UNKNOWN_ID, START_ID, END_ID = 0, 1, 2, 3

# A "word character" is a letter, a digit or a combining mark, in any script.
# RE2's \w is ASCII-only, which is how the course lab's regex loses "á".
_WORD = r"\pL\pN\pM"
_APOSTROPHES = "'’"


def normalize(texts: tf.Tensor, *, lowercase: bool) -> tf.Tensor:
    """Unicode-normalises a string tensor and spaces punctuation out into tokens.

    Args:
        texts: `tf.string` tensor of any shape.
        lowercase: whether to lower-case (Unicode-aware). We lower-case the
            source but keep the target's case, so translations come out cased.

    Returns:
        A `tf.string` tensor of the same shape, tokens separated by spaces.
    """
    # NFKC folds compatibility forms (full-width letters, ligatures) and composes
    # accents, so "está" typed two ways maps to one vocabulary entry.
    texts = tf_text.normalize_utf8(texts, "NFKC")
    # Control and format characters (tabs, zero-width joiners, ...) act as spaces.
    texts = tf.strings.regex_replace(texts, r"[\pC\pZ]", " ")
    if lowercase:
        texts = tf.strings.lower(texts, encoding="utf-8")
    # Every character that is neither a word character nor a space becomes a token.
    texts = tf.strings.regex_replace(texts, rf"([^{_WORD}\s])", r" \1 ")
    # ...except an apostrophe with a letter on each side, which belongs to its word.
    texts = tf.strings.regex_replace(
        texts, rf"([{_WORD}]) ([{_APOSTROPHES}]) ([{_WORD}])", r"\1\2\3"
    )
    # ...and so does a separator inside a number ("3,000", "2.5").
    texts = tf.strings.regex_replace(texts, r"(\pN) ([.,]) (\pN)", r"\1\2\3")
    return tf.strings.strip(tf.strings.regex_replace(texts, r"\s+", " "))


def tokenize(texts: tf.Tensor, *, lowercase: bool) -> tf.RaggedTensor:
    """`tf.string[batch]` -> ragged `tf.string[batch, (tokens)]`."""
    return tf.strings.split(normalize(texts, lowercase=lowercase))


def detokenize(tokens: tf.RaggedTensor) -> tf.Tensor:
    """Ragged `tf.string[batch, (tokens)]` -> readable `tf.string[batch]`.

    Joins with spaces, then removes the spaces that tokenisation put around
    punctuation: "where is it ?" -> "where is it?", "“ Go , ” he said" ->
    "“Go,” he said".
    """
    texts = tf.strings.reduce_join(tokens, axis=-1, separator=" ")
    texts = tf.strings.regex_replace(texts, r" ([.,;:!?)\]}”»’%…])", r"\1")
    texts = tf.strings.regex_replace(texts, r"([(\[{“«¿¡‘]) ", r"\1")
    # Straight double quotes open and close alike: pair them up left to right.
    return tf.strings.regex_replace(texts, r'" ([^"]*?) "', r'"\1"')


class Vocabulary:
    """Tokens <-> ids, with ids 0..3 reserved for padding, unknown, start and end.

    The token list is plain data (saved in the model's config); the lookup tables
    are built from it on first use, eagerly, so they can be captured by
    `tf.data` and `tf.function` graphs alike.

    Example:
        >>> vocabulary = Vocabulary.build(["¿Dónde está?"], lowercase=True)
        >>> vocabulary.tokens[4:]
        ['?', 'dónde', 'está', '¿']
    """

    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if tuple(tokens[: len(RESERVED_TOKENS)]) != RESERVED_TOKENS:
            raise ValueError(
                f"A vocabulary must start with the reserved tokens {list(RESERVED_TOKENS)}, "
                f"got {tokens[:4]}."
            )
        if len(set(tokens)) != len(tokens):
            duplicates = [t for t, n in collections.Counter(tokens).items() if n > 1]
            raise ValueError(f"Vocabulary tokens must be unique; repeated: {duplicates[:5]}")
        self.tokens = tokens
        self._token_to_id = None
        self._id_to_token = None

    @classmethod
    def build(
        cls,
        texts: Iterable[str],
        *,
        lowercase: bool,
        max_size: int = 8000,
        min_count: int = 1,
        tokenization: str = "word",
    ) -> Vocabulary:
        """Counts the tokens of `texts` and keeps the `max_size` most frequent.

        Ties are broken alphabetically so a vocabulary is the same on every run.
        `max_size` includes the four reserved tokens. With
        `tokenization="wordpiece"` the tokens are WordPiece units learned from
        the words' counts (see `keras_s2s.subwords`; `min_count` is unused).
        """
        if max_size <= len(RESERVED_TOKENS):
            raise ValueError(f"max_size must be > {len(RESERVED_TOKENS)}, got {max_size}.")
        if tokenization not in TOKENIZATIONS:
            raise ValueError(
                f"tokenization must be one of {TOKENIZATIONS}, got {tokenization!r}."
            )
        counts: collections.Counter[str] = collections.Counter()
        texts = list(texts)
        for start in range(0, len(texts), 4096):
            chunk = tokenize(tf.constant(texts[start : start + 4096]), lowercase=lowercase)
            counts.update(token.decode("utf-8") for token in chunk.flat_values.numpy())
        for token in RESERVED_TOKENS:
            counts.pop(token, None)
        if tokenization == "wordpiece":
            return cls(learn_wordpiece_vocabulary(
                counts, max_size=max_size, reserved_tokens=list(RESERVED_TOKENS)
            ))
        ranked = sorted(
            (token for token, count in counts.items() if count >= min_count),
            key=lambda token: (-counts[token], token),
        )
        return cls(list(RESERVED_TOKENS) + ranked[: max_size - len(RESERVED_TOKENS)])

    def __len__(self) -> int:
        return len(self.tokens)

    def _tables(self):
        if self._token_to_id is None:
            with tf.init_scope():  # create the table eagerly even inside a tf.function
                keys = tf.constant(self.tokens)
                values = tf.range(len(self.tokens), dtype=tf.int32)
                self._token_to_id = tf.lookup.StaticHashTable(
                    tf.lookup.KeyValueTensorInitializer(keys, values), default_value=UNKNOWN_ID
                )
                self._id_to_token = tf.constant(self.tokens)
        return self._token_to_id, self._id_to_token

    def lookup_table(self) -> tf.lookup.StaticHashTable:
        """The token -> id table (created on first use)."""
        return self._tables()[0]

    def ids(self, tokens: tf.RaggedTensor) -> tf.RaggedTensor:
        """Token strings -> int32 ids; tokens not in the vocabulary map to UNKNOWN_ID."""
        token_to_id, _ = self._tables()
        return tf.ragged.map_flat_values(token_to_id.lookup, tokens)

    def lookup_tokens(self, ids: tf.Tensor) -> tf.Tensor:
        """int32 ids (any shape, dense or ragged) -> token strings."""
        _, id_to_token = self._tables()
        if isinstance(ids, tf.RaggedTensor):
            return tf.ragged.map_flat_values(tf.gather, id_to_token, ids)
        return tf.gather(id_to_token, ids)


class SentenceEncoder:
    """One side of a translation pair: strings <-> padded id sequences.

    Args:
        vocabulary: the side's `Vocabulary`.
        lowercase: whether this side is lower-cased (see `normalize`).
        max_length: sequences are cut to this many tokens (a 5,000-character
            input is truncated, not an error).
        tokenization: `"word"` or `"wordpiece"` (the vocabulary must have
            been built the same way).
    """

    def __init__(self, vocabulary: Vocabulary, *, lowercase: bool, max_length: int,
                 tokenization: str = "word"):
        if tokenization not in TOKENIZATIONS:
            raise ValueError(
                f"tokenization must be one of {TOKENIZATIONS}, got {tokenization!r}."
            )
        self.vocabulary = vocabulary
        self.lowercase = lowercase
        self.max_length = max_length
        self.tokenization = tokenization
        self._splitter = (
            WordpieceSplitter(vocabulary.tokens, unknown_token=UNKNOWN_TOKEN)
            if tokenization == "wordpiece" else None
        )

    def tokens(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """`tf.string[batch]` -> the tokens the model reads, ragged
        `tf.string[batch, (<= max_length)]` (words, or word pieces)."""
        tokens = tokenize(texts, lowercase=self.lowercase)
        if self._splitter is not None:
            tokens = self._splitter.split(tokens)
        return tokens[:, : self.max_length]

    def encode(self, texts: tf.Tensor) -> tf.RaggedTensor:
        """`tf.string[batch]` -> ragged int32 `[batch, (<= max_length)]`."""
        return self.vocabulary.ids(self.tokens(texts))

    def lookup_tables(self) -> list:
        """Every lookup table encoding uses: a SavedModel must track them all."""
        tables = [self.vocabulary.lookup_table()]
        if self._splitter is not None:
            tables += self._splitter.lookup_tables()
        return tables

    def decode(self, ids: tf.Tensor, *, unknown_words: tf.Tensor | None = None,
               drop_unknown: bool = False) -> tf.Tensor:
        """int32 `[batch, time]` -> `tf.string[batch]`, cut at the first end token.

        Padding, start and end tokens never appear in the text. The unknown
        token is written as `[UNK]`, unless `unknown_words` (`string[batch,
        time]`) gives the word to write at each position instead, or
        `drop_unknown` leaves it out (see `keras_s2s.unknown_words`).
        """
        ids = tf.convert_to_tensor(ids)
        is_end = tf.cast(tf.equal(ids, END_ID), tf.int32)
        # Keep positions before the first end token.
        before_end = tf.equal(tf.cumsum(is_end, axis=1), 0)
        keep = before_end & tf.not_equal(ids, PAD_ID) & tf.not_equal(ids, START_ID)
        tokens = self.vocabulary.lookup_tokens(ids)  # (batch, time)
        is_unknown = tf.equal(ids, UNKNOWN_ID)
        if unknown_words is not None:
            tokens = tf.where(is_unknown, unknown_words, tokens)
            keep &= ~is_unknown | tf.not_equal(unknown_words, "")
        if drop_unknown:
            keep &= ~is_unknown
        tokens = tf.ragged.boolean_mask(tokens, keep)
        if self._splitter is not None:
            tokens = join_pieces(tokens)
        return detokenize(tokens)
