"""Writing ROI tables and their traces into an NWBFile, shared by the segmentation interfaces.

Layout (DESIGN.md): ``processing/ophys/ImageSegmentation/<PlaneSegmentation>`` with the
columns a source provides (``cell_type``, ``excluded``, ``input_source``,
``global_id``, ...); traces in ``processing/ophys/Fluorescence`` (``RoiResponseSeries``
= F, ``Neuropil``), ``processing/ophys/DfOverF`` (``RoiResponseSeries``) and
``processing/ophys/Deconvolved`` (a ``Fluorescence`` container holding
``RoiResponseSeries``). A second plane's objects take the plane segmentation's suffix
(``PlaneSegmentationPlane1`` → ``RoiResponseSeriesPlane1``).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters.segmentation._safe_pickle import NpyRows

if TYPE_CHECKING:
    from pynwb import NWBFile
    from pynwb.ophys import PlaneSegmentation

__all__ = [
    "CELL_TYPES",
    "COLUMN_DESCRIPTIONS",
    "add_plane_segmentation",
    "add_roi_series",
    "add_summary_image",
    "ophys_module",
    "read_cell_type_csv",
    "series_suffix",
]

CELL_TYPES = ("excitatory", "inhibitory", "unknown")

COLUMN_DESCRIPTIONS = {
    "cell_type": "Cell class: 'excitatory', 'inhibitory' or 'unknown'.",
    "excluded": "True for an ROI to leave out of analyses (e.g. tagged 'filled': a filled or unhealthy cell).",
    "input_source": "Where the imaged ROI's signal comes from, e.g. the brain area of origin of imaged input axons.",
    "global_id": "Cross-session cell id (same value = same neuron in every session of the subject); -1 when unmatched.",
    "iscell": "Suite2p classifier label: True when the ROI was accepted as a cell.",
    "iscell_probability": "Suite2p classifier probability that the ROI is a cell.",
    "redcell": "Suite2p second-channel (red) label: True when the ROI is red (e.g. tdTomato in GAD-Cre mice).",
    "redcell_probability": "Suite2p probability that the ROI is red.",
    "dff_valid": "False when the dF/F baseline failed (>= 95 % active frames, NaN, or a non-positive baseline).",
    "tags": "Tags of the lab's roilabel file for the ROI, joined by ';'.",
}


def ophys_module(nwbfile: NWBFile):
    """The ``processing/ophys`` module, created if absent."""
    if "ophys" in nwbfile.processing:
        return nwbfile.processing["ophys"]
    return nwbfile.create_processing_module(
        name="ophys", description="Optical physiology: ROIs and their traces."
    )


def series_suffix(plane_segmentation_name: str) -> str:
    """Suffix the traces of a plane segmentation take: '' for 'PlaneSegmentation'."""
    return plane_segmentation_name.replace("PlaneSegmentation", "", 1)


def read_cell_type_csv(path: str | os.PathLike[str], n_rois: int) -> dict[int, str]:
    """Read a (roi, cell_type) CSV; ROIs are 0-based indices into the ROI table.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "types.csv"
    >>> _ = p.write_text("roi,cell_type\\n0,inhibitory\\n2,excitatory\\n")
    >>> read_cell_type_csv(p, 3)
    {0: 'inhibitory', 2: 'excitatory'}
    """
    path = Path(path)
    if not path.is_file():
        raise NwbMotorValueError(f"{path}: no such cell-type CSV")
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        fields = [f.strip().lower() for f in (reader.fieldnames or [])]
        if "roi" not in fields or "cell_type" not in fields:
            raise NwbMotorValueError(f"{path}: columns {fields}; expected 'roi' and 'cell_type'")
        out: dict[int, str] = {}
        for line, row in enumerate(reader, start=2):
            row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k is not None}
            try:
                roi = int(row["roi"])
            except ValueError:
                raise NwbMotorValueError(
                    f"{path}, line {line}: roi {row['roi']!r} is not an integer"
                ) from None
            kind = row["cell_type"].lower()
            if kind not in CELL_TYPES:
                raise NwbMotorValueError(
                    f"{path}, line {line}: cell_type {row['cell_type']!r}; expected one of {CELL_TYPES}"
                )
            if not 0 <= roi < n_rois:
                raise NwbMotorValueError(
                    f"{path}, line {line}: roi {roi} out of range; the ROI table has {n_rois} ROIs (0..{n_rois - 1})"
                )
            if roi in out:
                raise NwbMotorValueError(f"{path}, line {line}: roi {roi} is listed twice")
            out[roi] = kind
    return out


def add_plane_segmentation(
    nwbfile: NWBFile,
    metadata: Mapping[str, Any],
    *,
    name: str,
    description: str,
    imaging_plane_name: str | None = None,
    pixel_masks: Sequence[np.ndarray] | None = None,
    image_masks: np.ndarray | None = None,
    columns: Mapping[str, Any] = {},
) -> PlaneSegmentation:
    """Add a PlaneSegmentation of pixel or image masks with extra per-ROI columns.

    ``columns`` maps column name to a sequence of one value per ROI; descriptions come
    from :data:`COLUMN_DESCRIPTIONS` (or ``(description, values)`` tuples).
    """
    from pynwb.ophys import ImageSegmentation, PlaneSegmentation

    from nwbmotor.converters._ophys import ensure_imaging_plane

    plane = ensure_imaging_plane(nwbfile, metadata, name=imaging_plane_name)
    module = ophys_module(nwbfile)
    if "ImageSegmentation" in module.data_interfaces:
        segmentation = module["ImageSegmentation"]
    else:
        segmentation = ImageSegmentation(name="ImageSegmentation")
        module.add(segmentation)
    if name in segmentation.plane_segmentations:
        raise NwbMotorValueError(
            f"the NWB file already has a plane segmentation named {name!r}; give each source its own "
            "plane_segmentation_name"
        )
    table = PlaneSegmentation(name=name, description=description, imaging_plane=plane)
    if pixel_masks is not None:
        for mask in pixel_masks:
            table.add_roi(
                pixel_mask=[tuple(row) for row in np.asarray(mask, dtype=np.float64).tolist()]
            )
    else:
        for mask in image_masks:
            table.add_roi(image_mask=mask)
    n = len(table)
    for column, value in columns.items():
        desc, values = value if isinstance(value, tuple) else (COLUMN_DESCRIPTIONS[column], value)
        values = list(values)
        if len(values) != n:  # pragma: no cover - a programming error, not user input
            raise AssertionError(f"column {column}: {len(values)} values for {n} ROIs")
        table.add_column(name=column, description=desc, data=values)
    segmentation.add_plane_segmentation(table)
    return table


_BUFFER_GB = 0.05  # traces are written in buffers of at most this size


class _FramesByRois:
    """A lazy (frames, ROIs) view of a (ROIs, frames) array such as a memory map.

    Slicing reads only the selected block of the file; NWB stores traces frames × ROIs
    while Suite2p stores ROIs × frames.
    """

    def __init__(self, array: np.ndarray) -> None:
        self.array = array
        self.shape = (int(array.shape[1]), int(array.shape[0]))
        self.dtype = array.dtype
        self.ndim = 2

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, selection: tuple[slice, slice]) -> np.ndarray:
        frames, rois = selection
        return np.ascontiguousarray(np.asarray(self.array[rois, frames]).T)


def add_roi_series(
    nwbfile: NWBFile,
    table: PlaneSegmentation,
    *,
    container: str,
    container_type: str,
    series_name: str,
    data: np.ndarray,
    unit: str,
    description: str,
    rate: float | None = None,
    starting_time: float = 0.0,
    timestamps: np.ndarray | None = None,
    comments: str | None = None,
) -> Any:
    """Add a RoiResponseSeries (``data`` ROIs × frames, written frames × ROIs) to a trace container."""
    from pynwb.ophys import DfOverF, Fluorescence, RoiResponseSeries

    module = ophys_module(nwbfile)
    if container in module.data_interfaces:
        holder = module[container]
    else:
        holder = {"Fluorescence": Fluorescence, "DfOverF": DfOverF}[container_type](name=container)
        module.add(holder)
    region = table.create_roi_table_region(
        region=list(range(len(table))), description=f"All ROIs of {table.name}."
    )
    kwargs: dict[str, Any] = {"comments": comments} if comments else {}
    if timestamps is not None:
        kwargs["timestamps"] = np.asarray(timestamps, dtype=np.float64)
    else:
        kwargs.update(rate=float(rate), starting_time=float(starting_time))
    if isinstance(data, (np.memmap, NpyRows)):  # stream from disk in buffers, never the whole array
        from neuroconv.tools.hdmf import SliceableDataChunkIterator

        values = SliceableDataChunkIterator(_FramesByRois(data), buffer_gb=_BUFFER_GB)
    else:
        values = np.asarray(data).T
    series = RoiResponseSeries(
        name=series_name,
        data=values,
        rois=region,
        unit=unit,
        description=description,
        **kwargs,
    )
    holder.add_roi_response_series(series)
    return series


def add_summary_image(
    nwbfile: NWBFile, *, name: str, image_name: str, image: np.ndarray, description: str
) -> None:
    """Add a grayscale summary image (e.g. the mean image) to ``processing/ophys/<name>``."""
    from pynwb.base import Images
    from pynwb.image import GrayscaleImage

    module = ophys_module(nwbfile)
    if name in module.data_interfaces:
        images = module[name]
    else:
        images = Images(name=name, description="Summary images of the segmented movie.")
        module.add(images)
    images.add_image(
        GrayscaleImage(
            name=image_name, data=np.asarray(image, dtype=np.float32), description=description
        )
    )
