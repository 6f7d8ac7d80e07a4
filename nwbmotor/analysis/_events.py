"""Calcium event detection on session views (Peters et al. 2014): xarray in, xarray out."""

from __future__ import annotations

import numpy as np
import xarray as xr

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.analysis._common import as_activity
from nwbmotor.methods import (
    EVENT_DEFAULTS,
    EVENT_PRESETS,
    events_excitatory,
    events_excitatory_lab,
    events_inhibitory,
    events_inhibitory_lab,
    loess_smooth,
)

__all__ = ["detect_events", "events_of"]


def detect_events(
    activity: xr.DataArray,
    *,
    cell_type: xr.DataArray | None = None,
    preset: str = "peters2014",
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

    ``preset="peters2014"`` (default) is the lab's ``AP_caEvents.m`` exactly, with its
    frame conventions (:func:`nwbmotor.methods.events_excitatory_lab`,
    :func:`nwbmotor.methods.events_inhibitory_lab`: MATLAB's loess, velocity
    ``v(i) = s(i) - s(i-1)``, sign-change crossings with the acceleration's sign, a peak
    search that never reaches the last frame, n - 1 standard deviations) and its NaN
    rule (``AP_caEvents.m`` top level: a unit whose trace is all NaN gets NaN, other NaN
    samples are set to 0 before detection); the parameters below then keep their
    published values. ``preset="nwbmotor"`` is the
    re-derivation from the paper's text, whose parameters can be changed:

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
    preset : {"peters2014", "nwbmotor"}, default "peters2014"
        The lab's code exactly, or nwbmotor's variant (see above).
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
        whose trace has NaN (``peters2014``: only all-NaN; reason in
        ``attrs['nan_reason']``). Every parameter is
        in ``attrs``.

    Raises
    ------
    NwbMotorValueError
        If ``activity`` is not (time, unit), is empty, ``cell_type`` does not
        match its units, the preset is unknown, or parameters are changed with
        ``preset="peters2014"``.

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
    if preset not in EVENT_PRESETS:
        raise NwbMotorValueError(f"{func}: unknown preset {preset!r}; expected one of {list(EVENT_PRESETS)}")
    if preset == "peters2014":
        changed = sorted(k for k, v in params.items() if v != EVENT_DEFAULTS[k])
        if changed:
            raise NwbMotorValueError(
                f"{func}: parameters {changed} are those of the lab's code with preset='peters2014'; "
                f"pass preset='nwbmotor' to change them"
            )
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
    n_zeroed = 0
    if preset == "peters2014":
        # AP_caEvents.m: all-NaN cells are discarded (NaN), other NaN samples become 0
        finite = ~np.isnan(values).all(axis=0)
        n_zeroed = int(np.isnan(values[:, finite]).sum())
        values = np.where(np.isnan(values), 0.0, values)
    if finite.any() and preset == "peters2014":
        for u in np.flatnonzero(finite):
            algo = events_inhibitory_lab if types[u] == "inhibitory" else events_excitatory_lab
            out[:, u] = algo(values[:, u])
    elif finite.any():
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
            "algorithm": preset,
            "preset": preset,
            "units": act.attrs.get("units", "dF/F"),
            "long_name": "calcium events: amplitude on frames start..peak (excitatory), "
            "active dF/F (inhibitory)",
        },
    )
    result = result.assign_coords(events_valid=("unit", finite))
    if not finite.all():
        bad = np.flatnonzero(~finite).tolist()
        what = "only NaN samples" if preset == "peters2014" else "NaN samples in their trace"
        result.attrs["nan_reason"] = f"units at positions {bad} have {what}"
    if n_zeroed:
        result.attrs["nan_samples_set_to_zero"] = n_zeroed
    return result


def events_of(session: xr.Dataset, events: xr.DataArray | None, func: str) -> xr.DataArray:
    """The event matrix: ``events`` if given, else ``session['events']``, else detected."""
    if events is None:
        if "events" in session.data_vars:
            events = session["events"]
        else:
            events = detect_events(as_activity(session, func))
    events = as_activity(events, func, "events")
    if (
        "activity" in session.data_vars
        and session["activity"].sizes.get("time") != events.sizes["time"]
    ):
        raise NwbMotorValueError(
            f"{func}: events have {events.sizes['time']} frames, the session's activity has "
            f"{session['activity'].sizes['time']}; lengths must match"
        )
    return events
