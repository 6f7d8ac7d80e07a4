"""Shared plumbing of the analyses: reading the session view's variables, frame maths.

Private: nothing here is public API. Every check raises an :class:`NwbMotorValueError`
naming the function, the variable, what was expected and what was found.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.methods import cued_rewarded_trials, map_to_frames

__all__: list[str] = []


def session_name(ds: xr.Dataset | xr.DataArray) -> str:
    sid = ds.attrs.get("session_id", "")
    return f"session {sid!r}" if sid else "session"


def require_dataset(obj: Any, func: str) -> xr.Dataset:
    if not isinstance(obj, xr.Dataset):
        raise NwbMotorTypeError(
            f"{func}: expected the session view (xarray.Dataset, from nwbmotor.open_session), "
            f"got {type(obj).__name__}"
        )
    return obj


def require_var(
    ds: xr.Dataset, name: str, func: str, dims: tuple[str, ...] | None = None
) -> xr.DataArray:
    if name not in ds.variables:
        raise NwbMotorValueError(
            f"{func}: {session_name(ds)} has no variable {name!r}; expected it"
            + (f" on dims {dims}" if dims else "")
            + f"; found variables {sorted(map(str, ds.data_vars))}"
        )
    var = ds[name]
    if dims is not None and tuple(var.dims) != dims:
        raise NwbMotorValueError(
            f"{func}: {session_name(ds)} variable {name!r} has dims {var.dims}, expected {dims}"
        )
    return var


def as_activity(da: Any, func: str, name: str = "activity") -> xr.DataArray:
    """Check an activity-like DataArray (time, unit); return it with dims in that order."""
    if isinstance(da, xr.Dataset):
        da = require_var(da, name, func)
    if not isinstance(da, xr.DataArray):
        raise NwbMotorTypeError(
            f"{func}: {name} must be an xarray.DataArray with dims ('time', 'unit'), "
            f"got {type(da).__name__}"
        )
    if set(da.dims) != {"time", "unit"}:
        raise NwbMotorValueError(f"{func}: {name} must have dims ('time', 'unit'), got {da.dims}")
    da = da.transpose("time", "unit")
    if da.sizes["time"] == 0 or da.sizes["unit"] == 0:
        raise NwbMotorValueError(
            f"{func}: {name} is empty (shape {dict(da.sizes)}); the session has no activity"
        )
    if "time" not in da.coords:
        raise NwbMotorValueError(f"{func}: {name} has no 'time' coordinate (seconds)")
    return da


def frame_rate(time: NDArray[np.float64], func: str) -> float:
    """Frames per second from a time coordinate; checks it increases."""
    time = np.asarray(time, dtype=np.float64)
    if time.size < 2:
        raise NwbMotorValueError(f"{func}: need at least 2 frames, got {time.size}")
    dt = np.diff(time)
    if not np.all(np.isfinite(dt)) or np.any(dt <= 0):
        raise NwbMotorValueError(
            f"{func}: the 'time' coordinate must increase strictly and be finite"
        )
    return float(1.0 / np.median(dt))


def unit_mask(
    da: xr.DataArray | xr.Dataset, cell_types: tuple[str, ...] | None
) -> NDArray[np.bool_]:
    """Units of the given cell types that are not excluded (all if coords absent)."""
    n = da.sizes["unit"]
    mask = np.ones(n, bool)
    if cell_types is not None and "cell_type" in da.coords:
        mask &= np.isin(np.asarray(da["cell_type"].values).astype(str), list(cell_types))
    if "excluded" in da.coords:
        mask &= ~np.asarray(da["excluded"].values, dtype=bool)
    return mask


def select_units(units: Any, n: int, func: str) -> NDArray[np.bool_]:
    """A bool mask over units from None (all), a bool DataArray/array, or indices."""
    if units is None:
        return np.ones(n, bool)
    arr = np.asarray(units.values if isinstance(units, xr.DataArray) else units)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise NwbMotorValueError(
                f"{func}: units mask has {arr.shape[0] if arr.ndim else 0} entries, "
                f"the activity has {n} units; lengths must match"
            )
        return arr
    mask = np.zeros(n, bool)
    try:
        mask[arr.astype(int)] = True
    except (IndexError, ValueError):
        raise NwbMotorValueError(f"{func}: units must be a bool mask or indices < {n}") from None
    return mask


def trial_var(ds: xr.Dataset, name: str, func: str) -> NDArray[Any]:
    var = require_var(ds, name, func)
    if var.dims != ("trial",):
        raise NwbMotorValueError(f"{func}: {name!r} must be on dim 'trial', got dims {var.dims}")
    return np.asarray(var.values)


def trial_selection(ds: xr.Dataset, trials: str, func: str) -> NDArray[np.bool_]:
    """Trials of the kind asked for: ``"cued_rewarded"`` or ``"rewarded"``."""
    if trials == "cued_rewarded":
        return cued_rewarded(ds, func)
    if trials == "rewarded":
        return trial_var(ds, "rewarded", func).astype(bool)
    raise NwbMotorValueError(f"{func}: trials must be 'cued_rewarded' or 'rewarded', got {trials!r}")


def trials_with_onset(ds: xr.Dataset, trials: str, func: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Indices of the selected trials that have a movement onset, and every trial's onset."""
    onset = trial_var(ds, "movement_onset", func).astype(float)
    return np.flatnonzero(trial_selection(ds, trials, func) & np.isfinite(onset)), onset


