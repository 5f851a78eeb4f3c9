"""`SentencePairs`: aligned source and target sentences, what every loader returns."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class SentencePairs:
    """Sentences in two languages where `sources[i]` translates to `targets[i]`.

    Immutable (tuples inside, frozen dataclass), so splits can be shared and
    compared with `==` without anyone changing them under a running training.

    Args:
        sources: source-language sentences.
        targets: target-language sentences, one per source.
        references: optional provenance of each pair, such as a verse
            ("Gen 1:1") or a file line ("pairs.tsv:17"), so that a bad pair
            found during training can be traced back to where it came from.

    Example:
        >>> pairs = SentencePairs(sources=("hola", "adiós"), targets=("hello", "goodbye"))
        >>> len(pairs), list(pairs)[0]
        (2, ('hola', 'hello'))
        >>> pairs.filter_by_length(max_words=1).take(1).targets
        ('hello',)
    """

    sources: tuple[str, ...]
    targets: tuple[str, ...]
    references: tuple[str, ...] | None = None

    def __post_init__(self):
        # Accept any sequence (a list from a loader, a column of a DataFrame)
        # but store tuples, so the object really cannot change.
        object.__setattr__(self, "sources", _as_strings(self.sources, "sources"))
        object.__setattr__(self, "targets", _as_strings(self.targets, "targets"))
        if self.references is not None:
            object.__setattr__(self, "references", _as_strings(self.references, "references"))
        if len(self.sources) != len(self.targets):
            raise ValueError(
                f"{len(self.sources)} sources but {len(self.targets)} targets: "
                "they must pair up one to one."
            )
        if self.references is not None and len(self.references) != len(self.sources):
            raise ValueError(
                f"{len(self.references)} references for {len(self.sources)} pairs: "
                "give one reference per pair, or none."
            )

    def __len__(self) -> int:
        return len(self.sources)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        """Yields `(source, target)` tuples."""
        return zip(self.sources, self.targets)

    def select(self, indices: Iterable[int]) -> SentencePairs:
        """The pairs at `indices`, in that order, references included."""
        indices = list(indices)
        references = None
        if self.references is not None:
            references = tuple(self.references[index] for index in indices)
        return SentencePairs(
            sources=tuple(self.sources[index] for index in indices),
            targets=tuple(self.targets[index] for index in indices),
            references=references,
        )

    def take(self, count: int) -> SentencePairs:
        """The first `count` pairs (all of them if there are fewer)."""
        if count < 0:
            raise ValueError(f"take() needs a count >= 0, got {count}.")
        return self.select(range(min(count, len(self))))

    def filter_by_length(self, max_words: int) -> SentencePairs:
        """The pairs whose source and target both have at most `max_words` words.

        Words are what `str.split()` separates (runs of whitespace), the same
        count people mean by "sentences of at most 20 words".
        """
        if max_words < 1:
            raise ValueError(f"max_words must be >= 1, got {max_words}.")
        return self.select(
            index
            for index, (source, target) in enumerate(self)
            if len(source.split()) <= max_words and len(target.split()) <= max_words
        )


def _as_strings(values: Iterable[str], name: str) -> tuple[str, ...]:
    values = tuple(values)
    for index, value in enumerate(values):
        if not isinstance(value, str):
            raise TypeError(
                f"{name}[{index}] is a {type(value).__name__}, not a str; "
                "decode bytes before building SentencePairs."
            )
    return values
