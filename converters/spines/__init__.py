"""Dendritic spine scoring tables (source kind ``spines``): :class:`SpineScoringInterface`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nwbmotor._lazy import attach

if TYPE_CHECKING:
    from nwbmotor.converters.spines._spines_reader import (
        SPINE_COLUMNS,
        read_spine_table,
    )
    from nwbmotor.converters.spines.spines_interface import (
        SpineScoringInterface,
    )

__all__: list[str]
__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "SPINE_COLUMNS": "nwbmotor.converters.spines._spines_reader",
        "SpineScoringInterface": "nwbmotor.converters.spines.spines_interface",
        "read_spine_table": "nwbmotor.converters.spines._spines_reader",
    },
)
