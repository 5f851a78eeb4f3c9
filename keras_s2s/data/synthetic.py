"""A tiny translation task for tests and first experiments.

Spanish number words to English ones, word for word ("tres uno" -> "three
one"): small enough that a GRU encoder–decoder without attention learns it to
near-perfect exact match in well under a minute on a CPU, yet it still needs
the encoder to carry the whole sentence through its final state.
"""

from __future__ import annotations

import random

from keras_s2s.data.pairs import SentencePairs

NUMBER_WORDS = {
    "cero": "zero", "uno": "one", "dos": "two", "tres": "three", "cuatro": "four",
    "cinco": "five", "seis": "six", "siete": "seven", "ocho": "eight", "nueve": "nine",
}


def synthetic_pairs(
    num_pairs: int, *, seed: int = 0, min_length: int = 2, max_length: int = 5
) -> SentencePairs:
    """`num_pairs` random number-word sentences and their word-for-word translations.

    Args:
        num_pairs: how many pairs.
        seed: the same seed gives the same pairs.
        min_length, max_length: words per sentence (inclusive range).
    """
    if not 1 <= min_length <= max_length:
        raise ValueError(f"Need 1 <= min_length <= max_length, got {min_length}, {max_length}.")
    rng = random.Random(seed)
    spanish = sorted(NUMBER_WORDS)
    sources, targets = [], []
    for _ in range(num_pairs):
        words = [rng.choice(spanish) for _ in range(rng.randint(min_length, max_length))]
        sources.append(" ".join(words))
        targets.append(" ".join(NUMBER_WORDS[word] for word in words))
    return SentencePairs(tuple(sources), tuple(targets))
