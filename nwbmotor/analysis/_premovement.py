"""Pre-movement activity: when the population, and each cell, departs from baseline.

Peters et al. 2014 (science.md A) report that population activity diverges from its
baseline ~105 ms before movement onset and that ~9 % of movement-related cells lead the
movement. :func:`premovement_activity` measures both on one session; the numeric core
:func:`departure_frames` takes numpy arrays (trial, rel_frame, series).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.analysis._common import (
    as_activity,
    frame_rate,
    gather,
    no_trials_error,
    onset_frames,
    require_dataset,
    select_units,
    session_name,
    trials_with_onset,
)

__all__ = ["departure_frames", "premovement_activity"]

Direction = Literal["increase", "decrease", "either"]


def _first_run(departed: NDArray[np.bool_], onset: int, min_frames: int) -> int:
    """Start of the first True run of >= ``min_frames`` that reaches ``onset``; -1 if none."""
    edges = np.diff(np.r_[0, departed.astype(np.int8), 0])
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1  # inclusive
    ok = (ends >= onset) & (ends - starts + 1 >= min_frames)
    return int(starts[ok][0]) if ok.any() else -1


def departure_frames(
    diff: NDArray[np.floating],
    onset_index: int,
    search_start: int,
    *,
    k: float = 3.0,
    min_frames: int = 2,
    direction: Direction = "increase",
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Frame at which each series departs from its baseline, by a trial-SEM criterion.

    ``diff`` holds baseline-subtracted activity (each trial minus its own baseline mean).
    Per frame, the trial mean ``m`` and its standard error ``se`` (std over trials,
    ddof=1, / sqrt(n_trials)); the series is *departed* at a frame where
    ``m > k * se`` ("increase"), ``m < -k * se`` ("decrease") or either (same sign
    throughout a run). The departure is the first frame of the first run of departed
    frames, searched from ``search_start``, that is at least ``min_frames`` long and
    lasts up to the onset frame or begins after it: a series that departs before onset
    must stay departed up to onset; a brief excursion that returns before onset is
    ignored.

    Parameters
    ----------
    diff : ndarray of shape (n_trials, n_rel, n_series)
        Baseline-subtracted activity; must be finite.
    onset_index : int
        Position of the onset frame along ``n_rel``.
    search_start : int
        First position searched (the frame after the baseline window).
    k : float
        Departure threshold in trial standard errors (3).
    min_frames : int
        Shortest run of departed frames that counts (2).
    direction : {"increase", "decrease", "either"}
        Which departures count.

    Returns
    -------
    index : ndarray of shape (n_series,)
        Position along ``n_rel`` of the departure; NaN where there is none.
    mean, sem : ndarray of shape (n_rel, n_series)
        Trial mean and its standard error (NaN with fewer than 2 trials).
    departed : ndarray of bool, shape (n_rel, n_series)
        Frames that pass the criterion (in the searched range).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> d = rng.normal(0, 0.1, (20, 12, 1))
    >>> d[:, 7:] += 1.0                       # departs at position 7, onset at 9
    >>> index, mean, sem, departed = departure_frames(d, onset_index=9, search_start=4)
    >>> float(index[0])
    7.0
    """
    diff = np.asarray(diff, dtype=np.float64)
    if diff.ndim != 3:
        raise NwbMotorValueError(
            f"departure_frames: diff must be (n_trials, n_rel, n_series), got shape {diff.shape}"
        )
    if direction not in ("increase", "decrease", "either"):
        raise NwbMotorValueError(
            f"departure_frames: direction={direction!r}; "
            f"expected 'increase', 'decrease' or 'either'"
        )
    n_trials, n_rel, n_series = diff.shape
    mean = diff.mean(axis=0) if n_trials else np.full((n_rel, n_series), np.nan)
    if n_trials >= 2:
        sem = diff.std(axis=0, ddof=1) / np.sqrt(n_trials)
    else:
        sem = np.full((n_rel, n_series), np.nan)
    searched = np.zeros(n_rel, bool)
    searched[max(search_start, 0) :] = True
    with np.errstate(invalid="ignore"):
        up = (mean > k * sem) & searched[:, None]
        down = (mean < -k * sem) & searched[:, None]
    index = np.full(n_series, np.nan)
    for s in range(n_series):
        found = []
        if direction in ("increase", "either"):
            found.append(_first_run(up[:, s], onset_index, min_frames))
        if direction in ("decrease", "either"):
            found.append(_first_run(down[:, s], onset_index, min_frames))
        found = [f for f in found if f >= 0]
        if found:
            index[s] = min(found)
    departed = {"increase": up, "decrease": down, "either": up | down}[direction]
    return index, mean, sem, departed


