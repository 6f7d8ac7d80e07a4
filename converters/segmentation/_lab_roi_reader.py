"""Readers of the lab's MATLAB ROI files: polygons, ROI labels, and per-session dF/F.

* ``<name>.roi``: a struct ``polygon`` with ``ROI`` (a cell of m × 2 vertex arrays, x
  then y, in MATLAB pixel coordinates: the top-left pixel's centre is (1, 1)) and
  optionally ``bgROI`` (background/neuropil polygons, same layout).
* ``<name>_roilabels.roilabel``: ``roi_labels``, a cell with one cell of tag strings
  per ROI (``'gad'`` = inhibitory interneuron, ``'filled'`` = filled/unhealthy, exclude).
* the ROI data file: a struct ``im`` with ``roi_trace_df`` (ROIs × frames dF/F).

Polygons become masks as MATLAB's ``poly2mask`` does: a pixel belongs to the ROI when
its centre lies inside the polygon.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError

__all__ = ["CELL_TAGS", "polygon_to_mask", "read_roi_dff", "read_roi_labels", "read_roi_polygons"]

#: Tags of the lab's roilabel files that nwbmotor interprets.
CELL_TAGS = {"gad": "inhibitory", "filled": "excluded"}


def _loadmat(path: Path, *, squeeze: bool) -> dict[str, Any]:
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    if not path.is_file():
        raise NwbMotorValueError(f"{path}: no such file")
    try:
        return loadmat(path, squeeze_me=squeeze, struct_as_record=False)
    except NotImplementedError:
        raise NwbMotorValueError(
            f"{path}: a MATLAB v7.3 (HDF5) MAT-file; expected a v5/v7 MAT-file. "
            "Re-save it in MATLAB with save(..., '-v7')"
        ) from None
    except (ValueError, TypeError, OSError, EOFError, MatReadError) as exc:
        raise NwbMotorValueError(f"{path}: not a readable MATLAB MAT-file ({exc})") from None


def _cell_items(value: Any) -> list[Any]:
    """Items of a squeezed MATLAB cell of numeric arrays (a 1-item cell is squeezed away)."""
    if isinstance(value, np.ndarray) and value.dtype == object:
        return list(value.ravel())
    return [value]  # the 1-ROI case: squeeze_me turned the 1 × 1 cell into its content


def _polygon(
    path: Path, field: str, i: int, value: Any, image_shape: tuple[int, int]
) -> np.ndarray:
    where = f"{path}: polygon.{field}{{{i + 1}}}"
    try:
        vertices = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise NwbMotorValueError(
            f"{where}: expected an m × 2 numeric array of vertices, got {type(value).__name__}"
        ) from None
    if vertices.ndim != 2 or vertices.shape[1] != 2 or vertices.shape[0] < 3:
        raise NwbMotorValueError(
            f"{where}: expected an m × 2 array of at least 3 vertices (x, y), got shape {vertices.shape}"
        )
    if not np.isfinite(vertices).all():
        raise NwbMotorValueError(f"{where}: has non-finite vertices")
    height, width = image_shape
    x, y = vertices[:, 0], vertices[:, 1]
    if x.min() < 0.5 or y.min() < 0.5 or x.max() > width + 0.5 or y.max() > height + 0.5:
        raise NwbMotorValueError(
            f"{where}: vertices outside the {width} × {height} image (x {x.min():.1f}..{x.max():.1f}, "
            f"y {y.min():.1f}..{y.max():.1f}; expected 0.5..{width + 0.5} and 0.5..{height + 0.5} in MATLAB "
            "pixel coordinates). Pass the movie's size as image_shape=(height, width)"
        )
    return vertices


def read_roi_polygons(
    path: str | os.PathLike[str], *, image_shape: tuple[int, int]
) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Read the ROI and background polygons of a ``.roi`` file, checked against the image size.

    Parameters
    ----------
    path : str or PathLike
        The ``.roi`` MAT-file.
    image_shape : (height, width)
        Size of the movie the polygons were drawn on.

    Returns
    -------
    rois : list of ndarray of shape (m, 2)
        Vertices (x, y) in MATLAB pixel coordinates.
    background : list of ndarray or None
        The ``bgROI`` polygons, or None if the file has none.

    Raises
    ------
    NwbMotorValueError
        If the file has no ``polygon.ROI``, a polygon is malformed or lies outside the image.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from nwbmotor.testing import write_roi_file
    >>> square = np.array([[10.5, 10.5], [14.5, 10.5], [14.5, 14.5], [10.5, 14.5]])
    >>> p = write_roi_file(pathlib.Path(tempfile.mkdtemp()) / "a.roi", [square])
    >>> rois, bg = read_roi_polygons(p, image_shape=(32, 32))
    >>> rois[0].shape, bg
    ((4, 2), None)
    """
    path = Path(path)
    content = _loadmat(path, squeeze=True)
    polygon = content.get("polygon")
    if polygon is None or not hasattr(polygon, "ROI"):
        found = sorted(k for k in content if not k.startswith("__"))
        raise NwbMotorValueError(
            f"{path}: no polygon.ROI; expected a struct 'polygon' with a cell 'ROI' (found {found})"
        )
    rois = [
        _polygon(path, "ROI", i, v, image_shape) for i, v in enumerate(_cell_items(polygon.ROI))
    ]
    if not rois:
        raise NwbMotorValueError(f"{path}: polygon.ROI is empty; expected at least one ROI polygon")
    background = None
    bg = getattr(polygon, "bgROI", None)
    if bg is not None and not (isinstance(bg, np.ndarray) and bg.size == 0):
        background = [
            _polygon(path, "bgROI", i, v, image_shape) for i, v in enumerate(_cell_items(bg))
        ]
        if len(background) != len(rois):
            raise NwbMotorValueError(
                f"{path}: polygon.bgROI has {len(background)} polygons, polygon.ROI has {len(rois)}; expected one per ROI"
            )
    return rois, background


