"""Model-comparison metrics of Feulner et al. (2022) on xarray objects (science.md B).

``activity_change``, ``covariance_change`` and ``principal_angles`` compare two sets of
activity (e.g. before and after adaptation) of the same units; ``weight_change`` and
``dw_dimensionality`` compare network weights; ``output_error`` compares a network's
output with its target. They run unchanged on imaging and model sessions.

Activity may be given as

- trial-aligned ``(trial, rel_time, unit)`` (from :func:`nwbmotor.analysis.trial_align`)
  or ``(trial, time, unit)``: trials are averaged per condition into PSTHs, the
  condition of each trial taken from ``condition`` (a coordinate name on ``trial``, or a
  DataArray on ``trial``);
- PSTHs ``(condition, rel_time | time, unit)``;
- a plain ``(time, unit)`` series, taken as one condition.

The numeric cores are in :mod:`nwbmotor.methods._model_metrics`. Results are 0-d (or 1-d)
DataArrays whose ``attrs`` record every parameter; a value that is undefined for
well-formed input is NaN with the reason in ``attrs["nan_reason"]``; malformed input
(no activity, NaN values, mismatched lengths) raises :class:`~nwbmotor.NwbMotorValueError`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.methods import _model_metrics as core

__all__ = [
    "activity_change",
    "covariance_change",
    "dw_dimensionality",
    "output_error",
    "principal_angles",
    "weight_change",
]

_TIME_DIMS = ("rel_time", "time", "time_behavior")


def _require_da(obj: Any, func: str, name: str) -> xr.DataArray:
    if isinstance(obj, xr.Dataset):
        raise NwbMotorTypeError(
            f"{func}: {name} expected an xarray.DataArray, got a Dataset; pass one variable, "
            f"e.g. ds['activity'] or the result of trial_align"
        )
    if not isinstance(obj, xr.DataArray):
        raise NwbMotorTypeError(f"{func}: {name} expected an xarray.DataArray, got {type(obj).__name__}")
    return obj


def _time_dim(da: xr.DataArray, func: str, name: str) -> str:
    found = [d for d in _TIME_DIMS if d in da.dims]
    if len(found) != 1:
        raise NwbMotorValueError(
            f"{func}: {name} expected exactly one time dim among {_TIME_DIMS}, got dims {da.dims}"
        )
    return found[0]


def _select_window(da: xr.DataArray, tdim: str, window: tuple[float, float] | None, func: str,
                   name: str) -> xr.DataArray:
    if window is None:
        return da
    if tdim not in da.coords:
        raise NwbMotorValueError(f"{func}: {name} has no {tdim!r} coordinate (seconds) to select window={window}")
    lo, hi = (float(w) for w in window)
    if not lo <= hi:
        raise NwbMotorValueError(f"{func}: window expected (start, stop) with start <= stop, got {window}")
    t = np.asarray(da[tdim].values, dtype=float)
    keep = (t >= lo - 1e-9) & (t <= hi + 1e-9)
    if not keep.any():
        raise NwbMotorValueError(
            f"{func}: {name} has no samples in window {window} s (its {tdim!r} runs from "
            f"{t.min() if t.size else 'nothing'} to {t.max() if t.size else 'nothing'})"
        )
    return da.isel({tdim: np.flatnonzero(keep)})


def _psths(da: Any, func: str, name: str, condition: str | xr.DataArray | None,
           window: tuple[float, float] | None) -> tuple[np.ndarray, list[Any]]:
    """(n_conditions, n_steps, n_units) PSTHs and the condition labels."""
    da = _require_da(da, func, name)
    if "unit" not in da.dims:
        raise NwbMotorValueError(f"{func}: {name} expected a 'unit' dim, got dims {da.dims}")
    tdim = _time_dim(da, func, name)
    extra = [d for d in da.dims if d not in ("unit", tdim)]
    if len(extra) > 1 or (extra and extra[0] not in ("trial", "condition")):
        raise NwbMotorValueError(
            f"{func}: {name} expected dims (time, unit), (trial, time, unit) or (condition, time, unit) "
            f"(time may be 'rel_time'), got {da.dims}"
        )
    if 0 in da.shape:
        raise NwbMotorValueError(f"{func}: {name} is empty (sizes {dict(da.sizes)}); no activity to compare")
    da = _select_window(da, tdim, window, func, name)
    if not extra:
        return np.asarray(da.transpose(tdim, "unit").values, dtype=float)[None], ["all"]
    if extra[0] == "condition":
        labels = da["condition"].values.tolist() if "condition" in da.coords else list(range(da.sizes["condition"]))
        return np.asarray(da.transpose("condition", tdim, "unit").values, dtype=float), labels
    data = np.asarray(da.transpose("trial", tdim, "unit").values, dtype=float)
    bad = ~np.isfinite(data).all(axis=(1, 2))
    if bad.any():
        status = ""
        if "align_status" in da.coords:
            reasons = sorted(set(np.asarray(da["align_status"].values)[bad].astype(str).tolist()))
            status = f"; align_status of those trials: {reasons}"
        raise NwbMotorValueError(
            f"{func}: {name} expected finite values, got NaN/inf in {int(bad.sum())} of {bad.size} trials "
            f"(NaN traces, or windows outside the recording){status}; select the trials that are 'ok'"
        )
    if condition is None:
        return data.mean(axis=0, keepdims=True), ["all"]
    if isinstance(condition, xr.DataArray):
        if condition.dims == ("trial",) and "trial" in condition.coords and "trial" in da.coords:
            missing = np.setdiff1d(da["trial"].values, condition["trial"].values)
            if missing.size:
                raise NwbMotorValueError(
                    f"{func}: condition has no value for trial(s) {missing[:5].tolist()} of {name}"
                )
            condition = condition.sel(trial=da["trial"].values)  # e.g. ds.target_id for a subset of trials
        if condition.dims != ("trial",) or condition.sizes["trial"] != da.sizes["trial"]:
            raise NwbMotorValueError(
                f"{func}: condition expected a DataArray on dim 'trial' of length {da.sizes['trial']}, "
                f"got dims {condition.dims} sizes {dict(condition.sizes)}"
            )
        cond = np.asarray(condition.values)
    else:
        if condition not in da.coords or da[condition].dims != ("trial",):
            raise NwbMotorValueError(
                f"{func}: {name} has no coordinate {condition!r} on dim 'trial' to group trials into conditions; "
                f"pass condition=<a DataArray on 'trial'> or condition=None to average all trials"
            )
        cond = np.asarray(da[condition].values)
    labels = sorted(set(cond.tolist()), key=lambda v: (str(type(v)), v))
    return np.stack([data[cond == lab].mean(axis=0) for lab in labels]), labels


def _pair(before: Any, after: Any, func: str, condition: str | xr.DataArray | None,
          condition_after: str | xr.DataArray | None, window: tuple[float, float] | None) -> tuple[np.ndarray, np.ndarray]:
    b, lb = _psths(before, func, "before", condition, window)
    a, la = _psths(after, func, "after", condition if condition_after is None else condition_after, window)
    if lb != la:
        raise NwbMotorValueError(
            f"{func}: before and after expected the same conditions, got {lb} and {la}"
        )
    if b.shape != a.shape:
        raise NwbMotorValueError(
            f"{func}: before and after expected the same (condition, time, unit) sizes, got {b.shape} and "
            f"{a.shape} (mismatched lengths)"
        )
    ub = before["unit"].values if "unit" in before.coords else None
    ua = after["unit"].values if "unit" in after.coords else None
    if ub is not None and ua is not None and not np.array_equal(ub, ua):
        raise NwbMotorValueError(f"{func}: before and after expected the same units (the 'unit' coordinates differ)")
    return b, a


def _scalar(value: float, reason: str, name: str, long_name: str, units: str, params: dict[str, Any]) -> xr.DataArray:
    attrs: dict[str, Any] = {"long_name": long_name, "units": units}
    for key, val in params.items():
        attrs[key] = "none" if val is None else (list(val) if isinstance(val, tuple) else val)
    if reason:
        attrs["nan_reason"] = reason
    return xr.DataArray(value, name=name, attrs=attrs)


def _condition_param(condition: str | xr.DataArray | None) -> str:
    if isinstance(condition, xr.DataArray):
        return f"DataArray {condition.name or ''}".strip()
    return "none" if condition is None else str(condition)


def activity_change(
    before: xr.DataArray,
    after: xr.DataArray,
    *,
    condition: str | xr.DataArray | None = "target_id",
    condition_after: str | xr.DataArray | None = None,
    window: tuple[float, float] | None = None,
) -> xr.DataArray:
    """Median |ΔPSTH| / σ_neuron × 100 % between two activity sets (Feulner et al. 2022).

    Parameters
    ----------
    before, after : xarray.DataArray
        Activity of the same units: (trial, rel_time, unit), (condition, time, unit) or
        (time, unit); see the module docstring.
    condition : str or DataArray or None
        Trial → condition: a coordinate on ``trial`` (default "target_id") or a DataArray
        on ``trial``; None averages all trials. Used for ``before`` (and ``after`` unless
        ``condition_after`` is given).
    condition_after : str or DataArray, optional
        The conditions of ``after`` when they are not ``condition``.
    window : (float, float), optional
        Seconds of the time coordinate kept (science.md: go ± 0.6 s, ``(-0.6, 0.6)`` on
        activity aligned to go).

    Returns
    -------
    xarray.DataArray
        0-d, percent; NaN with ``attrs["nan_reason"]`` when no unit varies.

    Raises
    ------
    NwbMotorValueError
        Empty or NaN activity, different conditions, sizes or units.
    NwbMotorTypeError
        An input that is not a DataArray.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(0)
    >>> a = xr.DataArray(rng.normal(size=(8, 20, 5)), dims=("condition", "time", "unit"))
    >>> float(activity_change(a, a))
    0.0
    """
    func = "activity_change"
    b, a = _pair(before, after, func, condition, condition_after, window)
    value, reason = core.activity_change(b, a)
    return _scalar(value, reason, func, "median |dPSTH| / sigma_neuron", "%",
                   {"condition": _condition_param(condition), "window": window, "n_conditions": b.shape[0],
                    "n_units": b.shape[2], "definition": "median |after - before| / std_neuron(before) * 100"})


def covariance_change(
    before: xr.DataArray,
    after: xr.DataArray,
    *,
    condition: str | xr.DataArray | None = "target_id",
    condition_after: str | xr.DataArray | None = None,
    window: tuple[float, float] | None = None,
) -> xr.DataArray:
    """1 − corr(vec C_before, vec C_after) of the unit × unit covariance of concatenated PSTHs.

    Parameters
    ----------
    before, after : xarray.DataArray
        Activity of the same units (see :func:`activity_change`).
    condition, condition_after, window
        As in :func:`activity_change`.

    Returns
    -------
    xarray.DataArray
        0-d, dimensionless (0 = same covariance structure); NaN with
        ``attrs["nan_reason"]`` when a covariance matrix is constant.

    Raises
    ------
    NwbMotorValueError
        Empty or NaN activity, different conditions, sizes or units.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(0)
    >>> a = xr.DataArray(rng.normal(size=(100, 6)), dims=("time", "unit"))
    >>> round(float(covariance_change(a, 2 * a)), 12)
    0.0
    """
    func = "covariance_change"
    b, a = _pair(before, after, func, condition, condition_after, window)
    value, reason = core.covariance_change(b, a)
    return _scalar(value, reason, func, "1 - corr(vec C_before, vec C_after)", "1",
                   {"condition": _condition_param(condition), "window": window, "n_conditions": b.shape[0],
                    "n_units": b.shape[2]})


def principal_angles(
    a: xr.DataArray,
    b: xr.DataArray,
    *,
    n_components: int = 10,
    window: tuple[float, float] | None = None,
) -> xr.DataArray:
    """Principal angles between the top-k principal-component subspaces of two activity sets.

    Every sample (time step, trial, condition) of the ``unit`` dim is a point; each set is
    centred, its top ``n_components`` PCs span a subspace, and
    ``scipy.linalg.subspace_angles`` gives the angles between the two subspaces.

    Parameters
    ----------
    a, b : xarray.DataArray
        Activity with a ``unit`` dim of the same units, e.g. (time, unit) or
        (trial, rel_time, unit); the numbers of samples may differ.
    n_components : int
        k, the PCs of each set (1 <= k <= min(n_samples - 1, n_units)).
    window : (float, float), optional
        Seconds of the time coordinate kept.

    Returns
    -------
    xarray.DataArray
        Dims ("component",), angles in degrees, ascending (0 = shared direction).

    Raises
    ------
    NwbMotorValueError
        Empty or NaN activity, different units, ``n_components`` out of range or above
        the rank of the activity.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(0)
    >>> a = xr.DataArray(rng.normal(size=(200, 10)), dims=("time", "unit"))
    >>> np.allclose(principal_angles(a, a, n_components=3), 0.0, atol=1e-5)
    True
    """
    func = "principal_angles"
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)):
        raise NwbMotorTypeError(f"{func}: n_components expected an integer, got {n_components!r}")
    flat = []
    for name, da in (("a", a), ("b", b)):
        da = _require_da(da, func, name)
        if "unit" not in da.dims:
            raise NwbMotorValueError(f"{func}: {name} expected a 'unit' dim, got dims {da.dims}")
        if 0 in da.shape:
            raise NwbMotorValueError(f"{func}: {name} is empty (sizes {dict(da.sizes)}); no activity to compare")
        if window is not None:
            da = _select_window(da, _time_dim(da, func, name), window, func, name)
        others = [d for d in da.dims if d != "unit"]
        flat.append(np.asarray(da.transpose(*others, "unit").values, dtype=float).reshape(-1, da.sizes["unit"]))
    ua = a["unit"].values if "unit" in a.coords else None
    ub = b["unit"].values if "unit" in b.coords else None
    if ua is not None and ub is not None and (ua.shape != ub.shape or not np.array_equal(ua, ub)):
        raise NwbMotorValueError(f"{func}: a and b expected the same units (the 'unit' coordinates differ)")
    angles = core.principal_angles(flat[0], flat[1], int(n_components))
    return xr.DataArray(
        angles, dims=("component",), coords={"component": np.arange(1, angles.size + 1)}, name=func,
        attrs={"long_name": "principal angle between PC subspaces", "units": "degree",
               "n_components": int(n_components), "window": "none" if window is None else list(window),
               "n_samples_a": flat[0].shape[0], "n_samples_b": flat[1].shape[0]},
    )


def _weights(w: Any, func: str, name: str) -> xr.DataArray:
    w = _require_da(w, func, name)
    if w.ndim != 2:
        raise NwbMotorValueError(
            f"{func}: {name} expected a 2-D weight matrix (unit_post, unit_pre), got dims {w.dims}"
        )
    if 0 in w.shape:
        raise NwbMotorValueError(f"{func}: {name} is empty (sizes {dict(w.sizes)})")
    return w


def weight_change(before: xr.DataArray, after: xr.DataArray) -> xr.DataArray:
    """Median |ΔW / W| × 100 % over the non-zero entries of ``before``.

    Parameters
    ----------
    before, after : xarray.DataArray
        The same weight matrix (dims e.g. ("unit_post", "unit_pre")) at two phases.

    Returns
    -------
    xarray.DataArray
        0-d, percent; NaN with ``attrs["nan_reason"]`` when every weight is zero.

    Raises
    ------
    NwbMotorValueError
        Different dims or shapes, empty or NaN weights.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> w = xr.DataArray(np.full((3, 3), 2.0), dims=("unit_post", "unit_pre"))
    >>> float(weight_change(w, 1.1 * w))
    10.000000000000009
    """
    func = "weight_change"
    before, after = _weights(before, func, "before"), _weights(after, func, "after")
    if before.dims != after.dims or before.shape != after.shape:
        raise NwbMotorValueError(
            f"{func}: before and after expected the same dims and shape, got {dict(before.sizes)} and "
            f"{dict(after.sizes)} (mismatched lengths)"
        )
    value, reason = core.weight_change(before.values, after.values)
    return _scalar(value, reason, func, "median |dW / W|", "%",
                   {"definition": "median |after - before| / |before| * 100 over before != 0",
                    "n_nonzero": int(np.count_nonzero(before.values))})


def dw_dimensionality(dw: xr.DataArray, *, noise_factor: float | None = None, seed: int = 0) -> xr.DataArray:
    """Dimensionality (Σσ_i)² / Σσ_i² of a weight change ΔW, from its singular values.

    Parameters
    ----------
    dw : xarray.DataArray
        A 2-D weight change, e.g. ``after - before`` of dims ("unit_post", "unit_pre").
    noise_factor : float, optional
        Robustness check (Feulner et al.): add Gaussian noise of standard deviation
        ``noise_factor × std(ΔW)`` (the paper: 10) to ΔW before measuring.
    seed : int
        Seed of the noise.

    Returns
    -------
    xarray.DataArray
        0-d; 1 for a rank-1 change, ``min(shape)`` for equal singular values; NaN with
        ``attrs["nan_reason"]`` for a zero change.

    Raises
    ------
    NwbMotorValueError
        Not 2-D, empty or NaN ΔW, negative ``noise_factor``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> dw = xr.DataArray(np.outer([1.0, 2, 3], [1.0, -1, 0.5]), dims=("unit_post", "unit_pre"))
    >>> round(float(dw_dimensionality(dw)), 6)
    1.0
    """
    func = "dw_dimensionality"
    dw = _weights(dw, func, "dw")
    values = np.asarray(dw.values, dtype=float)
    if noise_factor is not None:
        if not np.isfinite(noise_factor) or noise_factor < 0:
            raise NwbMotorValueError(f"{func}: noise_factor expected a finite number >= 0, got {noise_factor}")
        core._check("dw", values, 2, "(unit_post, unit_pre)", func)
        values = core.with_noise(values, float(noise_factor), np.random.default_rng(seed))
    value, reason = core.dw_dimensionality(values)
    return _scalar(value, reason, func, "(sum sigma)^2 / sum sigma^2 of dW", "1",
                   {"noise_factor": noise_factor, "seed": seed if noise_factor is not None else None,
                    "max_dimensionality": int(min(values.shape))})


def output_error(
    output: xr.DataArray,
    target: xr.DataArray,
    *,
    window: tuple[float, float] | None = None,
) -> xr.DataArray:
    """Normalised mean squared error Σ(y − y*)² / Σ(y*)² of an output against its target.

    0 for a perfect output, 1 for an output that stays at zero (the start position).

    Parameters
    ----------
    output, target : xarray.DataArray
        Same dims and coordinates, e.g. the model session's ``behavior`` and ``target``
        (``time_behavior``, ``channel``) or trial-aligned (trial, rel_time, channel).
    window : (float, float), optional
        Seconds of the time coordinate kept.

    Returns
    -------
    xarray.DataArray
        0-d; NaN with ``attrs["nan_reason"]`` when the target is zero everywhere.

    Raises
    ------
    NwbMotorValueError
        Different dims, lengths or coordinates; empty or NaN values.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> y = xr.DataArray([[1.0, 0.0], [0.0, 1.0]], dims=("time", "channel"))
    >>> float(output_error(0.5 * y, y))
    0.25
    """
    func = "output_error"
    output, target = _require_da(output, func, "output"), _require_da(target, func, "target")
    if set(output.dims) != set(target.dims) or output.sizes != target.sizes:
        raise NwbMotorValueError(
            f"{func}: output and target expected the same dims and lengths, got {dict(output.sizes)} and "
            f"{dict(target.sizes)} (mismatched lengths)"
        )
    try:
        output, target = xr.align(output, target.transpose(*output.dims), join="exact")
    except ValueError:
        raise NwbMotorValueError(f"{func}: output and target expected the same coordinates; they differ") from None
    if 0 in output.shape:
        raise NwbMotorValueError(f"{func}: output is empty (sizes {dict(output.sizes)})")
    if window is not None:
        tdim = _time_dim(output, func, "output")
        output = _select_window(output, tdim, window, func, "output")
        target = _select_window(target, tdim, window, func, "target")
    value, reason = core.output_error(output.values, target.values)
    return _scalar(value, reason, func, "sum (output - target)^2 / sum target^2", "1",
                   {"window": window, "n_values": int(output.size)})