def _units_of(units: Any, session: xr.Dataset, n: int, func: str) -> tuple[NDArray[np.bool_], str]:
    """The cells analysed: a classification Dataset, a mask or indices; None -> classify."""
    if units is None:
        from nwbmotor.analysis._movement_related import classify_movement_related

        return np.asarray(classify_movement_related(session).movement_related.values, bool), (
            "classify_movement_related (defaults)"
        )
    if isinstance(units, xr.Dataset):
        if "movement_related" not in units:
            raise NwbMotorTypeError(
                f"{func}: units as a Dataset must be the result of classify_movement_related "
                f"(with 'movement_related'), got variables {sorted(map(str, units.data_vars))}"
            )
        units = units["movement_related"]
        if units.sizes.get("unit") != n:
            raise NwbMotorValueError(
                f"{func}: the classification has {units.sizes.get('unit')} units, the activity has "
                f"{n} units; lengths must match"
            )
        return np.asarray(units.values, bool), "classification given"
    return select_units(units, n, func), "units given"


def _check_params(
    func: str,
    window_s: tuple[float, float],
    baseline_s: tuple[float, float],
    k: float,
    min_frames: int,
    min_trials: int,
    direction: str,
    trials: str,
    quiescence_s: float,
) -> tuple[float, float, float, float]:
    try:
        w0, w1 = (float(x) for x in window_s)
        b0, b1 = (float(x) for x in baseline_s)
    except (TypeError, ValueError):
        raise NwbMotorValueError(
            f"{func}: window_s and baseline_s must be (start, end) in seconds from movement onset, "
            f"got window_s={window_s!r}, baseline_s={baseline_s!r}"
        ) from None
    if not (np.isfinite([w0, w1, b0, b1]).all() and w0 < w1 and b0 < b1):
        raise NwbMotorValueError(
            f"{func}: window_s and baseline_s must be finite (start, end) with start < end, "
            f"got window_s={window_s!r}, baseline_s={baseline_s!r}"
        )
    if not (w0 < 0.0 <= w1):
        raise NwbMotorValueError(
            f"{func}: window_s must start before movement onset and reach it (start < 0 <= end), "
            f"got {window_s!r}"
        )
    if b0 < w0 or b1 > w1:
        raise NwbMotorValueError(
            f"{func}: baseline_s {baseline_s!r} lies outside the aligned window "
            f"window_s {window_s!r}; "
            f"expected window_s[0] <= baseline_s[0] < baseline_s[1] <= window_s[1]"
        )
    if b1 >= 0.0:
        raise NwbMotorValueError(
            f"{func}: baseline_s must end before movement onset (end < 0), got {baseline_s!r}"
        )
    if not (np.isfinite(k) and k > 0):
        raise NwbMotorValueError(
            f"{func}: k must be a positive number of standard errors, got {k!r}"
        )
    if int(min_frames) != min_frames or min_frames < 1:
        raise NwbMotorValueError(f"{func}: min_frames must be an integer >= 1, got {min_frames!r}")
    if int(min_trials) != min_trials or min_trials < 2:
        raise NwbMotorValueError(
            f"{func}: min_trials must be an integer >= 2 (a standard error needs 2 trials), "
            f"got {min_trials!r}"
        )
    if direction not in ("increase", "decrease", "either"):
        raise NwbMotorValueError(
            f"{func}: direction={direction!r}; expected 'increase', 'decrease' or 'either'"
        )
    if trials not in ("cued_rewarded", "rewarded"):
        raise NwbMotorValueError(
            f"{func}: trials={trials!r}; expected 'cued_rewarded' or 'rewarded'"
        )
    try:
        quiet_ok = bool(np.isfinite(quiescence_s) and quiescence_s >= 0)
    except TypeError:
        quiet_ok = False
    if not quiet_ok:
        raise NwbMotorValueError(f"{func}: quiescence_s must be seconds >= 0, got {quiescence_s!r}")
    return w0, w1, b0, b1


def _quiescent(
    ds: xr.Dataset, onsets: NDArray[np.float64], seconds: float, tolerance: float
) -> tuple[NDArray[np.bool_], bool]:
    """Onsets with no lever movement in the ``seconds`` before them (besides their own)."""
    table = ("movement_start_time", "movement_stop_time")
    if seconds <= 0 or not all(name in ds.variables for name in table):
        return np.ones(onsets.size, bool), False
    ms = np.asarray(ds["movement_start_time"].values, float)
    me = np.asarray(ds["movement_stop_time"].values, float)
    other = (ms[None, :] < onsets[:, None] - tolerance) & (me[None, :] > onsets[:, None] - seconds)
    return ~other.any(axis=1), True  # type: ignore[return-value]


