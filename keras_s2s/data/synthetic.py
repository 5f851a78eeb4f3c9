"""A tiny translation task for tests, demos and checking that training works.

Spanish number words to English ones, word for word and in the same order
("tres uno cuatro" -> "three one four"). Ten words and short sentences make it
learnable to near-perfect exact match by a small GRU encoder–decoder without
attention in well under a minute on a CPU, yet it is a real sequence task:
the decoder can only get the order right if the encoder's final state carries
the whole sentence.
"""

from __future__ import annotations

import random

from keras_s2s.data.pairs import SentencePairs

# Spanish digit name -> English digit name: the task's whole dictionary.
NUMBER_WORDS = {
    "cero": "zero",
    "uno": "one",
    "dos": "two",
    "tres": "three",
    "cuatro": "four",
    "cinco": "five",
    "seis": "six",
    "siete": "seven",
    "ocho": "eight",
    "nueve": "nine",
}


def synthetic_pairs(
    num_pairs: int, *, seed: int = 0, min_length: int = 2, max_length: int = 5
) -> SentencePairs:
    """Random sentences of Spanish number words and their English translations.

    Args:
        num_pairs: how many pairs to make.
        seed: the same seed always gives the same pairs (on any machine);
            use different seeds for training and test pairs.
        min_length: fewest words in a sentence.
        max_length: most words in a sentence; lengths are drawn uniformly
            from `[min_length, max_length]`.

    Returns:
        `SentencePairs` with Spanish sources and English targets, and
        references `"synthetic:<index>"`.

    Example:
        >>> pairs = synthetic_pairs(2, seed=0)
        >>> pairs.sources[0].split()[0] in NUMBER_WORDS
        True
    """
    if num_pairs < 0:
        raise ValueError(f"num_pairs must be >= 0, got {num_pairs}.")
    if not 1 <= min_length <= max_length:
        raise ValueError(
            f"Need 1 <= min_length <= max_length, got min_length={min_length}, "
            f"max_length={max_length}."
        )
    # A private generator: neither reads nor disturbs the global random state.
    generator = random.Random(seed)
    vocabulary = list(NUMBER_WORDS)
    sources, targets = [], []
    for _ in range(num_pairs):
        length = generator.randint(min_length, max_length)
        words = [generator.choice(vocabulary) for _ in range(length)]
        sources.append(" ".join(words))
        targets.append(" ".join(NUMBER_WORDS[word] for word in words))
    references = [f"synthetic:{index}" for index in range(num_pairs)]
    return SentencePairs(sources=sources, targets=targets, references=references)
