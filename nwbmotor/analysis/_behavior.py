"""Behaviour timing per session (Peters et al. 2014)."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.analysis._common import require_dataset, session_name, trial_var

__all__ = ["behavior_timing"]


def behavior_timing(session: xr.Dataset) -> xr.Dataset:
    """Fraction rewarded and the timing of rewarded movements.

    Per rewarded trial: cue → movement onset (``reaction_time``), movement onset →
    reward (``onset_to_reward``), movement duration (offset − onset); per session the
    fraction of trials rewarded and the medians.

    Reads ``rewarded``, ``cue_time``, ``movement_onset``, ``movement_offset``,
    ``reward_time`` (all on dim ``trial``); ``start_time`` / ``stop_time`` and the
    ``time`` coordinate, when present, to check the trials lie in the recording.

    Parameters
    ----------
    session : xarray.Dataset
        The session view.

    Returns
    -------
    xarray.Dataset
        ``reaction_time``, ``onset_to_reward``, ``movement_duration`` (trial, s; NaN
        on unrewarded trials), and scalars ``fraction_rewarded``,
        ``median_reaction_time``, ``median_onset_to_reward``,
        ``median_movement_duration`` (NaN with a reason if no trial is rewarded).

    Raises
    ------
    NwbMotorValueError
        No trials, a missing trial variable, or trials outside the recording.

    Examples
    --------
    >>> from nwbmotor.testing import planted_session
    >>> ds, truth = planted_session(n_cells=2, n_frames=3000, reaction_median_s=0.5)
    >>> 0.3 < float(behavior_timing(ds).median_reaction_time) < 0.8
    True
    """
    func = "behavior_timing"
    ds = require_dataset(session, func)
    rewarded = trial_var(ds, "rewarded", func).astype(bool)
    if rewarded.size == 0:
        raise NwbMotorValueError(f"{func}: {session_name(ds)} has no trials (dim 'trial' is empty)")
    cue = trial_var(ds, "cue_time", func).astype(float)
    onset = trial_var(ds, "movement_onset", func).astype(float)
    offset = trial_var(ds, "movement_offset", func).astype(float)
    reward = trial_var(ds, "reward_time", func).astype(float)
    if "time" in ds.coords and ds.sizes.get("time", 0) > 0:
        t = np.asarray(ds["time"].values, float)
        times = cue[np.isfinite(cue)]
        outside = (times < t[0]) | (times > t[-1])
        if outside.all():
            raise NwbMotorValueError(
                f"{func}: {session_name(ds)}: all {times.size} cues fall outside the recording "
                f"({t[0]:.3f}-{t[-1]:.3f} s); check the session clock"
            )
    bad = rewarded & ~(np.isfinite(onset) & np.isfinite(reward))
    if bad.any():
        raise NwbMotorValueError(
            f"{func}: {session_name(ds)}: {int(bad.sum())} rewarded trials lack movement_onset "
            f"or reward_time (first at trial position {int(np.flatnonzero(bad)[0])})"
        )
    rt = np.where(rewarded, onset - cue, np.nan)
    o2r = np.where(rewarded, reward - onset, np.nan)
    dur = np.where(rewarded, offset - onset, np.nan)
    attrs: dict[str, Any] = {
        "analysis": func,
        "n_trials": int(rewarded.size),
        "n_rewarded": int(rewarded.sum()),
        "session_id": ds.attrs.get("session_id", ""),
    }

    def med(x: np.ndarray) -> float:
        x = x[np.isfinite(x)]
        return float(np.median(x)) if x.size else np.nan

    if not rewarded.any():
        attrs["nan_reason"] = "no rewarded trial: timing medians are NaN"
    return xr.Dataset(
        {
            "reaction_time": ("trial", rt, {"units": "s", "long_name": "cue to movement onset"}),
            "onset_to_reward": ("trial", o2r, {"units": "s"}),
            "movement_duration": ("trial", dur, {"units": "s"}),
            "fraction_rewarded": ((), float(rewarded.mean())),
            "median_reaction_time": ((), med(rt), {"units": "s"}),
            "median_onset_to_reward": ((), med(o2r), {"units": "s"}),
            "median_movement_duration": ((), med(dur), {"units": "s"}),
        },
        coords={"trial": np.arange(rewarded.size)}
        if "trial" not in ds.coords
        else {"trial": ds["trial"].values},
        attrs=attrs,
    )
