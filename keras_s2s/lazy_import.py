"""Imports a package's public names on first use (PEP 562), so that importing
the package stays light: `keras_s2s.data` or the CLI's option lists load
without TensorFlow, and a name's module is imported only when it is used."""

from __future__ import annotations

import importlib


def lazy_names(package: str, exports: dict[str, str]):
    """`(__getattr__, __dir__)` for a package whose `exports` map public names
    to the modules that define them."""
    def __getattr__(name):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(exports[name])
        value = module if exports[name] == f"{package}.{name}" else getattr(module, name)
        setattr(importlib.import_module(package), name, value)
        return value

    def __dir__():
        return sorted(exports)

    return __getattr__, __dir__