def cued_rewarded(ds: xr.Dataset, func: str) -> NDArray[np.bool_]:
    """Cued-rewarded trials: the trial column if present, else :func:`nwbmotor.methods.cued_rewarded_trials`."""
    if "cued_rewarded" in ds.data_vars:
        return trial_var(ds, "cued_rewarded", func).astype(bool)
    rewarded = trial_var(ds, "rewarded", func).astype(bool)
    cue = trial_var(ds, "cue_time", func).astype(float)
    onset = np.where(rewarded, trial_var(ds, "movement_onset", func).astype(float), np.nan)
    if "movement_start_time" in ds.data_vars:
        ms = np.asarray(ds["movement_start_time"].values, float)
        me = np.asarray(ds["movement_stop_time"].values, float)
    else:
        ms = me = np.zeros(0)
    return cued_rewarded_trials(onset, cue, ms, me)


def onset_frames(
    onsets: NDArray[np.float64],
    time: NDArray[np.float64],
    window: tuple[int, int],
    func: str,
    what: str = "trials",
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Nearest frame of each onset (:func:`nwbmotor.methods.map_to_frames`), and which windows lie inside."""
    frame_rate(time, func)
    idx = map_to_frames(np.asarray(onsets, float), time)
    inside = (idx >= 0) & (idx + window[0] >= 0) & (idx + window[1] < time.size)
    return np.maximum(idx, 0), inside


def gather(
    values: NDArray[np.floating], frames: NDArray[np.int64], window: tuple[int, int]
) -> NDArray[np.float64]:
    """values (time, unit) at frames + [window0 .. window1] -> (n, n_rel, unit)."""
    rel = np.arange(window[0], window[1] + 1)
    return np.asarray(values)[frames[:, None] + rel[None, :]]


def no_trials_error(
    func: str, ds: xr.Dataset, what: str, n_total: int, n_outside: int
) -> NwbMotorValueError:
    if n_total == 0:
        return NwbMotorValueError(
            f"{func}: {session_name(ds)} has no {what}; expected at least one"
        )
    return NwbMotorValueError(
        f"{func}: {session_name(ds)}: all {n_total} {what} fall outside the recording "
        f"({n_outside} outside); check that trial times and activity share the session clock"
    )


def pearson_rows(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Pearson r between every pair of rows; NaN for a constant row."""
    x = np.asarray(x, float)
    x = x - x.mean(axis=1, keepdims=True)
    norm = np.sqrt((x**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = x / norm[:, None]
        r = z @ z.T
    bad = ~(norm > 0)
    r[bad, :] = np.nan
    r[:, bad] = np.nan
    return np.clip(r, -1.0, 1.0)


def upper(r: NDArray[np.float64]) -> NDArray[np.float64]:
    i, j = np.triu_indices(r.shape[0], 1)
    return r[i, j]


def session_items(obj: Any, func: str) -> list[tuple[str, xr.Dataset]]:
    """(name, Dataset) pairs from one Dataset, a sequence, a mapping or a DataTree.

    A DataTree (from :func:`nwbmotor.open_sessions`) gives its nodes that hold data
    variables, named by their path (``subject/session``), in tree order.
    """
    if isinstance(obj, xr.Dataset):
        return [(str(obj.attrs.get("session_id") or "0"), obj)]
    if isinstance(obj, xr.DataTree):
        items = [
            (node.path.strip("/"), node.to_dataset())
            for node in obj.subtree
            if node.has_data and len(node.data_vars)
        ]
    elif isinstance(obj, Mapping):
        items = [(str(k), v) for k, v in obj.items()]
    elif isinstance(obj, Sequence) and not isinstance(obj, str):
        items = [
            (str(v.attrs.get("session_id") or i) if isinstance(v, xr.Dataset) else str(i), v)
            for i, v in enumerate(obj)
        ]
    else:
        raise NwbMotorTypeError(
            f"{func}: expected a session view (Dataset), or a sequence, mapping or DataTree "
            f"of them, got {type(obj).__name__}"
        )
    names = [n for n, _ in items]
    if len(set(names)) != len(names):
        items = [(f"{i}:{n}", v) for i, (n, v) in enumerate(items)]
    return items
