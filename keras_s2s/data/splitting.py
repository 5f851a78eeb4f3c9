"""Deterministic train/validation split for a user's own pairs file, and keeping
held-out pairs out of training."""

from __future__ import annotations

from keras_s2s.data.pairs import SentencePairs


def split_pairs(pairs: SentencePairs, *, validation_every: int = 20):
    """Every `validation_every`-th pair goes to validation, the rest to training.

    Deterministic (no shuffling), so a rerun sees the same split; taking pairs
    spread through the file keeps both halves alike when the file is sorted.

    Returns:
        `(train, validation)` SentencePairs.
    """
    if validation_every < 2:
        raise ValueError(f"validation_every must be >= 2, got {validation_every}.")
    if len(pairs) < validation_every:
        # Too small to hold out anything useful: train on all, validate on all.
        return pairs, pairs
    is_validation = [i % validation_every == validation_every - 1 for i in range(len(pairs))]
    return (
        pairs.select(i for i, chosen in enumerate(is_validation) if not chosen),
        pairs.select(i for i, chosen in enumerate(is_validation) if chosen),
    )


def drop_training_overlap(train: SentencePairs, held_out: SentencePairs):
    """`(held_out without the pairs that are also in train, number dropped)`.

    A pair that is in both splits (the same source and target) is one the
    model was trained on, so scoring it would flatter the model; the bundled
    corpus repeats 12 of its 644 test pairs of at most 20 words in training
    chapters. Pairs are compared exactly, after the loaders' stripping.

    Example:
        >>> validation, dropped = drop_training_overlap(train, validation)
    """
    seen = set(train)
    kept = [index for index, pair in enumerate(held_out) if pair not in seen]
    return held_out.select(kept), len(held_out) - len(kept)
