"""``trial_align``: cut a time series into windows around events (trial, rel_time, ...).

The numeric core (:func:`align_frames`, :func:`gather_aligned`) takes numpy arrays;
:func:`trial_align` reads only the frames the windows need from a lazy session view
(the view's reader decompresses the needed chunks on all cores), then gathers.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Literal

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike, NDArray

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.methods import map_to_frames, map_to_regular_frames

__all__ = ["trial_align", "align_frames", "gather_aligned"]

OK = "ok"
NO_EVENT = "no event time (NaN)"
EVENT_OUTSIDE = "event outside the recording"
PARTIAL = "window partly outside the recording"


def align_frames(
    time: NDArray[np.float64] | None,
    event_times: NDArray[np.float64],
    window: tuple[float, float],
    method: Literal["nearest", "linear"] = "nearest",
    *,
    regular: tuple[float, float, int] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float64] | None, NDArray[np.float64], NDArray[np.str_]]:
    """Which samples each event's window takes.

    Parameters
    ----------
    time : ndarray of shape (n_time,), or None with ``regular``
        Sample times, strictly increasing (regular or not).
    regular : (start, step, n_time), optional
        Instead of ``time``: samples at ``start + i * step``. Their times are never built,
        so the cost is O(events × window) whatever the series' length.
    event_times : ndarray of shape (n_events,)
        Event times on the same clock; NaN for none.
    window : (float, float)
        Start and end of the window around each event, in seconds (end included).
    method : {"nearest", "linear"}
        "nearest": the window is the event's nearest sample plus whole-sample offsets.
        "linear": values at exactly event + rel_time, interpolated between samples.

    Returns
    -------
    rows : ndarray of int of shape (n_events, n_rel) ("nearest") or (n_events, n_rel, 2) ("linear")
        Sample indices; -1 where the window leaves the recording or the event is missing.
    weights : ndarray of shape (n_events, n_rel) or None
        For "linear", the weight of the second sample.
    rel_time : ndarray of shape (n_rel,)
        Offsets from the event, in seconds: whole sample intervals from
        ``round(window[0] * fs)`` to ``round(window[1] * fs)``.
    status : ndarray of str of shape (n_events,)
        "ok", "no event time (NaN)", "event outside the recording", or
        "window partly outside the recording".

    Examples
    --------
    >>> rows, _, rel, status = align_frames(np.arange(10) / 10.0, np.array([0.5, 0.95]), (-0.1, 0.1))
    >>> rows.tolist(), status.tolist()
    ([[4, 5, 6], [8, 9, -1]], ['ok', 'window partly outside the recording'])
    >>> align_frames(None, np.array([0.5, 0.95]), (-0.1, 0.1), regular=(0.0, 0.1, 10))[0].tolist()
    [[4, 5, 6], [8, 9, -1]]
    """
    events = np.asarray(event_times, dtype=np.float64)
    if regular is not None:
        start, dt, n = float(regular[0]), float(regular[1]), int(regular[2])
        first, last = start, start + (n - 1) * dt

        def nearest_rows(e: NDArray[np.float64]) -> NDArray[np.int64]:
            return map_to_regular_frames(e, start, dt, n)

        def positions(t: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.where((t >= first) & (t <= last), (t - start) / dt, np.nan)
    else:
        time = np.asarray(time, dtype=np.float64)
        n = time.size
        dt = float(np.median(np.diff(time)))
        first, last = float(time[0]), float(time[-1])

        def nearest_rows(e: NDArray[np.float64]) -> NDArray[np.int64]:
            return map_to_frames(e, time)

        def positions(t: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.interp(t, time, np.arange(n, dtype=np.float64), left=np.nan, right=np.nan)
    fs = 1.0 / dt
    k = np.arange(int(round(window[0] * fs)), int(round(window[1] * fs)) + 1)
    rel_time = k * dt
    status = np.full(events.size, OK, dtype=object)
    finite = np.isfinite(events)
    status[~finite] = NO_EVENT
    outside = finite & ((events < first - dt / 2) | (events > last + dt / 2))
    status[outside] = EVENT_OUTSIDE
    usable = finite & ~outside
    if method == "nearest":
        nearest = nearest_rows(events[usable])
        rows = np.full((events.size, k.size), -1, np.int64)
        r = nearest[:, None] + k[None, :]
        r[(r < 0) | (r >= n)] = -1
        rows[usable] = r
        weights = None
        partial = usable & np.any(rows < 0, axis=1)
    else:
        pos = positions(events[usable, None] + rel_time[None, :])
        bad = ~np.isfinite(pos)
        lo = np.where(bad, 0, np.floor(np.nan_to_num(pos))).astype(np.int64)
        lo = np.minimum(lo, n - 2)
        w = np.where(bad, 0.0, np.nan_to_num(pos) - lo)
        pair = np.stack([lo, lo + 1], axis=-1)
        pair[bad] = -1
        rows = np.full((events.size, k.size, 2), -1, np.int64)
        rows[usable] = pair
        weights = np.zeros((events.size, k.size))
        weights[usable] = w
        partial = usable & np.any(rows[..., 0] < 0, axis=1)
    status[partial] = PARTIAL
    return rows, weights, rel_time, status.astype(str)  # type: ignore[return-value]


def gather_aligned(
    values: NDArray[Any], needed: NDArray[np.int64], rows: NDArray[np.int64], weights: NDArray[np.float64] | None
) -> NDArray[np.floating]:
    """Windows of ``values`` (len(needed), ...) — the rows ``needed`` of the full series.

    ``rows`` index the full series (as from :func:`align_frames`); they are mapped to
    positions in ``needed`` (sorted, unique). Entries with row -1 become NaN.
    """
    values = np.asarray(values)
    dtype = values.dtype if values.dtype.kind == "f" else np.dtype(np.float64)
    values = values.astype(dtype, copy=False)
    invalid = rows < 0
    if needed.size:
        if needed[-1] - needed[0] == needed.size - 1:  # a contiguous range
            pos = np.where(invalid, 0, rows - needed[0])
        else:
            pos = np.searchsorted(needed, np.where(invalid, needed[0], rows))
        out = values[pos]
    else:
        out = np.empty(rows.shape + values.shape[1:], dtype)
    if weights is None:
        out[invalid] = np.nan
        return out
    w = weights.astype(dtype)[(...,) + (None,) * (values.ndim - 1)]
    res = out[:, :, 0] * (1 - w) + out[:, :, 1] * w
    res[np.any(invalid, axis=-1)] = np.nan
    return res


def _nan_columns(data: NDArray[Any], ok: NDArray[np.bool_]) -> list[int]:
    """Positions along the last axis of ``data`` (event, rel_time, x) holding NaN inside "ok" windows."""
    if data.dtype.kind != "f" or data.ndim != 3 or not ok.any():
        return []
    inside = data if ok.all() else data[ok]
    suspects = np.flatnonzero(~np.isfinite(inside.sum(axis=(0, 1))))  # cheap screen (overflow only adds suspects)
    if not suspects.size:
        return []
    hit = np.isnan(inside[:, :, suspects]).any(axis=(0, 1))
    return suspects[hit].tolist()


def _time_dim(da: xr.DataArray) -> str:
    dims = [d for d in da.dims if str(d).startswith("time")]
    if len(dims) != 1:
        raise NwbMotorValueError(
            f"trial_align: activity must have exactly one time dim ('time' or 'time_behavior'), got dims {da.dims}"
        )
    return str(dims[0])


def _sorted_unique(values: NDArray[np.int64]) -> NDArray[np.int64]:
    """``np.unique`` of row indices by one sort (numpy's hash-based unique is slower on
    the long, mostly contiguous row lists of many windows)."""
    s = np.sort(values, axis=None)
    if s.size == 0:
        return s
    return s[np.r_[True, s[1:] != s[:-1]]]


def _regular_index(da: xr.DataArray, dim: str) -> tuple[float, float, int] | None:
    """(start, step, size) of a range index on ``dim`` (xarray's ``RangeIndex``), else None."""
    from xarray.indexes import RangeIndex

    index = da.xindexes.get(dim)
    if isinstance(index, RangeIndex) and index.size >= 1:
        return float(index.start), float(index.step), int(index.size)
    return None


def _take(da: xr.DataArray, dim: str, needed: NDArray[np.int64]) -> tuple[NDArray[Any], NDArray[np.int64]]:
    """Rows of ``da`` (time on the first axis) covering ``needed`` (sorted, unique), in memory.

    Returns the values and the row index of each: ``needed`` itself, or, when the
    needed rows are dense, the whole contiguous range (one read, no extra copy).
    """
    if needed.size == 0:
        return np.empty((0,) + tuple(da.shape[1:]), da.dtype), needed
    if isinstance(da.variable._data, np.ndarray):
        return np.asarray(da.values), np.arange(da.shape[0])
    lo, hi = int(needed[0]), int(needed[-1]) + 1
    if needed.size > 0.5 * (hi - lo):
        return da.isel({dim: slice(lo, hi)}).values, np.arange(lo, hi)
    return da.isel({dim: needed}).values, needed


def trial_align(
    activity: xr.DataArray | xr.Dataset,
    events: xr.DataArray | str | ArrayLike,
    *,
    window: tuple[float, float] = (-1.0, 3.0),
    method: Literal["nearest", "linear"] = "nearest",
    outside: Literal["nan", "raise"] = "nan",
    variable: str = "activity",
) -> xr.DataArray:
    """Align a time series to events: one window per event, ``(trial, rel_time, unit)``.

    Parameters
    ----------
    activity : DataArray or Dataset
        A series with one time dim (``time`` or ``time_behavior``, with a seconds
        coordinate) and any other dims (``unit``, ``channel``). A Dataset (a session
        view) stands for its ``variable``.
    events : DataArray, str or array-like
        Event times in seconds on one dim (e.g. ``ds.movement_onset`` on ``trial``, or
        ``ds.movement_start_time`` on ``movement``); with a Dataset, the name of such a
        variable. An array-like gets the dim ``trial``. NaN means "no event".
    window : (float, float), default (-1.0, 3.0)
        Window around each event, in seconds, both ends included (rounded to whole
        samples).
    method : {"nearest", "linear"}, default "nearest"
        "nearest": the event's nearest sample plus whole-sample offsets (no
        interpolation; values are the recorded samples). "linear": values at
        event + rel_time, linearly interpolated.
    outside : {"nan", "raise"}, default "nan"
        What to do with events whose window is not entirely inside the recording, or
        that have no time. "nan": their missing samples (all of them for a missing
        event) are NaN and the coordinate ``align_status`` says why; "raise": raise.
    variable : str
        Variable of a Dataset ``activity`` to align.

    Returns
    -------
    DataArray
        In memory, dims ``(<events dim>, "rel_time", <other dims of activity>)``, float.
        Coordinates: the events' coordinates, ``event_time`` and ``align_status``
        ("ok", "no event time (NaN)", "event outside the recording", "window partly
        outside the recording") on the events dim, ``rel_time`` (s), and the other
        dims' coordinates. ``attrs``: the activity's attrs plus ``window``, ``method``,
        ``outside``, ``sampling_rate``, ``event``, ``n_events``, ``n_not_ok`` and
        ``nan_reason`` (a summary of NaN events), and ``units_with_nan`` (positions
        along the other dim whose values hold NaN inside windows that are "ok": NaN
        traces).

    Raises
    ------
    NwbMotorValueError
        Bad window, events not 1-D, a time coordinate that does not increase, or
        (``outside="raise"``) events outside the recording.
    NwbMotorTypeError
        ``activity`` is not xarray; ``events`` not numeric.

    Examples
    --------
    >>> t = np.arange(100) / 10.0
    >>> da = xr.DataArray(np.arange(200.0).reshape(100, 2), dims=("time", "unit"), coords={"time": t})
    >>> ev = xr.DataArray([2.0, 5.0, np.nan], dims="trial")
    >>> out = trial_align(da, ev, window=(-0.2, 0.3))
    >>> out.dims, out.sizes["rel_time"]
    (('trial', 'rel_time', 'unit'), 6)
    >>> out.align_status.values.tolist()
    ['ok', 'ok', 'no event time (NaN)']
    >>> out.sel(trial=0, unit=0).values.tolist()
    [36.0, 38.0, 40.0, 42.0, 44.0, 46.0]
    """
    if isinstance(activity, xr.Dataset):
        if isinstance(events, str):
            if events not in activity.variables:
                raise NwbMotorValueError(
                    f"trial_align: the session has no variable {events!r}; expected event times such as "
                    f"'movement_onset' or 'cue_time'"
                )
            events = activity[events]
        if variable not in activity.data_vars:
            raise NwbMotorValueError(
                f"trial_align: the session has no variable {variable!r} (found {sorted(map(str, activity.data_vars))})"
            )
        activity = activity[variable]
    if not isinstance(activity, xr.DataArray):
        raise NwbMotorTypeError(f"trial_align: activity must be an xarray DataArray or Dataset, got {type(activity).__name__}")
    if isinstance(events, str):
        raise NwbMotorTypeError("trial_align: events given by name need a Dataset as activity")
    if not isinstance(events, xr.DataArray):
        events = xr.DataArray(np.asarray(events), dims="trial")
    if events.ndim != 1:
        raise NwbMotorValueError(f"trial_align: events must be 1-D (one time per trial), got dims {events.dims}")
    if events.dtype.kind not in "iuf":
        raise NwbMotorTypeError(f"trial_align: events must be times in seconds (numbers), got dtype {events.dtype}")
    try:
        w0, w1 = (float(x) for x in window)
    except (TypeError, ValueError):
        raise NwbMotorValueError(f"trial_align: window must be (start, end) in seconds, got {window!r}") from None
    if not (np.isfinite(w0) and np.isfinite(w1) and w0 < w1):
        raise NwbMotorValueError(f"trial_align: window must be (start, end) with start < end, got {window!r}")
    if method not in ("nearest", "linear"):
        raise NwbMotorValueError(f"trial_align: method={method!r}; expected 'nearest' or 'linear'")
    if outside not in ("nan", "raise"):
        raise NwbMotorValueError(f"trial_align: outside={outside!r}; expected 'nan' or 'raise'")
    tdim = _time_dim(activity)
    edim = str(events.dims[0])
    if edim in activity.dims:
        raise NwbMotorValueError(f"trial_align: events dim {edim!r} is also a dim of the activity {activity.dims}")
    if tdim not in activity.coords:
        raise NwbMotorValueError(f"trial_align: activity has no {tdim!r} coordinate (seconds)")
    # a regularly sampled series (a lazy range index, as session views give): frames from
    # its start and step, so its times are never built (an hour at 10 kHz: 36 M values)
    regular = _regular_index(activity, tdim)
    time: NDArray[np.float64] | None = None
    if regular is None:
        time = np.asarray(activity[tdim].values, dtype=np.float64)
        n_time = time.size
        increasing = n_time >= 2 and bool(np.all(np.diff(time) > 0))
    else:
        n_time = regular[2]
        increasing = n_time >= 2 and regular[1] > 0
    if not increasing:
        raise NwbMotorValueError(
            f"trial_align: the {tdim!r} coordinate must hold at least 2 strictly increasing times, "
            f"got {n_time} value(s){'' if n_time < 2 else ' that do not increase'}"
        )
    if regular is not None:
        t_first, t_last, step = regular[0], regular[0] + (n_time - 1) * regular[1], regular[1]
    else:
        assert time is not None
        t_first, t_last, step = float(time[0]), float(time[-1]), float(np.median(np.diff(time)))
    other = [d for d in activity.dims if d != tdim]
    activity = activity.transpose(tdim, *other)
    ev = np.asarray(events.values, dtype=np.float64)
    rows, weights, rel_time, status = align_frames(time, ev, (w0, w1), method, regular=regular)
    not_ok = status != OK
    if outside == "raise" and not_ok.any():
        bad = np.flatnonzero(not_ok)
        labels = events[edim].values[bad] if edim in events.coords else bad
        detail = ", ".join(f"{edim} {lab}: {status[i]}" for lab, i in list(zip(labels, bad, strict=True))[:5])
        raise NwbMotorValueError(
            f"trial_align: {bad.size} of {ev.size} events cannot be aligned with window {(w0, w1)} s "
            f"(recording {t_first:.3f}–{t_last:.3f} s): {detail}; pass outside='nan' to keep them as NaN"
        )
    # one outer read of the samples the windows need (the view decompresses its chunks on
    # every core), then one numpy gather. (A vectorized isel would make xarray build
    # index arrays of the full (event, rel_time, unit) size first: slower.)
    needed = _sorted_unique(rows[rows >= 0])
    values, held = _take(activity, tdim, needed)
    data = gather_aligned(values, held, rows, weights)

    nan_units = _nan_columns(data, ~not_ok)
    coords: dict[Hashable, Any] = {name: c.variable for name, c in events.coords.items() if c.dims == (edim,)}
    coords["event_time"] = (edim, ev)
    coords["align_status"] = (edim, status)
    coords["rel_time"] = ("rel_time", rel_time, {"units": "s", "long_name": "time from the event"})
    for name, c in activity.coords.items():
        if tdim not in c.dims:
            coords[name] = c.variable
    attrs = dict(activity.attrs)
    counts = {s: int((status == s).sum()) for s in (NO_EVENT, EVENT_OUTSIDE, PARTIAL) if (status == s).any()}
    attrs.update(
        window=[w0, w1], method=method, outside=outside, sampling_rate=float(1.0 / step),
        event=str(events.name) if events.name is not None else "", n_events=int(ev.size), n_not_ok=int(not_ok.sum()),
        nan_reason="; ".join(f"{n} event(s): {s}" for s, n in counts.items()) if counts else "",
        units_with_nan=nan_units,
    )
    if ev.size == 0:
        attrs["nan_reason"] = "no events"
    if nan_units:
        attrs["nan_reason"] = "; ".join(filter(None, [attrs["nan_reason"],
                                                      f"{len(nan_units)} trace(s) hold NaN inside aligned windows"]))
    return xr.DataArray(data, dims=(edim, "rel_time", *other), coords=coords, attrs=attrs,
                        name=activity.name)
