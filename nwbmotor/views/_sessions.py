"""Many sessions at once: a DataTree of subjects and sessions, and units aligned by identity."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
import xarray as xr

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.views._session import ActivityKind, open_session

__all__ = ["align_units", "open_sessions", "session_paths"]

T = TypeVar("T", xr.DataTree, Mapping, Sequence)


def session_paths(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Expand files and folders (searched recursively for ``*.nwb``) into a sorted list of files."""
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    out: list[Path] = []
    for item in items:
        if not isinstance(item, (str, os.PathLike)):
            raise NwbMotorTypeError(f"open_sessions: expected paths (str or PathLike), got {type(item).__name__}")
        p = Path(item)
        if p.is_dir():
            found = sorted(p.rglob("*.nwb"))
            if not found:
                raise NwbMotorValueError(f"{p}: folder holds no *.nwb file")
            out.extend(found)
        else:
            out.append(p)
    if not out:
        raise NwbMotorValueError("open_sessions: expected at least one NWB file, got none")
    return out


def _node_name(value: str, fallback: str) -> str:
    name = (value or fallback).replace("/", "_").strip()
    return name or fallback


def open_sessions(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    activity: ActivityKind | None = "auto",
    chunks: int | dict[str, int] | Literal["auto"] | None = None,
    align: Literal["inner", "outer"] | None = None,
) -> xr.DataTree:
    """Open NWB sessions as an :class:`xarray.DataTree` ``/<subject_id>/<session_id>``.

    Parameters
    ----------
    paths : path or sequence of paths
        NWB files, or folders searched recursively for ``*.nwb``.
    activity, chunks
        As in :func:`nwbmotor.open_session`, for every session.
    align : {"inner", "outer"}, optional
        Align units across all sessions by ``global_id`` (see :func:`align_units`).

    Returns
    -------
    xarray.DataTree
        One node per subject, one child per session holding its lazy Dataset.

    Raises
    ------
    NwbMotorValueError
        Two files with the same subject and session ids, or anything
        :func:`nwbmotor.open_session` raises (the message names the file).

    Examples
    --------
    >>> import tempfile
    >>> from nwbmotor.testing import write_lab_sessions
    >>> truths = write_lab_sessions(tempfile.mkdtemp(), n_sessions=2, n_rois=4, n_trials=3)
    >>> tree = open_sessions([t.path for t in truths])
    >>> sorted(tree["AP071"].children)
    ['day01', 'day02']
    """
    files = session_paths(paths)
    datasets: dict[str, xr.Dataset] = {}
    origin: dict[str, Path] = {}
    for p in files:
        ds = open_session(p, activity=activity, chunks=chunks)
        key = f"{_node_name(ds.attrs.get('subject_id', ''), 'unknown-subject')}/" \
              f"{_node_name(ds.attrs.get('session_id', ''), p.stem)}"
        if key in datasets:
            raise NwbMotorValueError(
                f"{p}: subject/session {key!r} is also that of {origin[key]}; every session must be unique"
            )
        datasets[key] = ds
        origin[key] = p
    if align is not None:
        datasets = align_units(datasets, join=align)  # type: ignore[assignment]
    tree = xr.DataTree.from_dict(datasets)
    tree.attrs["n_sessions"] = len(datasets)
    return tree


def _known_ids(ds: xr.Dataset, name: str) -> np.ndarray:
    """Mask of units with a known global_id; raises if one is used twice."""
    if "global_id" not in ds.coords:
        raise NwbMotorValueError(f"{name}: no 'global_id' coordinate on unit; cannot align")
    gid = ds["global_id"].values
    known = gid != (-1 if gid.dtype.kind in "iu" else "")
    values, counts = np.unique(gid[known], return_counts=True)
    if np.any(counts > 1):
        raise NwbMotorValueError(
            f"{name}: global_id {values[counts > 1][:5].tolist()} appear more than once; "
            "expected one unit per cell to align sessions"
        )
    return known


def _aligned(ds: xr.Dataset, ids: np.ndarray, join: str, name: str) -> xr.Dataset:
    known = _known_ids(ds, name)
    ds = ds.isel(unit=np.flatnonzero(known))
    ds = ds.assign_coords(unit=ds["global_id"].values)
    if join == "inner":
        pos = {v: i for i, v in enumerate(ds["unit"].values.tolist())}
        return ds.isel(unit=[pos[v] for v in ids.tolist()])
    return ds.reindex(unit=ids)


def align_units(
    datasets: T,
    *,
    join: Literal["inner", "outer"] = "inner",
) -> T:
    """Line up the ``unit`` dim of several sessions by ``global_id``.

    Each session keeps only units with a known ``global_id`` (not -1 / ""), and its
    ``unit`` dim gets the ``global_id`` values as index, in the same order everywhere:
    with ``join="inner"`` the cells present in every session; with ``join="outer"`` every
    cell seen in any session, NaN where a session lacks it.

    Parameters
    ----------
    datasets : DataTree, mapping of name to Dataset, or sequence of Dataset
    join : {"inner", "outer"}

    Returns
    -------
    The same kind of container, with aligned Datasets.

    Raises
    ------
    NwbMotorValueError
        A session without ``global_id``, a ``global_id`` used twice in a session, or no
        cell common to all sessions (``join="inner"``).

    Examples
    --------
    >>> a = xr.Dataset(coords={"global_id": ("unit", [3, 1, 2])})
    >>> b = xr.Dataset(coords={"global_id": ("unit", [2, 3, 9])})
    >>> [d.unit.values.tolist() for d in align_units([a, b])]
    [[2, 3], [2, 3]]
    """
    if join not in ("inner", "outer"):
        raise NwbMotorValueError(f"align_units: join={join!r}; expected 'inner' or 'outer'")
    if isinstance(datasets, xr.DataTree):
        items = {node.path: node.to_dataset() for node in datasets.subtree if "unit" in node.dims and node.has_data}
    elif isinstance(datasets, Mapping):
        items = dict(datasets)
    elif isinstance(datasets, Sequence):
        items = {str(i): d for i, d in enumerate(datasets)}
    else:
        raise NwbMotorTypeError(f"align_units: expected a DataTree, mapping or sequence of Datasets, got {type(datasets).__name__}")
    if not items:
        raise NwbMotorValueError("align_units: expected at least one session, got none")
    sets = []
    for name, ds in items.items():
        known = _known_ids(ds, ds.attrs.get("source_file", name))
        sets.append(ds["global_id"].values[known].tolist())
    if join == "inner":
        common = set(sets[0]).intersection(*sets[1:])
        ids = np.array([v for v in sorted(common)])
        if ids.size == 0:
            raise NwbMotorValueError(
                f"align_units: no global_id is common to all {len(items)} sessions; use join='outer' to keep every cell"
            )
    else:
        ids = np.array(sorted(set().union(*sets)))
    out = {name: _aligned(ds, ids, join, ds.attrs.get("source_file", name)) for name, ds in items.items()}
    if isinstance(datasets, xr.DataTree):
        tree = datasets.copy()
        for path, ds in out.items():
            tree[path] = xr.DataTree(ds)
        return tree  # type: ignore[return-value]
    if isinstance(datasets, Mapping):
        return out  # type: ignore[return-value]
    return list(out.values())  # type: ignore[return-value]
