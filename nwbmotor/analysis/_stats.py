"""Statistics across sessions and animals: learning trends and paired comparisons.

The studies summarise a per-session number over training as mean ± SEM across
animals per training day and test its trend with a Pearson correlation of the value
against the session number over every animal's sessions (Peters et al. 2014, e.g.
activity-timing spread, rank correlation, lever correlation). Paired per-session
comparisons (light vs no-light) use the Wilcoxon signed-rank test.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import ArrayLike
from scipy import stats

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError

__all__ = ["learning_trend", "paired_comparison"]


def _as_1d(x: Any, name: str, func: str) -> np.ndarray:
    arr = np.asarray(x.values if isinstance(x, xr.DataArray) else x, dtype=float)
    if arr.ndim != 1:
        raise NwbMotorValueError(f"{func}: {name} must be one-dimensional, got shape {arr.shape}")
    return arr


def learning_trend(
    values: xr.DataArray,
    *,
    day: str = "training_day",
    subject: str = "subject_id",
    alpha: float = 0.05,
) -> xr.Dataset:
    """Mean ± SEM per training day across animals, and the Pearson trend over days.

    Parameters
    ----------
    values : xarray.DataArray (session)
        One number per session, with coords ``day`` (training day, 1-based) and
        ``subject`` (animal) on the same dim; NaN values are left out and counted.
    day, subject : str
        Names of the coords holding the training day and the animal.
    alpha : float
        Significance level that names the direction (0.05).

    Returns
    -------
    xarray.Dataset
        ``day_mean``, ``day_sem``, ``n_animals`` on dim ``day`` (SEM = sd (ddof 1) / √n,
        NaN with one animal); scalars ``r`` and ``p_value`` (Pearson r of value vs day
        over all finite sessions; NaN with fewer than 3), ``slope`` (least squares, per
        day), ``n_sessions``, ``n_subjects``, ``first_mean`` / ``last_mean`` (means
        on the first and last day with data). ``attrs['direction']`` is
        ``"increases"``, ``"decreases"`` or ``"no significant trend"`` (p < alpha);
        ``attrs['test']`` names the test.

    Raises
    ------
    NwbMotorTypeError
        ``values`` is not a DataArray.
    NwbMotorValueError
        ``values`` is not 1-D or lacks the coords.

    Examples
    --------
    >>> v = xr.DataArray([0.2, 0.4, 0.6, 0.3, 0.5, 0.7], dims="session",
    ...                  coords={"training_day": ("session", [1, 2, 3, 1, 2, 3]),
    ...                          "subject_id": ("session", list("aaabbb"))})
    >>> res = learning_trend(v)
    >>> res.attrs["direction"], round(float(res.day_mean.sel(day=3)), 3), int(res.n_animals.sel(day=3))
    ('increases', 0.65, 2)
    """
    func = "learning_trend"
    if not isinstance(values, xr.DataArray):
        raise NwbMotorTypeError(f"{func}: expected an xarray.DataArray on dim 'session', got {type(values).__name__}")
    if values.ndim != 1:
        raise NwbMotorValueError(f"{func}: values must be 1-D (one per session), got dims {values.dims}")
    for name in (day, subject):
        if name not in values.coords:
            raise NwbMotorValueError(
                f"{func}: values has no coord {name!r}; expected training day and subject per session, "
                f"found coords {sorted(map(str, values.coords))}"
            )
    v = np.asarray(values.values, float)
    d = np.asarray(values[day].values, float)
    s = np.asarray(values[subject].values).astype(str)
    ok = np.isfinite(v) & np.isfinite(d)
    days = np.unique(d[np.isfinite(d)])
    mean = np.full(days.size, np.nan)
    sem = np.full(days.size, np.nan)
    n = np.zeros(days.size, int)
    for i, dd in enumerate(days):
        x = v[ok & (d == dd)]
        n[i] = x.size
        if x.size:
            mean[i] = x.mean()
        if x.size > 1:
            sem[i] = x.std(ddof=1) / np.sqrt(x.size)
    attrs: dict[str, Any] = {"analysis": func, "alpha": float(alpha), "test": "Pearson r of value vs training day"}
    if ok.sum() >= 3 and np.ptp(v[ok]) > 0 and np.ptp(d[ok]) > 0:
        r, p = stats.pearsonr(d[ok], v[ok])
        slope = float(np.polyfit(d[ok], v[ok], 1)[0])
        r, p = float(r), float(p)
    else:
        r = p = slope = np.nan
        attrs["nan_reason"] = f"{int(ok.sum())} sessions with a value (need >= 3 that vary)"
    if np.isfinite(p) and p < alpha:
        attrs["direction"] = "increases" if r > 0 else "decreases"
    else:
        attrs["direction"] = "no significant trend"
    has = np.flatnonzero(n > 0)
    return xr.Dataset(
        {
            "day_mean": ("day", mean),
            "day_sem": ("day", sem),
            "n_animals": ("day", n),
            "r": ((), r),
            "p_value": ((), p),
            "slope": ((), slope),
            "n_sessions": ((), int(ok.sum())),
            "n_subjects": ((), int(np.unique(s[ok]).size)),
            "first_mean": ((), float(mean[has[0]]) if has.size else np.nan),
            "last_mean": ((), float(mean[has[-1]]) if has.size else np.nan),
        },
        coords={"day": days},
        attrs=attrs,
    )


def paired_comparison(a: ArrayLike | xr.DataArray, b: ArrayLike | xr.DataArray, *, alpha: float = 0.05) -> xr.Dataset:
    """Wilcoxon signed-rank test of paired values (e.g. light vs no-light per session).

    Parameters
    ----------
    a, b : array-like of shape (n,)
        Paired values; pairs with a NaN are left out.
    alpha : float
        Significance level that names the direction.

    Returns
    -------
    xarray.Dataset
        Scalars ``mean_a``, ``mean_b``, ``mean_difference`` (a − b), ``sem_difference``,
        ``statistic``, ``p_value`` (two-sided; NaN with fewer than 2 pairs or all
        differences 0), ``n_pairs``; ``attrs['direction']`` is ``"a > b"``, ``"a < b"``
        or ``"no significant difference"``.

    Raises
    ------
    NwbMotorValueError
        ``a`` and ``b`` differ in length.

    Examples
    --------
    >>> res = paired_comparison([0.4, 0.5, 0.3, 0.45, 0.35, 0.4], [0.8, 0.7, 0.75, 0.9, 0.85, 0.8])
    >>> res.attrs["direction"], int(res.n_pairs)
    ('a < b', 6)
    """
    func = "paired_comparison"
    x, y = _as_1d(a, "a", func), _as_1d(b, "b", func)
    if x.size != y.size:
        raise NwbMotorValueError(f"{func}: a has {x.size} values, b has {y.size}; pairs must match")
    ok = np.isfinite(x) & np.isfinite(y)
    diff = x[ok] - y[ok]
    attrs: dict[str, Any] = {"analysis": func, "test": "Wilcoxon signed-rank (two-sided)", "alpha": float(alpha)}
    if ok.sum() >= 2 and np.any(diff != 0):
        res = stats.wilcoxon(x[ok], y[ok])
        stat, p = float(res.statistic), float(res.pvalue)
    else:
        stat = p = np.nan
        attrs["nan_reason"] = f"{int(ok.sum())} complete pairs (need >= 2 with a difference)"
    if np.isfinite(p) and p < alpha:
        attrs["direction"] = "a > b" if np.median(diff) > 0 else "a < b"
    else:
        attrs["direction"] = "no significant difference"
    return xr.Dataset(
        {
            "mean_a": ((), float(x[ok].mean()) if ok.any() else np.nan),
            "mean_b": ((), float(y[ok].mean()) if ok.any() else np.nan),
            "mean_difference": ((), float(diff.mean()) if ok.any() else np.nan),
            "sem_difference": ((), float(diff.std(ddof=1) / np.sqrt(diff.size)) if diff.size > 1 else np.nan),
            "statistic": ((), stat),
            "p_value": ((), p),
            "n_pairs": ((), int(ok.sum())),
        },
        attrs=attrs,
    )
