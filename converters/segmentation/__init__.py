"""Segmentations (Suite2p, the lab's ROI files) and cross-session cell registration.

Source kinds ``suite2p`` (:class:`Suite2pInterface`), ``lab_rois``
(:class:`LabRoisInterface`) and ``registration`` (:class:`CellRegistrationInterface`).
Interfaces are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nwbmotor._lazy import attach

if TYPE_CHECKING:
    from nwbmotor.converters.segmentation._matcher import (
        match_rois,
        phase_correlation_shift,
    )
    from nwbmotor.converters.segmentation.lab_rois_interface import (
        LabRoisInterface,
    )
    from nwbmotor.converters.segmentation.registration_interface import (
        CellRegistrationInterface,
    )
    from nwbmotor.converters.segmentation.suite2p_interface import (
        Suite2pInterface,
    )

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Suite2pInterface": "nwbmotor.converters.segmentation.suite2p_interface",
        "LabRoisInterface": "nwbmotor.converters.segmentation.lab_rois_interface",
        "CellRegistrationInterface": "nwbmotor.converters.segmentation.registration_interface",
        "match_rois": "nwbmotor.converters.segmentation._matcher",
        "phase_correlation_shift": "nwbmotor.converters.segmentation._matcher",
    },
)
