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
    chosen = [i % validation_every == validation_every - 1 for i in range(len(pairs))]

    def select(keep: bool) -> SentencePairs:
        indices = [i for i, flag in enumerate(chosen) if flag == keep]
        references = None
        if pairs.references is not None:
            references = tuple(pairs.references[i] for i in indices)
        return SentencePairs(
            sources=tuple(pairs.sources[i] for i in indices),
            targets=tuple(pairs.targets[i] for i in indices),
            references=references,
        )

    return select(False), select(True)
