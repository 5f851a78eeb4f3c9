"""Sentence pairs: the bundled corpus, TSV and Anki files, and a synthetic task.

Everything here is plain Python (Keras is imported only to download Anki
files). The `tf.data` pipeline lives in `keras_s2s.data.pipeline`, which
imports TensorFlow.

Example:
    >>> from keras_s2s.data import load_corpus
    >>> splits = load_corpus("bible-spa-eng", max_words=20)
    >>> print(splits.describe())
"""

from keras_s2s.data.anki import download_anki_pairs, load_anki
from keras_s2s.data.corpus import (
    CORPORA,
    CorpusSplits,
    corpus_path,
    corpus_readme,
    load_corpus,
)
from keras_s2s.data.errors import DataFormatError
from keras_s2s.data.pairs import SentencePairs
from keras_s2s.data.sanity import (
    MAX_PAIR_CHARACTERS,
    drop_long_pairs,
    header_row,
    input_language_warning,
    looks_english_to_spanish,
)
from keras_s2s.data.splitting import drop_training_overlap, split_pairs
from keras_s2s.data.synthetic import synthetic_pairs
from keras_s2s.data.tsv import load_tsv

__all__ = [
    "CORPORA",
    "MAX_PAIR_CHARACTERS",
    "CorpusSplits",
    "DataFormatError",
    "SentencePairs",
    "corpus_path",
    "corpus_readme",
    "download_anki_pairs",
    "drop_long_pairs",
    "drop_training_overlap",
    "header_row",
    "input_language_warning",
    "load_anki",
    "load_corpus",
    "load_tsv",
    "looks_english_to_spanish",
    "split_pairs",
    "synthetic_pairs",
]
