"""Checks of plain Python arguments that many modules share (no TensorFlow
import): a wrong value is a ValueError naming the argument and what it may be."""

from __future__ import annotations

import numbers


def is_integer(value) -> bool:
    """An int (or NumPy integer), and not a bool (`True` is an int in Python)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_positive_integer(name: str, value, *, allow_none: bool = False):
    if value is None and allow_none:
        return
    if not is_integer(value) or value < 1:
        extra = " or None" if allow_none else ""
        raise ValueError(f"{name} must be an integer >= 1{extra}, got {value!r}.")


def check_rate(name: str, value):
    """A probability-like rate in [0, 1): dropout, label smoothing."""
    if not is_number(value) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}.")


def check_choice(name: str, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}.")


def settings_from_options(settings_class, settings, options: dict, *, argument: str):
    """`settings` itself, or a `settings_class` (a dataclass) made from keyword
    `options` (not both): how `translate(decoding=...)` and
    `train(settings=...)` accept either one object or its fields."""
    import dataclasses

    name = settings_class.__name__
    if settings is not None:
        if not isinstance(settings, settings_class):
            raise TypeError(f"{argument} must be a {name}, got {type(settings).__name__}.")
        if options:
            raise ValueError(f"pass {argument}=... or its fields as options "
                             f"({', '.join(sorted(options))}), not both.")
        return settings
    fields = [field.name for field in dataclasses.fields(settings_class)]
    unknown = sorted(set(options) - set(fields))
    if unknown:
        raise TypeError(f"unknown option(s) {unknown}; the options are the fields of "
                        f"{name}: {', '.join(fields)}.")
    return settings_class(**options)
