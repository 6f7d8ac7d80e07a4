"""Lazy time coordinates: a regularly sampled series' times are never materialised.

A series stored with ``starting_time`` and ``rate`` gets a :class:`SessionTimeIndex`,
an :class:`xarray.indexes.RangeIndex` that computes times from positions (so opening a
2-hour 10 kHz session does not allocate its 72 million times, and the view pickles to a
few kilobytes). Unlike xarray's ``RangeIndex`` it also selects label slices without
``method="nearest"`` (``ds.sel(time=slice(1.0, 2.0))`` keeps the samples inside the
interval, as a pandas index would) and keeps itself through positional slicing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import xarray as xr
from xarray.core.indexing import IndexSelResult
from xarray.indexes import RangeIndex

__all__ = ["SessionTimeIndex", "regular_time_coords"]


class SessionTimeIndex(RangeIndex):
    """A :class:`~xarray.indexes.RangeIndex` for a session's sampled times (seconds).

    Examples
    --------
    >>> coords = regular_time_coords("time", start=1.0, rate=10.0, n=50)
    >>> ds = xr.Dataset(coords=coords)
    >>> ds.sel(time=slice(1.2, 1.5)).time.values
    array([1.2, 1.3, 1.4, 1.5])
    >>> type(ds.isel(time=slice(5, 10)).xindexes["time"]).__name__
    'SessionTimeIndex'
    >>> joined = xr.concat([ds.isel(time=slice(0, 2)), ds.isel(time=slice(10, 12))], "time")
    >>> joined.time.values
    array([1. , 1.1, 2. , 2.1])
    """

    @classmethod
    def concat(cls, indexes: Any, dim: Any, positions: Any = None) -> Any:
        """Concatenated pieces are no longer one regular range: a plain pandas index of their times."""
        import pandas as pd
        from xarray.indexes import PandasIndex

        values = [idx.start + np.arange(idx.size) * idx.step for idx in indexes]
        joined = np.concatenate(values) if values else np.zeros(0)
        if positions is not None:
            order = np.empty(joined.size, dtype=np.int64)
            order[np.concatenate(list(positions))] = np.arange(joined.size)
            joined = joined[order]
        return PandasIndex(pd.Index(joined), dim)

    def isel(self, indexers: Any) -> Any:
        result = super().isel(indexers)
        if isinstance(result, RangeIndex) and not isinstance(result, SessionTimeIndex):
            return SessionTimeIndex(result.transform)
        return result

    def sel(self, labels: dict[Any, Any], method: Any = None, tolerance: Any = None) -> IndexSelResult:
        label = labels[self.dim]
        if isinstance(label, slice) and label.step is None and method is None:
            start, step, n = self.start, self.step, self.size
            eps = 1e-9 * abs(step)
            lo = 0 if label.start is None else math.ceil((float(label.start) - start - eps) / step)
            hi = n if label.stop is None else math.floor((float(label.stop) - start + eps) / step) + 1
            lo, hi = min(max(lo, 0), n), min(max(hi, 0), n)
            return IndexSelResult({self.dim: slice(lo, max(lo, hi))})
        if method is None and not isinstance(label, slice):  # exact labels: nearest, then checked
            result = super().sel(labels, method="nearest", tolerance=None)
            pos = np.asarray(result.dim_indexers[self.dim])
            got = self.start + pos * self.step
            if not np.allclose(got, np.asarray(label, dtype=np.float64), rtol=0, atol=1e-9 * abs(self.step) + 1e-12):
                raise KeyError(f"{label!r} is not a sample time of {self.dim!r}; pass method='nearest'")
            return result
        return super().sel(labels, method=method, tolerance=tolerance)


def regular_time_coords(dim: str, *, start: float, rate: float, n: int, attrs: dict | None = None) -> xr.Coordinates:
    """Coordinates of ``n`` times ``start + i / rate`` on ``dim``, lazily indexed.

    Examples
    --------
    >>> c = regular_time_coords("time_behavior", start=0.0, rate=10_000.0, n=72_000_000)
    >>> round(float(c["time_behavior"][-1]), 6)
    7199.9999
    """
    step = 1.0 / float(rate)
    index = SessionTimeIndex.arange(float(start), float(start) + n * step, step, coord_name=dim, dim=dim)
    if index.size != n:  # arange's rounding: build the exact size
        transform = type(index.transform)(float(start), float(start) + n * step, n, dim, dim, step=step)
        index = SessionTimeIndex(transform)
    coords = xr.Coordinates.from_xindex(index)
    if attrs:
        coords[dim].attrs.update(attrs)
    return coords