def polygon_to_mask(vertices: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """Rasterise a polygon (x, y in MATLAB pixel coordinates) to a boolean mask.

    A pixel (row r, column c, 0-based) is inside when its centre (x = c + 1, y = r + 1)
    lies inside the polygon, as MATLAB's ``poly2mask`` decides for pixel centres.

    Examples
    --------
    >>> square = np.array([[2.5, 2.5], [4.5, 2.5], [4.5, 5.5], [2.5, 5.5]])
    >>> int(polygon_to_mask(square, (8, 8)).sum())  # columns 2..3, rows 2..4 (0-based)
    6
    """
    from matplotlib.path import Path as MplPath

    height, width = image_shape
    mask = np.zeros((height, width), dtype=bool)
    x0 = max(int(np.floor(vertices[:, 0].min())) - 1, 0)
    x1 = min(int(np.ceil(vertices[:, 0].max())), width)
    y0 = max(int(np.floor(vertices[:, 1].min())) - 1, 0)
    y1 = min(int(np.ceil(vertices[:, 1].max())), height)
    if x1 <= x0 or y1 <= y0:
        return mask
    rows, cols = np.mgrid[y0:y1, x0:x1]
    centres = np.column_stack([cols.ravel() + 1.0, rows.ravel() + 1.0])
    inside = MplPath(vertices).contains_points(centres)
    mask[rows.ravel()[inside], cols.ravel()[inside]] = True
    return mask


def _strings(value: Any) -> list[str]:
    """Every string in a (possibly nested) MATLAB cell/char value loaded without squeezing."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "U":
            return [str(s) for s in value.ravel() if str(s)]
        if value.dtype == object:
            return [s for item in value.ravel() for s in _strings(item)]
    return []


def read_roi_labels(path: str | os.PathLike[str]) -> list[list[str]]:
    """Read ``roi_labels`` of a ``.roilabel`` file: one list of tag strings per ROI.

    Loaded without squeezing: a 1-ROI file with two tags would otherwise look like
    two ROIs with one tag each.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbmotor.testing import write_roilabel_file
    >>> p = write_roilabel_file(pathlib.Path(tempfile.mkdtemp()) / "x_roilabels.roilabel", [["gad", "filled"]])
    >>> read_roi_labels(p)
    [['gad', 'filled']]
    """
    path = Path(path)
    content = _loadmat(path, squeeze=False)
    if "roi_labels" not in content:
        found = sorted(k for k in content if not k.startswith("__"))
        raise NwbMotorValueError(
            f"{path}: no variable 'roi_labels'; expected a cell of tag cells, one per ROI (found {found})"
        )
    labels = content["roi_labels"]
    if not (isinstance(labels, np.ndarray) and labels.dtype == object):
        raise NwbMotorValueError(
            f"{path}: roi_labels must be a cell array, got {getattr(labels, 'dtype', type(labels).__name__)}"
        )
    return [[t.strip().lower() for t in _strings(item)] for item in labels.ravel()]


def read_roi_dff(path: str | os.PathLike[str]) -> np.ndarray:
    """Read ``im.roi_trace_df`` (ROIs × frames) from the lab's ROI data MAT-file.

    Returns
    -------
    ndarray of shape (n_rois, n_frames), float64
        A 1-ROI file (squeezed to a vector by MATLAB's loader) comes back as (1, n_frames).

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> from nwbmotor.testing import write_roi_dff_file
    >>> p = write_roi_dff_file(pathlib.Path(tempfile.mkdtemp()) / "d.mat", np.ones((1, 4)))
    >>> read_roi_dff(p).shape
    (1, 4)
    """
    path = Path(path)
    content = _loadmat(path, squeeze=True)
    im = content.get("im")
    if im is None or not hasattr(im, "roi_trace_df"):
        found = sorted(k for k in content if not k.startswith("__"))
        raise NwbMotorValueError(
            f"{path}: no im.roi_trace_df; expected a struct 'im' with ROIs × frames dF/F (found {found})"
        )
    try:
        dff = np.asarray(im.roi_trace_df, dtype=np.float64)
    except (TypeError, ValueError):
        raise NwbMotorValueError(f"{path}: im.roi_trace_df is not numeric") from None
    if dff.ndim == 1:
        dff = dff[None, :]
    if dff.ndim != 2 or dff.shape[1] == 0:
        raise NwbMotorValueError(
            f"{path}: im.roi_trace_df has shape {dff.shape}; expected ROIs × frames"
        )
    return dff
