"""Source kind ``lab_rois``: the lab's MATLAB ROI polygons, ROI labels and dF/F into NWB."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import FilePath

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters.segmentation._base import SegmentationInterfaceBase
from nwbmotor.converters.segmentation._lab_roi_reader import (
    polygon_to_mask,
    read_roi_dff,
    read_roi_labels,
    read_roi_polygons,
)
from nwbmotor.converters.segmentation._nwb import (
    add_plane_segmentation,
    add_roi_series,
    series_suffix,
)

if TYPE_CHECKING:
    from pynwb import NWBFile

__all__ = ["LabRoisInterface"]


class LabRoisInterface(SegmentationInterfaceBase):
    """The lab's ``.roi`` polygons → image masks; ``.roilabel`` tags → ``cell_type``/``excluded``; dF/F.

    Written:

    - ``ImageSegmentation/<plane_segmentation_name>``: one image mask per polygon at
      the movie's size (a pixel is in the ROI when its centre is inside the polygon,
      as MATLAB's ``poly2mask``), a ``background_image_mask`` column from
      ``polygon.bgROI`` when present, and columns ``cell_type`` ('inhibitory' for
      ROIs tagged ``'gad'``, else 'excitatory'; 'unknown' without a label file),
      ``excluded`` (tagged ``'filled'``), ``tags`` (every tag, ';'-joined), plus
      ``input_source`` and ``global_id`` when set;
    - ``DfOverF/RoiResponseSeries<suffix>``: the lab's ``im.roi_trace_df`` when
      ``dff_path`` is given.

    Parameters
    ----------
    file_path : str or PathLike
        The ``<name>.roi`` MAT-file.
    labels_path : str or PathLike, optional
        The ``<name>_roilabels.roilabel`` MAT-file; default: that file beside
        ``file_path`` if it exists.
    dff_path : str or PathLike, optional
        MAT-file holding ``im.roi_trace_df`` (ROIs × frames).
    image_shape : (height, width), default (512, 512)
        Size of the movie the polygons were drawn on.
    frame_rate : float, optional
        Frames per second of the dF/F; required with ``dff_path``.
    cell_types : str or PathLike, optional
        CSV of (roi, cell_type) overriding the labels (0-based ROI index).
    input_source : str or list of str, optional
        Value of an ``input_source`` column for every ROI (e.g. 'contralateral M1'),
        or one value per ROI when boutons of several sources share the plane.
    plane_segmentation_name : str, default "PlaneSegmentation"
    imaging_plane_name : str, optional

    Examples
    --------
    >>> import tempfile
    >>> from nwbmotor.testing import write_lab_roi_session, mock_nwbfile
    >>> out = write_lab_roi_session(tempfile.mkdtemp(), n_rois=4, n_frames=50, image_shape=(64, 64))
    >>> interface = LabRoisInterface(out["roi_path"], image_shape=(64, 64), dff_path=out["dff_path"], frame_rate=28.0)
    >>> nwbfile = mock_nwbfile()
    >>> interface.add_to_nwbfile(nwbfile, interface.get_metadata())
    >>> nwbfile.processing["ophys"]["DfOverF"]["RoiResponseSeries"].data.shape
    (50, 4)
    """

    display_name = "Lab ROI files"
    keywords = ("ROI", "polygon", "segmentation", "MATLAB")
    associated_suffixes = (".roi", ".roilabel", ".mat")
    info = (
        "The lab's MATLAB ROI polygons (.roi), ROI tags (.roilabel) and ROI dF/F (im.roi_trace_df)."
    )

    def __init__(
        self,
        file_path: FilePath,
        *,
        labels_path: FilePath | None = None,
        dff_path: FilePath | None = None,
        image_shape: tuple[int, int] = (512, 512),
        frame_rate: float | None = None,
        cell_types: FilePath | None = None,
        input_source: str | list[str] | None = None,
        plane_segmentation_name: str = "PlaneSegmentation",
        imaging_plane_name: str | None = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(verbose=verbose, file_path=file_path)
        path = Path(file_path)
        try:
            shape = tuple(int(v) for v in image_shape)
        except (TypeError, ValueError):
            shape = ()
        if len(shape) != 2 or min(shape) <= 0:
            raise NwbMotorValueError(
                f"image_shape must be (height, width) in pixels, got {image_shape!r}"
            )
        self.image_shape = shape
        self.file_path = path
        self.polygons, self.background = read_roi_polygons(path, image_shape=shape)
        if labels_path is None:
            sibling = path.with_name(f"{path.stem}_roilabels.roilabel")
            labels_path = sibling if sibling.is_file() else None
        self.labels_path = None if labels_path is None else Path(labels_path)
        self.labels = None
        if self.labels_path is not None:
            self.labels = read_roi_labels(self.labels_path)
            if len(self.labels) != len(self.polygons):
                raise NwbMotorValueError(
                    f"{self.labels_path}: roi_labels has {len(self.labels)} entries, {path} has "
                    f"{len(self.polygons)} ROIs; expected one label cell per ROI (is it the label file of this ROI file?)"
                )
        self.dff = None
        self.dff_path = None if dff_path is None else Path(dff_path)
        if self.dff_path is not None:
            self.dff = read_roi_dff(self.dff_path)
            if self.dff.shape[0] != len(self.polygons):
                raise NwbMotorValueError(
                    f"{self.dff_path}: im.roi_trace_df has {self.dff.shape[0]} ROIs, {path} has {len(self.polygons)}; "
                    "expected one row per ROI"
                )
        if frame_rate is not None and not (np.isfinite(frame_rate) and frame_rate > 0):
            raise NwbMotorValueError(
                f"frame_rate must be > 0 frames per second, got {frame_rate!r}"
            )
        self.frame_rate = None if frame_rate is None else float(frame_rate)
        self._masks = None
        self._init_common(
            cell_types=cell_types,
            input_source=input_source,
            plane_segmentation_name=plane_segmentation_name,
            imaging_plane_name=imaging_plane_name,
        )

    def n_rois(self) -> int:
        return len(self.polygons)

    def _trace_frames(self) -> tuple[str, int] | None:
        return None if self.dff is None else (str(self.dff_path), int(self.dff.shape[1]))

    def image_masks(self) -> np.ndarray:
        """Boolean masks (n_rois, height, width) of the polygons."""
        if self._masks is None:
            self._masks = (
                np.stack([polygon_to_mask(p, self.image_shape) for p in self.polygons])
                if self.polygons
                else (np.zeros((0, *self.image_shape), dtype=bool))
            )
            empty = np.flatnonzero(~self._masks.reshape(len(self.polygons), -1).any(axis=1))
            if empty.size:
                raise NwbMotorValueError(
                    f"{self.file_path}: polygon.ROI{{{empty[0] + 1}}} covers no pixel centre; expected an ROI of at least one pixel"
                )
        return self._masks

    def roi_masks(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [tuple(np.nonzero(m)) for m in self.image_masks()]

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None) -> None:
        metadata = self.get_metadata() if metadata is None else metadata
        n = self.n_rois()
        columns: dict = {}
        if self.background is not None:
            bg = np.stack([polygon_to_mask(p, self.image_shape) for p in self.background]).astype(
                np.uint8
            )
            columns["background_image_mask"] = (
                "Background (neuropil) region of each ROI from polygon.bgROI, at the movie's size (1 = inside).",
                list(bg),
            )
        if self.labels is not None:
            default = np.array(
                ["inhibitory" if "gad" in tags else "excitatory" for tags in self.labels]
            )
            columns["excluded"] = np.array(["filled" in tags for tags in self.labels])
            columns["tags"] = [";".join(tags) for tags in self.labels]
        else:
            default = np.full(n, "unknown")
            columns["excluded"] = np.zeros(n, dtype=bool)
        columns["cell_type"] = self._cell_types(default)
        columns.update(self._common_columns(metadata))
        source = f"{self.file_path.name}" + (
            f" and {self.labels_path.name}" if self.labels_path else ""
        )
        table = add_plane_segmentation(
            nwbfile,
            self.plane_metadata(metadata),
            name=self.plane_segmentation_name,
            description=f"ROIs drawn as polygons in the lab's ROI tool ({source}), rasterised at pixel centres."
            + self._clock_note(nwbfile),
            imaging_plane_name=self.imaging_plane_name,
            image_masks=self.image_masks().astype(np.uint8),
            columns=columns,
        )
        if self.dff is not None:
            add_roi_series(
                nwbfile,
                table,
                container="DfOverF",
                container_type="DfOverF",
                series_name=f"RoiResponseSeries{series_suffix(self.plane_segmentation_name)}",
                data=self.dff,
                **self._timing(),
                unit="n.a.",
                description=f"dF/F of each ROI as computed by the lab's MATLAB pipeline (im.roi_trace_df of {self.dff_path.name}).",
            )
        self._after_table(nwbfile, table, metadata)
