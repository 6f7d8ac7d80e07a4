"""Dendritic spine turnover across sessions (Peters et al. 2014, Fig. 1; the lab's Python port).

Two inputs: the scoring table (one row per dendrite per session: spines present,
gained, lost, dendrite length, area, condition; formats.md) gives gain and loss
rates and the total normalised to the first session; a per-spine presence matrix
(spine × session) gives those too, plus the survival of new spines, which counts
alone cannot give.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr
from scipy import stats

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError

__all__ = ["new_spine_survival", "spine_turnover"]

_COLUMNS = ("dendrite", "session", "present", "gained", "lost")


def _table(table: Any, func: str) -> dict[str, np.ndarray]:
    if isinstance(table, xr.Dataset):
        cols = {str(k).removeprefix("spine_"): np.asarray(v.values) for k, v in table.data_vars.items()}
        cols.update({str(k).removeprefix("spine_"): np.asarray(v.values) for k, v in table.coords.items()})
    elif isinstance(table, Mapping):
        cols = {str(k): np.asarray(v) for k, v in table.items()}
    else:
        raise NwbMotorTypeError(
            f"{func}: expected the spine scoring table as an xarray.Dataset or a mapping of columns "
            f"(e.g. nwbmotor.converters.spines.read_spine_table), got {type(table).__name__}"
        )
    missing = [c for c in _COLUMNS if c not in cols]
    if missing:
        raise NwbMotorValueError(
            f"{func}: spine table lacks column(s) {missing}; expected {list(_COLUMNS)} "
            f"(+ optional length, area, condition), found {sorted(cols)}"
        )
    n = {c: cols[c].shape for c in cols if c in _COLUMNS}
    if len(set(n.values())) != 1:
        raise NwbMotorValueError(f"{func}: spine table columns differ in length: {n}")
    for c in ("present", "gained", "lost"):
        x = cols[c].astype(float)
        if (x < 0).any() or not np.isfinite(x).all():
            raise NwbMotorValueError(f"{func}: column {c!r} must hold non-negative spine counts")
    return cols


def spine_turnover(
    table: xr.Dataset | Mapping[str, Sequence[Any]],
    *,
    sessions: Sequence[str] | None = None,
    normalize: str = "first",
    group: str = "condition",
) -> xr.Dataset:
    """Spine gain and loss per session, and the total normalised to the first session.

    Per session and group (``condition``: training / control, or ``area``), pooled
    over dendrites: fraction gained = Σ gained / Σ reference, fraction lost =
    Σ lost / Σ reference, where the reference is the spines present in the first
    session (``normalize="first"``, the lab's Python port) or in the previous
    session (``"previous"``, a per-interval rate; NaN in the first session); total = Σ present / Σ present in the
    first session (Peters 2014). Per dendrite the same fractions. Tests: Pearson r
    of the normalised total vs session number; with two groups, a Wilcoxon rank-sum
    of the per-dendrite mean gain fraction between them.

    Parameters
    ----------
    table : xarray.Dataset or mapping
        Columns ``dendrite``, ``session``, ``present``, ``gained``, ``lost`` and
        optionally ``length``, ``area``, ``condition`` (one row per dendrite per
        session; names may carry a ``spine_`` prefix).
    sessions : sequence of str, optional
        Session order (default: the order of first appearance in the table).
    normalize : {"first", "previous"}
        Reference count of the fractions.
    group : str
        Column grouping the dendrites (``condition``); one group if absent.

    Returns
    -------
    xarray.Dataset
        ``gain_fraction``, ``loss_fraction``, ``total_normalized``, ``present``,
        ``n_dendrites`` (group, session); ``dendrite_gain_fraction``,
        ``dendrite_loss_fraction`` (dendrite, session; NaN where not scored);
        scalars per group ``trend_r``, ``trend_p`` (group); ``group_statistic``,
        ``group_p_value`` (NaN with a reason unless exactly two groups).

    Raises
    ------
    NwbMotorValueError
        Missing columns, negative counts, unknown ``normalize``, sessions not in the table.

    Examples
    --------
    >>> t = {"dendrite": ["a", "a", "a"], "session": ["d1", "d2", "d3"],
    ...      "present": [10, 11, 12], "gained": [0, 2, 1], "lost": [0, 1, 0]}
    >>> res = spine_turnover(t)
    >>> res.gain_fraction.values.round(2).tolist(), res.total_normalized.values.round(2).tolist()
    ([[0.0, 0.2, 0.1]], [[1.0, 1.1, 1.2]])
    """
    func = "spine_turnover"
    if normalize not in ("first", "previous"):
        raise NwbMotorValueError(f"{func}: normalize must be 'first' or 'previous', got {normalize!r}")
    cols = _table(table, func)
    sess = cols["session"].astype(str)
    order = list(dict.fromkeys(sess.tolist())) if sessions is None else [str(s) for s in sessions]
    unknown = sorted(set(order) - set(sess.tolist()))
    if unknown:
        raise NwbMotorValueError(f"{func}: sessions {unknown} are not in the table (it has {sorted(set(sess))})")
    dend = cols["dendrite"].astype(str)
    groups_of = cols[group].astype(str) if group in cols else np.full(dend.size, "all")
    dendrites = list(dict.fromkeys(dend.tolist()))
    n_s, n_d = len(order), len(dendrites)
    di = {d: i for i, d in enumerate(dendrites)}
    si = {s: i for i, s in enumerate(order)}
    pres = np.full((n_d, n_s), np.nan)
    gain = np.full((n_d, n_s), np.nan)
    loss = np.full((n_d, n_s), np.nan)
    dgroup = np.empty(n_d, dtype=object)
    for k in range(dend.size):
        if sess[k] not in si:
            continue
        i, j = di[dend[k]], si[sess[k]]
        pres[i, j], gain[i, j], loss[i, j] = float(cols["present"][k]), float(cols["gained"][k]), float(cols["lost"][k])
        dgroup[i] = groups_of[k]
    if normalize == "first":
        ref = np.repeat(pres[:, :1], n_s, axis=1)
    else:
        ref = np.c_[np.full((n_d, 1), np.nan), pres[:, :-1]]
    with np.errstate(invalid="ignore", divide="ignore"):
        dg = gain / ref
        dl = loss / ref
    names = list(dict.fromkeys([g for g in dgroup if g is not None]))
    shape = (len(names), n_s)
    g_gain, g_loss, g_tot, g_pres, g_n = (np.full(shape, np.nan) for _ in range(5))
    tr_r, tr_p = np.full(len(names), np.nan), np.full(len(names), np.nan)
    reasons: list[str] = []
    for gi, name in enumerate(names):
        rows = np.asarray([g == name for g in dgroup])
        ok = np.isfinite(pres[rows]) & np.isfinite(ref[rows])
        for j in range(n_s):
            m = ok[:, j]
            g_n[gi, j] = m.sum()
            if not m.any():
                continue
            r_sum = ref[rows][m, j].sum()
            g_pres[gi, j] = pres[rows][m, j].sum()
            g_gain[gi, j] = gain[rows][m, j].sum() / r_sum if r_sum > 0 else np.nan
            g_loss[gi, j] = loss[rows][m, j].sum() / r_sum if r_sum > 0 else np.nan
        base = np.isfinite(pres[rows, 0])
        first = pres[rows][base, 0].sum()
        for j in range(n_s):
            m = base & np.isfinite(pres[rows, j])
            g_tot[gi, j] = pres[rows][m, j].sum() / first if first > 0 and m.any() else np.nan
        x = np.arange(1, n_s + 1, dtype=float)
        fin = np.isfinite(g_tot[gi])
        if fin.sum() >= 3 and np.ptp(g_tot[gi][fin]) > 0:
            tr_r[gi], tr_p[gi] = stats.pearsonr(x[fin], g_tot[gi][fin])
        else:
            reasons.append(f"trend of group {name!r}: fewer than 3 sessions with a varying total")
    gs = gp = np.nan
    if len(names) == 2:
        a = np.nanmean(dg[np.asarray([g == names[0] for g in dgroup])][:, 1:], axis=1) if n_s > 1 else []
        b = np.nanmean(dg[np.asarray([g == names[1] for g in dgroup])][:, 1:], axis=1) if n_s > 1 else []
        a, b = np.asarray(a)[np.isfinite(a)], np.asarray(b)[np.isfinite(b)]
        if a.size and b.size:
            res = stats.ranksums(a, b)
            gs, gp = float(res.statistic), float(res.pvalue)
        else:
            reasons.append("group test: a group has no dendrite scored after the first session")
    else:
        reasons.append(f"group test needs exactly 2 groups of {group!r}, found {len(names)}")
    attrs: dict[str, Any] = {
        "analysis": func,
        "normalize": normalize,
        "group": group,
        "sessions": order,
        "groups_compared": names if len(names) == 2 else [],
        "group_test": "Wilcoxon rank-sum of per-dendrite mean gain fraction (sessions 2..n)",
        "trend_test": "Pearson r of the normalised total vs session number",
    }
    if reasons:
        attrs["nan_reason"] = "; ".join(reasons)
    return xr.Dataset(
        {
            "gain_fraction": (("group", "session"), g_gain),
            "loss_fraction": (("group", "session"), g_loss),
            "total_normalized": (("group", "session"), g_tot),
            "present": (("group", "session"), g_pres),
            "n_dendrites": (("group", "session"), g_n.astype(int)),
            "dendrite_gain_fraction": (("dendrite", "session"), dg),
            "dendrite_loss_fraction": (("dendrite", "session"), dl),
            "trend_r": ("group", tr_r),
            "trend_p": ("group", tr_p),
            "group_statistic": ((), gs),
            "group_p_value": ((), gp),
        },
        coords={
            "group": names,
            "session": order,
            "session_number": ("session", np.arange(1, n_s + 1)),
            "dendrite": dendrites,
            "dendrite_group": ("dendrite", np.asarray([str(g) for g in dgroup])),
        },
        attrs=attrs,
    )


def new_spine_survival(presence: xr.DataArray, *, max_lag: int | None = None) -> xr.Dataset:
    """Gain, loss and the survival of new spines from a per-spine presence matrix.

    A spine is *new* in session k if absent in k − 1 and present in k (k ≥ 2).
    Survival at lag L is the fraction of new spines of every session k still present
    in session k + L (pooled over k where k + L exists). Gain (loss) fraction per
    session = new (lost) spines / spines present in the previous session.

    Parameters
    ----------
    presence : xarray.DataArray of bool, dims (spine, session)
        True where the spine is present; sessions in training order.
    max_lag : int, optional
        Longest lag (default n_sessions − 2).

    Returns
    -------
    xarray.Dataset
        ``survival``, ``n_new`` (lag); ``gain_fraction``, ``loss_fraction``,
        ``total_normalized`` (session); NaN where nothing to count.

    Raises
    ------
    NwbMotorValueError
        Wrong dims or fewer than 3 sessions.

    Examples
    --------
    >>> p = xr.DataArray([[1, 1, 1, 1], [0, 1, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0]],
    ...                  dims=("spine", "session")).astype(bool)
    >>> res = new_spine_survival(p)
    >>> res.survival.values.tolist(), float(res.gain_fraction[1])
    ([0.5, 0.0], 1.0)
    """
    func = "new_spine_survival"
    if not isinstance(presence, xr.DataArray) or set(presence.dims) != {"spine", "session"}:
        raise NwbMotorValueError(f"{func}: presence must be a DataArray with dims ('spine', 'session')")
    p = np.asarray(presence.transpose("spine", "session").values, bool)
    n_s = p.shape[1]
    if n_s < 3:
        raise NwbMotorValueError(f"{func}: need >= 3 sessions, got {n_s}")
    lags = np.arange(1, (n_s - 2 if max_lag is None else max_lag) + 1)
    new = np.zeros_like(p)
    new[:, 1:] = p[:, 1:] & ~p[:, :-1]
    lost = np.zeros_like(p)
    lost[:, 1:] = ~p[:, 1:] & p[:, :-1]
    surv = np.full(lags.size, np.nan)
    n_new = np.zeros(lags.size, int)
    for i, lag in enumerate(lags):
        k = np.arange(1, n_s - lag)
        born = new[:, k]
        n_new[i] = int(born.sum())
        if n_new[i]:
            surv[i] = float((born & p[:, k + lag]).sum() / n_new[i])
    prev = p[:, :-1].sum(axis=0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        gain = np.r_[np.nan, new[:, 1:].sum(axis=0) / prev]
        loss = np.r_[np.nan, lost[:, 1:].sum(axis=0) / prev]
        total = p.sum(axis=0) / p[:, 0].sum()
    coords = {"session": presence["session"].values} if "session" in presence.coords else {}
    return xr.Dataset(
        {
            "survival": ("lag", surv),
            "n_new": ("lag", n_new),
            "gain_fraction": ("session", gain),
            "loss_fraction": ("session", loss),
            "total_normalized": ("session", total),
        },
        coords={"lag": lags, **coords},
        attrs={"analysis": func, "max_lag": int(lags[-1]) if lags.size else 0},
    )
