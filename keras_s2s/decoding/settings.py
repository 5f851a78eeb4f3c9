"""How to decode, as one frozen, validated object: `DecodingSettings`.

`keras_s2s.translate`, the graph `Translator`, attention maps, `export`, the
export client and the CLI all take one of these (or its fields as keyword
arguments, turned into one at the entry point) and never re-declare its
fields: a decoding option is one field here, with its default, its check and
its help text (the CLI's flags are made from these fields).

The rule for options of another method: an option that the chosen method does
not use must stay at its default (`beam_width=8` with `method="greedy"` is a
ValueError, not silently ignored); passing the default value is accepted.

No TensorFlow import: the CLI validates options before loading TensorFlow.
"""

from __future__ import annotations

import dataclasses

from keras_s2s.decoding import checks

METHODS = ("greedy", "beam", "sample")


def _option(default, help: str, *, applies_to=METHODS, check=None, metavar=None):
    return dataclasses.field(default=default, metadata=dict(
        help=help, applies_to=tuple(applies_to), check=check, metavar=metavar))


def _check_method(value):
    if value not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {value!r}.")


@dataclasses.dataclass(frozen=True)
class DecodingSettings:
    """Decoding settings; every field has a default, and the whole is checked once.

    Example:
        >>> settings = DecodingSettings(method="beam", beam_width=4, num_results=2)
        >>> keras_s2s.translate("¿Dónde está?", model, decoding=settings)
        >>> keras_s2s.translate("¿Dónde está?", model, method="beam", num_results=2)  # same
    """

    method: str = _option(
        "greedy", "greedy (most probable token each step), beam (keeps beam_width "
        "candidates) or sample (random, for diverse outputs)", check=_check_method)
    beam_width: int = _option(4, "candidates kept per sentence", applies_to=["beam"])
    length_penalty: float = _option(
        0.6, "GNMT length penalty alpha for ranking beam hypotheses (0: raw log-probability)",
        applies_to=["beam"], check=checks.check_length_penalty)
    num_results: int = _option(1, "hypotheses returned per sentence, best first (at most "
                               "beam_width)", applies_to=["beam"])
    max_length: int | None = _option(
        None, "maximum translation length in tokens (default: twice the source's length "
        "plus 10, capped by the model's max_target_length)", check=checks.check_max_length)
    temperature: float = _option(1.0, "sampling temperature (<1 sharper, >1 flatter)",
                                 applies_to=["sample"], check=checks.check_temperature)
    top_k: int = _option(0, "sample among the k most probable tokens (0: all)",
                         applies_to=["sample"], check=checks.check_top_k)
    seed: int | None = _option(None, "sampling seed (reproducible samples)",
                               applies_to=["sample"], check=checks.check_seed)

    def __post_init__(self):
        for field in dataclasses.fields(self):
            check = field.metadata["check"]
            if check is not None:
                check(getattr(self, field.name))
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if self.method not in field.metadata["applies_to"] and value != field.default:
                users = " or ".join(repr(m) for m in field.metadata["applies_to"])
                raise ValueError(
                    f"{field.name}={value!r} has no effect with method={self.method!r}: it "
                    f"applies to method={users}. Leave it out, or choose that method.")
        if self.method == "beam":
            checks.check_beam(self.beam_width, self.num_results)

    @classmethod
    def from_options(cls, decoding: DecodingSettings | None = None, **options):
        """`decoding` itself, or settings made from keyword options (not both)."""
        if decoding is not None:
            if not isinstance(decoding, cls):
                raise TypeError(f"decoding must be a DecodingSettings, got "
                                f"{type(decoding).__name__}.")
            if options:
                raise ValueError(f"pass decoding=... or decoding options "
                                 f"({', '.join(sorted(options))}), not both.")
            return decoding
        unknown = sorted(set(options) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise TypeError(f"unknown decoding option(s) {unknown}; the options are the "
                            f"fields of DecodingSettings: {field_names()}.")
        return cls(**options)

    def replace(self, **changes) -> DecodingSettings:
        """A copy with `changes` (checked again)."""
        return dataclasses.replace(self, **changes)

    def for_method(self, method: str, **changes) -> DecodingSettings:
        """The same settings for another method: options that method does not
        use go back to their defaults; options all methods share are kept."""
        kept = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if method in f.metadata["applies_to"]}
        return DecodingSettings(**{**kept, "method": method, **changes})

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> DecodingSettings:
        return cls.from_options(**values)


def field_names() -> list[str]:
    return [field.name for field in dataclasses.fields(DecodingSettings)]


def field_help() -> dict[str, tuple]:
    """`{name: (default, help, applies_to)}` for every field, for the CLI."""
    return {f.name: (f.default, f.metadata["help"], f.metadata["applies_to"])
            for f in dataclasses.fields(DecodingSettings)}
