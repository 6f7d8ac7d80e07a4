"""trial_align on a regularly sampled series selects frames from its range index.

The time coordinate of a session view is a lazy range index; trial_align must compute
the frames from its start and step, never build the times. Proved on a series of 10^10
samples (80 GB of float64 times, 80 GB of data) whose reader counts what it is asked for,
and checked equal to the explicit-times path on small series, ties and edges included.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from xarray.backends import BackendArray
from xarray.core import indexing

import nwbmotor.analysis as na
from nwbmotor.methods import map_to_frames, map_to_regular_frames
from nwbmotor.views._index import regular_time_coords

N_HUGE = 10**10
RATE = 10_000.0


class _Ramp(BackendArray):
    """Values i * 0.5 at sample i, computed for the rows asked; counts the rows read."""

    def __init__(self, n: int) -> None:
        self.shape = (n, 1)
        self.dtype = np.dtype(np.float64)
        self.rows_read = 0

    def __getitem__(self, key: indexing.ExplicitIndexer) -> np.ndarray:
        return indexing.explicit_indexing_adapter(key, self.shape, indexing.IndexingSupport.OUTER, self._raw)

    def _raw(self, key: tuple) -> np.ndarray:
        rows = np.arange(self.shape[0])[key[0]] if not isinstance(key[0], np.ndarray) else key[0]
        rows = np.atleast_1d(rows)
        self.rows_read += rows.size
        if rows.size > 10**7:
            raise AssertionError(f"{rows.size} rows read at once: the series was materialised")
        return (rows.astype(np.float64) * 0.5)[:, None][:, key[1]]


def test_a_huge_regular_series_is_aligned_without_its_times() -> None:
    ramp = _Ramp(N_HUGE)
    coords = regular_time_coords("time_behavior", start=2.0, rate=RATE, n=N_HUGE)
    da = xr.DataArray(xr.Variable(("time_behavior", "channel"), indexing.LazilyIndexedArray(ramp)),
                      dims=("time_behavior", "channel"), coords=coords)
    events = xr.DataArray([10.0, 5_000.00004, 900_000.0, 1.0, np.nan], dims="trial")
    out = na.trial_align(da, events, window=(-0.001, 0.002))
    assert out.sizes["rel_time"] == 31
    assert ramp.rows_read <= 3 * 31  # the three windows inside the recording, nothing else
    expected_first = (round((10.0 - 2.0) * RATE) - 10) * 0.5
    assert float(out.isel(trial=0, rel_time=0, channel=0)) == expected_first
    assert float(out.isel(trial=1, rel_time=10, channel=0)) == round((5_000.00004 - 2.0) * RATE) * 0.5
    assert out.align_status.values.tolist()[3:] == ["event outside the recording", "no event time (NaN)"]
    assert out.attrs["sampling_rate"] == pytest.approx(RATE)


@pytest.mark.parametrize("method", ["nearest", "linear"])
@pytest.mark.parametrize(("start", "rate", "n"), [(0.0, 10.0, 50), (1.2345, 30.0, 997), (-3.0, 7.3, 2)])
def test_range_index_and_explicit_times_align_the_same(method: str, start: float, rate: float, n: int) -> None:
    rng = np.random.default_rng(n)
    coords = regular_time_coords("time", start=start, rate=rate, n=n)
    lazy = xr.DataArray(rng.normal(size=(n, 3)), dims=("time", "unit"), coords=coords)
    explicit = lazy.assign_coords(time=np.asarray(lazy.time.values))  # a plain index: the times path
    assert type(explicit.xindexes["time"]).__name__ == "PandasIndex"
    step = 1.0 / rate
    grid = start + np.arange(n) * step
    events = np.r_[rng.uniform(start - 2 * step, grid[-1] + 2 * step, 40), grid[: min(n, 5)],
                   grid[:-1][: 5] + step / 2, grid[0] - step / 2, grid[-1] + step / 2, np.nan]
    if method == "linear":  # a window sample exactly on the first or last frame: both roundings are right
        ends = events[None, :] + np.arange(-2, 4)[:, None] * step  # every sample time of the windows
        edge = np.isclose(ends, grid[0], rtol=0, atol=1e-6 * step) | np.isclose(ends, grid[-1], rtol=0, atol=1e-6 * step)
        events = events[~edge.any(axis=0)]
    a = na.trial_align(lazy, events, window=(-2 * step, 3 * step), method=method)
    b = na.trial_align(explicit, events, window=(-2 * step, 3 * step), method=method)
    np.testing.assert_array_equal(a.align_status.values, b.align_status.values)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-9, atol=1e-12, equal_nan=True)
    np.testing.assert_allclose(a.rel_time.values, b.rel_time.values, rtol=1e-9)


def test_regular_frames_follow_the_one_event_to_frame_rule() -> None:
    rng = np.random.default_rng(0)
    for start, step, n in [(0.0, 0.1, 10), (1.2345, 1 / 30, 1000), (-5.0, 1e-4, 100_000), (2.0, 0.5, 1)]:
        grid = start + np.arange(n) * step
        events = np.r_[rng.uniform(start - step, start + (n + 1) * step, 500), grid[::max(1, n // 50)],
                       grid[:-1][::max(1, n // 50)] + step / 2,
                       start - 0.51 * step, grid[-1] + 0.51 * step, np.nan, np.inf]
        np.testing.assert_array_equal(map_to_regular_frames(events, start, step, n), map_to_frames(events, grid))
