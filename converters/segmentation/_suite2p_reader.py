"""Reading one Suite2p plane folder (``suite2p/plane<k>/``), checked and without pickle risks.

Suite2p writes per plane: ``F.npy``, ``Fneu.npy``, ``spks.npy`` (float, ROIs × frames),
``iscell.npy`` (ROIs × 2: label, classifier probability), ``stat.npy`` (object array of
one dict per ROI: ``ypix``, ``xpix``, ``lam``, ``med``, ...), ``ops.npy`` (a dict in a
0-d object array: ``Ly``, ``Lx``, ``fs``, ``meanImg``, ``neucoeff``, ...) and optionally
``redcell.npy`` (ROIs × 2: label from the second channel, probability). The two pickled
files are read by :func:`~nwbmotor.converters.segmentation._safe_pickle.load_npy`.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters.segmentation._safe_pickle import NpyRows, load_npy

__all__ = ["REQUIRED_FILES", "Suite2pPlane", "read_suite2p_plane"]

REQUIRED_FILES = ("F.npy", "Fneu.npy", "spks.npy", "iscell.npy", "stat.npy", "ops.npy")
_TRACE_FILES = ("F.npy", "Fneu.npy", "spks.npy")
_NAN_CHECK_ROWS = 64  # ROIs checked at a time, to keep memory flat on memory-mapped traces


@dataclasses.dataclass
class Suite2pPlane:
    """The content of one checked Suite2p plane folder."""

    folder: Path
    F: np.ndarray | NpyRows  # (n_rois, n_frames), read row blocks on demand
    Fneu: np.ndarray
    spks: np.ndarray
    iscell: np.ndarray  # (n_rois, 2)
    redcell: np.ndarray | None  # (n_rois, 2)
    pixel_masks: list[np.ndarray]  # per ROI (n_pixels, 3): NWB x (= ypix), y (= xpix), weight
    ops: dict[str, Any]
    image_shape: tuple[int, int]  # (Ly, Lx)
    frame_rate: float | None

    @property
    def n_rois(self) -> int:
        return int(self.F.shape[0])

    @property
    def n_frames(self) -> int:
        return int(self.F.shape[1])

    @property
    def mean_image(self) -> np.ndarray | None:
        image = self.ops.get("meanImg")
        if isinstance(image, np.ndarray) and image.shape == self.image_shape:
            return np.asarray(image, dtype=np.float64)
        return None


def _fail(path: Path, message: str) -> NwbMotorValueError:
    return NwbMotorValueError(f"{path}: {message}")


def _load_numeric(path: Path, *, ndim: int) -> np.ndarray:
    array = load_npy(path, mmap=True)
    if not isinstance(array, (np.ndarray, NpyRows)) or array.dtype.hasobject or array.dtype.kind not in "fiub":
        raise _fail(
            path, f"expected a numeric array, got {getattr(array, 'dtype', type(array).__name__)}"
        )
    if array.ndim != ndim:
        raise _fail(path, f"expected a {ndim}-D array, got shape {array.shape}")
    return array


def _check_finite_rows(path: Path, array: np.ndarray) -> None:
    for start in range(0, array.shape[0], _NAN_CHECK_ROWS):
        block = np.asarray(array[start : start + _NAN_CHECK_ROWS])
        bad = ~np.isfinite(block)
        if bad.any():
            roi, frame = np.argwhere(bad)[0]
            n_bad = int(bad.sum())
            raise _fail(
                path,
                f"{n_bad} non-finite value(s) (NaN or inf), the first at ROI {start + roi}, frame {frame}; "
                "expected finite fluorescence. Rerun Suite2p's extraction for this plane, or drop the ROI",
            )


def _pixel_mask(folder: Path, i: int, roi: Any, image_shape: tuple[int, int]) -> np.ndarray:
    path = folder / "stat.npy"
    if not isinstance(roi, dict):
        raise _fail(path, f"ROI {i}: expected a dict, got {type(roi).__name__}")
    missing = [k for k in ("ypix", "xpix") if k not in roi]
    if missing:
        raise _fail(path, f"ROI {i}: missing key(s) {missing}; expected 'ypix', 'xpix' (and 'lam')")
    y = np.asarray(roi["ypix"]).ravel()
    x = np.asarray(roi["xpix"]).ravel()
    lam = np.asarray(roi.get("lam", np.ones(y.shape)), dtype=np.float64).ravel()
    if not (y.shape == x.shape == lam.shape):
        raise _fail(
            path,
            f"ROI {i}: 'ypix', 'xpix' and 'lam' have lengths {y.size}, {x.size}, {lam.size}; expected equal",
        )
    if y.size == 0:
        raise _fail(path, f"ROI {i}: has no pixels ('ypix' is empty)")
    if y.dtype.kind not in "iu" or x.dtype.kind not in "iu":
        raise _fail(
            path, f"ROI {i}: 'ypix'/'xpix' must be integer pixel indices, got {y.dtype}/{x.dtype}"
        )
    height, width = image_shape
    if y.min() < 0 or x.min() < 0 or y.max() >= height or x.max() >= width:
        raise _fail(
            path,
            f"ROI {i}: pixels outside the {height} × {width} image (y {y.min()}..{y.max()}, x {x.min()}..{x.max()})",
        )
    # NWB pixel_mask order as NeuroConv writes Suite2p: x is the first image axis (Suite2p's
    # ypix, the row), y the second (xpix, the column)
    return np.column_stack([y.astype(np.float64), x.astype(np.float64), lam])


def read_suite2p_plane(
    folder_path: str | os.PathLike[str],
    *,
    frame_rate: float | None = None,
    check_traces: bool = True,
) -> Suite2pPlane:
    """Read and check one Suite2p plane folder.

    Parameters
    ----------
    folder_path : str or PathLike
        A ``suite2p/plane<k>`` folder.
    frame_rate : float, optional
        Frames per second; overrides ``ops['fs']``.
    check_traces : bool, default True
        Scan F and Fneu for NaN/inf (skip when only the masks are needed).

    Returns
    -------
    Suite2pPlane
        Traces (read on demand, never memory-mapped), labels, pixel masks ``(x, y, weight)`` in NWB's
        order (x = ``ypix``, the first image axis; y = ``xpix``), ops and sizes.

    Raises
    ------
    NwbMotorValueError
        For a missing or empty folder, a missing file, arrays whose ROI or frame counts
        disagree, non-finite F, malformed ``stat``/``ops``, or a hostile pickle.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbmotor.testing import write_suite2p_plane
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "suite2p" / "plane0"
    >>> truth = write_suite2p_plane(folder, n_rois=5, n_frames=100, image_shape=(64, 64))
    >>> plane = read_suite2p_plane(folder)
    >>> plane.n_rois, plane.n_frames, plane.image_shape
    (5, 100, (64, 64))
    """
    folder = Path(folder_path)
    if not folder.is_dir():
        raise _fail(folder, "no such Suite2p plane folder")
    present = {p.name for p in folder.iterdir()}
    if not present:
        raise _fail(
            folder,
            f"the folder is empty; expected Suite2p plane output ({', '.join(REQUIRED_FILES)})",
        )
    missing = [name for name in REQUIRED_FILES if name not in present]
    if missing:
        hint = ""
        planes = sorted(p.name for p in folder.glob("plane*") if p.is_dir())
        if planes:
            hint = f"; this looks like a suite2p folder: point folder_path at one plane, e.g. {folder / planes[0]}"
        raise _fail(
            folder, f"missing Suite2p file(s) {missing}; expected {list(REQUIRED_FILES)}{hint}"
        )

    ops = load_npy(folder / "ops.npy")
    if not isinstance(ops, dict):
        raise _fail(folder / "ops.npy", f"expected a dict, got {type(ops).__name__}")
    traces = {name: _load_numeric(folder / name, ndim=2) for name in _TRACE_FILES}
    n_rois, n_frames = traces["F.npy"].shape
    if n_rois == 0 or n_frames == 0:
        raise _fail(
            folder / "F.npy",
            f"has shape {(n_rois, n_frames)}; expected at least one ROI and one frame",
        )
    for name in ("Fneu.npy", "spks.npy"):
        shape = traces[name].shape
        if shape[0] != n_rois:
            raise _fail(
                folder / name, f"has {shape[0]} ROIs, F.npy has {n_rois}; the ROI counts must match"
            )
        if shape[1] != n_frames:
            raise _fail(
                folder / name,
                f"has {shape[1]} frames, F.npy has {n_frames}; the frame counts must match",
            )
    iscell = _load_numeric(folder / "iscell.npy", ndim=2)
    if iscell.shape != (n_rois, 2):
        raise _fail(
            folder / "iscell.npy",
            f"has shape {iscell.shape}; expected ({n_rois}, 2) for the {n_rois} ROIs of F.npy",
        )
    redcell = None
    if "redcell.npy" in present:
        redcell = _load_numeric(folder / "redcell.npy", ndim=2)
        if redcell.shape != (n_rois, 2):
            raise _fail(
                folder / "redcell.npy",
                f"has shape {redcell.shape}; expected ({n_rois}, 2) for the {n_rois} ROIs of F.npy",
            )
    stat = load_npy(folder / "stat.npy")
    if not isinstance(stat, np.ndarray) or stat.ndim != 1:
        raise _fail(
            folder / "stat.npy",
            f"expected a 1-D array of dicts, got {type(stat).__name__} {getattr(stat, 'shape', '')}",
        )
    if stat.shape[0] != n_rois:
        raise _fail(
            folder / "stat.npy",
            f"has {stat.shape[0]} ROIs, F.npy has {n_rois}; the ROI counts must match",
        )

    missing_ops = [k for k in ("Ly", "Lx") if k not in ops]
    if missing_ops:
        raise _fail(
            folder / "ops.npy", f"missing key(s) {missing_ops}; expected the image size 'Ly', 'Lx'"
        )
    image_shape = (int(ops["Ly"]), int(ops["Lx"]))
    if min(image_shape) <= 0:
        raise _fail(folder / "ops.npy", f"image size Ly × Lx = {image_shape}; expected positive")
    if "nframes" in ops and int(ops["nframes"]) != n_frames:
        raise _fail(
            folder / "ops.npy",
            f"'nframes' is {int(ops['nframes'])}, F.npy has {n_frames} frames; the frame counts must match",
        )
    rate = frame_rate if frame_rate is not None else ops.get("fs")
    if rate is not None:
        rate = float(rate)
        if not (np.isfinite(rate) and rate > 0):
            raise _fail(
                folder / "ops.npy",
                f"frame rate 'fs' is {rate}; expected > 0 Hz (or pass frame_rate=)",
            )
    if check_traces:
        _check_finite_rows(folder / "F.npy", traces["F.npy"])
        _check_finite_rows(folder / "Fneu.npy", traces["Fneu.npy"])
    masks = [_pixel_mask(folder, i, roi, image_shape) for i, roi in enumerate(stat)]
    return Suite2pPlane(
        folder=folder,
        F=traces["F.npy"],
        Fneu=traces["Fneu.npy"],
        spks=traces["spks.npy"],
        iscell=np.asarray(iscell, dtype=np.float64),
        redcell=None if redcell is None else np.asarray(redcell, dtype=np.float64),
        pixel_masks=masks,
        ops=ops,
        image_shape=image_shape,
        frame_rate=rate,
    )
