"""What the segmentation interfaces share: cell types, input source, registration hook, metadata."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from neuroconv import BaseDataInterface

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters.segmentation._nwb import read_cell_type_csv

if TYPE_CHECKING:
    from pynwb import NWBFile
    from pynwb.ophys import PlaneSegmentation

__all__ = ["SegmentationInterfaceBase"]


class SegmentationInterfaceBase(BaseDataInterface):
    """Base of :class:`Suite2pInterface` and :class:`LabRoisInterface` (not a source kind).

    Subclasses set ``self.image_shape``, ``self.frame_rate``, and implement
    :meth:`roi_masks`, :meth:`n_rois` and ``_add(nwbfile, metadata, global_ids)``.
    A :class:`CellRegistrationInterface` of the same session attaches itself in its
    ``link_session``; the ROI table then gets a ``global_id`` column and the registration
    record is written beside it.
    """

    image_shape: tuple[int, int]
    frame_rate: float | None
    mean_image: np.ndarray | None = None

    def _init_common(
        self,
        *,
        cell_types: str | os.PathLike[str] | None,
        input_source: str | None,
        plane_segmentation_name: str,
        imaging_plane_name: str | None,
    ) -> None:
        if input_source is not None and (
            not isinstance(input_source, str) or not input_source.strip()
        ):
            raise NwbMotorValueError(
                f"input_source must be a non-empty string (e.g. 'motor thalamus'), got {input_source!r}"
            )
        if not plane_segmentation_name.startswith("PlaneSegmentation"):
            raise NwbMotorValueError(
                f"plane_segmentation_name {plane_segmentation_name!r} must start with 'PlaneSegmentation' "
                "(e.g. 'PlaneSegmentationPlane1')"
            )
        self.input_source = input_source
        self.plane_segmentation_name = plane_segmentation_name
        self.imaging_plane_name = imaging_plane_name
        self._cell_type_overrides = (
            {} if cell_types is None else read_cell_type_csv(cell_types, self.n_rois())
        )
        self._registration = None

    # ---- what other interfaces of the session may ask
    def n_rois(self) -> int:
        raise NotImplementedError

    def roi_masks(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Pixel indices ``(ypix, xpix)`` of each ROI, 0-based, in the movie's grid."""
        raise NotImplementedError

    def attach_registration(self, registration: Any) -> None:
        """Called by a registration interface of the same session."""
        if self._registration is not None and self._registration is not registration:
            raise NwbMotorValueError(
                "a session can hold only one 'registration' source per ROI table"
            )
        self._registration = registration

    # ---- NeuroConv
    def get_metadata(self):
        """Base metadata only: the imaging plane is the movie's (see :meth:`plane_metadata`).

        Contributing an ``Ophys`` section here would let this interface's defaults
        override what the movie's interface (or the header it read) says, depending on
        the order of the sources.
        """
        return super().get_metadata()

    def plane_metadata(self, metadata: Mapping[str, Any]) -> Mapping[str, Any]:
        """``metadata`` if it describes an imaging plane, else it plus a default one for this image size."""
        if (metadata.get("Ophys") or {}).get("ImagingPlane"):
            return metadata
        from nwbmotor.converters._ophys import ophys_metadata

        ophys = ophys_metadata(image_shape=self.image_shape, imaging_rate=self.frame_rate)["Ophys"]
        ophys.pop("TwoPhotonSeries")
        return {**metadata, "Ophys": {**(metadata.get("Ophys") or {}), **ophys}}

    def _cell_types(self, default: np.ndarray) -> np.ndarray:
        types = np.asarray(default, dtype=object).copy()
        for roi, kind in self._cell_type_overrides.items():
            types[roi] = kind
        return types

    def _common_columns(self, metadata: Mapping[str, Any]) -> dict[str, Any]:
        columns: dict[str, Any] = {}
        if self.input_source is not None:
            columns["input_source"] = [self.input_source] * self.n_rois()
        if self._registration is not None:
            columns["global_id"] = self._registration.global_ids(self, metadata)
        return columns

    def _after_table(
        self, nwbfile: NWBFile, table: PlaneSegmentation, metadata: Mapping[str, Any]
    ) -> None:
        if self._registration is not None:
            self._registration.add_record(nwbfile, table, self, metadata)
