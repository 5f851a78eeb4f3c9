"""`SentencePairs`: aligned source and target sentences, the unit every loader returns."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class SentencePairs:
    """Aligned sentences: `sources[i]` translates to `targets[i]`.

    Args:
        sources: source-language sentences.
        targets: target-language sentences, same count.
        references: optional provenance per pair (a verse like "Gen 1:1", or
            "file.tsv:17"), so a bad pair can be found again.

    Example:
        >>> pairs = SentencePairs(("hola",), ("hello",))
        >>> list(pairs)
        [('hola', 'hello')]
    """

    sources: tuple[str, ...]
    targets: tuple[str, ...]
    references: tuple[str, ...] | None = None

    def __post_init__(self):
        object.__setattr__(self, "sources", tuple(self.sources))
        object.__setattr__(self, "targets", tuple(self.targets))
        if self.references is not None:
            object.__setattr__(self, "references", tuple(self.references))
        if len(self.sources) != len(self.targets):
            raise ValueError(
                f"{len(self.sources)} sources but {len(self.targets)} targets: they must pair up."
            )
        if self.references is not None and len(self.references) != len(self.sources):
            raise ValueError(
                f"{len(self.references)} references for {len(self.sources)} pairs."
            )

    def __len__(self) -> int:
        return len(self.sources)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(zip(self.sources, self.targets))

    def select(self, indices) -> SentencePairs:
        """The pairs at `indices`, in that order."""
        indices = list(indices)
        references = None
        if self.references is not None:
            references = tuple(self.references[i] for i in indices)
        return SentencePairs(
            tuple(self.sources[i] for i in indices),
            tuple(self.targets[i] for i in indices),
            references,
        )

    def take(self, count: int) -> SentencePairs:
        """The first `count` pairs."""
        return self.select(range(min(count, len(self))))

    def filter_by_length(self, max_words: int) -> SentencePairs:
        """Pairs whose source and target both have at most `max_words` words."""
        if max_words < 1:
            raise ValueError(f"max_words must be >= 1, got {max_words}.")
        return self.select(
            i for i, (source, target) in enumerate(self)
            if len(source.split()) <= max_words and len(target.split()) <= max_words
        )
