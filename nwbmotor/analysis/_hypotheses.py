"""H_input against H_local on a modular-network session view (Feulner et al. 2022, science.md B).

:func:`compare_hypotheses` takes the view of a model file (:func:`nwbmotor.open_session`
of a ``modular-rnn`` session: rates on ``unit`` with a ``module`` coordinate, the
output and its target, trials with ``phase``, ``target_id`` and ``go_time``, and the
network weights of every snapshot as ``weight_<name>`` variables on ``snapshot``) and
returns, for every hypothesis and area, the metrics the paper reports:

- ``error_reduction``: 1 − E_adapted / E_before, E = Σ(y − y*)² over the trials of the
  phase from the loss start (0.5 s) to the trial's end, on the rotated targets;
- ``activity_change``: median |ΔPSTH| / σ_neuron × 100 % (per-target PSTHs in go − 0.6 s
  .. go + 0.59 s, the authors' 120 steps of 10 ms);
- ``covariance_change``: 1 − corr(vec C_before, vec C_after);
- ``weight_change``: median |ΔW / W| × 100 % over the entries of the weights onto the
  area that changed under the hypothesis (0 when none changed);
- ``dw_dimensionality``: (Σσ)² / Σσ² over the singular values of the area's incoming
  ΔW (the changed matrices side by side, post = the area's units; NaN when none
  changed).

Areas are modules ("PMd", "M1", "upstream") or "+"-joined pools ("PMd+M1"). The numeric
cores are those of :mod:`nwbmotor.methods`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.methods import _model_metrics as core

__all__ = ["compare_hypotheses"]

_WEIGHT_PREFIX = "weight_"


def _trial_var(ds: xr.Dataset, name: str) -> np.ndarray:
    if name not in ds or ds[name].dims != ("trial",):
        raise NwbMotorValueError(
            f"compare_hypotheses: the session expected a trial column {name!r}, got variables {sorted(map(str, ds.data_vars))}"
        )
    return np.asarray(ds[name].values)


def _area_units(ds: xr.Dataset, area: str) -> np.ndarray:
    modules = np.asarray(ds["module"].values).astype(str)
    wanted = area.split("+")
    unknown = [m for m in wanted if m not in set(modules.tolist())]
    if unknown:
        raise NwbMotorValueError(
            f"compare_hypotheses: area {area!r} expected modules among {sorted(set(modules.tolist()))}, got {unknown}"
        )
    return np.flatnonzero(np.isin(modules, wanted))


def _psths(ds: xr.Dataset, trials: np.ndarray, target: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """(n_targets, n_steps, n_units) per-target mean rates around each trial's go cue."""
    time = np.asarray(ds["time"].values, dtype=float)
    dt = float(np.median(np.diff(time)))
    go = _trial_var(ds, "go_time")[trials].astype(float)
    lo, hi = int(round(window[0] / dt)), int(round(window[1] / dt))
    centre = np.searchsorted(time, go - dt / 2)
    if np.any(centre + lo < 0) or np.any(centre + hi >= time.size):
        raise NwbMotorValueError(
            f"compare_hypotheses: window {window} s around the go cue leaves the recording for some trials"
        )
    rows = (centre[:, None] + np.arange(lo, hi + 1)[None, :]).ravel()
    activity = ds["activity"]
    data = np.asarray(activity.isel(time=np.unique(rows)).values, dtype=float)
    lookup = {r: i for i, r in enumerate(np.unique(rows).tolist())}
    aligned = data[[lookup[r] for r in rows.tolist()]].reshape(len(trials), hi - lo + 1, -1)
    labels = sorted(set(target[trials].tolist()))
    return np.stack([aligned[target[trials] == lab].mean(axis=0) for lab in labels])


def _error(ds: xr.Dataset, trials: np.ndarray, loss_start: float) -> float:
    if "behavior" not in ds or "target" not in ds:
        raise NwbMotorValueError("compare_hypotheses: the session expected 'behavior' (output) and 'target' variables")
    t = np.asarray(ds["time_behavior"].values, dtype=float)
    start, stop = _trial_var(ds, "start_time")[trials], _trial_var(ds, "stop_time")[trials]
    keep = np.zeros(t.size, bool)
    for a, b in zip(start, stop, strict=True):
        keep |= (t >= a + loss_start - 1e-9) & (t < b - 1e-9)
    idx = np.flatnonzero(keep)
    y = np.asarray(ds["behavior"].isel(time_behavior=idx).values, dtype=float)
    y_star = np.asarray(ds["target"].isel(time_behavior=idx).values, dtype=float)
    return float(np.sum((y - y_star) ** 2))


