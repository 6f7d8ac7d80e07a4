"""Template-based activity vs movement (Peters et al. 2014, Fig. 4).

How similar is each movement's population activity to the expert template, given how
similar its lever trajectory is to the expert lever template? The lab's code
(``lever_paper_figures.m``, "template-based lever/activity") builds both templates
from a random half of the cued-rewarded trials of an animal's last 3 sessions,
correlates every other trial with them, and compares early (1–3) with late (10–14)
sessions in bins of the lever-template correlation.
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
    onset_frames,
    pearson_rows,
    require_dataset,
    session_items,
    trials_with_onset,
    unit_mask,
)
from nwbmotor.analysis._events import events_of

__all__ = ["template_similarity"]

#: Bins of the lever-template correlation (the lab's ``-1:0.2:0.8``, last bin open).
TEMPLATE_BIN_EDGES = tuple(round(-1.0 + 0.2 * k, 1) for k in range(10))


def _corr_to(x: NDArray[np.float64], template: NDArray[np.float64]) -> NDArray[np.float64]:
    """Pearson r of every row of ``x`` with ``template`` (NaN for constant rows)."""
    return pearson_rows(np.vstack([template[None, :], x]))[0, 1:]


def _session_vectors(
    ds: xr.Dataset,
    gid: NDArray[np.int64],
    window: tuple[int, int],
    lever_times: NDArray[np.float64],
    cell_types: tuple[str, ...],
    func: str,
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    ev = events_of(ds, None, func)
    time = np.asarray(ev["time"].values, float)
    frame_rate(time, func)
    chosen, onset = trials_with_onset(ds, "cued_rewarded", func)
    idx, inside = onset_frames(onset[chosen], time, window, func)
    units = np.asarray(ev["global_id"].values, np.int64)
    pos = {g: i for i, g in enumerate(units)}
    cols = np.asarray([pos[g] for g in gid])
    values = np.nan_to_num(np.asarray(ev.values, float)[:, cols], nan=0.0)
    rel = np.arange(window[0], window[1] + 1)
    act = values[idx[inside][:, None] + rel[None, :]]  # trial, rel, unit
    act = act.transpose(0, 2, 1).reshape(int(inside.sum()), -1)  # cells x frames, flattened
    lever_var = ds["behavior"]
    tb = np.asarray(lever_var["time_behavior"].values, float)
    lev = np.asarray(lever_var.isel(channel=0).values if "channel" in lever_var.dims else lever_var.values, float)
    times = onset[chosen][inside][:, None] + lever_times[None, :]
    ok_t = (times >= tb[0]) & (times <= tb[-1])
    lever = np.where(ok_t, np.interp(times, tb, lev), np.nan)
    good = np.isfinite(lever).all(axis=1) & ~(lever == 0).all(axis=1)
    return chosen[inside][good], act[good], lever[good]


def template_similarity(
    sessions: Sequence[xr.Dataset] | Mapping[str, xr.Dataset] | xr.DataTree,
    *,
    n_template_sessions: int = 3,
    template_fraction: float = 0.5,
    early: tuple[int, int] = (1, 3),
    late: tuple[int, int] = (10, 14),
    window_frames: tuple[int, int] = (-5, 89),
    lever_window_s: tuple[float, float] = (0.0, 3.0),
    lever_step_s: float = 0.01,
    bin_edges: tuple[float, ...] = TEMPLATE_BIN_EDGES,
    cell_types: tuple[str, ...] = ("excitatory", "unknown"),
    seed: int = 0,
) -> xr.Dataset:
    """Similarity of each movement's activity to the template vs its lever similarity.

    For one animal's sessions in training order: per cued-rewarded movement, the
    activity vector (events of the excitatory cells tracked in every session, by
    ``global_id``, from onset −5 to onset +89 frames, cells × frames flattened) and the
    lever trace (0 … 3 s after onset, every 10 ms). The templates are the means over a
    random half of the trials of each of the last 3 sessions; every other trial is
    correlated (Pearson) with both templates. Per session, the Pearson r between the
    two similarities over trials says how closely activity follows movement; per
    group (early sessions 1–3, late 10–14) the activity similarity is averaged
    (± SEM) in bins of the lever similarity (edges −1, −0.8, …, 0.8; the last bin
    open), its least-squares slope on the lever similarity is fitted (the lab fits
    ``robustfit`` on the bin index), and each bin is compared early vs late
    (Wilcoxon rank-sum).

    Reads from each session ``activity`` (or ``events``), ``behavior`` (the lever,
    first channel), the unit coords ``global_id``, ``cell_type``, ``excluded`` and the
    trial variables of cued-rewarded movements.

    Parameters
    ----------
    sessions : sequence, mapping or DataTree of xarray.Dataset
        One animal's session views in training order.
    n_template_sessions : int
        Last sessions that give the template trials (3).
    template_fraction : float
        Fraction of their trials drawn for the template (0.5).
    early, late : (int, int)
        1-based session numbers (inclusive) of the groups.
    window_frames : (int, int)
        Activity window around movement onset (frames).
    lever_window_s, lever_step_s : (float, float), float
        Lever window after onset and its sampling step (s).
    bin_edges : tuple of float
        Lower edges of the lever-similarity bins.
    cell_types : tuple of str
        Cell types used (excitatory; unlabelled cells count as excitatory).
    seed : int
        Seed of the random template draw.

    Returns
    -------
    xarray.Dataset
        ``activity_similarity``, ``lever_similarity`` (trial; coords
        ``trial_session``, ``trial_index``); ``overall_coupling_r`` / ``_p`` (Pearson
        over every non-template trial); ``coupling_r``, ``coupling_p``, ``median_activity_similarity``,
        ``median_lever_similarity``, ``n_trials`` (session); ``binned_mean``,
        ``binned_sem``, ``binned_n`` (group, bin); ``slope``, ``slope_p`` (group);
        ``bin_ranksum_p`` (bin, early vs late). NaN with ``attrs['nan_reason']``
        when a group or bin is empty.

    Raises
    ------
    NwbMotorValueError
        Fewer than ``n_template_sessions`` + 1 sessions, no cells tracked in all
        sessions, a session without lever or cued-rewarded movements.

    Examples
    --------
    >>> from nwbmotor.testing import planted_learning
    >>> sessions, _ = planted_learning(4, n_cells=30, n_frames=4000, press_coupling=1.0)
    >>> res = template_similarity(sessions, early=(1, 1), late=(2, 4))
    >>> res.binned_mean.dims, res.attrs["n_template_sessions"]
    (('group', 'bin'), 3)
    """
    func = "template_similarity"
    if isinstance(sessions, xr.Dataset):
        raise NwbMotorTypeError(f"{func}: expected one animal's sessions (a sequence), got one Dataset")
    items = session_items(sessions, func)
    if len(items) <= n_template_sessions:
        raise NwbMotorValueError(
            f"{func}: {len(items)} sessions; need more than the {n_template_sessions} template sessions"
        )
    names = [str(n) for n, _ in items]
    dss = [require_dataset(s, func) for _, s in items]
    shared: set[int] | None = None
    for name, ds in zip(names, dss):
        if "behavior" not in ds.data_vars:
            raise NwbMotorValueError(f"{func}: session {name!r} has no 'behavior' (lever); needed for the lever template")
        if "global_id" not in ds.coords:
            raise NwbMotorValueError(f"{func}: session {name!r} has no unit coord 'global_id'; cells must be tracked")
        g = np.asarray(ds["global_id"].values, np.int64)
        keep = set(g[unit_mask(ds, cell_types) & (g >= 0)].tolist())
        shared = keep if shared is None else shared & keep
    gid = np.asarray(sorted(shared or ()), np.int64)
    if gid.size == 0:
        raise NwbMotorValueError(f"{func}: no {list(cell_types)} cell is tracked (same global_id) in every session")
    step = float(lever_step_s)
    lever_times = np.arange(lever_window_s[0], lever_window_s[1] + step / 2, step)
    per = [_session_vectors(ds, gid, window_frames, lever_times, cell_types, func) for ds in dss]
    rng = np.random.default_rng(seed)
    picked: list[NDArray[np.bool_]] = []
    for k, (trials, act, lev) in enumerate(per):
        mask = np.zeros(trials.size, bool)
        if k >= len(per) - n_template_sessions and trials.size:
            mask[rng.choice(trials.size, int(round(trials.size * template_fraction)), replace=False)] = True
        picked.append(mask)
    t_act = np.concatenate([a[m] for (_, a, _), m in zip(per, picked)])
    t_lev = np.concatenate([lv[m] for (_, _, lv), m in zip(per, picked)])
    if t_act.shape[0] == 0:
        raise NwbMotorValueError(f"{func}: the last {n_template_sessions} sessions have no usable cued-rewarded trial")
    act_template, lev_template = t_act.mean(axis=0), t_lev.mean(axis=0)
    sim_a, sim_l, sess_of, trial_of = [], [], [], []
    n_s = len(per)
    cr, cp, med_a, med_l, n_tr = (np.full(n_s, np.nan) for _ in range(5))
    for k, ((trials, act, lev), m) in enumerate(zip(per, picked)):
        a = _corr_to(act[~m], act_template) if (~m).any() else np.zeros(0)
        b = _corr_to(lev[~m], lev_template) if (~m).any() else np.zeros(0)
        sim_a.append(a)
        sim_l.append(b)
        sess_of += [names[k]] * a.size
        trial_of.append(trials[~m])
        ok = np.isfinite(a) & np.isfinite(b)
        n_tr[k] = ok.sum()
        if ok.any():
            med_a[k], med_l[k] = np.median(a[ok]), np.median(b[ok])
        if ok.sum() >= 3 and np.ptp(a[ok]) > 0 and np.ptp(b[ok]) > 0:
            cr[k], cp[k] = stats.pearsonr(b[ok], a[ok])
    sa, sl = np.concatenate(sim_a), np.concatenate(sim_l)
    both = np.isfinite(sa) & np.isfinite(sl)
    if both.sum() >= 3 and np.ptp(sa[both]) > 0 and np.ptp(sl[both]) > 0:
        overall_r, overall_p = (float(v) for v in stats.pearsonr(sl[both], sa[both]))
    else:
        overall_r = overall_p = np.nan
    number = np.repeat(np.arange(1, n_s + 1), [x.size for x in sim_a])
    edges = np.asarray(bin_edges, float)
    b_idx = np.searchsorted(edges, sl, side="right") - 1
    b_idx[~np.isfinite(sl) | (sl < edges[0])] = -1
    groups = {"early": early, "late": late}
    shape = (2, edges.size)
    bm, bs, bn = np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape, int)
    slope, slope_p = np.full(2, np.nan), np.full(2, np.nan)
    reasons: list[str] = []
    members = []
    for gi, (label, (lo, hi)) in enumerate(groups.items()):
        g = (number >= lo) & (number <= hi) & np.isfinite(sa) & np.isfinite(sl)  # type: ignore[assignment]
        members.append(g)
        if not g.any():
            reasons.append(f"group {label} (sessions {lo}-{hi}) has no trial")
            continue
        for k in range(edges.size):
            x = sa[g & (b_idx == k)]
            bn[gi, k] = x.size
            if x.size:
                bm[gi, k] = x.mean()
            if x.size > 1:
                bs[gi, k] = x.std(ddof=1) / np.sqrt(x.size)
        if g.sum() >= 3 and np.ptp(sl[g]) > 0:
            fit = stats.linregress(sl[g], sa[g])
            slope[gi], slope_p[gi] = fit.slope, fit.pvalue
    rs = np.full(edges.size, np.nan)
    for k in range(edges.size):
        x, y = sa[members[0] & (b_idx == k)], sa[members[1] & (b_idx == k)]
        if x.size and y.size:
            rs[k] = stats.ranksums(x, y).pvalue
    attrs: dict[str, Any] = {
        "analysis": func,
        "n_template_sessions": int(n_template_sessions),
        "template_fraction": float(template_fraction),
        "early": list(early),
        "late": list(late),
        "window_frames": list(window_frames),
        "lever_window_s": list(lever_window_s),
        "lever_step_s": step,
        "bin_edges": [float(e) for e in edges],
        "cell_types": list(cell_types),
        "n_cells": int(gid.size),
        "n_template_trials": int(t_act.shape[0]),
        "n_usable_trials": int(sum(t.size for t, _, _ in per)),
        "seed": int(seed),
        "tests": "per session Pearson r (lever vs activity similarity over trials); per group least-squares "
        "slope; per bin Wilcoxon rank-sum early vs late",
    }
    if reasons:
        attrs["nan_reason"] = "; ".join(reasons)
    return xr.Dataset(
        {
            "activity_similarity": ("trial", sa),
            "lever_similarity": ("trial", sl),
            "overall_coupling_r": ((), overall_r),
            "overall_coupling_p": ((), overall_p),
            "coupling_r": ("session", cr),
            "coupling_p": ("session", cp),
            "median_activity_similarity": ("session", med_a),
            "median_lever_similarity": ("session", med_l),
            "n_trials": ("session", n_tr.astype(int)),
            "binned_mean": (("group", "bin"), bm),
            "binned_sem": (("group", "bin"), bs),
            "binned_n": (("group", "bin"), bn),
            "slope": ("group", slope),
            "slope_p": ("group", slope_p),
            "bin_ranksum_p": ("bin", rs),
        },
        coords={
            "trial_session": ("trial", np.asarray(sess_of, dtype=str)),
            "trial_index": ("trial", np.concatenate(trial_of) if trial_of else np.zeros(0, int)),
            "session": names,
            "group": list(groups),
            "bin": np.arange(edges.size),
            "bin_low": ("bin", edges),
        },
        attrs=attrs,
    )
