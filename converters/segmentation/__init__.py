"""Segmentations (Suite2p, the lab's ROI files) and cross-session cell registration.

Source kinds ``suite2p`` (:class:`Suite2pInterface`), ``lab_rois``
(:class:`LabRoisInterface`) and ``registration`` (:class:`CellRegistrationInterface`).
Interfaces are imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nwbmotor._lazy import attach

if TYPE_CHECKING:
    from nwbmotor.converters.segmentation._lab_roi_reader import (
        CELL_TAGS,
        polygon_to_mask,
        read_roi_dff,
        read_roi_labels,
        read_roi_polygons,
    )
    from nwbmotor.converters.segmentation._matcher import (
        MatchResult,
        masks_image,
        match_rois,
        phase_correlation_shift,
    )
    from nwbmotor.converters.segmentation._safe_pickle import (
        UnsafePickleError,
        load_npy,
        restricted_loads,
    )
    from nwbmotor.converters.segmentation._suite2p_reader import (
        REQUIRED_FILES,
        Suite2pPlane,
        read_suite2p_plane,
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

__all__: list[str]
__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "CELL_TAGS": "nwbmotor.converters.segmentation._lab_roi_reader",
        "CellRegistrationInterface": "nwbmotor.converters.segmentation.registration_interface",
        "LabRoisInterface": "nwbmotor.converters.segmentation.lab_rois_interface",
        "MatchResult": "nwbmotor.converters.segmentation._matcher",
        "REQUIRED_FILES": "nwbmotor.converters.segmentation._suite2p_reader",
        "Suite2pInterface": "nwbmotor.converters.segmentation.suite2p_interface",
        "Suite2pPlane": "nwbmotor.converters.segmentation._suite2p_reader",
        "UnsafePickleError": "nwbmotor.converters.segmentation._safe_pickle",
        "load_npy": "nwbmotor.converters.segmentation._safe_pickle",
        "masks_image": "nwbmotor.converters.segmentation._matcher",
        "match_rois": "nwbmotor.converters.segmentation._matcher",
        "phase_correlation_shift": "nwbmotor.converters.segmentation._matcher",
        "polygon_to_mask": "nwbmotor.converters.segmentation._lab_roi_reader",
        "read_roi_dff": "nwbmotor.converters.segmentation._lab_roi_reader",
        "read_roi_labels": "nwbmotor.converters.segmentation._lab_roi_reader",
        "read_roi_polygons": "nwbmotor.converters.segmentation._lab_roi_reader",
        "read_suite2p_plane": "nwbmotor.converters.segmentation._suite2p_reader",
        "restricted_loads": "nwbmotor.converters.segmentation._safe_pickle",
    },
)
