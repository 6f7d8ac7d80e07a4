"""Calcium event detection (Peters et al. 2014): excitatory and inhibitory variants."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from nwbmotor._dff import loess_smooth
from nwbmotor._errors import NwbMotorValueError
from nwbmotor.analysis._common import as_activity

__all__ = ["detect_events", "events_excitatory", "events_inhibitory"]

#: Parameters of the published algorithm.
EVENT_DEFAULTS: dict[str, Any] = {
    "loess_frames": 30,
    "loess_degree": 2,
    "velocity_sd": 5.0,
    "quiet_sd": 3.0,
    "peak_search_frames": 5,
    "min_peak_sd": 3.0,
    "min_rise_sd": 2.0,
    "min_low_sd": -2.0,
    "start_sd": 1.0,
    "inhibitory_active": 3.0,
    "inhibitory_extend": 1.0,
}


def _last_below(raw: NDArray[np.float64], end: int, level: float) -> int:
    """Last index < ``end`` with ``raw < level``, or -1; searched backwards in blocks."""
    block = 64
    hi = end
    while hi > 0:
        lo = max(hi - block, 0)
        hits = np.flatnonzero(raw[lo:hi] < level)
        if hits.size:
            return lo + int(hits[-1])
        hi = lo
        block *= 4
    return -1


def events_excitatory(
    raw: NDArray[np.floating], smooth: NDArray[np.floating] | None = None, **params: Any
) -> NDArray[np.float64]:
    """Events of one excitatory trace: frames start..peak hold the amplitude, else 0.

    Parameters
    ----------
    raw : ndarray of shape (n_frames,)
        dF/F without NaN.
    smooth : ndarray of shape (n_frames,), optional
        loess(raw, 30 frames); computed if not given.
    **params
        Overrides of :data:`EVENT_DEFAULTS`.

    Returns
    -------
    ndarray of shape (n_frames,)

    Examples
    --------
    >>> from nwbmotor.testing import gcamp_trace
    >>> rng = np.random.default_rng(0)
    >>> tr = gcamp_trace(np.array([5.0]), np.array([1.0]), 400, 28.0) + rng.normal(0, .1, 400)
    >>> ev = events_excitatory(tr)
    >>> int(np.flatnonzero(ev).max()) - 140 in range(0, 6)
    True
    """
    p = {**EVENT_DEFAULTS, **params}
    raw = np.asarray(raw, dtype=np.float64)
    n = raw.size
    out = np.zeros(n)
    if n < 3:
        return out
    s = loess_smooth(raw, p["loess_frames"], degree=p["loess_degree"]) if smooth is None else smooth
    sigma = float(np.std(raw - s))
    if not sigma > 0:
        return out
    v = np.diff(s)  # v[i] = s[i+1] - s[i]
    quiet = s[:-1] < p["quiet_sd"] * sigma
    if quiet.sum() < 2:
        return out
    thr = p["velocity_sd"] * float(np.std(v[quiet]))
    above = v >= thr
    crossings = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    down = np.flatnonzero((v[1:] <= 0) & (v[:-1] > 0)) + 1  # local maxima of s
    up = np.flatnonzero((v[1:] > 0) & (v[:-1] <= 0)) + 1  # local minima of s
    last_peak = -1
    half = int(p["peak_search_frames"])
    for c in crossings:
        if c <= last_peak:
            continue
        k = np.searchsorted(down, c, side="right")
        if k == down.size:
            break
        peak0 = int(down[k])
        lo_i, hi_i = max(peak0 - half, 0), min(peak0 + half + 1, n)
        peak = lo_i + int(np.argmax(raw[lo_i:hi_i]))
        j = np.searchsorted(up, c, side="left") - 1
        low_frame = int(up[j]) if j >= 0 else 0
        low = raw[low_frame]
        last_peak = max(last_peak, peak0)
        if peak + 1 >= n:
            continue
        start = _last_below(raw, peak, low + p["start_sd"] * sigma)
        if start < 0:
            continue
        if (
            raw[peak] < p["min_peak_sd"] * sigma
            or raw[peak + 1] - low < p["min_rise_sd"] * sigma
            or low < p["min_low_sd"] * sigma
        ):
            continue
        out[start : peak + 1] = raw[peak] - low
        last_peak = max(last_peak, peak)
    return out


def events_inhibitory(
    raw: NDArray[np.floating], smooth: NDArray[np.floating] | None = None, **params: Any
) -> NDArray[np.float64]:
    """Activity of one inhibitory trace: raw dF/F on active frames, else 0.

    noise = mean |raw - s|; active where s > 3 noise, extended back to where s first
    exceeded 1 noise.

    Parameters
    ----------
    raw : ndarray of shape (n_frames,)
        dF/F without NaN.
    smooth : ndarray of shape (n_frames,), optional
        loess(raw, 30 frames); computed if not given.
    **params
        Overrides of :data:`EVENT_DEFAULTS`.

    Returns
    -------
    ndarray of shape (n_frames,)

    Examples
    --------
    >>> t = np.arange(300)
    >>> tr = np.where((t > 100) & (t < 160), 1.0, 0.0) + 0.05 * np.sin(t)
    >>> out = events_inhibitory(tr)
    >>> bool(out[130] > 0.9), bool(out[50] == 0)
    (True, True)
    """
    p = {**EVENT_DEFAULTS, **params}
    raw = np.asarray(raw, dtype=np.float64)
    s = loess_smooth(raw, p["loess_frames"], degree=p["loess_degree"]) if smooth is None else smooth
    noise = float(np.mean(np.abs(raw - s)))
    if not noise > 0:
        return np.zeros_like(raw)
    core = s > p["inhibitory_active"] * noise
    weak = s > p["inhibitory_extend"] * noise
    active = core.copy()
    # extend each active run back through the frames where s already exceeded 1 noise
    starts = np.flatnonzero(core & ~np.r_[False, core[:-1]])
    for st in starts:
        i = st - 1
        while i >= 0 and weak[i] and not active[i]:
            active[i] = True
            i -= 1
    return np.where(active, raw, 0.0)


def detect_events(
    activity: xr.DataArray,
    *,
    cell_type: xr.DataArray | None = None,
    loess_frames: int = 30,
    loess_degree: int = 2,
    velocity_sd: float = 5.0,
    quiet_sd: float = 3.0,
    peak_search_frames: int = 5,
    min_peak_sd: float = 3.0,
    min_rise_sd: float = 2.0,
    min_low_sd: float = -2.0,
    start_sd: float = 1.0,
    inhibitory_active: float = 3.0,
    inhibitory_extend: float = 1.0,
) -> xr.DataArray:
    """Detect calcium events in dF/F, per unit by cell type (Peters et al. 2014).

    **Excitatory** (and ``unknown``) units: s = loess(trace, 30 frames);
    σ = std(raw − s); v = diff(s); threshold = 5 × std(v where s < 3σ). A candidate
    starts where v crosses the threshold upward; its peak is the next downward zero
    crossing of v, moved to the raw maximum within ±5 frames; low = raw value at the
    last upward zero crossing of v before the crossing; start = last frame before the
    peak with raw < low + σ. Rejected if peak < 3σ, raw(peak+1) − low < 2σ,
    low < −2σ or no start. Frames start…peak hold the amplitude (peak − low).

    **Inhibitory** units: noise = mean |raw − s|; active where s > 3·noise, extended
    back to where s first exceeded 1·noise; raw dF/F on active frames, else 0.

    Parameters
    ----------
    activity : xarray.DataArray (time, unit)
        dF/F (``session.activity``).
    cell_type : xarray.DataArray (unit), optional
        ``excitatory`` / ``inhibitory`` / ``unknown`` per unit; default the
        ``cell_type`` coordinate of ``activity`` (all excitatory if absent).
    loess_frames, loess_degree : int
        loess span (frames) and local polynomial degree (2 = MATLAB ``loess``).
    velocity_sd, quiet_sd, peak_search_frames : float, float, int
        Velocity threshold (5 sd of v), quiet frames (s < 3 sigma), peak search (±5 frames).
    min_peak_sd, min_rise_sd, min_low_sd, start_sd : float
        Rejection limits and the start level, in sigma (3, 2, −2, 1).
    inhibitory_active, inhibitory_extend : float
        The inhibitory algorithm's thresholds in units of noise (3, 1).

    Returns
    -------
    xarray.DataArray (time, unit)
        Event amplitudes (excitatory) or active dF/F (inhibitory), 0 elsewhere, with
        the coords of ``activity`` plus ``events_valid`` (unit); NaN for a unit
        whose trace has NaN (reason in ``attrs['nan_reason']``). Every parameter is
        in ``attrs``.

    Raises
    ------
    NwbMotorValueError
        If ``activity`` is not (time, unit), is empty, or ``cell_type`` does not
        match its units.

    Examples
    --------
    >>> from nwbmotor.testing import planted_session
    >>> ds, truth = planted_session(n_cells=5, n_frames=2000, seed=0)
    >>> ev = detect_events(ds.activity)
    >>> ev.dims, bool((ev > 0).any())
    (('time', 'unit'), True)
    """
    func = "detect_events"
    act = as_activity(activity, func)
    params = {
        "loess_frames": int(loess_frames),
        "loess_degree": int(loess_degree),
        "velocity_sd": float(velocity_sd),
        "quiet_sd": float(quiet_sd),
        "peak_search_frames": int(peak_search_frames),
        "min_peak_sd": float(min_peak_sd),
        "min_rise_sd": float(min_rise_sd),
        "min_low_sd": float(min_low_sd),
        "start_sd": float(start_sd),
        "inhibitory_active": float(inhibitory_active),
        "inhibitory_extend": float(inhibitory_extend),
    }
    n_units = act.sizes["unit"]
    if cell_type is None:
        types = (
            np.asarray(act["cell_type"].values).astype(str)
            if "cell_type" in act.coords
            else np.full(n_units, "excitatory")
        )
    else:
        types = np.asarray(getattr(cell_type, "values", cell_type)).astype(str)
        if types.shape != (n_units,):
            raise NwbMotorValueError(
                f"{func}: cell_type has {types.size} entries, activity has {n_units} units; "
                f"lengths must match"
            )
    values = np.asarray(act.values, dtype=np.float64)
    finite = np.isfinite(values).all(axis=0)
    out = np.full(values.shape, np.nan)
    if finite.any():
        smooth = loess_smooth(values[:, finite], loess_frames, degree=loess_degree, axis=0)
        for j, u in enumerate(np.flatnonzero(finite)):
            algo = events_inhibitory if types[u] == "inhibitory" else events_excitatory
            out[:, u] = algo(values[:, u], smooth[:, j], **params)
    result = xr.DataArray(
        out,
        dims=("time", "unit"),
        coords=act.coords,
        name="events",
        attrs={
            **params,
            "algorithm": "peters2014",
            "units": act.attrs.get("units", "dF/F"),
            "long_name": "calcium events: amplitude on frames start..peak (excitatory), "
            "active dF/F (inhibitory)",
        },
    )
    result = result.assign_coords(events_valid=("unit", finite))
    if not finite.all():
        bad = np.flatnonzero(~finite).tolist()
        result.attrs["nan_reason"] = f"units at positions {bad} have NaN samples in their trace"
    return result
