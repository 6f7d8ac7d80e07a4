"""Dendritic spine scoring tables (source kind ``spines``): :class:`SpineScoringInterface`."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["SpineScoringInterface", "read_spine_table"]

_EXPORTS = {
    "SpineScoringInterface": "nwbmotor.converters.spines.spines_interface",
    "read_spine_table": "nwbmotor.converters.spines._spines_reader",
}


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
