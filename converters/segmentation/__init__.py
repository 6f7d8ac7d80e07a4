"""Segmentations (Suite2p, the lab's ROI files) and cross-session cell registration.

Source kinds ``suite2p`` (:class:`Suite2pInterface`), ``lab_rois``
(:class:`LabRoisInterface`) and ``registration`` (:class:`CellRegistrationInterface`).
Interfaces are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "CellRegistrationInterface",
    "LabRoisInterface",
    "Suite2pInterface",
    "match_rois",
    "phase_correlation_shift",
]

_EXPORTS = {
    "Suite2pInterface": "nwbmotor.converters.segmentation.suite2p_interface",
    "LabRoisInterface": "nwbmotor.converters.segmentation.lab_rois_interface",
    "CellRegistrationInterface": "nwbmotor.converters.segmentation.registration_interface",
    "match_rois": "nwbmotor.converters.segmentation._matcher",
    "phase_correlation_shift": "nwbmotor.converters.segmentation._matcher",
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
