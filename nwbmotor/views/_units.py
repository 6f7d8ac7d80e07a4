"""Spike-sorted units (an NWB ``Units`` table) as ``activity``: firing rates in time bins.

The spike times stay in the file: ``activity`` is a lazy array that bins them when
values are asked for (one read of ``units/spike_times`` per process, then counts by
``bincount``), and the view keeps the spikes themselves as ``spike_time`` (dim
``spike``, the ragged NWB layout) with each unit's ``spike_start`` / ``spike_stop``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from xarray.backends import BackendArray
from xarray.core import indexing

from nwbmotor._errors import NwbMotorValueError

__all__ = ["DEFAULT_BIN_WIDTH", "BinnedSpikesArray", "UnitsInfo", "units_info"]

#: Default width of the time bins of spike-sorted activity, seconds (20 ms, 50 Hz): fine enough
#: for reach kinematics (reaches last ~300-500 ms), coarse enough that single bins are not mostly empty.
DEFAULT_BIN_WIDTH = 0.02


class UnitsInfo:
    """Where a Units table's spikes are and the bins they are counted in."""

    def __init__(self, path: str, ends: np.ndarray, t_start: float, n_bins: int, bin_width: float) -> None:
        self.path = path
        self.ends = ends
        self.t_start = t_start
        self.n_bins = n_bins
        self.bin_width = bin_width

    @property
    def n_units(self) -> int:
        return int(self.ends.size)

    @property
    def starts(self) -> np.ndarray:
        return np.r_[0, self.ends[:-1]].astype(np.int64)


def units_info(f: Any, *, bin_width: float = DEFAULT_BIN_WIDTH, t_stop: float | None = None) -> UnitsInfo | None:
    """Describe ``units`` of an open NWB file (None without one); reads only the index and
    each unit's first and last spike time.

    Raises
    ------
    NwbMotorValueError
        A bad ``bin_width``, or a spike index that does not fit the spike times.
    """
    group = f.get("units")
    if group is None or "spike_times" not in group:
        return None
    if not (isinstance(bin_width, (int, float)) and math.isfinite(bin_width) and bin_width > 0):
        raise NwbMotorValueError(f"{f.filename}: bin_width must be a positive number of seconds; got {bin_width!r}")
    n_spikes = int(group["spike_times"].shape[0])
    if "spike_times_index" in group:
        ends = np.asarray(group["spike_times_index"][()], dtype=np.int64)
    else:
        ends = np.array([n_spikes], dtype=np.int64)
    if ends.size and (ends[-1] != n_spikes or np.any(np.diff(ends) < 0)):
        raise NwbMotorValueError(
            f"{f.filename}: units/spike_times_index ends at {int(ends[-1])} but units/spike_times holds {n_spikes} "
            "spikes; expected a non-decreasing index ending at the number of spikes"
        )
    starts = np.r_[0, ends[:-1]]
    nonempty = ends > starts
    points = np.unique(np.r_[starts[nonempty], ends[nonempty] - 1])
    edge = np.asarray(group["spike_times"][points.tolist()], dtype=np.float64) if points.size else np.zeros(0)
    first = float(edge.min()) if edge.size else 0.0
    last = float(edge.max()) if edge.size else 0.0
    t0 = 0.0 if first >= 0 else math.floor(first / bin_width) * bin_width
    end = max(last, t_stop or 0.0)
    n_bins = max(1, int(math.floor((end - t0) / bin_width)) + 1)
    return UnitsInfo(f"{group.name}/spike_times", ends, t0, n_bins, float(bin_width))


