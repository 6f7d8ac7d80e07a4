"""Population analyses across learning (Peters et al. 2014).

Every function aligns the event matrix of :func:`detect_events` to the onsets of
rewarded (or cued-rewarded) movements by frame index, so the numeric cores are plain
numpy on (trial, rel_frame, unit) arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray
from scipy import stats

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.analysis._common import (
    frame_rate,
    gather,
    no_trials_error,
    onset_frames,
    pearson_rows,
    require_dataset,
    select_units,
    session_items,
    session_name,
    trial_var,
    trials_with_onset,
    unit_mask,
    upper,
)
from nwbmotor.analysis._events import events_of
from nwbmotor.methods import map_to_frames

__all__ = [
    "activity_timing",
    "first_event_latency",
    "largest_event_frame",
    "population_similarity",
    "sequence_reproducibility",
    "spatiotemporal_correlation",
]


def _aligned(
    ds: xr.Dataset,
    events: xr.DataArray | None,
    window: tuple[int, int],
    func: str,
    *,
    trials: str = "cued_rewarded",
    pad_before: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.int64], xr.DataArray, dict[str, Any]]:
    """Events around movement onset of the selected trials: (trial, rel, unit)."""
    ev = events_of(ds, events, func)
    time = np.asarray(ev["time"].values, float)
    chosen, onset = trials_with_onset(ds, trials, func)
    if chosen.size == 0:
        raise NwbMotorValueError(
            f"{func}: {session_name(ds)} has no {trials.replace('_', '-')} trials with a "
            f"movement onset ({onset.size} trials in all); nothing to align"
        )
    win = (window[0] - pad_before, window[1])
    idx, inside = onset_frames(onset[chosen], time, win, func)
    if not inside.any():
        raise no_trials_error(
            func, ds, f"{trials.replace('_', '-')} trials", chosen.size, chosen.size
        )
    values = np.asarray(ev.values, float)
    arr = gather(values, idx[inside], win)
    info: dict[str, Any] = {
        "trials": trials,
        "n_trials": int(inside.sum()),
        "n_trials_outside_recording": int((~inside).sum()),
    }
    nan_units = np.flatnonzero(~np.isfinite(values).all(axis=0))
    if nan_units.size:
        arr[:, :, nan_units] = np.nan
        info["nan_units"] = (
            f"units at positions {nan_units.tolist()} have NaN traces and are left out (NaN)"
        )
    return arr, chosen[inside], ev, info


def _paper_units(
    units: Any, ds: xr.Dataset, ev: xr.DataArray, func: str
) -> tuple[NDArray[np.bool_], str]:
    """The cells analysed. None: the movement-related excitatory cells (the paper's).

    ``"all"`` takes every unit; a :func:`classify_movement_related` result its
    ``movement_related``; else a bool mask or indices.
    """
    n = ev.sizes["unit"]
    if units is None:
        from nwbmotor.analysis._movement_related import classify_movement_related

        cls = classify_movement_related(ds, ev)
        return np.asarray(cls["movement_related"].values, bool), (
            "movement-related excitatory cells (classify_movement_related defaults, "
            f"{cls.attrs['n_shuffles']} shuffles)"
        )
    if isinstance(units, str):
        if units != "all":
            raise NwbMotorValueError(f"{func}: units must be None, 'all', a mask, indices or a classification, got {units!r}")
        return np.ones(n, bool), "all units"
    if isinstance(units, xr.Dataset):
        if "movement_related" not in units:
            raise NwbMotorTypeError(
                f"{func}: units as a Dataset must be the result of classify_movement_related "
                f"(with 'movement_related'), got variables {sorted(map(str, units.data_vars))}"
            )
        return select_units(units["movement_related"], n, func), "movement-related cells of the classification given"
    return select_units(units, n, func), "units given"


def largest_event_frame(aligned: NDArray[np.floating], pad_before: int = 1) -> NDArray[np.float64]:
    """Frame (from the window start) of each trial's largest event value per unit.

    The lab's rule (``[~, t] = max(aligned, [], 2)``): events hold their amplitude from
    start to peak, so the first frame of the maximum is the start of the largest
    event in the window (or the window start if that event is already running).

    Parameters
    ----------
    aligned : ndarray of shape (n_trials, pad_before + n_rel, n_units)
        Event amplitudes; the first ``pad_before`` frames are skipped.
    pad_before : int
        Frames before the window.

    Returns
    -------
    ndarray of shape (n_trials, n_units)
        Index within the window, NaN where the unit has no event in it.

    Examples
    --------
    >>> a = np.zeros((1, 8, 1)); a[0, 2:4, 0] = 0.5; a[0, 5:7, 0] = 2.0
    >>> float(largest_event_frame(a)[0, 0])
    4.0
    """
    body = np.asarray(aligned, float)[:, pad_before:]
    peak = np.max(body, axis=1)
    where = np.argmax(body, axis=1).astype(float)
    where[~(peak > 0)] = np.nan
    return where


def _reasons(info: dict[str, Any], *more: str) -> str | None:
    parts = [info["nan_units"]] if "nan_units" in info else []
    parts += [m for m in more if m]
    return "; ".join(parts) if parts else None


def first_event_latency(aligned: NDArray[np.floating], pad_before: int = 1) -> NDArray[np.float64]:
    """Frame (from the window start) of the first event onset per trial and unit.

    Parameters
    ----------
    aligned : ndarray of shape (n_trials, pad_before + n_rel, n_units)
        Event amplitudes; the first ``pad_before`` frames only tell whether an event
        was already running at the window start.
    pad_before : int
        Frames before the window (at least 1).

    Returns
    -------
    ndarray of shape (n_trials, n_units)
        Index within the window of the first rising edge, NaN where none.

    Examples
    --------
    >>> a = np.zeros((1, 6, 1)); a[0, 3:5, 0] = 1.0
    >>> float(first_event_latency(a)[0, 0])
    2.0
    """
    on = aligned > 0
    rising = on[:, pad_before:] & ~on[:, pad_before - 1 : -1]
    any_ = rising.any(axis=1)
    first = np.argmax(rising, axis=1).astype(float)
    first[~any_] = np.nan
    return first


def activity_timing(
    session: xr.Dataset,
    events: xr.DataArray | None = None,
    *,
    window_frames: tuple[int, int] = (-5, 84),
    min_active_trials: int = 5,
    units: Any = None,
) -> xr.Dataset:
    """Trial-to-trial jitter of each cell's first event after movement onset.

    Events are aligned to the onsets of cued-rewarded movements (−5 … +84 frames);
    per trial the first event *onset* in the window (an event already running at the
    window start does not count); for each movement-related excitatory cell active on
    more than 5 trials, the std (ddof 1) of that latency. It falls with learning.
    These are the lab's choices (``lever_paper_figures.m``, Fig. 3 "activity timing").

    Reads ``activity`` (or ``events``), ``rewarded``, ``cue_time``,
    ``movement_onset``, ``cued_rewarded`` (or movements to derive it).

    Parameters
    ----------
    session : xarray.Dataset
        The session view.
    events : xarray.DataArray (time, unit), optional
        Events (default ``session.events`` or detected from ``session.activity``).
    window_frames : (int, int)
        Window around movement onset, frames, both ends included.
    min_active_trials : int
        A cell needs more than this many trials with an event (5).
    units : None, "all", classification Dataset, bool mask or indices
        Cells used. Default (None): the movement-related excitatory cells of
        :func:`classify_movement_related` with its defaults (10,000 shuffles; pass
        the classification to reuse one); ``"all"`` for every unit.

    Returns
    -------
    xarray.Dataset
        ``latency_std`` and ``latency_mean`` (unit, seconds from onset; NaN for cells
        active on too few trials or not selected), ``n_active_trials`` (unit), and
        ``median_latency_std`` (scalar; NaN with ``attrs['nan_reason']`` if no cell
        qualifies). Parameters in ``attrs``.

    Raises
    ------
    NwbMotorValueError
        No cued-rewarded trials, all outside the recording, or mismatched lengths.

    Examples
    --------
    >>> from nwbmotor.testing import planted_session
    >>> ds, truth = planted_session(n_cells=10, n_frames=3000, seed=0)
    >>> res = activity_timing(ds, units=truth["movement_related"])
    >>> float(res.median_latency_std) < 0.5
    True
    """
    func = "activity_timing"
    ds = require_dataset(session, func)
    arr, trials, ev, info = _aligned(ds, events, window_frames, func, pad_before=1)
    fs = frame_rate(ev["time"].values, func)
    sel, units_used = _paper_units(units, ds, ev, func)
    first = first_event_latency(arr, 1)
    lat = (first + window_frames[0]) / fs
    n_active = np.isfinite(lat).sum(axis=0)
    ok = sel & (n_active > min_active_trials) & np.isfinite(arr).all(axis=(0, 1))
    with np.errstate(invalid="ignore"):
        sd = np.where(ok, np.nanstd(np.where(ok, lat, 0.0), axis=0, ddof=1), np.nan)
        mean = np.where(ok, np.nanmean(np.where(ok, lat, 0.0), axis=0), np.nan)
    coords = {k: v for k, v in ev.coords.items() if v.dims == ("unit",)}
    attrs = {
        "analysis": func,
        "window_frames": list(window_frames),
        "min_active_trials": int(min_active_trials),
        "event": "first event onset in the window",
        "units": units_used,
        "n_units": int(sel.sum()),
        "n_cells_used": int(ok.sum()),
        "frame_rate": fs,
        **info,
        "session_id": ds.attrs.get("session_id", ""),
    }
    median = float(np.median(sd[ok])) if ok.any() else np.nan
    reason = _reasons(
        info,
        ""
        if ok.any()
        else (
            f"no selected cell has an event on more than {min_active_trials} of the "
            f"{info['n_trials']} aligned trials"
        ),
    )
    if reason:
        attrs["nan_reason"] = reason
    attrs.pop("nan_units", None)
    return xr.Dataset(
        {
            "latency_std": ("unit", sd, {"units": "s"}),
            "latency_mean": ("unit", mean, {"units": "s"}),
            "n_active_trials": ("unit", n_active),
            "median_latency_std": ((), median, {"units": "s"}),
        },
        coords=coords,
        attrs=attrs,
    )


def sequence_reproducibility(
    session: xr.Dataset,
    events: xr.DataArray | None = None,
    *,
    window_frames: tuple[int, int] = (-5, 84),
    min_active_cells: int = 3,
    units: Any = None,
    event: str = "largest",
) -> xr.Dataset:
    """Rank-order reproducibility of the cells' activity across trials (Fig. 3j).

    Per cued-rewarded trial (−5 … +84 frames around movement onset), each active
    cell's time is the frame of its **largest** event value in the window (the lab's
    ``max``; ``event="first"`` takes the first event onset instead). Their ranks
    (ties averaged, MATLAB ``tiedrank``) are correlated (Pearson) with the cells'
    ranks in the session template (the frame of the peak of each cell's mean aligned
    events, ranked over all template cells). Trials with more than 3 active cells
    count; the result is their median. Cells: the movement-related excitatory cells.

    Reads the same variables as :func:`activity_timing`.

    Parameters
    ----------
    session : xarray.Dataset
        The session view.
    events : xarray.DataArray (time, unit), optional
        Events (default ``session.events`` or detected).
    window_frames : (int, int)
        Window around movement onset (frames).
    min_active_cells : int
        A trial needs more than this many active cells (3).
    units : None, "all", classification Dataset, bool mask or indices
        Cells used (default: movement-related excitatory cells, as in
        :func:`activity_timing`).
    event : {"largest", "first"}
        Which event times a cell on a trial.

    Returns
    -------
    xarray.Dataset
        ``correlation`` and ``n_active_cells`` (trial; NaN for trials with too few
        cells), ``template_peak`` (unit, s from onset), ``median_correlation``
        (scalar; NaN with a reason in attrs if no trial qualifies).

    Raises
    ------
    NwbMotorValueError
        No cued-rewarded trials, all outside the recording, or mismatched lengths.

    Examples
    --------
    >>> from nwbmotor.testing import planted_session
    >>> ds, truth = planted_session(n_cells=20, n_frames=3000, seed=0, timing_jitter_s=0.02)
    >>> res = sequence_reproducibility(ds, units=truth["movement_related"])
    >>> float(res.median_correlation) > 0.5
    True
    """
    func = "sequence_reproducibility"
    ds = require_dataset(session, func)
    if event not in ("largest", "first"):
        raise NwbMotorValueError(f"{func}: event must be 'largest' or 'first', got {event!r}")
    arr, trials, ev, info = _aligned(ds, events, window_frames, func, pad_before=1)
    fs = frame_rate(ev["time"].values, func)
    chosen, units_used = _paper_units(units, ds, ev, func)
    sel = chosen & np.isfinite(arr).all(axis=(0, 1))
    body = arr[:, 1:]
    mean = body.mean(axis=0)
    has = sel & (mean > 0).any(axis=0)
    peak = np.where(has, np.argmax(mean, axis=0), -1).astype(float)
    template_rank = np.full(peak.size, np.nan)
    if has.any():
        template_rank[has] = stats.rankdata(peak[has])
    when = largest_event_frame(arr, 1) if event == "largest" else first_event_latency(arr, 1)
    r = np.full(trials.size, np.nan)
    n_act = np.zeros(trials.size, int)
    for i in range(trials.size):
        act = has & np.isfinite(when[i])
        n_act[i] = int(act.sum())
        if n_act[i] > min_active_cells:
            a, b = stats.rankdata(when[i, act]), template_rank[act]
            if np.ptp(a) > 0 and np.ptp(b) > 0:
                r[i] = float(np.corrcoef(a, b)[0, 1])
    attrs = {
        "analysis": func,
        "window_frames": list(window_frames),
        "min_active_cells": int(min_active_cells),
        "event": event,
        "correlation": "Pearson r of the trial's tied ranks vs the template ranks",
        "units": units_used,
        "n_units": int(chosen.sum()),
        "frame_rate": fs,
        **info,
        "session_id": ds.attrs.get("session_id", ""),
    }
    median = float(np.nanmedian(r)) if np.isfinite(r).any() else np.nan
    reason = _reasons(
        info,
        ""
        if np.isfinite(r).any()
        else f"no trial has more than {min_active_cells} active template cells",
    )
    if reason:
        attrs["nan_reason"] = reason
    attrs.pop("nan_units", None)
    coords = {k: v for k, v in ev.coords.items() if v.dims == ("unit",)}
    tmpl = np.where(has, (peak + window_frames[0]) / fs, np.nan)
    return xr.Dataset(
        {
            "correlation": ("trial", r),
            "n_active_cells": ("trial", n_act),
            "template_peak": ("unit", tmpl, {"units": "s"}),
            "median_correlation": ((), median),
        },
        coords={"trial": trials, **coords},
        attrs=attrs,
    )


def spatiotemporal_correlation(
    session: xr.Dataset,
    events: xr.DataArray | None = None,
    *,
    window_frames: tuple[int, int] = (-5, 89),
    units: Any = None,
    relate_lever: bool = True,
) -> xr.Dataset:
    """Trial-to-trial correlation of the population's spatiotemporal activity.

    Per cued-rewarded trial, the cells × frames event matrix from movement onset −5
    to +89 frames, flattened; Pearson r between every pair of trials. It rises with
    learning. With a lever (``behavior``), the lever correlation of the same trial
    pairs (:func:`lever_correlation`) is related to it.

    Reads ``activity`` (or ``events``), the trial variables of cued-rewarded
    movements and, for ``relate_lever``, ``behavior``.

    Parameters
    ----------
    session : xarray.Dataset
        The session view.
    events : xarray.DataArray (time, unit), optional
        Events (default ``session.events`` or detected).
    window_frames : (int, int)
        Window around movement onset (frames).
    units : None, "all", classification Dataset, bool mask or indices
        Cells used (default: movement-related excitatory cells, as in
        :func:`activity_timing`; ``"all"`` for every unit with a finite trace).
    relate_lever : bool
        Also compute ``lever_correlation`` and ``activity_lever_r`` when the session
        has ``behavior``.

    Returns
    -------
    xarray.Dataset
        ``correlation`` (trial, trial_b), ``median_correlation`` (scalar, over trial
        pairs); with a lever also ``lever_correlation`` (trial, trial_b) and
        ``activity_lever_r`` (Pearson r over trial pairs). NaN (with reason) when a
        trial has no events or fewer than 2 trials remain.

    Raises
    ------
    NwbMotorValueError
        No cued-rewarded trials, all outside the recording, or mismatched lengths.

    Examples
    --------
    >>> from nwbmotor.testing import planted_session
    >>> ds, truth = planted_session(n_cells=20, n_frames=3000, seed=0)
    >>> res = spatiotemporal_correlation(ds, units=truth["movement_related"])
    >>> res.correlation.dims
    ('trial', 'trial_b')
    """
    func = "spatiotemporal_correlation"
    ds = require_dataset(session, func)
    arr, trials, ev, info = _aligned(ds, events, window_frames, func)
    chosen, units_used = _paper_units(units, ds, ev, func)
    sel = chosen & np.isfinite(arr).all(axis=(0, 1))
    attrs: dict[str, Any] = {
        "analysis": func,
        "window_frames": list(window_frames),
        "units": units_used,
        **info,
        "n_units": int(sel.sum()),
        "session_id": ds.attrs.get("session_id", ""),
    }
    reasons = [attrs.pop("nan_units")] if "nan_units" in attrs else []
    if not sel.any():
        reasons.append("no selected unit with a finite trace")
    r = (
        pearson_rows(arr[:, :, sel].reshape(trials.size, -1))
        if sel.any()
        else np.full((trials.size,) * 2, np.nan)
    )
    silent = int((~np.isfinite(np.diag(r))).sum())
    if silent:
        reasons.append(f"{silent} trials have no events in the window (their r is NaN)")
    pairs = upper(r)
    median = float(np.nanmedian(pairs)) if np.isfinite(pairs).any() else np.nan
    if trials.size < 2:
        reasons.append("fewer than 2 trials")
    out = xr.Dataset(
        {"correlation": (("trial", "trial_b"), r), "median_correlation": ((), median)},
        coords={"trial": trials, "trial_b": trials},
    )
    if relate_lever and "behavior" in ds.data_vars:
        from nwbmotor.analysis._lever import lever_correlation

        lev = lever_correlation(ds, trials="cued_rewarded")
        common = np.intersect1d(trials, lev["trial"].values)
        lr = lev["correlation"].sel(trial=common, trial_b=common).values
        ar = out["correlation"].sel(trial=common, trial_b=common).values
        a, b = upper(ar), upper(lr)
        ok = np.isfinite(a) & np.isfinite(b)
        rel = (
            float(stats.pearsonr(a[ok], b[ok])[0])
            if ok.sum() > 2 and np.ptp(a[ok]) > 0 and np.ptp(b[ok]) > 0
            else np.nan
        )
        out["lever_correlation"] = (("trial", "trial_b"), np.full(r.shape, np.nan))
        out["lever_correlation"].loc[{"trial": common, "trial_b": common}] = lr
        out["activity_lever_r"] = (
            (),
            rel,
            {"long_name": "Pearson r of activity vs lever correlation over trial pairs"},
        )
        attrs["lever"] = dict(lev.attrs)
        if not np.isfinite(rel):
            reasons.append("activity_lever_r: fewer than 3 trial pairs with both correlations")
    if reasons:
        attrs["nan_reason"] = "; ".join(reasons)
    out.attrs = attrs
    return out


def _reward_fractions(
    ds: xr.Dataset, window: int, cell_types: tuple[str, ...] | None, func: str
) -> xr.DataArray:
    ev = events_of(ds, None, func)
    time = np.asarray(ev["time"].values, float)
    frame_rate(time, func)  # checks the time axis is regular
    rewarded = trial_var(ds, "rewarded", func).astype(bool)
    onset = trial_var(ds, "movement_onset", func).astype(float)
    offset = trial_var(ds, "movement_offset", func).astype(float)
    ok = rewarded & np.isfinite(onset) & np.isfinite(offset)
    if not ok.any():
        raise NwbMotorValueError(
            f"{func}: {session_name(ds)} has no rewarded trials with a movement "
            f"({rewarded.size} trials in all)"
        )
    fa, fb = map_to_frames(onset[ok], time), map_to_frames(offset[ok], time)
    a, b = fa - window, fb + window
    inside = (fa >= 0) & (fb >= 0) & (a >= 0) & (b < time.size)
    if not inside.any():
        raise no_trials_error(func, ds, "rewarded movements", int(ok.sum()), int(ok.sum()))
    on = np.asarray(ev.values, float) > 0
    cum = np.vstack([np.zeros((1, on.shape[1])), np.cumsum(on, axis=0)])
    hit = (cum[b[inside] + 1] - cum[a[inside]]) > 0
    frac = hit.mean(axis=0)
    frac[~np.isfinite(np.asarray(ev.values)).all(axis=0)] = np.nan
    mask = unit_mask(ev, cell_types)
    gid = (
        np.asarray(ev["global_id"].values)
        if "global_id" in ev.coords
        else np.arange(ev.sizes["unit"])
    )
    return xr.DataArray(frac[mask], dims="global_id", coords={"global_id": gid[mask]})


def population_similarity(
    sessions: Sequence[xr.Dataset] | Mapping[str, xr.Dataset] | xr.DataTree,
    *,
    window_frames: int = 5,
    early: tuple[int, int] = (1, 4),
    late: tuple[int, int] = (10, 14),
    cell_types: tuple[str, ...] | None = ("excitatory", "unknown"),
) -> xr.Dataset:
    """Similarity of the movement-active population between sessions.

    Per cell, the fraction of rewarded movements (onset −5 … offset +5 frames)
    with an event; Pearson r of that vector between every pair of sessions, over
    the cells present in both (matched by ``global_id``). Summaries: mean r within
    the early sessions (1–4), within the late ones (10–14), and between them.

    Reads from each session ``activity`` (or ``events``), ``rewarded``,
    ``movement_onset``, ``movement_offset`` and the unit coord ``global_id``.

    Parameters
    ----------
    sessions : sequence, mapping or DataTree of xarray.Dataset
        Session views of one subject in training order (named by a mapping's keys,
        a tree's node paths, or their ``session_id``).
    window_frames : int
        Frames added around each movement (5).
    early, late : (int, int)
        1-based session numbers (inclusive) of the early and late groups.
    cell_types : tuple of str or None
        Cell types used: excitatory and unlabelled (``unknown``) cells, as in
        :func:`classify_movement_related`; None for all; excluded units are dropped.

    Returns
    -------
    xarray.Dataset
        ``activity_fraction`` (session, global_id), ``similarity`` (session,
        session_b), ``consecutive_similarity`` (session: r with the next session),
        and scalars ``early_similarity``, ``late_similarity``,
        ``early_late_similarity``, the early-vs-late test ``ranksum_statistic`` /
        ``ranksum_p_value`` (Wilcoxon rank-sum of the similarities of the session
        pairs within the late group vs within the early group; positive = late
        more similar) with ``n_early_pairs`` / ``n_late_pairs`` (NaN with a reason
        when a group has too few sessions).

    Raises
    ------
    NwbMotorValueError
        Fewer than 2 sessions, or a session without rewarded movements in the
        recording.

    Examples
    --------
    >>> from nwbmotor.testing import planted_learning
    >>> sessions, truth = planted_learning(3, n_cells=20, n_frames=2000)
    >>> population_similarity(sessions, early=(1, 1), late=(3, 3)).similarity.shape
    (3, 3)
    """
    func = "population_similarity"
    if isinstance(sessions, xr.Dataset):
        raise NwbMotorTypeError(f"{func}: expected several session views, got one Dataset")
    items = session_items(sessions, func)
    if len(items) < 2:
        raise NwbMotorValueError(f"{func}: need at least 2 sessions, got {len(items)}")
    names = [str(n) for n, _ in items]
    fr = [
        _reward_fractions(require_dataset(s, func), window_frames, cell_types, func)
        for _, s in items
    ]
    nan_sessions = [
        f"{name}: {int(f.isnull().sum())}" for name, f in zip(names, fr) if f.isnull().any()
    ]
    table = xr.concat(fr, dim="session", join="outer").assign_coords(session=names)
    vals = table.values
    n = len(items)
    sim = np.full((n, n), np.nan)
    for i in range(n):
        for j in range(n):
            ok = np.isfinite(vals[i]) & np.isfinite(vals[j])
            if ok.sum() > 2 and np.ptp(vals[i, ok]) > 0 and np.ptp(vals[j, ok]) > 0:
                sim[i, j] = np.corrcoef(vals[i, ok], vals[j, ok])[0, 1]
    number = np.arange(1, n + 1)
    e = (number >= early[0]) & (number <= early[1])
    late_m = (number >= late[0]) & (number <= late[1])
    reasons = []
    if nan_sessions:
        reasons.append(
            "units with NaN traces left out (NaN activity_fraction) per session: "
            + ", ".join(nan_sessions)
        )

    def mean_pairs(a: NDArray[np.bool_], b: NDArray[np.bool_], label: str) -> float:
        block = sim[np.ix_(a, b)]
        if a is b:
            block = block[~np.eye(block.shape[0], dtype=bool)] if block.size else block
        block = np.asarray(block, float).ravel()
        if not np.isfinite(block).any():
            reasons.append(f"{label}: no pair of sessions in the group(s)")
            return np.nan
        return float(np.nanmean(block))

    iu, ju = np.triu_indices(n, 1)
    early_pairs = sim[iu, ju][e[iu] & e[ju]]
    late_pairs = sim[iu, ju][late_m[iu] & late_m[ju]]
    early_pairs, late_pairs = early_pairs[np.isfinite(early_pairs)], late_pairs[np.isfinite(late_pairs)]
    if early_pairs.size and late_pairs.size:
        rs = stats.ranksums(late_pairs, early_pairs)
        rs_stat, rs_p = float(rs.statistic), float(rs.pvalue)
    else:
        rs_stat = rs_p = np.nan
        reasons.append(
            f"rank-sum test: {early_pairs.size} early and {late_pairs.size} late session pairs (need both)"
        )
    consecutive = np.r_[np.diag(sim, 1), np.nan]
    out = xr.Dataset(
        {
            "activity_fraction": table.rename("activity_fraction"),
            "consecutive_similarity": ("session", consecutive),
            "ranksum_statistic": ((), rs_stat),
            "ranksum_p_value": ((), rs_p),
            "n_early_pairs": ((), int(early_pairs.size)),
            "n_late_pairs": ((), int(late_pairs.size)),
            "similarity": (("session", "session_b"), sim),
            "early_similarity": ((), mean_pairs(e, e, "early_similarity")),
            "late_similarity": ((), mean_pairs(late_m, late_m, "late_similarity")),
            "early_late_similarity": ((), mean_pairs(e, late_m, "early_late_similarity")),
        },
        coords={"session": names, "session_b": names},
        attrs={
            "analysis": func,
            "window_frames": int(window_frames),
            "early": list(early),
            "late": list(late),
            "cell_types": None if cell_types is None else list(cell_types),
            "test": "Wilcoxon rank-sum of the within-late vs within-early session-pair similarities "
            "(the lab pools these pairs over animals)",
        },
    )
    if reasons:
        out.attrs["nan_reason"] = "; ".join(reasons)
    return out
