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
from keras_s2s.data.splitting import split_pairs
from keras_s2s.data.synthetic import synthetic_pairs
from keras_s2s.data.tsv import load_tsv

__all__ = [
    "CORPORA",
    "CorpusSplits",
    "DataFormatError",
    "SentencePairs",
    "corpus_path",
    "corpus_readme",
    "download_anki_pairs",
    "load_anki",
    "load_corpus",
    "load_tsv",
    "split_pairs",
    "synthetic_pairs",
]
