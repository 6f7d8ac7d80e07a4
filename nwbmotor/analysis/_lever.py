"""Lever-trajectory reproducibility (Peters et al. 2014)."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.analysis._common import (
    no_trials_error,
    pearson_rows,
    require_dataset,
    require_var,
    session_name,
    trial_selection,
    trial_var,
    upper,
)

__all__ = ["lever_correlation", "resample_bins"]


def resample_bins(
    t: NDArray[np.float64], x: NDArray[np.float64], edges: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Mean of ``x`` in each bin ``[edges[i], edges[i+1])``; interpolated where a bin is empty.

    Parameters
    ----------
    t, x : ndarray of shape (n,)
        Sample times (increasing) and values.
    edges : ndarray of shape (n_bins + 1,)
        Bin edges.

    Returns
    -------
    ndarray of shape (n_bins,)

    Examples
    --------
    >>> t = np.arange(0, 1, 0.001); x = t.copy()
    >>> np.round(resample_bins(t, x, np.array([0.0, 0.5, 1.0])), 3).tolist()
    [0.25, 0.75]
    """
    i = np.searchsorted(t, edges)
    counts = np.diff(i)
    csum = np.r_[0.0, np.cumsum(x)]
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (csum[i[1:]] - csum[i[:-1]]) / counts
    empty = counts == 0
    if empty.any():
        centres = 0.5 * (edges[1:] + edges[:-1])
        means[empty] = np.interp(centres[empty], t, x)
    return means


def lever_correlation(
    session: xr.Dataset,
    *,
    window_s: tuple[float, float] = (-0.5, 4.0),
    bin_s: float = 0.01,
    keep_s: tuple[float, float] = (-0.02, 3.0),
    channel: str | int = 0,
    trials: str = "cued_rewarded",
) -> xr.Dataset:
    """Reproducibility of the lever trajectory across rewarded movements.

    The raw lever trace from −0.5 to +4 s around each rewarded-movement onset is
    resampled to 10 ms bins (bin means), cut to −0.02 … +3.0 s, and correlated
    (Pearson) between all pairs of cued-rewarded trials; the session's value is the
    median over pairs.

    Reads ``behavior`` (time_behavior, channel), ``movement_onset``, ``rewarded``,
    ``cue_time`` and ``cued_rewarded`` (or movements to derive it).

    Parameters
    ----------
    session : xarray.Dataset
        The session view.
    window_s, bin_s, keep_s : (float, float), float, (float, float)
        Extraction window, bin width and kept range (s, relative to onset).
    channel : str or int
        Lever channel (name or position; the first by default).
    trials : {"cued_rewarded", "rewarded"}
        Which trials to correlate.

    Returns
    -------
    xarray.Dataset
        ``correlation`` (trial, trial_b), ``median_correlation`` (scalar; NaN with
        a reason if fewer than 2 trials), ``trace`` (trial, rel_time) of binned
        lever positions. Parameters in ``attrs``.

    Raises
    ------
    NwbMotorValueError
        No lever, no such trials, or all of them outside the lever recording.

    Examples
    --------
    >>> from nwbmotor.testing import planted_session
    >>> ds, truth = planted_session(n_cells=5, n_frames=3000, lever_variability=0.1)
    >>> float(lever_correlation(ds).median_correlation) > 0.7
    True
    """
    func = "lever_correlation"
    ds = require_dataset(session, func)
    beh = require_var(ds, "behavior", func)
    if "time_behavior" not in beh.dims:
        raise NwbMotorValueError(
            f"{func}: 'behavior' must have dim 'time_behavior', got {beh.dims}"
        )
    if "channel" in beh.dims:
        beh = beh.sel(channel=channel) if isinstance(channel, str) else beh.isel(channel=channel)
    t = np.asarray(beh["time_behavior"].values, float)
    x = np.asarray(beh.values, float)
    if t.size < 2:
        raise NwbMotorValueError(f"{func}: {session_name(ds)} has no lever samples")
    if not np.isfinite(x).all():
        raise NwbMotorValueError(
            f"{func}: {session_name(ds)}: the lever trace has {int((~np.isfinite(x)).sum())} "
            f"NaN samples; expected a complete trace"
        )
    sel = trial_selection(ds, trials, func)
    onset = trial_var(ds, "movement_onset", func).astype(float)
    chosen = np.flatnonzero(sel & np.isfinite(onset))
    if chosen.size == 0:
        raise NwbMotorValueError(
            f"{func}: {session_name(ds)} has no {trials.replace('_', '-')} trials "
            f"with a movement onset"
        )
    inside = (onset[chosen] + window_s[0] >= t[0]) & (onset[chosen] + window_s[1] <= t[-1])
    if not inside.any():
        raise no_trials_error(
            func, ds, f"{trials.replace('_', '-')} trials", chosen.size, chosen.size
        )
    chosen = chosen[inside]
    n_bins = int(round((window_s[1] - window_s[0]) / bin_s))
    rel_edges = window_s[0] + bin_s * np.arange(n_bins + 1)
    centres = rel_edges[:-1]
    keep = (centres >= keep_s[0] - 1e-9) & (centres <= keep_s[1] + 1e-9)
    traces = np.stack([resample_bins(t, x, onset[i] + rel_edges)[keep] for i in chosen])
    r = pearson_rows(traces)
    pairs = upper(r)
    attrs: dict[str, Any] = {
        "analysis": func,
        "window_s": list(window_s),
        "bin_s": float(bin_s),
        "keep_s": list(keep_s),
        "channel": channel,
        "trials": trials,
        "n_trials": int(chosen.size),
        "n_trials_outside_recording": int((~inside).sum()),
        "session_id": ds.attrs.get("session_id", ""),
    }
    median = float(np.nanmedian(pairs)) if np.isfinite(pairs).any() else np.nan
    if not np.isfinite(median):
        attrs["nan_reason"] = "fewer than 2 trials with a non-constant lever trace"
    return xr.Dataset(
        {
            "correlation": (("trial", "trial_b"), r),
            "median_correlation": ((), median),
            "trace": (("trial", "rel_time"), traces, {"units": beh.attrs.get("units", "")}),
        },
        coords={
            "trial": chosen,
            "trial_b": chosen,
            "rel_time": ("rel_time", centres[keep], {"units": "s"}),
        },
        attrs=attrs,
    )
