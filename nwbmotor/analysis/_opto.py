"""Optogenetics: behaviour on light trials (Peters 2014) and light-driven units (Ramot 2025)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from scipy import stats

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.analysis._common import (
    as_activity,
    frame_rate,
    no_trials_error,
    require_dataset,
    require_var,
    select_units,
    session_items,
    session_name,
    trial_var,
)
from nwbmotor.methods import map_to_frames

__all__ = ["light_driven_units", "opto_performance"]


def opto_performance(
    sessions: xr.Dataset | Sequence[xr.Dataset] | Mapping[str, xr.Dataset] | xr.DataTree,
    *,
    control: Sequence[str] = (),
) -> xr.Dataset:
    """Fraction rewarded on light vs no-light trials, per session, and the test.

    Per session the fraction of rewarded trials among light (``opto``) and no-light
    trials; across sessions a Wilcoxon rank-sum test of light vs no-light
    fractions, separately for the experimental and the control (blocked-light)
    sessions.

    Reads ``rewarded`` and ``opto`` (dim ``trial``) of each session.

    Parameters
    ----------
    sessions : Dataset, or a sequence, mapping or DataTree of them
        Session views; named by a mapping's keys, a tree's node paths
        (``subject/session``) or each ``session_id``.
    control : sequence of str
        Names of blocked-light control sessions.

    Returns
    -------
    xarray.Dataset
        ``fraction_rewarded_light``, ``fraction_rewarded_no_light``, ``n_light``,
        ``n_no_light``, ``control`` (session); scalars ``statistic``, ``p_value``
        (experimental sessions) and ``control_statistic``, ``control_p_value``;
        NaN with a reason when a group has no session with both kinds of trials.

    Raises
    ------
    NwbMotorValueError
        A session without trials or without the ``opto`` column; control names that
        match no session.

    Examples
    --------
    >>> from nwbmotor.testing import planted_session
    >>> ss = [planted_session(n_cells=2, n_frames=6000, seed=s, opto_fraction=0.3,
    ...                       p_respond_light=0.2)[0] for s in range(5)]
    >>> res = opto_performance({f"s{i}": s for i, s in enumerate(ss)})
    >>> bool(res.p_value < 0.05)
    True
    """
    func = "opto_performance"
    items = session_items(sessions, func)
    names = [str(n) for n, _ in items]
    unknown = set(control) - set(names)
    if unknown:
        raise NwbMotorValueError(
            f"{func}: control sessions {sorted(unknown)} are not among {names}"
        )
    fl, fn, nl, nn = [], [], [], []
    for name, ds in items:
        ds = require_dataset(ds, func)
        rew = trial_var(ds, "rewarded", func).astype(bool)
        opto = trial_var(ds, "opto", func).astype(bool)
        if rew.size == 0:
            raise NwbMotorValueError(f"{func}: session {name!r} has no trials")
        nl.append(int(opto.sum()))
        nn.append(int((~opto).sum()))
        fl.append(float(rew[opto].mean()) if opto.any() else np.nan)
        fn.append(float(rew[~opto].mean()) if (~opto).any() else np.nan)
    fl_a, fn_a = np.asarray(fl), np.asarray(fn)
    is_ctrl = np.isin(names, list(control))
    reasons = []

    def test(mask: np.ndarray, label: str) -> tuple[float, float]:
        ok = mask & np.isfinite(fl_a) & np.isfinite(fn_a)
        if ok.sum() < 2:
            reasons.append(
                f"{label}: {int(ok.sum())} sessions with both light and no-light trials (need >= 2)"
            )
            return np.nan, np.nan
        res = stats.ranksums(fl_a[ok], fn_a[ok])
        return float(res.statistic), float(res.pvalue)

    s, p = test(~is_ctrl, "experimental")
    cs, cp = test(is_ctrl, "control")
    out = xr.Dataset(
        {
            "fraction_rewarded_light": ("session", fl_a),
            "fraction_rewarded_no_light": ("session", fn_a),
            "n_light": ("session", np.asarray(nl)),
            "n_no_light": ("session", np.asarray(nn)),
            "control": ("session", is_ctrl),
            "statistic": ((), s),
            "p_value": ((), p),
            "control_statistic": ((), cs),
            "control_p_value": ((), cp),
        },
        coords={"session": names},
        attrs={
            "analysis": func,
            "test": "Wilcoxon rank-sum (scipy.stats.ranksums)",
            "control_sessions": list(control),
        },
    )
    if reasons:
        out.attrs["nan_reason"] = "; ".join(reasons)
    return out


def light_driven_units(
    session: xr.Dataset,
    *,
    window_s: float = 1.0,
    alpha: float = 0.01,
    zscore: bool = True,
    alternative: str = "two-sided",
    movement_related: Any = None,
) -> xr.Dataset:
    """Units driven by light: after vs before each light onset (science.md C default).

    Per unit, dF/F z-scored over the session; the mean over 1 s after each light
    onset vs the mean over the 1 s before; Wilcoxon signed-rank test across light
    epochs; light-driven if p < 0.01 and the activity rises (``light_suppressed``
    if it falls). A plausible default, not the paper's exact criterion.

    Reads ``activity`` (time, unit) and ``epoch_start_time`` (epoch).

    Parameters
    ----------
    session : xarray.Dataset
        The session view.
    window_s : float
        Window before and after each onset (1 s).
    alpha : float
        Significance level (0.01).
    zscore : bool
        z-score each unit's trace first.
    alternative : {"two-sided", "greater", "less"}
        Alternative hypothesis of the signed-rank test.
    movement_related : bool DataArray (unit) or array, optional
        Movement-related units of the same session (e.g.
        ``classify_movement_related(ds).movement_related``): adds their overlap with
        the light-driven units (science.md C: naive vs expert).

    Returns
    -------
    xarray.Dataset (unit)
        ``p_value``, ``statistic``, ``mean_before``, ``mean_after``, ``difference``,
        ``light_driven``, ``light_suppressed``; NaN p for units with NaN traces or
        no change at all (reason in attrs). With ``movement_related``, scalars
        ``n_overlap``, ``fraction_light_driven_movement_related`` (of light-driven
        units) and ``fraction_movement_related_light_driven`` (of movement-related
        units), NaN with a reason when a denominator is 0.

    Raises
    ------
    NwbMotorValueError
        No activity, no light epochs, or all epochs outside the recording.

    Examples
    --------
    >>> from nwbmotor.testing import planted_session
    >>> ds, truth = planted_session(n_cells=20, n_frames=6000, n_light_epochs=30,
    ...                             fraction_light_driven=0.2)
    >>> res = light_driven_units(ds)
    >>> bool((res.light_driven.values == truth["light_driven"]).mean() > 0.9)
    True
    """
    func = "light_driven_units"
    ds = require_dataset(session, func)
    act = as_activity(ds, func)
    onsets = np.asarray(require_var(ds, "epoch_start_time", func, ("epoch",)).values, float)
    if onsets.size == 0:
        raise NwbMotorValueError(
            f"{func}: {session_name(ds)} has no light epochs (dim 'epoch' is empty)"
        )
    time = np.asarray(act["time"].values, float)
    fs = frame_rate(time, func)
    w = max(int(round(window_s * fs)), 1)
    idx = map_to_frames(onsets, time)
    inside = (idx >= 0) & (idx - w >= 0) & (idx + w <= time.size)
    if not inside.any():
        raise no_trials_error(func, ds, "light epochs", onsets.size, onsets.size)
    x = np.asarray(act.values, float)
    finite = np.isfinite(x).all(axis=0)
    if zscore:
        with np.errstate(invalid="ignore", divide="ignore"):
            x = (x - x.mean(axis=0)) / x.std(axis=0)
    cs = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    ii = idx[inside]
    before = (cs[ii] - cs[ii - w]) / w
    after = (cs[ii + w] - cs[ii]) / w
    diff = after - before
    n_units = x.shape[1]
    p = np.full(n_units, np.nan)
    stat = np.full(n_units, np.nan)
    testable = finite & np.isfinite(diff).all(axis=0) & (np.abs(diff) > 0).any(axis=0)
    if testable.any() and ii.size >= 1:
        res = stats.wilcoxon(diff[:, testable], axis=0, alternative=alternative)
        p[testable] = res.pvalue
        stat[testable] = res.statistic
    md = np.full(n_units, np.nan)
    md[finite] = diff[:, finite].mean(axis=0)
    coords = {k: v for k, v in act.coords.items() if v.dims == ("unit",)}
    attrs: dict[str, Any] = {
        "analysis": func,
        "window_s": float(window_s),
        "alpha": float(alpha),
        "zscore": bool(zscore),
        "alternative": alternative,
        "test": "Wilcoxon signed-rank",
        "n_epochs": int(ii.size),
        "n_epochs_outside_recording": int((~inside).sum()),
        "session_id": ds.attrs.get("session_id", ""),
    }
    if (~testable).any():
        attrs["nan_reason"] = (
            f"{int((~testable).sum())} units untested (NaN trace or no change "
            f"across epochs): p_value NaN"
        )
    sig = np.isfinite(p) & (p < alpha)
    driven = sig & (md > 0)
    overlap: dict[str, Any] = {}
    if movement_related is not None:
        mr = select_units(movement_related, n_units, func)
        both = int((driven & mr).sum())
        n_ld, n_mr = int(driven.sum()), int(mr.sum())
        overlap = {
            "n_overlap": ((), both),
            "fraction_light_driven_movement_related": ((), both / n_ld if n_ld else np.nan),
            "fraction_movement_related_light_driven": ((), both / n_mr if n_mr else np.nan),
        }
        empty = [name for name, n in (("light-driven", n_ld), ("movement-related", n_mr)) if not n]
        if empty:
            note = f"overlap fraction NaN: no {' and no '.join(empty)} units"
            attrs["nan_reason"] = (
                f"{attrs['nan_reason']}; {note}" if "nan_reason" in attrs else note
            )
    return xr.Dataset(
        {
            **overlap,
            "p_value": ("unit", p),
            "statistic": ("unit", stat),
            "mean_before": ("unit", np.where(finite, before.mean(axis=0), np.nan)),
            "mean_after": ("unit", np.where(finite, after.mean(axis=0), np.nan)),
            "difference": ("unit", md),
            "light_driven": ("unit", driven),
            "light_suppressed": ("unit", sig & (md < 0)),
        },
        coords=coords,
        attrs=attrs,
    )
