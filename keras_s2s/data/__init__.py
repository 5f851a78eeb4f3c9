"""Sentence pairs: bundled corpora, TSV / Anki files, a synthetic task, tf.data.

The `tf.data` pipeline lives in `keras_s2s.data.pipeline` (it imports
TensorFlow; everything here is plain Python).
"""

from keras_s2s.data.anki import download_anki_pairs, load_anki
from keras_s2s.data.corpus import CORPORA, CorpusSplits, corpus_readme, load_corpus
from keras_s2s.data.pairs import SentencePairs
from keras_s2s.data.splitting import split_pairs
from keras_s2s.data.synthetic import synthetic_pairs
from keras_s2s.data.tsv import DataFormatError, load_tsv

__all__ = [
    "CORPORA",
    "CorpusSplits",
    "DataFormatError",
    "SentencePairs",
    "corpus_readme",
    "download_anki_pairs",
    "load_anki",
    "load_corpus",
    "load_tsv",
    "split_pairs",
    "synthetic_pairs",
]
