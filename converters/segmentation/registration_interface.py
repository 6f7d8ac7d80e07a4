"""Source kind ``registration``: which ROI of this session is which neuron across sessions."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from neuroconv import BaseDataInterface
from pydantic import DirectoryPath, FilePath

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters.segmentation._nwb import ophys_module, series_suffix

if TYPE_CHECKING:
    from pynwb import NWBFile
    from pynwb.ophys import PlaneSegmentation

__all__ = ["CellRegistrationInterface"]

Method = Literal["reused_polygons", "table", "matcher"]
_SEGMENTATION_KINDS = ("suite2p", "lab_rois")


@dataclasses.dataclass
class _Registration:
    global_id: np.ndarray
    match_quality: np.ndarray
    reference_roi: np.ndarray
    centroid_distance: np.ndarray
    parameters: dict[str, Any]


class CellRegistrationInterface(BaseDataInterface):
    """Cross-session identity of a session's ROIs: a ``global_id`` column and a ``CellRegistration``.

    The interface does not hold ROIs itself: it attaches to the session's ``suite2p``
    or ``lab_rois`` source (in ``link_session``), whose ROI table then gets a
    ``global_id`` column, and writes an ndx-motor-learning ``CellRegistration`` beside
    it (``processing/ophys/CellRegistration<suffix>``: one row per ROI with a region
    into the PlaneSegmentation, ``global_id``, ``match_quality``, ``reference_roi``,
    ``centroid_distance``; attributes ``method``, ``reference_session``, ``source``,
    ``parameters``).

    Three methods, chosen by ``method`` or by the path given:

    ``"reused_polygons"`` (a ``.roi`` file)
        Every session of the mouse uses this same polygon file after registration, so
        ROI *i* is cell *i*. The session's ``lab_rois`` source must hold the same
        polygons (checked).
    ``"table"`` (a ``.csv`` file)
        Rows ``session, roi, cell``: the cell id of each (session, roi). This session's
        rows are found by ``session`` (default: the session id in the metadata); ROIs not
        listed get ``global_id`` -1.
    ``"matcher"`` (``folder_path``: a Suite2p plane folder; or a ``.roi`` file with ``method="matcher"``)
        The *reference session's* segmentation. Its masks and this session's are
        aligned rigidly (phase correlation of the mean images; of the masks when either
        has no mean image) and matched one-to-one by mask overlap
        (:func:`~nwbmotor.converters.segmentation.match_rois`). ``global_id`` of a
        matched ROI is the index of its reference ROI (so in the reference session
        itself ``global_id`` = ROI index); unmatched ROIs get -1. Convert each session
        of the mouse with the same reference.

    Parameters
    ----------
    file_path : str or PathLike, optional
        The polygon file or the registration CSV (or, with ``method="matcher"``, the
        reference session's ``.roi`` file).
    folder_path : str or PathLike, optional
        The reference session's Suite2p plane folder, for the matcher.
    method : {"reused_polygons", "table", "matcher"}, optional
        Default from the path (folder → matcher, ``.csv`` → table, ``.roi`` →
        reused_polygons).
    session : str, optional
        This session's name in the table (default ``metadata["NWBFile"]["session_id"]``).
    reference_session : str, optional
        Name of the reference session, recorded in the file (and, for a table, used to
        fill ``reference_roi``).
    segmentation : {"suite2p", "lab_rois"}, optional
        Which source of the session to register when it has both.
    max_distance : float, default 6.0
        Matcher: largest aligned centroid distance of a match, in pixels.
    min_iou : float, default 0.2
        Matcher: smallest mask overlap (intersection over union) of a match.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbmotor.testing import write_suite2p_plane, write_registration_table, mock_nwbfile
    >>> from nwbmotor.converters.segmentation import Suite2pInterface
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_suite2p_plane(tmp / "plane0", n_rois=3, n_frames=300, image_shape=(64, 64))
    >>> table = write_registration_table(tmp / "reg.csv", {"day01": [5, 9, 2]})
    >>> seg, reg = Suite2pInterface(tmp / "plane0"), CellRegistrationInterface(table, session="day01")
    >>> reg.link_session({"suite2p": seg, "registration": reg})
    >>> nwbfile = mock_nwbfile()
    >>> seg.add_to_nwbfile(nwbfile, seg.get_metadata())
    >>> [int(v) for v in nwbfile.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]["global_id"].data]
    [5, 9, 2]
    """

    display_name = "Cross-session cell registration"
    keywords = ("registration", "longitudinal", "ROI matching")
    associated_suffixes = (".csv", ".roi")
    info = "Which ROI is the same neuron across sessions: reused polygons, a (session, roi) -> cell table, or a matcher."

    def __init__(
        self,
        file_path: FilePath | None = None,
        *,
        folder_path: DirectoryPath | None = None,
        method: Method | None = None,
        session: str | None = None,
        reference_session: str | None = None,
        segmentation: Literal["suite2p", "lab_rois"] | None = None,
        max_distance: float = 6.0,
        min_iou: float = 0.2,
        verbose: bool = False,
    ) -> None:
        if (file_path is None) == (folder_path is None):
            raise NwbMotorValueError(
                "registration: give exactly one of file_path (a .csv table or .roi polygon file) and folder_path "
                f"(the reference session's Suite2p plane folder); got file_path={file_path!r}, folder_path={folder_path!r}"
            )
        super().__init__(verbose=verbose, file_path=file_path, folder_path=folder_path)
        path = Path(file_path if file_path is not None else folder_path)
        if not path.exists():
            raise NwbMotorValueError(f"{path}: no such registration file or reference folder")
        if method is None:
            method = (
                "matcher"
                if path.is_dir()
                else {".csv": "table", ".roi": "reused_polygons"}.get(path.suffix.lower())
            )
            if method is None:
                raise NwbMotorValueError(
                    f"{path}: cannot tell the registration method from the file; expected a .csv table, a .roi "
                    "polygon file or a Suite2p plane folder, or pass method="
                )
        if method not in ("reused_polygons", "table", "matcher"):
            raise NwbMotorValueError(
                f"method {method!r}; expected 'reused_polygons', 'table' or 'matcher'"
            )
        if segmentation is not None and segmentation not in _SEGMENTATION_KINDS:
            raise NwbMotorValueError(
                f"segmentation {segmentation!r}; expected one of {_SEGMENTATION_KINDS}"
            )
        self.path, self.method, self.session = path, method, session
        self.reference_session = reference_session
        self.segmentation_kind = segmentation
        self.max_distance, self.min_iou = float(max_distance), float(min_iou)
        self._table = None
        if method == "table":
            from nwbmotor.converters.segmentation._registration_table import read_registration_table

            self._table = read_registration_table(path)
        elif method == "reused_polygons" and path.suffix.lower() != ".roi":
            raise NwbMotorValueError(
                f"{path}: method 'reused_polygons' needs the lab's .roi polygon file"
            )
        elif method == "matcher" and not (path.is_dir() or path.suffix.lower() == ".roi"):
            raise NwbMotorValueError(
                f"{path}: the matcher's reference must be a Suite2p plane folder or a .roi file"
            )
        self._segmentation = None
        self._result: _Registration | None = None
        self._written: set[str] = set()

    # ---- session hooks
    def link_session(self, interfaces: Mapping[str, BaseDataInterface]) -> None:
        """Attach to the session's ``suite2p`` or ``lab_rois`` source."""
        if self.segmentation_kind:
            kinds = [self.segmentation_kind] if self.segmentation_kind in interfaces else []
        else:  # by what they provide: a ROI table this interface can attach to
            kinds = [k for k, i in interfaces.items()
                     if "rois" in getattr(i, "provides", ()) and hasattr(i, "attach_registration")]
        if not kinds:
            raise NwbMotorValueError(
                f"{self.path}: a 'registration' source needs a 'suite2p' or 'lab_rois' source in the same session "
                f"(found {sorted(interfaces)})"
            )
        if len(kinds) > 1:
            raise NwbMotorValueError(
                f"{self.path}: the session has several ROI tables ({', '.join(kinds)}); pass segmentation= to say "
                "which to register"
            )
        self._segmentation = interfaces[kinds[0]]
        self._segmentation.attach_registration(self)

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None) -> None:
        """Nothing of its own: the record is written with the linked ROI table."""
        if self._segmentation is None:
            raise NwbMotorValueError(
                f"{self.path}: the registration is not linked to a ROI table; convert it in a session with a "
                "'suite2p' or 'lab_rois' source (or call link_session)"
            )

    # ---- called by the ROI table's interface
    def global_ids(self, segmentation: Any, metadata: Mapping[str, Any]) -> np.ndarray:
        """The ``global_id`` of each ROI of ``segmentation``."""
        return self._compute(segmentation, metadata).global_id

    def add_record(
        self,
        nwbfile: NWBFile,
        table: PlaneSegmentation,
        segmentation: Any,
        metadata: Mapping[str, Any],
    ) -> None:
        """Write the ``CellRegistration`` of ``table`` into ``processing/ophys``."""
        from hdmf.common import DynamicTableRegion, VectorData

        from nwbmotor.extensions import CellRegistration

        if table.name in self._written:
            return
        result = self._compute(segmentation, metadata)
        n = len(table)
        columns = [
            DynamicTableRegion(
                name="roi",
                data=list(range(n)),
                table=table,
                description=f"The ROI of {table.name} the row describes.",
            ),
            VectorData(
                name="global_id",
                data=result.global_id,
                description="Cross-session cell id; -1 when unmatched.",
            ),
            VectorData(
                name="match_quality",
                data=result.match_quality,
                description="Quality of the match, 0 (none) to 1.",
            ),
            VectorData(
                name="reference_roi",
                data=result.reference_roi,
                description="Matched ROI of the reference session; -1 if none.",
            ),
            VectorData(
                name="centroid_distance",
                data=result.centroid_distance,
                description="Aligned centroid distance to the matched reference ROI, in pixels (NaN when unmatched).",
            ),
        ]
        record = CellRegistration(
            name="CellRegistration" + series_suffix(table.name),
            description=f"Cross-session identity of the ROIs of {table.name}, method '{self.method}'.",
            method=self.method,
            reference_session=self.reference_session or "",
            source=str(self.path),
            parameters=json.dumps(result.parameters),
            id=list(range(n)),
            columns=columns,
        )
        ophys_module(nwbfile).add(record)
        self._written.add(table.name)

    # ---- the three methods
    def _compute(self, segmentation: Any, metadata: Mapping[str, Any]) -> _Registration:
        if self._result is None:
            compute = {
                "table": self._from_table,
                "reused_polygons": self._from_polygons,
                "matcher": self._from_matcher,
            }
            self._result = compute[self.method](segmentation, metadata)
        return self._result

    def _from_table(self, segmentation: Any, metadata: Mapping[str, Any]) -> _Registration:
        session = self.session or (metadata.get("NWBFile") or {}).get("session_id")
        if not session:
            raise NwbMotorValueError(
                f"{self.path}: which session of the table is this? pass session= (no session_id in the metadata)"
            )
        if session not in self._table:
            raise NwbMotorValueError(
                f"{self.path}: no rows for session {session!r}; the table has sessions {sorted(self._table)}"
            )
        rows = self._table[session]
        n = segmentation.n_rois()
        too_big = [roi for roi in rows if roi >= n]
        if too_big:
            raise NwbMotorValueError(
                f"{self.path}: session {session!r} lists roi {max(too_big)}, but its ROI table has {n} ROIs (0..{n - 1})"
            )
        global_id = np.array([rows.get(i, -1) for i in range(n)], dtype=np.int64)
        reference_roi = np.full(n, -1, dtype=np.int64)
        if self.reference_session and self.reference_session in self._table:
            roi_of_cell = {cell: roi for roi, cell in self._table[self.reference_session].items()}
            reference_roi = np.array(
                [roi_of_cell.get(c, -1) if c >= 0 else -1 for c in global_id], dtype=np.int64
            )
        listed = global_id >= 0
        return _Registration(
            global_id,
            listed.astype(float),
            reference_roi,
            np.full(n, np.nan),
            {"session": session, "n_listed": int(listed.sum())},
        )

    def _from_polygons(self, segmentation: Any, metadata: Mapping[str, Any]) -> _Registration:
        from nwbmotor.converters.segmentation._lab_roi_reader import read_roi_polygons

        polygons = getattr(segmentation, "polygons", None)
        if polygons is None:
            raise NwbMotorValueError(
                f"{self.path}: method 'reused_polygons' registers a 'lab_rois' source; this session's ROIs come from "
                "elsewhere (use a table or the matcher)"
            )
        reference, _ = read_roi_polygons(self.path, image_shape=segmentation.image_shape)
        if len(reference) != len(polygons):
            raise NwbMotorValueError(
                f"{segmentation.file_path}: has {len(polygons)} ROIs, the registration polygon file {self.path} has "
                f"{len(reference)}; a reused polygon file must be the same in every session"
            )
        for i, (a, b) in enumerate(zip(reference, polygons)):
            if a.shape != b.shape or not np.allclose(a, b):
                raise NwbMotorValueError(
                    f"{segmentation.file_path}: polygon.ROI{{{i + 1}}} differs from that of the registration polygon file "
                    f"{self.path}; a reused polygon file must be the same in every session"
                )
        n = len(polygons)
        ids = np.arange(n, dtype=np.int64)
        return _Registration(ids, np.ones(n), ids.copy(), np.zeros(n), {"same_file": True})

    def _reference(self, image_shape: tuple[int, int]) -> tuple[list, np.ndarray | None]:
        if self.path.is_dir():
            from nwbmotor.converters.segmentation._suite2p_reader import read_suite2p_plane

            plane = read_suite2p_plane(self.path, check_traces=False)
            if plane.image_shape != tuple(image_shape):
                raise NwbMotorValueError(
                    f"{self.path}: the reference image is {plane.image_shape}, this session's is {tuple(image_shape)}; "
                    "the matcher needs sessions of the same field and size"
                )
            return [
                (m[:, 0].astype(np.int64), m[:, 1].astype(np.int64)) for m in plane.pixel_masks
            ], plane.mean_image
        from nwbmotor.converters.segmentation._lab_roi_reader import (
            polygon_to_mask,
            read_roi_polygons,
        )

        polygons, _ = read_roi_polygons(self.path, image_shape=image_shape)
        return [tuple(np.nonzero(polygon_to_mask(p, image_shape))) for p in polygons], None

    def _from_matcher(self, segmentation: Any, metadata: Mapping[str, Any]) -> _Registration:
        from nwbmotor.converters.segmentation._matcher import match_rois

        image_shape = tuple(segmentation.image_shape)
        reference_masks, reference_image = self._reference(image_shape)
        image = getattr(segmentation, "mean_image", None)
        use_images = reference_image is not None and image is not None
        result = match_rois(
            reference_masks,
            segmentation.roi_masks(),
            image_shape,
            reference_image=reference_image if use_images else None,
            image=image if use_images else None,
            max_distance=self.max_distance,
            min_iou=self.min_iou,
        )
        parameters = {
            "alignment": "phase correlation of mean images"
            if use_images
            else "phase correlation of ROI footprints",
            "shift_y_pixels": round(result.shift[0], 3),
            "shift_x_pixels": round(result.shift[1], 3),
            "max_distance_pixels": self.max_distance,
            "min_iou": self.min_iou,
            "n_reference_rois": len(reference_masks),
            "n_matched": int((result.reference_roi >= 0).sum()),
        }
        return _Registration(
            result.reference_roi.copy(),
            result.iou,
            result.reference_roi,
            result.distance,
            parameters,
        )
