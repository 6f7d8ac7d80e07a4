"""Numeric cores of the model-comparison metrics (science.md B), on plain numpy arrays.

Pure functions: no xarray, no pynwb. The public xarray versions live in
:mod:`nwbmotor.analysis._model_metrics`; the modular-network checks use these directly.

Shapes: PSTHs are ``(n_conditions, n_steps, n_units)`` (per-target trial averages, in
the analysis window); activity sets for principal angles are ``(n_samples, n_units)``;
weights are ``(n_post, n_pre)``.

Every function raises :class:`~nwbmotor.NwbMotorValueError` on input that cannot give
a meaningful number (empty, non-finite, mismatched shapes) and returns ``nan`` with a
reason (second return value of the ``*_with_reason`` helpers) when the number is
undefined for well-formed input (e.g. activity without any variance).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg

from nwbmotor._errors import NwbMotorValueError

__all__ = [
    "activity_change",
    "covariance_change",
    "dw_dimensionality",
    "output_error",
    "participation_ratio",
    "principal_angles",
    "weight_change",
    "with_noise",
]


def _check(name: str, arr: np.ndarray, ndim: int, what: str, where: str) -> np.ndarray:
    arr = np.asarray(arr, dtype=float)
    if arr.ndim != ndim:
        raise NwbMotorValueError(f"{where}: {name} expected {ndim} dimensions {what}, got shape {arr.shape}")
    if arr.size == 0:
        raise NwbMotorValueError(f"{where}: {name} expected non-empty {what}, got shape {arr.shape} (no activity)")
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise NwbMotorValueError(
            f"{where}: {name} expected finite values, got {int(bad.sum())} NaN/inf value(s), first at index {idx}"
        )
    return arr


def _same_shape(where: str, a: np.ndarray, b: np.ndarray, names: tuple[str, str]) -> None:
    if a.shape != b.shape:
        raise NwbMotorValueError(
            f"{where}: {names[0]} and {names[1]} expected the same shape, got {a.shape} and {b.shape} (mismatched lengths)"
        )


def activity_change(before: np.ndarray, after: np.ndarray) -> tuple[float, str]:
    """Median |ΔPSTH| / σ_neuron × 100 %.

    ``σ_neuron`` is each unit's standard deviation over conditions and steps of the
    ``before`` PSTHs; units without variance are left out.

    Parameters
    ----------
    before, after : ndarray of shape (n_conditions, n_steps, n_units)

    Returns
    -------
    value : float
        Percent; nan when no unit varies.
    reason : str
        Why the value is nan, else "".
    """
    where = "activity_change"
    before = _check("before", before, 3, "(condition, time, unit)", where)
    after = _check("after", after, 3, "(condition, time, unit)", where)
    _same_shape(where, before, after, ("before", "after"))
    sigma = before.reshape(-1, before.shape[2]).std(axis=0)
    keep = sigma > 1e-12 * max(1.0, float(np.abs(before).max()))
    if not keep.any():
        return float("nan"), "no unit varies in 'before' (sigma = 0 for every unit)"
    rel = np.abs(after - before)[:, :, keep] / sigma[keep]
    return float(np.median(rel) * 100.0), ""


def _concat_cov(psth: np.ndarray) -> np.ndarray:
    flat = psth.reshape(-1, psth.shape[-1])
    flat = flat - flat.mean(axis=0)
    return flat.T @ flat / max(flat.shape[0] - 1, 1)


def covariance_change(before: np.ndarray, after: np.ndarray) -> tuple[float, str]:
    """1 − corr(vec C_before, vec C_after).

    ``C`` is the unit × unit covariance of the PSTHs of all conditions concatenated in
    time. 0 when the covariance structure is unchanged (or only scaled).

    Parameters
    ----------
    before, after : ndarray of shape (n_conditions, n_steps, n_units)
        (A 2-D ``(n_samples, n_units)`` array is taken as one condition.)

    Returns
    -------
    value : float
        Between 0 and 2; nan when either covariance is constant.
    reason : str
    """
    where = "covariance_change"
    before, after = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    if before.ndim == 2:
        before = before[None]
    if after.ndim == 2:
        after = after[None]
    before = _check("before", before, 3, "(condition, time, unit)", where)
    after = _check("after", after, 3, "(condition, time, unit)", where)
    _same_shape(where, before, after, ("before", "after"))
    if before.shape[0] * before.shape[1] < 2:
        return float("nan"), "covariance needs at least 2 samples (conditions x steps)"
    cb, ca = _concat_cov(before).ravel(), _concat_cov(after).ravel()
    if np.ptp(cb) == 0 or np.ptp(ca) == 0:
        return float("nan"), "covariance matrix is constant (e.g. a single unit or no activity variance)"
    return float(1.0 - np.corrcoef(cb, ca)[0, 1]), ""


def principal_angles(a: np.ndarray, b: np.ndarray, n_components: int) -> np.ndarray:
    """Principal angles (degrees, ascending) between the top-k PC subspaces of two activity sets.

    Parameters
    ----------
    a, b : ndarray of shape (n_samples, n_units)
        Activity; samples may differ in number, units must match.
    n_components : int
        k, the PCs kept from each set (1 <= k <= min(n_samples - 1, n_units)).

    Returns
    -------
    ndarray of shape (n_components,)
    """
    where = "principal_angles"
    a = _check("a", a, 2, "(sample, unit)", where)
    b = _check("b", b, 2, "(sample, unit)", where)
    if a.shape[1] != b.shape[1]:
        raise NwbMotorValueError(f"{where}: a and b expected the same number of units, got {a.shape[1]} and {b.shape[1]}")
    k = int(n_components)
    limit = min(a.shape[0] - 1, b.shape[0] - 1, a.shape[1])
    if not 1 <= k <= limit:
        raise NwbMotorValueError(
            f"{where}: n_components expected 1..{limit} (min(n_samples - 1, n_units)), got {n_components}"
        )
    basis = []
    for x in (a, b):
        x = x - x.mean(axis=0)
        _, s, vt = np.linalg.svd(x, full_matrices=False)
        if s[k - 1] <= 1e-12 * max(s[0], 1e-300):
            raise NwbMotorValueError(
                f"{where}: activity has rank < n_components={k} (singular values {s[:k]}); use fewer components"
            )
        basis.append(vt[:k].T)
    angles = np.rad2deg(scipy.linalg.subspace_angles(basis[0], basis[1]))
    return np.sort(angles)


def weight_change(before: np.ndarray, after: np.ndarray) -> tuple[float, str]:
    """Median |ΔW / W| × 100 % over the entries where W ≠ 0.

    Parameters
    ----------
    before, after : ndarray of shape (n_post, n_pre)

    Returns
    -------
    value : float
        Percent; nan when every entry of ``before`` is zero.
    reason : str
    """
    where = "weight_change"
    before = _check("before", before, 2, "(unit_post, unit_pre)", where)
    after = _check("after", after, 2, "(unit_post, unit_pre)", where)
    _same_shape(where, before, after, ("before", "after"))
    nz = before != 0
    if not nz.any():
        return float("nan"), "every weight in 'before' is zero, |dW / W| undefined"
    return float(np.median(np.abs((after - before)[nz] / before[nz])) * 100.0), ""


def participation_ratio(values: np.ndarray) -> float:
    """(Σσ)² / Σσ² of non-negative values σ (nan if all zero)."""
    values = np.abs(np.asarray(values, dtype=float))
    denom = float(np.sum(values**2))
    return float(np.sum(values) ** 2 / denom) if denom > 0 else float("nan")


def with_noise(dw: np.ndarray, factor: float, rng: np.random.Generator) -> np.ndarray:
    """ΔW plus Gaussian noise of standard deviation ``factor`` × std(ΔW)."""
    dw = np.asarray(dw, dtype=float)
    return dw + rng.normal(0.0, factor * float(np.std(dw)), size=dw.shape)


def dw_dimensionality(dw: np.ndarray) -> tuple[float, str]:
    """Dimensionality (Σσ_i)² / Σσ_i² over the singular values σ_i of ΔW.

    1 for a rank-1 change, ``min(n_post, n_pre)`` for a change with equal singular values.

    Parameters
    ----------
    dw : ndarray of shape (n_post, n_pre)

    Returns
    -------
    value : float
        nan when ΔW is zero.
    reason : str
    """
    dw = _check("dw", dw, 2, "(unit_post, unit_pre)", "dw_dimensionality")
    s = np.linalg.svd(dw, compute_uv=False)
    if not np.any(s > 0):
        return float("nan"), "dW is zero (no weight change)"
    return participation_ratio(s), ""


def output_error(output: np.ndarray, target: np.ndarray) -> tuple[float, str]:
    """Normalised mean squared error Σ(y − y*)² / Σ(y*)².

    0 for a perfect output; 1 for an output that stays at zero (the centre).

    Parameters
    ----------
    output, target : ndarray of the same shape (..., n_channels)

    Returns
    -------
    value : float
        nan when the target is zero everywhere.
    reason : str
    """
    where = "output_error"
    output, target = np.asarray(output, dtype=float), np.asarray(target, dtype=float)
    output = _check("output", output, output.ndim, "values", where)
    target = _check("target", target, target.ndim, "values", where)
    _same_shape(where, output, target, ("output", "target"))
    denom = float(np.sum(target**2))
    if denom == 0:
        return float("nan"), "target is zero everywhere; normalised error undefined"
    return float(np.sum((output - target) ** 2) / denom), ""