class BinnedSpikesArray(BackendArray):
    """Lazy ``(n_bins, n_units)`` firing rates (spikes/s) of a Units table.

    Bin ``i`` counts the spikes in ``[t_start + i w, t_start + (i + 1) w)``.
    """

    def __init__(self, manager: Any, info: UnitsInfo, lock: Any) -> None:
        self.manager = manager
        self.info = info
        self.lock = lock
        self.shape = (info.n_bins, info.n_units)
        self.dtype = np.dtype(np.float64)
        self._spikes: np.ndarray | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_spikes"] = None  # read again where unpickled: a view pickles small
        return state

    def _spike_times(self) -> np.ndarray:
        if self._spikes is None:
            with self.lock:
                self._spikes = np.asarray(self.manager.acquire()[self.info.path][()], dtype=np.float64)
        return self._spikes

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.OUTER, self._raw)

    def _raw(self, key: tuple) -> np.ndarray:
        rows, cols = key
        row_idx = np.arange(self.shape[0])[rows] if isinstance(rows, slice) else np.asarray(rows)
        col_idx = np.arange(self.shape[1])[cols] if isinstance(cols, slice) else np.asarray(cols)
        spikes = self._spike_times()
        info = self.info
        out = np.zeros((np.atleast_1d(row_idx).size, np.atleast_1d(col_idx).size), dtype=np.float64)
        starts = info.starts
        for j, u in enumerate(np.atleast_1d(col_idx)):
            t = spikes[starts[u]: info.ends[u]]
            b = np.floor((t - info.t_start) / info.bin_width).astype(np.int64)
            b = b[(b >= 0) & (b < info.n_bins)]
            counts = np.bincount(b, minlength=info.n_bins)
            out[:, j] = counts[np.atleast_1d(row_idx)] / info.bin_width
        if np.ndim(row_idx) == 0:
            out = out[0]
        if np.ndim(col_idx) == 0:
            out = out[..., 0]
        return out


def _string_column(f: Any, table: Any, name: str, n: int) -> np.ndarray | None:
    from nwbmotor.views._layout import _column

    if name not in table:
        return None
    values = _column(f, table, name, n, [])
    return None if values is None else values


def unit_coords(f: Any, info: UnitsInfo) -> dict[str, tuple[str, np.ndarray, dict]]:
    """Coordinates on ``unit``: ``unit_id``, ``region``, ``cell_type``, ``global_id``, ``source``,
    ``quality`` (when the table has it), ``electrode`` (first electrode row) and the spike range."""
    from nwbmotor.views._layout import _cell_type, _global_id, _s

    units = f["units"]
    n = info.n_units
    ids = np.asarray(units["id"][()], dtype=np.int64) if "id" in units else np.arange(n)
    coords: dict[str, tuple[str, np.ndarray, dict]] = {
        "unit_id": ("unit", ids, {"long_name": "row id in the units table"}),
    }
    region = None
    for name in ("location", "brain_area", "region", "area"):
        region = _string_column(f, units, name, n)
        if region is not None:
            break
    electrode = np.full(n, -1, np.int64)
    if "electrodes" in units and "electrodes_index" in units:
        rows = np.asarray(units["electrodes"][()], dtype=np.int64)
        ends = np.asarray(units["electrodes_index"][()], dtype=np.int64)
        starts = np.r_[0, ends[:-1]]
        has = ends > starts
        electrode[has] = rows[starts[has]]
        table = None
        ref = units["electrodes"].attrs.get("table")
        try:
            table = f[ref] if ref is not None else None
        except (ValueError, KeyError, TypeError):
            table = None
        if table is None:
            table = f.get("general/extracellular_ephys/electrodes")
        if region is None and table is not None and "location" in table:
            locations = np.array([_s(v) for v in table["location"][()]], dtype=str)
            region = np.where(electrode >= 0, locations[np.clip(electrode, 0, None)], "unknown")
    coords["region"] = ("unit", np.asarray(region if region is not None else np.full(n, "unknown"), dtype=str), {})
    coords["electrode"] = ("unit", electrode, {"long_name": "first electrode row of the unit", "missing": -1})
    cell = _string_column(f, units, "cell_type", n)
    coords["cell_type"] = ("unit", _cell_type(cell) if cell is not None else np.full(n, "unknown"),
                           {"values": "excitatory, inhibitory or unknown"})
    gid = _string_column(f, units, "global_id", n)
    coords["global_id"] = ("unit", _global_id(gid) if gid is not None else np.full(n, -1, np.int64),
                           {"long_name": "identity across sessions", "missing": -1})
    coords["source"] = ("unit", np.full(n, "ephys"), {})
    quality = _string_column(f, units, "quality", n)
    if quality is not None:
        coords["quality"] = ("unit", np.asarray(quality, dtype=str) if quality.dtype.kind in "OSU" else quality, {})
    coords["spike_start"] = ("unit", info.starts, {"long_name": "first index of the unit's spikes in spike_time"})
    coords["spike_stop"] = ("unit", info.ends.copy(), {"long_name": "one past the unit's last spike in spike_time"})
    return coords
