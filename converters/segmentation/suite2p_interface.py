"""Source kind ``suite2p``: one Suite2p plane folder into NWB ROIs and traces."""

from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import DirectoryPath, FilePath

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters.segmentation._base import SegmentationInterfaceBase
from nwbmotor.converters.segmentation._nwb import (
    add_plane_segmentation,
    add_roi_series,
    add_summary_image,
    series_suffix,
)
from nwbmotor.converters.segmentation._suite2p_reader import read_suite2p_plane

if TYPE_CHECKING:
    from pynwb import NWBFile

__all__ = ["Suite2pInterface"]

_DFF_BLOCK_ROIS = 4  # ROIs per dF/F block: the baseline core holds ~10 float64 copies of a block


class Suite2pInterface(SegmentationInterfaceBase):
    """A Suite2p plane folder → PlaneSegmentation, Fluorescence, DfOverF and Deconvolved.

    ``stat.npy`` and ``ops.npy`` are pickles; they are read with a restricted unpickler
    that builds only plain data, so a hostile file is refused and nothing it asks for
    runs. Written:

    - ``ImageSegmentation/<plane_segmentation_name>``: pixel masks (x, y, weight) from
      ``stat`` as NeuroConv's ``Suite2pSegmentationInterface`` writes them (x = ``ypix``, the
      first image axis; y = ``xpix``; weight = ``lam``), columns ``iscell``, ``iscell_probability``, ``redcell`` and
      ``redcell_probability`` (with ``redcell.npy``), ``cell_type``, ``dff_valid``, and
      ``input_source`` / ``global_id`` when set;
    - ``Fluorescence``: ``RoiResponseSeries`` (F) and ``Neuropil`` (Fneu);
    - ``DfOverF``: ``RoiResponseSeries``, dF/F of the neuropil-corrected F
      (F − coefficient × Fneu) with the baseline of Peters et al. 2014
      (:func:`nwbmotor.methods._dff.dff_from_fluorescence`, the preset and its parameters in
      the series' description and ``comments``);
    - ``Deconvolved``: ``RoiResponseSeries`` (spks);
    - ``SegmentationImages``: Suite2p's mean image.

    ``cell_type`` is 'inhibitory' for red ROIs and 'excitatory' otherwise when
    ``redcell.npy`` exists (GAD-Cre × tdTomato mice), 'unknown' without it; a
    ``cell_types`` CSV (columns ``roi``, ``cell_type``) overrides both.

    Parameters
    ----------
    folder_path : str or PathLike
        The plane folder (``.../suite2p/plane0``).
    frame_rate : float, optional
        Frames per second; default ``ops['fs']``.
    cell_types : str or PathLike, optional
        CSV of (roi, cell_type) with roi the 0-based ROI index.
    input_source : str or list of str, optional
        Value of an ``input_source`` column for every ROI (bouton imaging: e.g.
        'motor thalamus'), or one value per ROI when boutons of several sources share
        the plane.
    neuropil_coefficient : float, optional
        Default ``ops['neucoeff']`` or 0.7.
    dff_preset : str, default "nwbmotor"
    plane_segmentation_name : str, default "PlaneSegmentation"
    imaging_plane_name : str, optional
        The imaging plane (by NWB name) of the ``Ophys.ImagingPlanes`` metadata to use (default the first).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbmotor.testing import write_suite2p_plane, mock_nwbfile, mock_metadata
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "plane0"
    >>> _ = write_suite2p_plane(folder, n_rois=5, n_frames=300, image_shape=(64, 64))
    >>> interface = Suite2pInterface(folder)
    >>> nwbfile = mock_nwbfile()
    >>> interface.add_to_nwbfile(nwbfile, interface.get_metadata())
    >>> len(nwbfile.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"])
    5
    """

    display_name = "Suite2p plane"
    keywords = ("suite2p", "segmentation", "two-photon", "ROI")
    associated_suffixes = (".npy",)
    info = "One Suite2p plane folder: ROI masks, classifier labels, F, neuropil, dF/F and deconvolved traces."

    def __init__(
        self,
        folder_path: DirectoryPath,
        *,
        frame_rate: float | None = None,
        cell_types: FilePath | None = None,
        input_source: str | list[str] | None = None,
        neuropil_coefficient: float | None = None,
        dff_preset: str = "nwbmotor",
        plane_segmentation_name: str = "PlaneSegmentation",
        imaging_plane_name: str | None = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(verbose=verbose, folder_path=folder_path)
        self.plane = read_suite2p_plane(folder_path, frame_rate=frame_rate)
        if self.plane.frame_rate is None:
            raise NwbMotorValueError(
                f"{self.plane.folder / 'ops.npy'}: no frame rate 'fs'; pass frame_rate="
            )
        self.frame_rate = self.plane.frame_rate
        self.image_shape = self.plane.image_shape
        self.mean_image = self.plane.mean_image
        coefficient = (
            neuropil_coefficient
            if neuropil_coefficient is not None
            else self.plane.ops.get("neucoeff", 0.7)
        )
        self.neuropil_coefficient = float(coefficient)
        if not 0 <= self.neuropil_coefficient <= 2:
            raise NwbMotorValueError(
                f"neuropil_coefficient must be between 0 and 2, got {self.neuropil_coefficient}"
            )
        from nwbmotor.methods import DFF_PRESETS

        if dff_preset not in DFF_PRESETS:
            raise NwbMotorValueError(
                f"dff_preset {dff_preset!r}; expected one of {sorted(DFF_PRESETS)}"
            )
        self.dff_preset = dff_preset
        self._scratch_folders: list[str] = []
        self._init_common(
            cell_types=cell_types,
            input_source=input_source,
            plane_segmentation_name=plane_segmentation_name,
            imaging_plane_name=imaging_plane_name,
        )

    def _functional_channel_and_plane(self) -> tuple[int, int | None]:
        """Suite2p's functional channel (``ops['functional_chan']``, 1-based) and plane.

        The plane is the index in the folder's name (Suite2p writes ``plane0``,
        ``plane1``, ...), else ``ops['iplane']``, else unknown.
        """
        ops = self.plane.ops
        channel = int(ops.get("functional_chan", 1)) - 1
        match = re.fullmatch(r"plane(\d+)", self.plane.folder.name)
        if match:
            return channel, int(match.group(1))
        plane = ops.get("iplane")
        return channel, None if plane is None else int(plane)

    def n_rois(self) -> int:
        return self.plane.n_rois

    def _trace_frames(self) -> tuple[str, int]:
        return str(self.plane.folder / "F.npy"), self.plane.n_frames

    def roi_masks(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return [
            (m[:, 0].astype(np.int64), m[:, 1].astype(np.int64)) for m in self.plane.pixel_masks
        ]

    def compute_dff(self, *, out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """dF/F (float32, ROIs × frames) and validity of each ROI, computed in blocks of ROIs.

        ``out`` (e.g. a memory map) receives the dF/F; default a new array.
        """
        from nwbmotor.methods import dff_from_fluorescence

        plane = self.plane
        dff = np.empty((plane.n_rois, plane.n_frames), dtype=np.float32) if out is None else out
        valid = np.zeros(plane.n_rois, dtype=bool)
        for start in range(0, plane.n_rois, _DFF_BLOCK_ROIS):
            stop = min(start + _DFF_BLOCK_ROIS, plane.n_rois)
            corrected = np.asarray(
                plane.F[start:stop], dtype=np.float64
            ) - self.neuropil_coefficient * np.asarray(plane.Fneu[start:stop], dtype=np.float64)
            block, _, ok = dff_from_fluorescence(
                corrected, plane.frame_rate, preset=self.dff_preset
            )
            dff[start:stop] = block
            valid[start:stop] = ok
        return dff, valid

    def _scratch_dff(self) -> np.ndarray:
        """A float32 memory map in a temporary folder, removed once the file is written."""
        import shutil
        import tempfile
        import weakref

        folder = tempfile.mkdtemp(prefix="nwbmotor-dff-")
        self._scratch_folders.append(folder)
        weakref.finalize(self, shutil.rmtree, folder, True)
        return np.lib.format.open_memmap(
            f"{folder}/dff.npy",
            mode="w+",
            dtype=np.float32,
            shape=(self.plane.n_rois, self.plane.n_frames),
        )

    def finalize_nwbfile(self, nwbfile_path: os.PathLike[str] | str, backend: str) -> None:
        """The file is written: remove the scratch dF/F."""
        import shutil

        while self._scratch_folders:
            shutil.rmtree(self._scratch_folders.pop(), ignore_errors=True)

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None) -> None:
        from nwbmotor.methods import DFF_PRESETS

        metadata = self.get_metadata() if metadata is None else metadata
        plane = self.plane
        dff, valid = self.compute_dff(out=self._scratch_dff())
        columns: dict[str, Any] = {
            "iscell": plane.iscell[:, 0] > 0.5,
            "iscell_probability": plane.iscell[:, 1],
        }
        if plane.redcell is not None:
            red = plane.redcell[:, 0] > 0.5
            columns["redcell"] = red
            columns["redcell_probability"] = plane.redcell[:, 1]
            default = np.where(red, "inhibitory", "excitatory")
        else:
            default = np.full(plane.n_rois, "unknown")
        columns["cell_type"] = self._cell_types(default)
        columns["dff_valid"] = valid
        columns.update(self._common_columns(metadata))
        table = add_plane_segmentation(
            nwbfile,
            self.plane_metadata(metadata),
            name=self.plane_segmentation_name,
            description=f"ROIs segmented by Suite2p ({plane.folder.name} of {plane.folder.parent})."
            + self._clock_note(nwbfile),
            imaging_plane_name=self.imaging_plane_name,
            pixel_masks=plane.pixel_masks,
            columns=columns,
        )
        suffix = series_suffix(self.plane_segmentation_name)
        timing = self._timing()
        add_roi_series(
            nwbfile,
            table,
            container="Fluorescence",
            container_type="Fluorescence",
            series_name=f"RoiResponseSeries{suffix}",
            data=plane.F,
            **timing,
            unit="a.u.",
            description="Raw fluorescence of each ROI (Suite2p F.npy).",
        )
        add_roi_series(
            nwbfile,
            table,
            container="Fluorescence",
            container_type="Fluorescence",
            series_name=f"Neuropil{suffix}",
            data=plane.Fneu,
            **timing,
            unit="a.u.",
            description="Neuropil fluorescence around each ROI (Suite2p Fneu.npy).",
        )
        parameters = {
            "preset": self.dff_preset,
            **DFF_PRESETS[self.dff_preset],
            "neuropil_coefficient": self.neuropil_coefficient,
        }
        add_roi_series(
            nwbfile,
            table,
            container="DfOverF",
            container_type="DfOverF",
            series_name=f"RoiResponseSeries{suffix}",
            data=dff,
            **timing,
            unit="n.a.",
            description=(
                f"dF/F = (F - B)/B of the neuropil-corrected fluorescence F - {self.neuropil_coefficient:g} * Fneu; "
                f"baseline B by the iterative method of Peters et al. 2014 (nwbmotor preset '{self.dff_preset}': "
                "1-min moving baseline, loess-smoothed residual, Gaussian mode, frames above mode + 2 sd padded by "
                "2.5 s excluded). Invalid ROIs: column dff_valid."
            ),
            comments=json.dumps({"dff_baseline": parameters}),
        )
        add_roi_series(
            nwbfile,
            table,
            container="Deconvolved",
            container_type="Fluorescence",
            series_name=f"RoiResponseSeries{suffix}",
            data=plane.spks,
            **timing,
            unit="a.u.",
            description="Deconvolved activity of each ROI (Suite2p spks.npy).",
        )
        if self.mean_image is not None:
            add_summary_image(
                nwbfile,
                name="SegmentationImages",
                image_name=f"mean{suffix}",
                image=self.mean_image,
                description="Mean image of the registered movie (Suite2p ops['meanImg']).",
            )
        self._after_table(nwbfile, table, metadata)
