"""Deterministic train/validation split for a user's own pairs file."""

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
