"""Types for the model part of ndx-motor-learning (filled in by its issue)."""

from __future__ import annotations

CORE_TYPES: tuple[str, ...] = ()


def data_types() -> list:
    return []
