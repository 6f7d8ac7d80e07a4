"""Spatial clustering of a class of cells against shuffled identities (Peters et al. 2014)."""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray
from scipy.spatial.distance import pdist, squareform

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError

__all__ = ["spatial_clustering", "mean_pairwise_distance_null"]


def mean_pairwise_distance_null(
    dist: NDArray[np.float64], k: int, n_shuffles: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """Mean pairwise distance of ``k`` cells drawn at random, ``n_shuffles`` times.

    Parameters
    ----------
    dist : ndarray of shape (n, n)
        Distances between the candidate cells.
    k : int
        Cells per draw (>= 2).
    n_shuffles : int
        Number of draws.
    rng : numpy.random.Generator
        Random generator.

    Returns
    -------
    ndarray of shape (n_shuffles,)

    Examples
    --------
    >>> d = np.ones((4, 4)) - np.eye(4)
    >>> mean_pairwise_distance_null(d, 2, 3, np.random.default_rng(0)).tolist()
    [1.0, 1.0, 1.0]
    """
    n = dist.shape[0]
    out = np.empty(n_shuffles)
    chunk = max(1, min(n_shuffles, 2_000_000 // max(k * k, 1)))
    done = 0
    while done < n_shuffles:
        m = min(chunk, n_shuffles - done)
        pick = np.argsort(rng.random((m, n)), axis=1)[:, :k]
        sub = dist[pick[:, :, None], pick[:, None, :]]
        out[done : done + m] = sub.sum(axis=(1, 2)) / (k * (k - 1))
        done += m
    return out


def spatial_clustering(
    classification: xr.Dataset,
    positions: xr.DataArray | None = None,
    *,
    kind: str = "movement_related",
    n_shuffles: int = 10_000,
    interval: float = 0.95,
    seed: int = 0,
) -> xr.Dataset:
    """Are cells of one class closer together than chance?

    The mean pairwise distance between the cells of ``kind`` is compared with the
    same quantity for as many cells drawn at random from all tested cells (10,000
    shuffles of cell identity); clustered if below the shuffles' 95 % interval.

    Parameters
    ----------
    classification : xarray.Dataset (unit)
        Result of :func:`classify_movement_related` (it carries the unit coords of
        the session, including ``unit_x`` / ``unit_y`` when the view has them).
    positions : xarray.DataArray (unit, space), optional
        Cell positions (µm); default the ``unit_x`` / ``unit_y`` coords.
    kind : str
        Boolean variable of ``classification`` naming the class
        (``movement_related``).
    n_shuffles : int
        Number of identity shuffles (10,000).
    interval : float
        Central interval of the shuffle distribution (0.95).
    seed : int
        Random seed.

    Returns
    -------
    xarray.Dataset
        Scalars ``mean_distance``, ``shuffle_mean``, ``shuffle_low``,
        ``shuffle_high``, ``p_value`` (fraction of shuffles <= observed),
        ``clustered``, ``n_cells``. NaN with a reason when fewer than 2 cells
        are in the class.

    Raises
    ------
    NwbMotorValueError
        Without positions, with NaN positions, or mismatched lengths.

    Examples
    --------
    >>> from nwbmotor.testing import planted_session
    >>> from nwbmotor.analysis import classify_movement_related
    >>> ds, truth = planted_session(n_cells=30, n_frames=3000, clustered=True)
    >>> res = spatial_clustering(classify_movement_related(ds, n_shuffles=500), n_shuffles=500)
    >>> bool(res.clustered)
    True
    """
    func = "spatial_clustering"
    if not isinstance(classification, xr.Dataset):
        raise NwbMotorTypeError(
            f"{func}: expected the Dataset of classify_movement_related, "
            f"got {type(classification).__name__}"
        )
    if kind not in classification:
        raise NwbMotorValueError(f"{func}: classification has no variable {kind!r}")
    n = classification.sizes["unit"]
    if positions is None:
        if not {"unit_x", "unit_y"} <= set(classification.coords):
            raise NwbMotorValueError(
                f"{func}: no cell positions: pass positions=(unit, space) or give the "
                f"classification unit coords 'unit_x' and 'unit_y'"
            )
        xy = np.c_[classification["unit_x"].values, classification["unit_y"].values].astype(float)
    else:
        xy = np.asarray(positions.transpose("unit", ...).values, float).reshape(
            positions.sizes["unit"], -1
        )
    if xy.shape[0] != n:
        raise NwbMotorValueError(
            f"{func}: positions have {xy.shape[0]} units, classification has {n}; "
            f"lengths must match"
        )
    member = np.asarray(classification[kind].values, bool)
    pool = (
        np.isfinite(classification["p_value"].values)
        if "p_value" in classification
        else np.ones(n, bool)
    )
    if not np.isfinite(xy[pool]).all():
        raise NwbMotorValueError(f"{func}: positions of tested cells contain NaN")
    k = int((member & pool).sum())
    attrs: dict[str, Any] = {
        "analysis": func,
        "kind": kind,
        "n_shuffles": int(n_shuffles),
        "interval": float(interval),
        "seed": int(seed),
        "n_pool": int(pool.sum()),
        "session_id": classification.attrs.get("session_id", ""),
    }
    nan = dict(
        mean_distance=np.nan,
        shuffle_mean=np.nan,
        shuffle_low=np.nan,
        shuffle_high=np.nan,
        p_value=np.nan,
    )
    if k < 2 or pool.sum() <= k:
        attrs["nan_reason"] = (
            f"{k} cells of class {kind!r} among {int(pool.sum())} tested: "
            f"need >= 2 and fewer than all"
        )
        vals, clustered = nan, False
    else:
        d = squareform(pdist(xy[pool]))
        idx = np.flatnonzero(member[pool])
        obs = float(d[np.ix_(idx, idx)].sum() / (k * (k - 1)))
        null = mean_pairwise_distance_null(d, k, n_shuffles, np.random.default_rng(seed))
        lo, hi = np.quantile(null, [(1 - interval) / 2, 1 - (1 - interval) / 2])
        vals = dict(
            mean_distance=obs,
            shuffle_mean=float(null.mean()),
            shuffle_low=float(lo),
            shuffle_high=float(hi),
            p_value=float((np.sum(null <= obs) + 1) / (n_shuffles + 1)),
        )
        clustered = bool(obs < lo)
    units = {"units": "um"}
    return xr.Dataset(
        {
            **{key: ((), val, units if key != "p_value" else {}) for key, val in vals.items()},
            "clustered": ((), clustered),
            "n_cells": ((), k),
        },
        attrs=attrs,
    )