def premovement_activity(
    session: xr.Dataset,
    activity: xr.DataArray | None = None,
    *,
    units: Any = None,
    trials: Literal["cued_rewarded", "rewarded"] = "cued_rewarded",
    quiescence_s: float = 3.0,
    window_s: tuple[float, float] = (-2.0, 1.0),
    baseline_s: tuple[float, float] = (-2.0, -1.0),
    k: float = 3.0,
    min_frames: int = 2,
    direction: Direction = "increase",
    min_trials: int = 5,
) -> xr.Dataset:
    """When population activity, and each movement-related cell, departs from baseline.

    Activity (dF/F, or events from :func:`detect_events`) is aligned by frame to the
    movement onsets of cued-rewarded (or rewarded) trials whose lever was still for
    ``quiescence_s`` before onset; each trial's trace, per cell, has its mean over the
    baseline window subtracted. The **population** trace is the mean over the
    movement-related cells. A trace is *departed* at a frame where its trial mean
    exceeds ``k`` trial standard errors (std over trials / sqrt(n_trials)): a one-sided
    test per frame of the baseline-subtracted activity against 0, i.e. against the
    baseline mean. Its **departure time** is the start of the first run of at least
    ``min_frames`` departed frames after the baseline window that stays departed up to
    the onset frame, or, if none does, that begins after it (see
    :func:`departure_frames`). The population's departure time is the
    ``divergence_time``; a cell **leads** the movement if its departure time is before
    onset (at least one frame before the onset frame).

    Reads ``activity`` (time, unit) (or the given ``activity``), ``movement_onset``,
    ``rewarded``, ``cue_time`` / ``cued_rewarded``, ``movement_start_time`` /
    ``movement_stop_time`` (movement) for the quiescence check, and for
    ``units=None`` what :func:`classify_movement_related` reads.

    Parameters
    ----------
    session : xarray.Dataset
        The session view.
    activity : xarray.DataArray (time, unit), optional
        What to align: default ``session.activity`` (dF/F); pass e.g.
        ``detect_events(session.activity)`` for events. Same frames as the session.
    units : classification Dataset, bool mask or indices, optional
        The movement-related cells: the result of :func:`classify_movement_related`,
        a bool mask over units or unit positions. Default: classify with its defaults.
    trials : {"cued_rewarded", "rewarded"}
        Which trials' movement onsets to align to (as the other population analyses).
    quiescence_s : float
        Keep only onsets with no other lever movement in this many seconds before them
        (a movement starting within half a frame of the onset is the trial's own).
        Default 3 s: the baseline window plus ~1 s for the calcium transients of an
        earlier movement (decay 0.5-1 s) to fade, which would otherwise raise the
        baseline. 0: no check; not checked when the session has no movement table
        (``attrs['quiescence_checked']``).
    window_s : (float, float)
        Aligned window around onset, seconds (-2 ... +1 s); rounded to whole frames.
    baseline_s : (float, float)
        Baseline window, seconds before onset (-2 ... -1 s); inside ``window_s``.
    k : float
        Threshold in trial standard errors (3: one-sided p ~ 0.001 per frame for
        normal errors).
    min_frames : int
        Shortest run of departed frames that counts (2).
    direction : {"increase", "decrease", "either"}
        Which departures from baseline count.
    min_trials : int
        Fewer usable trials than this give NaN (5).

    Returns
    -------
    xarray.Dataset
        On ``rel_time`` (s from onset): ``population_mean`` and ``population_sem``
        (baseline-subtracted population trace, trial mean and its standard error),
        ``population_departed`` (bool). On ``unit``: ``departure_time`` (s; NaN for
        cells not analysed, with NaN traces, or that never depart), ``leading``
        (bool), ``movement_related`` (the cells analysed), and ``unit_mean``
        (rel_time, unit: every finite cell's baseline-subtracted trial mean).
        Scalars: ``divergence_time`` (s, the population's departure; negative before
        onset) and ``fraction_leading`` (leading / analysed cells with finite traces).
        ``trial`` coordinate: the trials used. ``attrs``: every parameter,
        ``frame_rate``, ``n_trials``, ``n_cells``, ``n_leading``, trial counts left
        out, and ``nan_reason`` when anything is NaN.

    Raises
    ------
    NwbMotorValueError
        Bad windows or parameters; activity without ('time', 'unit') dims, a 'time'
        coordinate, or the session's number of frames; no trials of the kind with a
        movement onset, or all of them outside the recording.
    NwbMotorTypeError
        ``session`` not a Dataset; ``units`` a Dataset that is no classification.

    Notes
    -----
    Frame resolution: onsets are mapped to their nearest frame and times are whole
    frames from it, so the onset lies within half a frame of ``rel_time`` 0 and every
    departure time is quantised to 1/frame rate (35.7 ms at 28 Hz: the reported
    ~105 ms is ~3 frames). A response that starts between two frames shows from the
    next one, and an indicator's rise (tens of ms) delays it further, so departures
    are late by up to about one frame. No sub-frame interpolation is done: the
    interpolated crossing of ``k`` standard errors would locate where the threshold
    is crossed (which depends on ``k``, noise and rise time), not where the response
    starts, and so would look more precise than it is. With events from
    :func:`detect_events` an event begins on the last frame before its rise
    (science.md), so departures come up to one frame earlier than with dF/F.

    Examples
    --------
    >>> from nwbmotor.testing import planted_session
    >>> ds, truth = planted_session(n_cells=40, n_frames=5000, seed=0, fraction_movement=0.5,
    ...                             fraction_lead=0.2, timing_jitter_s=0.01,
    ...                             latencies_s=np.full(40, 0.3))
    >>> res = premovement_activity(ds, units=truth["movement_related"])
    >>> -0.105 - 1 / 28 <= float(res.divergence_time) < 0
    True
    >>> bool((res.leading.values == truth["lead"]).all()), float(res.fraction_leading)
    (True, 0.2)
    """
    func = "premovement_activity"
    ds = require_dataset(session, func)
    w0, w1, b0, b1 = _check_params(
        func, window_s, baseline_s, k, min_frames, min_trials, direction, trials, quiescence_s
    )
    if activity is None:
        act = as_activity(ds, func)
    else:
        act = as_activity(activity, func)
        if "activity" in ds.data_vars and ds["activity"].sizes.get("time") != act.sizes["time"]:
            raise NwbMotorValueError(
                f"{func}: activity has {act.sizes['time']} frames, the session's activity has "
                f"{ds['activity'].sizes['time']}; lengths must match"
            )
    time = np.asarray(act["time"].values, float)
    fs = frame_rate(time, func)
    f0, f1 = int(round(w0 * fs)), int(round(w1 * fs))
    g0, g1 = int(round(b0 * fs)), int(round(b1 * fs))
    if g1 >= 0:
        raise NwbMotorValueError(
            f"{func}: baseline_s {baseline_s!r} ends on the onset frame at {fs:.3g} frames/s; "
            f"end it at least one frame (1/{fs:.3g} s) before onset"
        )
    n_units = act.sizes["unit"]
    selected, units_from = _units_of(units, ds, n_units, func)

    # trials: the kind asked for, with an onset, quiescent before it, inside the recording
    chosen, onset = trials_with_onset(ds, trials, func)
    kind = trials.replace("_", "-")
    if chosen.size == 0:
        raise NwbMotorValueError(
            f"{func}: {session_name(ds)} has no {kind} trials with a movement onset "
            f"({onset.size} trials in all); nothing to align"
        )
    idx, inside = onset_frames(onset[chosen], time, (f0, f1), func)
    if not inside.any():
        raise no_trials_error(func, ds, f"{kind} trials", chosen.size, chosen.size)
    q_s = float(quiescence_s)
    quiet, checked = _quiescent(ds, onset[chosen], q_s, 0.5 / fs)
    use = inside & quiet
    trial_ids = chosen[use]
    n_trials = int(use.sum())

    rel = np.arange(f0, f1 + 1)
    onset_index = -f0
    base = slice(g0 - f0, g1 - f0 + 1)
    values = np.asarray(act.values, float)
    arr = gather(values, idx[use], (f0, f1)) if n_trials else np.empty((0, rel.size, n_units))
    finite = np.isfinite(arr).all(axis=(0, 1))
    diff = arr - arr[:, base].mean(axis=1, keepdims=True)
    cells = selected & finite
    enough = n_trials >= min_trials

    reasons: list[str] = []
    if (~finite).any():
        reasons.append(
            f"units at positions {np.flatnonzero(~finite).tolist()} hold NaN inside the aligned "
            f"windows and are left out (NaN)"
        )
    if not enough:
        reasons.append(
            f"only {n_trials} usable {kind} trial(s) (quiescent for {q_s:g} s before onset, window "
            f"inside the recording; {chosen.size} in all), fewer than min_trials={min_trials}"
        )
    if not cells.any():
        reasons.append(
            f"no movement-related cell with a finite trace "
            f"({int(selected.sum())} selected of {n_units})"
        )

    n_rel = rel.size
    unit_mean = np.full((n_rel, n_units), np.nan)
    if n_trials:
        unit_mean[:, finite] = diff[:, :, finite].mean(axis=0)
    departure = np.full(n_units, np.nan)
    pop_mean = np.full(n_rel, np.nan)
    pop_sem = np.full(n_rel, np.nan)
    pop_departed = np.zeros(n_rel, bool)
    divergence = np.nan
    search_start = g1 - f0 + 1
    if enough and cells.any():
        opts = {"k": k, "min_frames": int(min_frames), "direction": direction}
        pop = diff[:, :, cells].mean(axis=2, keepdims=True)
        i_pop, m, se, dep = departure_frames(pop, onset_index, search_start, **opts)  # type: ignore[arg-type]
        pop_mean, pop_sem, pop_departed = m[:, 0], se[:, 0], dep[:, 0]
        divergence = float(rel[int(i_pop[0])] / fs) if np.isfinite(i_pop[0]) else np.nan
        if not np.isfinite(divergence):
            reasons.append(
                f"divergence_time: the population mean never stays departed from baseline by "
                f"{k:g} SEM for {int(min_frames)} frames between the baseline and the window end"
            )
        i_cell = departure_frames(diff[:, :, cells], onset_index, search_start, **opts)[0]  # type: ignore[arg-type]
        ok = np.isfinite(i_cell)
        dep_t = np.full(i_cell.size, np.nan)
        dep_t[ok] = rel[i_cell[ok].astype(int)] / fs
        departure[cells] = dep_t
        never = int((~ok).sum())
        if never:
            reasons.append(f"departure_time: {never} analysed cell(s) never depart from baseline")
    leading = np.isfinite(departure) & (departure < 0)
    n_cells = int(cells.sum())
    fraction = float(leading.sum() / n_cells) if (enough and n_cells) else np.nan

    coords: dict[str, Any] = {k_: v for k_, v in act.coords.items() if v.dims == ("unit",)}  # type: ignore[misc]
    coords["rel_time"] = (
        "rel_time", rel / fs, {"units": "s", "long_name": "time from movement onset"}
    )
    coords["trial"] = ("trial", trial_ids)
    attrs: dict[str, Any] = {
        "analysis": func,
        "trials": trials,
        "quiescence_s": q_s,
        "quiescence_checked": bool(checked and q_s > 0),
        "window_s": [w0, w1],
        "baseline_s": [b0, b1],
        "k": float(k),
        "min_frames": int(min_frames),
        "direction": direction,
        "min_trials": int(min_trials),
        "criterion": (
            f"trial mean of baseline-subtracted activity beyond {k:g} trial SEM "
            f"({direction}) for >= {int(min_frames)} frames, lasting up to onset"
        ),
        "units_from": units_from,
        "frame_rate": fs,
        "n_trials": n_trials,
        "n_trials_not_quiescent": int((inside & ~quiet).sum()),
        "n_trials_outside_recording": int((~inside).sum()),
        "n_cells": n_cells,
        "n_leading": int(leading.sum()),
        "session_id": ds.attrs.get("session_id", ""),
    }
    if reasons:
        attrs["nan_reason"] = "; ".join(reasons)
    return xr.Dataset(
        {
            "population_mean": (
                "rel_time", pop_mean, {"long_name": "baseline-subtracted population mean"}
            ),
            "population_sem": ("rel_time", pop_sem, {"long_name": "standard error over trials"}),
            "population_departed": ("rel_time", pop_departed),
            "divergence_time": (
                (), divergence, {"units": "s", "long_name": "population departure from baseline"}
            ),
            "unit_mean": (
                ("rel_time", "unit"), unit_mean, {"long_name": "baseline-subtracted trial mean"}
            ),
            "departure_time": (
                "unit", departure, {"units": "s", "long_name": "departure from baseline"}
            ),
            "leading": ("unit", leading),
            "movement_related": ("unit", selected, {"long_name": "cells analysed"}),
            "fraction_leading": (
                (), fraction, {"long_name": "fraction of analysed cells leading the movement"}
            ),
        },
        coords=coords,
        attrs=attrs,
    )
