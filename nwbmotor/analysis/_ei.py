"""Excitation/inhibition balance movement by movement (Peters et al. 2014, Fig. 2).

Per lever movement, the fraction of excitatory cells with an event and the fraction of
inhibitory cells active: inhibitory activity follows excitatory activity movement by
movement. The lab's code (``lever_paper_figures.m``, "movement pyr-gad balance") uses
every movement epoch ±5 frames, bins the excitatory fraction with edges 0, 0.02, …,
0.24 and averages the inhibitory fraction per bin.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray
from scipy import stats

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.analysis._common import frame_rate, require_dataset, require_var, session_name, unit_mask
from nwbmotor.analysis._events import events_of
from nwbmotor.analysis._movement_related import movement_frames

__all__ = ["ei_balance", "movement_epochs"]

#: Bin edges of the excitatory fraction (the lab's ``0:0.02:0.25``).
EI_BIN_EDGES = tuple(round(0.02 * k, 2) for k in range(13))


def movement_epochs(movement: NDArray[np.bool_], leeway: int = 5) -> NDArray[np.int64]:
    """(start, stop) frames (stop inclusive) of each run of movement frames ± ``leeway``.

    Epochs whose widened span leaves the recording are dropped, as in the lab's code.

    Parameters
    ----------
    movement : ndarray of bool, shape (n_frames,)
        Movement frames (undilated).
    leeway : int
        Frames added on each side (5).

    Returns
    -------
    ndarray of shape (n_epochs, 2)

    Examples
    --------
    >>> m = np.zeros(40, bool); m[2:5] = True; m[20:25] = True
    >>> movement_epochs(m, leeway=3).tolist()
    [[17, 27]]
    """
    m = np.asarray(movement, bool)
    edges = np.diff(np.r_[0, m.astype(np.int8), 0])
    starts = np.flatnonzero(edges == 1) - leeway
    stops = np.flatnonzero(edges == -1) - 1 + leeway
    keep = (starts >= 0) & (stops < m.size)
    return np.c_[starts[keep], stops[keep]].astype(np.int64)


def _bin_index(x: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[np.int64]:
    """MATLAB ``histc`` bins: k for edges[k] <= x < edges[k+1], the last edge exact; -1 outside."""
    idx = np.searchsorted(edges, x, side="right") - 1
    idx[(x == edges[-1])] = edges.size - 1
    idx[(x < edges[0]) | (x > edges[-1]) | ~np.isfinite(x)] = -1
    return idx


def ei_balance(
    session: xr.Dataset,
    events: xr.DataArray | None = None,
    *,
    leeway_frames: int = 5,
    bin_edges: tuple[float, ...] = EI_BIN_EDGES,
    excitatory: tuple[str, ...] = ("excitatory", "unknown"),
    inhibitory: tuple[str, ...] = ("inhibitory",),
) -> xr.Dataset:
    """Does inhibitory activity follow excitatory activity, movement by movement?

    For every lever movement (runs of movement frames, widened by ±5 frames; those
    leaving the recording dropped), the fraction of excitatory cells with an event
    and the fraction of inhibitory cells active in it. The inhibitory fraction is
    averaged (± SEM) in bins of the excitatory fraction (edges 0, 0.02, …, 0.24, as
    in the lab's code; movements above the last edge are left out of the bins), and
    the two fractions are related over movements by Pearson r. The E/I ratio per
    movement (excitatory / inhibitory fraction, over movements with inhibitory
    activity) is summarised by its median.

    Reads ``activity`` (or ``events``; inhibitory units carry the inhibitory event
    rule of :func:`detect_events`), the unit coords ``cell_type`` and ``excluded``,
    and ``movement_start_time`` / ``movement_stop_time``.

    Parameters
    ----------
    session : xarray.Dataset
        The session view.
    events : xarray.DataArray (time, unit), optional
        Events (default ``session.events`` or detected from ``session.activity``).
    leeway_frames : int
        Frames added on each side of a movement (5).
    bin_edges : tuple of float
        Edges of the excitatory-fraction bins.
    excitatory, inhibitory : tuple of str
        Cell types counted as excitatory and inhibitory (unlabelled cells are
        excitatory in GAD-Cre × tdTomato mice).

    Returns
    -------
    xarray.Dataset
        ``excitatory_fraction``, ``inhibitory_fraction`` (movement_epoch; with
        ``epoch_start_frame`` / ``epoch_stop_frame``); ``inhibitory_mean``,
        ``inhibitory_sem``, ``n_movements`` (bin, coords ``bin_low``/``bin_high``);
        scalars ``r`` and ``p_value`` (Pearson, over movements), ``slope`` (least
        squares of inhibitory on excitatory fraction), ``median_ei_ratio``,
        ``n_excitatory``, ``n_inhibitory``. NaN with ``attrs['nan_reason']`` when a
        class has no cells or fewer than 3 movements vary.

    Raises
    ------
    NwbMotorValueError
        No movements, no units of either class, or no movement inside the recording.

    Examples
    --------
    >>> from nwbmotor.testing import planted_session
    >>> ds, truth = planted_session(n_cells=40, n_frames=8000, seed=0, ei_coupling=1.0)
    >>> res = ei_balance(ds)
    >>> bool(res.r > 0.3), res.attrs["leeway_frames"]
    (True, 5)
    """
    func = "ei_balance"
    ds = require_dataset(session, func)
    ev = events_of(ds, events, func)
    starts = np.asarray(require_var(ds, "movement_start_time", func, ("movement",)).values, float)
    stops = np.asarray(require_var(ds, "movement_stop_time", func, ("movement",)).values, float)
    if starts.size == 0:
        raise NwbMotorValueError(f"{func}: {session_name(ds)} has no lever movements (dim 'movement' is empty)")
    time = np.asarray(ev["time"].values, float)
    frame_rate(time, func)
    e_mask = unit_mask(ev, excitatory)
    i_mask = unit_mask(ev, inhibitory)
    if "cell_type" not in ev.coords:
        raise NwbMotorValueError(
            f"{func}: {session_name(ds)} has no unit coord 'cell_type'; E/I balance needs "
            f"excitatory and inhibitory labels"
        )
    values = np.asarray(ev.values, float)
    finite = np.isfinite(values).all(axis=0)
    e_mask &= finite
    i_mask &= finite
    if not e_mask.any() or not i_mask.any():
        raise NwbMotorValueError(
            f"{func}: {session_name(ds)} has {int(e_mask.sum())} excitatory and {int(i_mask.sum())} "
            f"inhibitory units with finite traces; both are needed"
        )
    epochs = movement_epochs(movement_frames(time, starts, stops, 0), leeway_frames)
    if epochs.shape[0] == 0:
        raise NwbMotorValueError(
            f"{func}: {session_name(ds)}: no movement (±{leeway_frames} frames) lies inside the recording"
        )
    on = values > 0
    cum = np.vstack([np.zeros((1, on.shape[1])), np.cumsum(on, axis=0)])
    active = (cum[epochs[:, 1] + 1] - cum[epochs[:, 0]]) > 0
    fe = active[:, e_mask].mean(axis=1)
    fi = active[:, i_mask].mean(axis=1)
    edges = np.asarray(bin_edges, float)
    b = _bin_index(fe, edges)
    n_bins = edges.size
    mean = np.full(n_bins, np.nan)
    sem = np.full(n_bins, np.nan)
    count = np.zeros(n_bins, int)
    for k in range(n_bins):
        x = fi[b == k]
        count[k] = x.size
        if x.size:
            mean[k] = x.mean()
        if x.size > 1:
            sem[k] = x.std(ddof=1) / np.sqrt(x.size)
    attrs: dict[str, Any] = {
        "analysis": func,
        "leeway_frames": int(leeway_frames),
        "bin_edges": [float(e) for e in edges],
        "excitatory": list(excitatory),
        "inhibitory": list(inhibitory),
        "test": "Pearson r of inhibitory vs excitatory fraction over movements",
        "n_movements_outside_bins": int((b < 0).sum()),
        "session_id": ds.attrs.get("session_id", ""),
    }
    if fe.size >= 3 and np.ptp(fe) > 0 and np.ptp(fi) > 0:
        r, p = (float(v) for v in stats.pearsonr(fe, fi))
        slope = float(np.polyfit(fe, fi, 1)[0])
    else:
        r = p = slope = np.nan
        attrs["nan_reason"] = f"{fe.size} movements; r needs >= 3 with varying fractions"
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = fe[fi > 0] / fi[fi > 0]
    high = np.r_[edges[1:], np.inf]
    return xr.Dataset(
        {
            "excitatory_fraction": ("movement_epoch", fe),
            "inhibitory_fraction": ("movement_epoch", fi),
            "inhibitory_mean": ("bin", mean),
            "inhibitory_sem": ("bin", sem),
            "n_movements": ("bin", count),
            "r": ((), r),
            "p_value": ((), p),
            "slope": ((), slope),
            "median_ei_ratio": ((), float(np.median(ratio)) if ratio.size else np.nan),
            "n_excitatory": ((), int(e_mask.sum())),
            "n_inhibitory": ((), int(i_mask.sum())),
        },
        coords={
            "epoch_start_frame": ("movement_epoch", epochs[:, 0]),
            "epoch_stop_frame": ("movement_epoch", epochs[:, 1]),
            "bin_low": ("bin", edges),
            "bin_high": ("bin", high),
        },
        attrs=attrs,
    )