def _weights(ds: xr.Dataset) -> dict[str, xr.DataArray]:
    found = {str(k)[len(_WEIGHT_PREFIX):]: ds[k] for k in ds.data_vars if str(k).startswith(_WEIGHT_PREFIX)}
    if not found:
        raise NwbMotorValueError(
            "compare_hypotheses: the session has no network weights (variables 'weight_<name>' on 'snapshot'); "
            "open a model file written by nwbmotor (open_session) of a modular-network run"
        )
    return found


def _changes(weights: dict[str, xr.DataArray], before: str, after: str,
             post: str) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """(post, pre, W_before, ΔW) of every weight onto module ``post`` that changed from ``before`` to ``after``."""
    out = []
    for w in weights.values():
        if str(w.attrs.get("post")) != post:
            continue
        networks = [str(n) for n in w["snapshot"].values]
        for name in (before, after):
            if name not in networks:
                raise NwbMotorValueError(
                    f"compare_hypotheses: the session expected a network {name!r}, got networks {networks}"
                )
        w0 = np.asarray(w.sel(snapshot=before).values, dtype=float)
        w1 = np.asarray(w.sel(snapshot=after).values, dtype=float)
        if np.any(w1 != w0):
            out.append((post, str(w.attrs.get("pre")), w0, w1 - w0))
    return out


