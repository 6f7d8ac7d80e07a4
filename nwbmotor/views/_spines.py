"""The spine scoring table of an NWB file (ndx-motor-learning ``SpineDynamicsTable``) as a Dataset."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr

from nwbmotor._errors import NwbMotorValueError

__all__ = ["open_spine_table"]

_NUMERIC = ("present", "gained", "lost", "length")


def open_spine_table(path: str | os.PathLike[str]) -> xr.Dataset | None:
    """The spine scoring rows of one NWB (HDF5) file, or None if it has none.

    Looks for a ``SpineDynamicsTable`` (written by the ``spines`` source kind at
    ``processing/ophys/spine_dynamics``) and returns its columns on dim ``row``:
    ``dendrite``, ``session``, ``present``, ``gained``, ``lost`` and, when present,
    ``length``, ``area``, ``condition`` — the input of
    :func:`nwbmotor.analysis.spine_turnover`.

    Parameters
    ----------
    path : str or PathLike
        An NWB file (HDF5).

    Returns
    -------
    xarray.Dataset or None

    Raises
    ------
    NwbMotorValueError
        The file cannot be opened as HDF5.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbmotor.testing import mock_nwbfile
    >>> from nwbmotor import write_nwbfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.nwb"
    >>> _ = write_nwbfile(mock_nwbfile(), p)
    >>> open_spine_table(p) is None
    True
    """
    import h5py

    path = Path(path)
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise NwbMotorValueError(f"{path}: cannot be opened as an NWB (HDF5) file") from None
    with f:
        found = []

        def visit(name: str, obj: object) -> None:
            attrs = getattr(obj, "attrs", {})
            kind = attrs.get("neurodata_type", b"")
            kind = kind.decode() if isinstance(kind, bytes) else str(kind)
            if isinstance(obj, h5py.Group) and (kind == "SpineDynamicsTable" or name.endswith("spine_dynamics")):
                found.append(name)

        if "processing" in f:
            f["processing"].visititems(visit)
        if not found:
            return None
        group = f["processing"][found[0]]
        data: dict[str, tuple[str, np.ndarray]] = {}
        for name in ("dendrite", "session", "present", "gained", "lost", "length", "area", "condition"):
            if name not in group:
                continue
            values = group[name][()]
            if name in _NUMERIC:
                data[name] = ("row", np.asarray(values, float))
            else:
                data[name] = ("row", np.asarray([v.decode() if isinstance(v, bytes) else str(v) for v in values]))
    missing = [c for c in ("dendrite", "session", "present", "gained", "lost") if c not in data]
    if missing:
        raise NwbMotorValueError(f"{path}: spine table {found[0]!r} lacks column(s) {missing}")
    return xr.Dataset(data, attrs={"source_file": str(path), "table": f"processing/{found[0]}"})
