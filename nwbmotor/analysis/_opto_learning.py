"""Optogenetics across learning: light-driven cells tracked by identity, light vs no-light kinematics.

Ramot et al. 2025 (science.md C): M1 neurons driven by thalamic axon stimulation are
found before and after learning; in experts they overlap more with the neurons that
encode the learned movement. Thalamic inactivation in experts impairs the learned
movement, measured here on the lever trajectories of light vs no-light trials.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from scipy import stats

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.analysis._common import require_dataset, require_var, select_units, session_items, trial_var

__all__ = ["opto_kinematics", "track_light_driven"]


def track_light_driven(
    sessions: Sequence[xr.Dataset] | Mapping[str, xr.Dataset] | xr.DataTree,
    *,
    movement_related: Sequence[Any] | None = None,
    light_driven: Sequence[Any] | None = None,
) -> xr.Dataset:
    """Light-driven cells of one animal across sessions, matched by ``global_id``.

    Per session, the light-driven units (:func:`light_driven_units`, defaults) and the
    movement-related units (:func:`classify_movement_related`, defaults) unless given;
    their overlap with Fisher's exact test (are light-driven cells more often
    movement-related than the other cells?). Across sessions, the cells tracked in
    both of two sessions give the persistence of the light-driven label.

    Parameters
    ----------
    sessions : sequence, mapping or DataTree of xarray.Dataset
        One animal's session views in order (e.g. naive, expert), with ``global_id``.
    movement_related, light_driven : sequence, optional
        Per session a bool mask, indices, or the result Dataset of
        :func:`classify_movement_related` / :func:`light_driven_units`.

    Returns
    -------
    xarray.Dataset
        ``light_driven``, ``movement_related``, ``tracked`` (global_id, session);
        ``n_light_driven``, ``fraction_light_driven``, ``overlap`` (fraction of
        light-driven cells that are movement-related), ``baseline_overlap`` (same
        among the other cells), ``odds_ratio``, ``p_value`` (session);
        ``persistence`` (session, session_b): of the cells light-driven in one
        session and tracked in the other, the fraction light-driven there.

    Raises
    ------
    NwbMotorValueError
        No ``global_id``, or lists of the wrong length.

    Examples
    --------
    >>> from nwbmotor.testing import planted_session
    >>> a, ta = planted_session(n_cells=20, n_frames=6000, n_light_epochs=30, seed=0,
    ...                         light_driven_cells=[0, 1, 2, 3])
    >>> b, tb = planted_session(n_cells=20, n_frames=6000, n_light_epochs=30, seed=1,
    ...                         light_driven_cells=[0, 1, 2, 3])
    >>> res = track_light_driven({"naive": a, "expert": b},
    ...                          movement_related=[ta["movement_related"], tb["movement_related"]])
    >>> float(res.persistence.sel(session="naive", session_b="expert")) >= 0.75
    True
    """
    func = "track_light_driven"
    items = session_items(sessions, func)
    names = [str(n) for n, _ in items]
    for label, given in (("movement_related", movement_related), ("light_driven", light_driven)):
        if given is not None and len(given) != len(items):
            raise NwbMotorValueError(f"{func}: {label} has {len(given)} entries for {len(items)} sessions")
    gids: list[np.ndarray] = []
    lds: list[np.ndarray] = []
    mrs: list[np.ndarray] = []
    for k, (name, ds) in enumerate(items):
        ds = require_dataset(ds, func)
        if "global_id" not in ds.coords:
            raise NwbMotorValueError(f"{func}: session {name!r} has no unit coord 'global_id'; cells must be tracked")
        g = np.asarray(ds["global_id"].values, np.int64)
        n = g.size
        if light_driven is None:
            from nwbmotor.analysis._opto import light_driven_units

            ld = np.asarray(light_driven_units(ds)["light_driven"].values, bool)
        else:
            x = light_driven[k]
            ld = select_units(x["light_driven"] if isinstance(x, xr.Dataset) else x, n, func)
        if movement_related is None:
            from nwbmotor.analysis._movement_related import classify_movement_related

            mr = np.asarray(classify_movement_related(ds)["movement_related"].values, bool)
        else:
            x = movement_related[k]
            mr = select_units(x["movement_related"] if isinstance(x, xr.Dataset) else x, n, func)
        keep = g >= 0
        gids.append(g[keep])
        lds.append(ld[keep])
        mrs.append(mr[keep])
    all_g = np.unique(np.concatenate(gids))
    n_s = len(items)
    L = np.zeros((all_g.size, n_s), bool)
    M = np.zeros((all_g.size, n_s), bool)
    T = np.zeros((all_g.size, n_s), bool)
    for k in range(n_s):
        pos = np.searchsorted(all_g, gids[k])
        T[pos, k], L[pos, k], M[pos, k] = True, lds[k], mrs[k]
    n_ld = L.sum(axis=0)
    frac = np.where(T.sum(axis=0) > 0, n_ld / np.maximum(T.sum(axis=0), 1), np.nan)
    overlap, base, odds, pval = (np.full(n_s, np.nan) for _ in range(4))
    reasons: list[str] = []
    for k in range(n_s):
        t, ld, mr = T[:, k], L[:, k], M[:, k]
        a, b = int((ld & mr).sum()), int((ld & ~mr & t).sum())
        c, d = int((~ld & mr & t).sum()), int((~ld & ~mr & t).sum())
        if a + b:
            overlap[k] = a / (a + b)
        if c + d:
            base[k] = c / (c + d)
        if (a + b) and (c + d):
            res = stats.fisher_exact([[a, b], [c, d]])
            odds[k], pval[k] = float(res.statistic), float(res.pvalue)
        else:
            reasons.append(f"session {names[k]!r}: {a + b} light-driven and {c + d} other cells (need both)")
    pers = np.full((n_s, n_s), np.nan)
    for i in range(n_s):
        for j in range(n_s):
            both = L[:, i] & T[:, j]
            if i != j and both.any():
                pers[i, j] = float((L[:, j] & both).sum() / both.sum())
    attrs: dict[str, Any] = {
        "analysis": func,
        "test": "Fisher exact: light-driven x movement-related, per session",
        "light_driven": "given" if light_driven is not None else "light_driven_units (defaults)",
        "movement_related": "given" if movement_related is not None else "classify_movement_related (defaults)",
    }
    if reasons:
        attrs["nan_reason"] = "; ".join(reasons)
    return xr.Dataset(
        {
            "light_driven": (("global_id", "session"), L),
            "movement_related": (("global_id", "session"), M),
            "tracked": (("global_id", "session"), T),
            "n_light_driven": ("session", n_ld),
            "fraction_light_driven": ("session", frac),
            "overlap": ("session", overlap),
            "baseline_overlap": ("session", base),
            "odds_ratio": ("session", odds),
            "p_value": ("session", pval),
            "persistence": (("session", "session_b"), pers),
        },
        coords={"global_id": all_g, "session": names, "session_b": names},
        attrs=attrs,
    )


def _lever_metrics(ds: xr.Dataset, window_s: tuple[float, float], bin_s: float, func: str) -> dict[str, np.ndarray]:
    beh = require_var(ds, "behavior", func)
    tb = np.asarray(beh["time_behavior"].values, float)
    lev = np.asarray(beh.isel(channel=0).values if "channel" in beh.dims else beh.values, float)
    onset = trial_var(ds, "movement_onset", func).astype(float)
    offset = trial_var(ds, "movement_offset", func).astype(float)
    cue = trial_var(ds, "cue_time", func).astype(float)
    grid = np.arange(window_s[0], window_s[1] + bin_s / 2, bin_s)
    n = onset.size
    amp, speed = np.full(n, np.nan), np.full(n, np.nan)
    for i in np.flatnonzero(np.isfinite(onset)):
        t = onset[i] + grid
        if t[0] < tb[0] or t[-1] > tb[-1]:
            continue
        # bin means of the raw trace, so the speed is not the sample noise
        edges = np.searchsorted(tb, np.r_[t - bin_s / 2, t[-1] + bin_s / 2])
        cs = np.r_[0.0, np.cumsum(lev)]
        cnt = np.diff(edges)
        if (cnt == 0).any():
            continue
        binned = (cs[edges[1:]] - cs[edges[:-1]]) / cnt  # type: ignore[index]
        amp[i] = float(binned.max() - binned[0])
        speed[i] = float(np.max(np.abs(np.diff(binned))) / bin_s)
    return {
        "amplitude": amp,
        "peak_speed": speed,
        "duration": offset - onset,
        "reaction_time": onset - cue,
    }


def opto_kinematics(
    sessions: xr.Dataset | Sequence[xr.Dataset] | Mapping[str, xr.Dataset] | xr.DataTree,
    *,
    window_s: tuple[float, float] = (0.0, 1.5),
    bin_s: float = 0.01,
    alpha: float = 0.05,
) -> xr.Dataset:
    """Lever kinematics of rewarded movements on light vs no-light trials.

    Per rewarded trial with a movement: amplitude (peak of the lever in the window
    after onset minus its value at onset), peak speed (largest change between 10-ms
    bin means, per s), duration (offset − onset) and reaction time (cue → onset). Per
    session the mean on light and on no-light trials; across sessions each metric is
    compared light vs no-light by the Wilcoxon signed-rank test (paired by session).

    Reads ``behavior`` (lever), ``opto``, ``rewarded``, ``cue_time``,
    ``movement_onset``, ``movement_offset``.

    Parameters
    ----------
    sessions : Dataset, or a sequence, mapping or DataTree of them
        Sessions with light trials.
    window_s : (float, float)
        Window after movement onset for amplitude and speed (0 … 1.5 s).
    bin_s : float
        Bin of the lever trace for the speed (10 ms).
    alpha : float
        Level that names the direction.

    Returns
    -------
    xarray.Dataset
        ``<metric>`` (session, condition = light / no_light) for amplitude,
        peak_speed, duration, reaction_time; ``n_trials`` (session, condition);
        ``statistic``, ``p_value``, ``mean_difference`` (metric; light − no light);
        ``attrs['direction']`` per metric.

    Raises
    ------
    NwbMotorValueError
        A session without ``opto`` or ``behavior``.

    Examples
    --------
    >>> from nwbmotor.testing import planted_session
    >>> ss = {f"s{k}": planted_session(n_cells=2, n_frames=6000, seed=k, opto_fraction=0.4,
    ...                                light_press_scale=0.5)[0] for k in range(6)}
    >>> res = opto_kinematics(ss)
    >>> res.attrs["direction"]["amplitude"]
    'light < no light'
    """
    func = "opto_kinematics"
    items = session_items(sessions, func)
    metrics = ("amplitude", "peak_speed", "duration", "reaction_time")
    names = [str(n) for n, _ in items]
    vals = {m: np.full((len(items), 2), np.nan) for m in metrics}
    count = np.zeros((len(items), 2), int)
    for k, (name, ds) in enumerate(items):
        ds = require_dataset(ds, func)
        opto = trial_var(ds, "opto", func).astype(bool)
        rew = trial_var(ds, "rewarded", func).astype(bool)
        met = _lever_metrics(ds, window_s, bin_s, func)
        for c, cond in enumerate((opto, ~opto)):
            sel = cond & rew & np.isfinite(met["amplitude"])
            count[k, c] = int(sel.sum())
            if sel.any():
                for m in metrics:
                    vals[m][k, c] = float(np.nanmean(met[m][sel]))
    stat, p, diff = (np.full(len(metrics), np.nan) for _ in range(3))
    direction: dict[str, str] = {}
    for i, m in enumerate(metrics):
        a, b = vals[m][:, 0], vals[m][:, 1]
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.any():
            diff[i] = float(np.mean(a[ok] - b[ok]))
        if ok.sum() >= 2 and np.any(a[ok] != b[ok]):
            res = stats.wilcoxon(a[ok], b[ok])
            stat[i], p[i] = float(res.statistic), float(res.pvalue)
        direction[m] = (
            ("light > no light" if diff[i] > 0 else "light < no light")
            if np.isfinite(p[i]) and p[i] < alpha
            else "no significant difference"
        )
    attrs: dict[str, Any] = {
        "analysis": func,
        "window_s": list(window_s),
        "bin_s": float(bin_s),
        "alpha": float(alpha),
        "test": "Wilcoxon signed-rank, light vs no light paired by session",
        "direction": direction,
    }
    if (count == 0).any():
        attrs["nan_reason"] = "sessions without rewarded light or no-light trials give NaN: " + ", ".join(
            n for n, c in zip(names, count) if (c == 0).any()
        )
    return xr.Dataset(
        {
            **{m: (("session", "condition"), v) for m, v in vals.items()},
            "n_trials": (("session", "condition"), count),
            "statistic": ("metric", stat),
            "p_value": ("metric", p),
            "mean_difference": ("metric", diff),
        },
        coords={"session": names, "condition": ["light", "no_light"], "metric": list(metrics)},
        attrs=attrs,
    )