def compare_hypotheses(
    ds: xr.Dataset,
    *,
    areas: Sequence[str] = ("PMd", "M1", "PMd+M1"),
    hypotheses: Sequence[str] = ("input", "local"),
    reference: str = "before_adaptation",
    trained_network: str = "trained",
    window: tuple[float, float] = (-0.6, 0.59),
    loss_start: float = 0.5,
) -> xr.Dataset:
    """The metrics of Feulner et al. (2022) for every hypothesis and area of a modular-network view.

    Parameters
    ----------
    ds : xarray.Dataset
        The session view of a modular-network model file (``nwbmotor.open_session``):
        trials of phase ``reference`` (the trained network on the rotated targets) and
        ``adapted_<hypothesis>``, and weights ``weight_<name>`` on ``snapshot``.
    areas : sequence of str
        Modules of the ``module`` coordinate, or "+"-joined pools ("PMd+M1").
    hypotheses : sequence of str
        Suffixes of the adapted phases and networks (``adapted_input``, ...).
    reference : str
        Phase of the test trials before adaptation.
    trained_network : str
        Network the adapted ones started from (weights before adaptation).
    window : (float, float)
        Seconds around each trial's go cue of the PSTHs, both ends included (the authors:
        120 steps of 10 ms, go − 60 .. go + 59).
    loss_start : float
        Seconds from each trial's start where the output error starts (the authors'
        step 50).

    Returns
    -------
    xarray.Dataset
        Dims (hypothesis, area); variables ``error_reduction`` (1, the same for every
        area), ``error_before``, ``error_after`` (Σ squared error, output units²),
        ``activity_change`` (%), ``covariance_change`` (1), ``weight_change`` (%),
        ``dw_dimensionality`` (1). ``attrs`` record every parameter.

    Raises
    ------
    NwbMotorValueError
        A session without those phases, networks, modules or weights.
    NwbMotorTypeError
        Not a Dataset.

    Examples
    --------
    >>> import tempfile, pathlib, nwbmotor
    >>> from nwbmotor.models import run_modular_rnn
    >>> from nwbmotor.converters.model import write_model_session
    >>> s = run_modular_rnn(n_units=8, n_updates=2, batch=2, n_adapt=2)
    >>> path = write_model_session(s, pathlib.Path(tempfile.mkdtemp()) / "m.nwb")
    >>> result = compare_hypotheses(nwbmotor.open_session(path))
    >>> dict(result.sizes)
    {'hypothesis': 2, 'area': 3}
    """
    if not isinstance(ds, xr.Dataset):
        raise NwbMotorTypeError(f"compare_hypotheses: ds expected the session view (xarray.Dataset), got {type(ds).__name__}")
    if "activity" not in ds or "module" not in ds.coords:
        raise NwbMotorValueError(
            "compare_hypotheses: ds expected 'activity' on units with a 'module' coordinate (a model session view)"
        )
    phase = _trial_var(ds, "phase").astype(str)
    target = _trial_var(ds, "target_id")
    weights = _weights(ds)

    def trials_of(name: str) -> np.ndarray:
        found = np.flatnonzero(phase == name)
        if not found.size:
            raise NwbMotorValueError(
                f"compare_hypotheses: the session has no trials of phase {name!r}; phases {sorted(set(phase.tolist()))}"
            )
        return found

    ref = trials_of(reference)
    before_error = _error(ds, ref, loss_start)
    before_psth = _psths(ds, ref, target, window)
    units = {area: _area_units(ds, area) for area in areas}
    shape = (len(hypotheses), len(areas))
    out: dict[str, np.ndarray] = {k: np.full(shape, np.nan) for k in (
        "error_reduction", "error_before", "error_after", "activity_change", "covariance_change", "weight_change",
        "dw_dimensionality")}
    for i, hyp in enumerate(hypotheses):
        trials = trials_of(f"adapted_{hyp}")
        if sorted(set(target[trials].tolist())) != sorted(set(target[ref].tolist())):
            raise NwbMotorValueError(
                f"compare_hypotheses: phases {reference!r} and 'adapted_{hyp}' expected the same targets"
            )
        after_error = _error(ds, trials, loss_start)
        after_psth = _psths(ds, trials, target, window)
        for j, area in enumerate(areas):
            b, a = before_psth[:, :, units[area]], after_psth[:, :, units[area]]
            out["error_before"][i, j] = before_error
            out["error_after"][i, j] = after_error
            out["error_reduction"][i, j] = 1.0 - after_error / before_error if before_error > 0 else np.nan
            out["activity_change"][i, j] = core.activity_change(b, a)[0]
            out["covariance_change"][i, j] = core.covariance_change(b, a)[0]
            changed = [c for module in area.split("+")
                       for c in _changes(weights, trained_network, f"adapted_{hyp}", module)]
            if not changed:
                out["weight_change"][i, j] = 0.0
                continue
            w0 = np.concatenate([w[w != 0] for _, _, w, _ in changed])
            dw = np.concatenate([d[w != 0] for _, _, w, d in changed])
            out["weight_change"][i, j] = float(np.median(np.abs(dw / w0)) * 100.0)
            out["dw_dimensionality"][i, j] = core.dw_dimensionality(_incoming(changed))[0]
    attrs: dict[str, Any] = {"reference": reference, "trained_network": trained_network, "window": list(window),
                             "loss_start": loss_start, "source_file": ds.attrs.get("source_file", "")}
    meta = {
        "error_reduction": ("1 - E_adapted / E_before (sum of squared output errors from the loss start)", "1"),
        "error_before": ("sum of squared output errors before adaptation", "output units^2"),
        "error_after": ("sum of squared output errors after adaptation", "output units^2"),
        "activity_change": ("median |dPSTH| / sigma_neuron", "%"),
        "covariance_change": ("1 - corr(vec C_before, vec C_after)", "1"),
        "weight_change": ("median |dW / W| over the changed weights onto the area", "%"),
        "dw_dimensionality": ("(sum sigma)^2 / sum sigma^2 of the area's incoming dW", "1"),
    }
    return xr.Dataset(
        {k: (("hypothesis", "area"), v, {"long_name": meta[k][0], "units": meta[k][1]}) for k, v in out.items()},
        coords={"hypothesis": list(hypotheses), "area": list(areas)}, attrs=attrs,
    )


def _incoming(changed: list[tuple[str, str, np.ndarray, np.ndarray]]) -> np.ndarray:
    """ΔW onto an area as one matrix: rows the post units, columns the pre units of every source."""
    posts = list(dict.fromkeys(c[0] for c in changed))
    pres = list(dict.fromkeys(c[1] for c in changed))
    n_post = {post: next(d.shape[0] for p, _, _, d in changed if p == post) for post in posts}
    n_pre = {pre: next(d.shape[1] for _, q, _, d in changed if q == pre) for pre in pres}
    row0 = dict(zip(posts, np.cumsum([0, *n_post.values()])[:-1].tolist(), strict=True))
    col0 = dict(zip(pres, np.cumsum([0, *n_pre.values()])[:-1].tolist(), strict=True))
    out = np.zeros((sum(n_post.values()), sum(n_pre.values())))
    for post, pre, _, d in changed:
        out[row0[post]:row0[post] + d.shape[0], col0[pre]:col0[pre] + d.shape[1]] += d
    return out
