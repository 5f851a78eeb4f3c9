"""Checks that catch data mistakes before they cost a training run.

Each check is plain Python over sentences (and, for the direction check, a
model's vocabularies), returns what it found and leaves the decision to the
caller: `keras-s2s train` warns about a header-looking first row and
English→Spanish columns, skips over-long pairs, and `keras-s2s translate` /
`evaluate` warn when the input looks like the model's target language.

Example:
    >>> pairs = load_tsv("pairs.tsv")
    >>> header_row(pairs)
    ('source', 'target')
    >>> kept, dropped = drop_long_pairs(pairs)
"""

from __future__ import annotations

import re

from keras_s2s.data.pairs import SentencePairs

# Pairs with a side longer than this are skipped by `drop_long_pairs`. The
# bundled corpus' longest side is 422 characters and a model reads at most
# `max_source_length` (64 by default) tokens, so a longer "sentence" is
# almost surely a file mistake, such as a missing line break.
MAX_PAIR_CHARACTERS = 1000

# Words a header row is made of: column names, and languages' names and codes.
HEADER_WORDS = frozenset("""
source target src tgt input output text sentence sentences translation reference original
english spanish french german italian portuguese dutch russian chinese japanese arabic
en es fr de it pt nl ru zh ja ar eng spa fra fre deu ger ita por nld rus zho jpn ara
""".split())

# Frequent function words of each language that are not words of the other
# (so no "a", "no", "me", "he" or "son").
SPANISH_WORDS = frozenset("""
de la que el en y los del se las por un para con una su al lo como más pero sus le ya
o fue este ha sí porque esta entre cuando muy sin sobre también hasta hay donde
""".split())
ENGLISH_WORDS = frozenset("""
the of and to in is that it was for on are with his they be at this have from or had
by not but what all were we when your can said there an which their if will
""".split())

_WORDS = re.compile(r"\w+")


def header_row(pairs: SentencePairs) -> tuple[str, str] | None:
    """The first pair, if it looks like a header row instead of a sentence pair.

    It does when both its sides are a single word of `HEADER_WORDS` (such as
    `source<TAB>target` or `spa<TAB>eng`), case and surrounding punctuation
    aside. Simple on purpose: a real sentence pair of two such words is rare,
    and the caller only warns.
    """
    if len(pairs) == 0:
        return None
    first = (pairs.sources[0], pairs.targets[0])
    words = [side.strip(" #\"'").lower() for side in first]
    return first if all(word in HEADER_WORDS for word in words) else None


def drop_long_pairs(pairs: SentencePairs, max_characters: int = MAX_PAIR_CHARACTERS):
    """`(kept pairs, number dropped)`: pairs with no side over `max_characters`."""
    if max_characters < 1:
        raise ValueError(f"max_characters must be >= 1, got {max_characters}.")
    kept = [index for index, (source, target) in enumerate(pairs)
            if len(source) <= max_characters and len(target) <= max_characters]
    return pairs.select(kept), len(pairs) - len(kept)


def _share(texts, words: frozenset) -> float:
    """The fraction of the words of `texts` that are in `words`."""
    tokens = [token for text in texts for token in _WORDS.findall(text.lower())]
    return sum(token in words for token in tokens) / len(tokens) if tokens else 0.0


def looks_english_to_spanish(pairs: SentencePairs, *, sample: int = 500) -> bool:
    """Whether the sources look English and the targets Spanish (of the first
    `sample` pairs): for a file meant for the Spanish→English demo, the
    columns are the wrong way round."""
    sources, targets = pairs.sources[:sample], pairs.targets[:sample]
    source_english, source_spanish = _share(sources, ENGLISH_WORDS), _share(sources, SPANISH_WORDS)
    target_english, target_spanish = _share(targets, ENGLISH_WORDS), _share(targets, SPANISH_WORDS)
    # Function words are a fifth or more of running text in either language.
    return (source_english > 0.1 and source_english > 3 * source_spanish
            and target_spanish > 0.1 and target_spanish > 3 * target_english)


def known_share(texts, vocabulary) -> float:
    """The fraction of the words of `texts` (case aside) that are `vocabulary` tokens."""
    known = frozenset(token.lower() for token in vocabulary)
    return _share(texts, known)


def input_language_warning(texts, source_vocabulary, target_vocabulary) -> str | None:
    """A warning when `texts` look like the model's target language: most of
    their words unknown to the source vocabulary, most known to the target one.

    Args:
        texts: sentences about to be translated (a few hundred are plenty).
        source_vocabulary, target_vocabulary: the model's token lists.

    Returns:
        The warning, or None when the input looks like source-language text.

    Example:
        >>> input_language_warning(["Where is it?"], model.source_vocabulary,
        ...                        model.target_vocabulary)
        '8% of the input's words are in the source vocabulary, 100% in the target ...'
    """
    as_source, as_target = known_share(texts, source_vocabulary), known_share(
        texts, target_vocabulary)
    if as_source >= 0.5 or as_target < 0.5 or as_target < 1.5 * as_source:
        return None
    return (f"{as_source:.0%} of the input's words are in the model's source vocabulary but "
            f"{as_target:.0%} in its target vocabulary: is the input in the target language "
            "(source and target swapped)?")
