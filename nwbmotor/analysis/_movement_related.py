"""Movement- and quiescence-related cells by a block shuffle (Peters et al. 2014)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import xarray as xr
from numpy.typing import NDArray
from scipy import ndimage, sparse

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.analysis._common import (
    frame_rate,
    require_dataset,
    require_var,
    session_items,
    session_name,
    trial_var,
    unit_mask,
)
from nwbmotor.analysis._events import events_of
from nwbmotor.methods import map_to_frames

__all__ = [
    "CLASSIFICATION_VARIANTS",
    "classify_movement_related",
    "epoch_shuffle_percentile",
    "fraction_movement_related",
    "movement_frames",
    "movement_shuffle_test",
]


def movement_frames(
    time: NDArray[np.float64],
    starts: NDArray[np.float64],
    stops: NDArray[np.float64],
    dilate_frames: int = 5,
    *,
    frame_rule: str = "overlap",
) -> NDArray[np.bool_]:
    """Frames that overlap lever movement, dilated by ``dilate_frames`` on each side.

    ``frame_rule="overlap"``: frame ``i`` covers ``[time[i], time[i] + 1/fs)`` and is a
    movement frame when it overlaps a movement. ``frame_rule="lab"``: the lab's rule
    (``AP_classify_cells.m``): every active 1-ms lever sample ``k`` (1-based from the
    first frame's time) goes to frame ``round(k / 1000 * fs)`` (1-based), frames outside
    the recording are dropped.

    Parameters
    ----------
    time : ndarray of shape (n_frames,)
        Frame times (s).
    starts, stops : ndarray of shape (n_movements,)
        Movement start and stop times (s).
    dilate_frames : int
        Frames added before and after each movement (5).

    Returns
    -------
    ndarray of bool, shape (n_frames,)

    Examples
    --------
    >>> t = np.arange(100) / 10.0
    >>> m = movement_frames(t, np.array([2.0]), np.array([3.0]), dilate_frames=1)
    >>> int(m.sum()), int(np.flatnonzero(m)[0])
    (13, 19)
    """
    time = np.asarray(time, float)
    n = time.size
    out = np.zeros(n, bool)
    if n == 0:
        return out
    dt = float(np.median(np.diff(time))) if n > 1 else 0.0
    starts = np.asarray(starts, float)
    stops = np.asarray(stops, float)
    if frame_rule == "lab":
        fs = 1.0 / dt if dt > 0 else 1.0
        for a, b in zip(starts, stops):
            k_on = int(np.round((a - time[0]) * 1000.0)) + 1  # 1-based ms samples
            k_off = int(np.round((b - time[0]) * 1000.0)) + 1
            f_on = max(int(np.round(max(k_on, 1) / 1000.0 * fs)), 1)
            f_off = min(int(np.round(k_off / 1000.0 * fs)), n)
            if k_off >= 1 and f_off >= f_on:
                out[f_on - 1 : f_off] = True
    elif frame_rule == "overlap":
        first = np.searchsorted(time, starts, side="right") - 1
        last = np.searchsorted(time, stops, side="right") - 1
        for a, b, s in zip(first, last, starts):
            if b < 0 or s >= time[-1] + dt:
                continue
            out[max(a, 0) : min(b, n - 1) + 1] = True
    else:
        raise NwbMotorValueError(f"movement_frames: frame_rule must be 'overlap' or 'lab', got {frame_rule!r}")
    if dilate_frames > 0:
        out = ndimage.binary_dilation(out, np.ones(2 * dilate_frames + 1, bool))
    return out


def movement_shuffle_test(
    events: NDArray[np.floating],
    movement: NDArray[np.bool_],
    n_shuffles: int = 10_000,
    *,
    seed: int | np.random.Generator | None = 0,
    chunk: int = 500,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Statistic and shuffle p-value of Σ event amplitude × movement frame, per cell.

    The session is cut into units, each quiescent frame alone and each movement epoch
    whole; the order of the units of the movement trace is shuffled ``n_shuffles``
    times and the statistic recomputed against the fixed event trace. p is the
    (mid-)rank of the real statistic among the shuffles and itself, divided by
    N + 1: near 1 when events fall on movement more than chance, near 0 when less.

    Fast path: with C the cumulative sum of events over frames, a shuffled
    arrangement whose epochs land at positions p_e scores
    Σ_e C[p_e + L_e] − C[p_e], so each chunk of shuffles is one sparse (±1) by
    dense float32 matrix product.

    Parameters
    ----------
    events : ndarray of shape (n_frames, n_cells)
        Event amplitudes (0 outside events); must be finite.
    movement : ndarray of bool, shape (n_frames,)
        Movement frames.
    n_shuffles : int
        Number of shuffles (10,000).
    seed : int or numpy.random.Generator
        Random seed.
    chunk : int
        Shuffles per matrix product (memory vs speed).

    Returns
    -------
    statistic : ndarray of shape (n_cells,)
    p_value : ndarray of shape (n_cells,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> mov = np.zeros(3000, bool)
    >>> for s in range(100, 2900, 200): mov[s:s + 40] = True
    >>> ev = np.zeros((3000, 2))
    >>> ev[mov, 0] = 1.0
    >>> ev[rng.random(3000) < 0.05, 1] = 1.0
    >>> stat, p = movement_shuffle_test(ev, mov, 1000)
    >>> bool(p[0] > 0.995), bool(0.005 < p[1] < 0.995)
    (True, True)
    """
    rng = np.random.default_rng(seed)
    events = np.asarray(events)
    if events.ndim != 2:
        raise NwbMotorValueError(
            f"movement_shuffle_test: events must be (n_frames, n_cells), got shape {events.shape}"
        )
    movement = np.asarray(movement, bool)
    n_frames, n_cells = events.shape
    if movement.shape != (n_frames,):
        raise NwbMotorValueError(
            f"movement_shuffle_test: movement has {movement.size} frames, events have "
            f"{n_frames}; lengths must match"
        )
    edges = np.diff(np.r_[0, movement.astype(np.int8), 0])
    starts = np.flatnonzero(edges == 1)
    lengths = np.flatnonzero(edges == -1) - starts
    k = starts.size
    real = events[movement].sum(axis=0, dtype=np.float64)
    if k == 0 or k == n_frames:
        return real, np.full(n_cells, np.nan)
    n_units = n_frames - int(lengths.sum()) + k
    # float32 cumulative sums: sums over event-free stretches stay exactly 0
    cum = np.zeros((n_frames + 1, n_cells), np.float32)
    np.cumsum(events, axis=0, dtype=np.float32, out=cum[1:])
    tol = 1e-4 * np.maximum(np.abs(events).sum(axis=0, dtype=np.float64), 1e-12)
    less = np.zeros(n_cells)
    equal = np.zeros(n_cells)
    done = 0
    while done < n_shuffles:
        m = min(chunk, n_shuffles - done)
        slots = np.sort(
            np.stack([rng.choice(n_units, k, replace=False, shuffle=False) for _ in range(m)]),
            axis=1,
        )
        order = rng.permuted(np.broadcast_to(np.arange(k), (m, k)), axis=1)
        lp = lengths[order]
        # position of the i-th epoch = its slot + frames added by earlier epochs
        pos = slots + np.cumsum(lp, axis=1) - lp - np.arange(k)
        cols = np.empty((m, 2 * k), np.int64)
        cols[:, 0::2] = pos
        cols[:, 1::2] = pos + lp
        data = np.tile(np.array([-1.0, 1.0], np.float32), (m, k))
        mat = sparse.csr_matrix(
            (data.ravel(), cols.ravel(), np.arange(0, 2 * k * m + 1, 2 * k)),
            shape=(m, n_frames + 1),
        )
        stats = np.asarray(mat @ cum, dtype=np.float64)
        less += (stats < real - tol).sum(axis=0)
        equal += (np.abs(stats - real) <= tol).sum(axis=0)
        done += m
    p = (less + 0.5 * equal + 1.0) / (n_shuffles + 1.0)
    return real, p


def epoch_shuffle_percentile(
    activity: NDArray[np.floating],
    movement: NDArray[np.bool_],
    n_shuffles: int = 10_000,
    percentile: float = 97.5,
    *,
    seed: int = 0,
    chunk: int = 256,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Statistic and shuffle bounds of Σ activity × movement frame, whole epochs shuffled.

    The rule of the lab's later code (``Lab_Analyses/Utilities/movement_responsiveness_v2.py``):
    the binary movement trace is cut into its runs (movement epochs and quiescent epochs,
    both whole), the runs are put in a random order ``n_shuffles`` times, and the
    statistic of each shuffled trace is computed; the bounds are the ``percentile`` and
    ``100 - percentile`` percentiles of the shuffles (numpy's linear interpolation).

    Parameters
    ----------
    activity : ndarray of shape (n_frames, n_cells)
        dF/F (the lab's code passes processed dF/F).
    movement : ndarray of bool, shape (n_frames,)
    n_shuffles : int, default 10,000
    percentile : float, default 97.5
    seed : int, default 0
    chunk : int, default 256
        Shuffles computed at once.

    Returns
    -------
    statistic, lower, upper : ndarray of shape (n_cells,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> mov = np.zeros(3000, bool)
    >>> for a in range(100, 2900, 300):
    ...     mov[a : a + 40] = True
    >>> act = np.c_[mov * 1.0 + rng.normal(0, 0.1, 3000), rng.normal(0, 0.1, 3000)]
    >>> stat, lo, hi = epoch_shuffle_percentile(act, mov, 1000)
    >>> bool(stat[0] > hi[0]), bool(lo[1] <= stat[1] <= hi[1])
    (True, True)
    """
    rng = np.random.default_rng(seed)
    act = np.asarray(activity, dtype=np.float64)
    if act.ndim != 2:
        raise NwbMotorValueError(f"epoch_shuffle_percentile: activity must be (n_frames, n_cells), got {act.shape}")
    movement = np.asarray(movement, bool)
    n_frames, n_cells = act.shape
    if movement.shape != (n_frames,):
        raise NwbMotorValueError(
            f"epoch_shuffle_percentile: movement has {movement.size} frames, activity has {n_frames}"
        )
    edges = np.flatnonzero(np.diff(movement.astype(np.int8)) != 0) + 1
    bounds = np.r_[0, edges, n_frames]
    lengths = np.diff(bounds)
    is_move = movement[bounds[:-1]]
    real = act[movement].sum(axis=0)
    k, n_runs = int(is_move.sum()), lengths.size
    if k == 0 or k == n_runs:
        nan = np.full(n_cells, np.nan)
        return real, nan, nan
    cum = np.zeros((n_frames + 1, n_cells))
    np.cumsum(act, axis=0, out=cum[1:])
    stats = np.empty((n_shuffles, n_cells))
    done = 0
    while done < n_shuffles:
        m = min(chunk, n_shuffles - done)
        order = rng.permuted(np.broadcast_to(np.arange(n_runs), (m, n_runs)), axis=1)
        lp = lengths[order]
        pos = np.cumsum(lp, axis=1) - lp
        sel = is_move[order]
        p0 = pos[sel].reshape(m, k)
        p1 = p0 + lp[sel].reshape(m, k)
        cols = np.empty((m, 2 * k), np.int64)
        cols[:, 0::2], cols[:, 1::2] = p0, p1
        data = np.tile(np.array([-1.0, 1.0]), (m, k))
        mat = sparse.csr_matrix(
            (data.ravel(), cols.ravel(), np.arange(0, 2 * k * m + 1, 2 * k)), shape=(m, n_frames + 1)
        )
        stats[done : done + m] = np.asarray(mat @ cum)
        done += m
    upper = np.percentile(stats, percentile, axis=0)
    lower = np.percentile(stats, 100.0 - percentile, axis=0)
    return real, lower, upper


def _rewarded_epoch_frames(movement: NDArray[np.bool_], reward_frames: NDArray[np.integer]) -> NDArray[np.bool_]:
    """Frames kept by the 2014 rewarded-movement rule: all but those of unrewarded movement epochs.

    The rule of ``AP_classify_cells.m`` ("FOR PAPER: classify cells using AP_caEvents for
    REWARDED movements"): the movement trace is cut into units (each quiescent frame
    alone, each movement epoch whole); a movement epoch none of whose frames is a
    reward frame is removed, with its frames, from the session; the quiescent frames
    and the rewarded epochs are kept.

    Parameters
    ----------
    movement : ndarray of bool, shape (n_frames,)
        Movement frames (dilated).
    reward_frames : ndarray of int
        Frame index of each reward onset (-1 or out of range: ignored).

    Returns
    -------
    ndarray of bool, shape (n_frames,)
        True for the frames kept.

    Examples
    --------
    >>> mov = np.array([0, 1, 1, 0, 0, 1, 1, 0], bool)
    >>> _rewarded_epoch_frames(mov, np.array([2])).astype(int).tolist()
    [1, 1, 1, 1, 1, 0, 0, 1]
    """
    movement = np.asarray(movement, bool)
    n = movement.size
    rewards = np.asarray(reward_frames, np.int64)
    rewards = rewards[(rewards >= 0) & (rewards < n)]
    hit = np.zeros(n, bool)
    hit[rewards] = True
    edges = np.diff(np.r_[0, movement.astype(np.int8), 0])
    keep = np.ones(n, bool)
    for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)):
        if not hit[a:b].any():
            keep[a:b] = False
    return keep


#: Classification variants of :func:`classify_movement_related`.
CLASSIFICATION_VARIANTS = ("peters2014", "peters2014_rewarded", "wright_v2")


def classify_movement_related(
    session: xr.Dataset,
    events: xr.DataArray | None = None,
    *,
    n_shuffles: int = 10_000,
    dilate_frames: int = 5,
    p_movement: float = 0.995,
    p_quiescence: float = 0.005,
    cell_types: tuple[str, ...] = ("excitatory", "unknown"),
    seed: int = 0,
    variant: str = "peters2014",
    percentile: float = 97.5,
    frame_rule: str = "lab",
) -> xr.Dataset:
    """Classify cells as movement-related or quiescence-related (Peters et al. 2014).

    Movement frames are the frames overlapping a lever movement, dilated ±5 frames.
    The session is cut into units (each quiescent frame alone, each movement epoch
    whole); the units of the movement trace are shuffled 10,000 times; statistic =
    Σ event amplitude × movement frame; p = rank of the real statistic among the
    shuffles / (N + 1) (ties count half). Movement-related if p > 0.995,
    quiescence-related if p < 0.005. Only excitatory, non-excluded cells are tested.

    The shuffle permutes the units of the movement trace against the fixed event
    trace (equivalently, where the movement epochs fall in the session), so each
    event keeps its frames together. This is ``variant="peters2014"``
    (``AP_classify_cells.m``, "FOR PAPER ... ALL movements"; the lever's 1-ms active
    samples go to frames by the lab's rounding, ``frame_rule="lab"``).

    ``variant="peters2014_rewarded"`` is the same test on rewarded movements only
    (``AP_classify_cells.m``, "FOR PAPER: classify cells using AP_caEvents for
    REWARDED movements", saved as ``*_classified_cells_caEvents_rewardedmove_10k``):
    a movement epoch (after the ±5-frame dilation) none of whose frames is the frame of
    a reward onset (``reward_time`` of the rewarded trials, by
    :func:`nwbmotor.methods.map_to_frames`; the lab's ``round(bhv.reward_frames)``)
    is removed from the session with its frames and events; the statistic is
    Σ event amplitude × movement frame over the remaining frames, and the remaining
    units (quiescent frames alone, rewarded epochs whole) are shuffled, with the same
    p = tied rank / (N + 1) and thresholds. The
    figures of the lab's paper script (``lever_paper_figures.m``) load the
    all-movements result; this variant is the one it keeps commented out.

    ``variant="wright_v2"`` is the lab's later rule (``Lab_Analyses``
    ``movement_responsiveness_v2.py``): the statistic is Σ dF/F × movement frame
    (``session.activity``, unless ``events`` is given), movement frames are not
    dilated in that code (pass ``dilate_frames=0``), movement AND quiescent epochs are
    shuffled whole,
    and a cell is movement-related when its statistic exceeds the ``percentile``
    (97.5th) of the shuffles, quiescence-related when below the ``100 - percentile``
    th (``shuffle_lower``, ``shuffle_upper``; ``p_value`` is NaN).

    Reads ``session.activity`` (time, unit) (or ``session.events`` if present),
    ``movement_start_time`` and ``movement_stop_time`` (movement), the unit
    coords ``cell_type`` and ``excluded``, and for ``peters2014_rewarded`` the trial
    variables ``reward_time`` and ``rewarded``.

    Parameters
    ----------
    session : xarray.Dataset
        The session view.
    events : xarray.DataArray (time, unit), optional
        Events from :func:`detect_events`; default ``session.events`` or detected
        from ``session.activity``.
    n_shuffles : int
        Number of shuffles (10,000).
    dilate_frames : int
        Movement dilation in frames (5).
    p_movement, p_quiescence : float
        Thresholds on p (0.995, 0.005).
    cell_types : tuple of str
        Cell types tested: excitatory cells. In the study inhibitory cells are the
        labelled ones (GAD-Cre x tdTomato), so unlabelled (``unknown``) cells count as
        excitatory; pass ``("excitatory",)`` to require the label. Units without a
        ``cell_type`` coordinate are all tested.
    seed : int
        Random seed of the shuffles.
    variant : {"peters2014", "peters2014_rewarded", "wright_v2"}
        The 2014 paper's rule on all movements, on rewarded movements only, or the
        Wright v2 rule (above).
    percentile : float
        ``wright_v2``: the shuffle percentile of the bounds (97.5).
    frame_rule : {"lab", "overlap"}
        How movements become frames (:func:`movement_frames`).

    Returns
    -------
    xarray.Dataset (unit)
        ``statistic``, ``p_value`` (NaN for untested units, units without events,
        or NaN traces: reasons in ``attrs``), ``movement_related``,
        ``quiescence_related``, ``tested``; the unit coords of the session;
        parameters in ``attrs`` with ``movement_fraction`` (of frames).

    Raises
    ------
    NwbMotorValueError
        If the session has no activity or no movements, every movement lies outside
        the recording, the events and activity differ in length, or (variant
        ``peters2014_rewarded``) no reward falls on a movement epoch.

    Examples
    --------
    >>> from nwbmotor.testing import planted_session
    >>> ds, truth = planted_session(n_cells=10, n_frames=3000, seed=0)
    >>> res = classify_movement_related(ds, n_shuffles=1000)
    >>> res.movement_related.dims, res.attrs["n_shuffles"]
    (('unit',), 1000)
    """
    func = "classify_movement_related"
    if variant not in CLASSIFICATION_VARIANTS:
        raise NwbMotorValueError(f"{func}: unknown variant {variant!r}; expected one of {list(CLASSIFICATION_VARIANTS)}")
    ds = require_dataset(session, func)
    if variant == "wright_v2" and events is None:
        ev = require_var(ds, "activity", func, ("time", "unit"))
    else:
        ev = events_of(ds, events, func)
    starts = np.asarray(require_var(ds, "movement_start_time", func, ("movement",)).values, float)
    stops = np.asarray(require_var(ds, "movement_stop_time", func, ("movement",)).values, float)
    if starts.shape != stops.shape:
        raise NwbMotorValueError(f"{func}: movement start and stop times differ in length")
    if starts.size == 0:
        raise NwbMotorValueError(
            f"{func}: {session_name(ds)} has no lever movements (dim 'movement' is empty); "
            f"movement-related cells cannot be tested"
        )
    time = np.asarray(ev["time"].values, float)
    frame_rate(time, func)
    mov = movement_frames(time, starts, stops, dilate_frames, frame_rule=frame_rule)
    if not mov.any():
        raise NwbMotorValueError(
            f"{func}: {session_name(ds)}: all {starts.size} movements fall outside the "
            f"recording ({time[0]:.3f}-{time[-1]:.3f} s); check the session clock"
        )
    values = np.asarray(ev.values)
    if values.dtype.kind != "f":
        values = values.astype(np.float64)
    tested = unit_mask(ev, cell_types)
    if "unit" in ds.dims:
        tested &= unit_mask(ds, cell_types)
    finite = np.isfinite(values).all(axis=0)
    active = (values != 0).any(axis=0)
    run = tested & finite & active
    keep = np.ones(mov.size, bool)
    if variant == "peters2014_rewarded":
        reward = trial_var(ds, "reward_time", func).astype(float)
        if "rewarded" in ds.data_vars:
            reward = np.where(trial_var(ds, "rewarded", func).astype(bool), reward, np.nan)
        keep = _rewarded_epoch_frames(mov, map_to_frames(reward, time))
        if not mov[keep].any():
            raise NwbMotorValueError(
                f"{func}: {session_name(ds)}: no reward onset ({int(np.isfinite(reward).sum())} rewards) "
                f"falls on one of the {int(np.sum(np.diff(np.r_[0, mov.astype(int)]) == 1))} movement "
                f"epochs; variant 'peters2014_rewarded' needs rewarded movements (use variant='peters2014')"
            )
        values = values[keep]
        mov = mov[keep]
        active = (values != 0).any(axis=0)
        run = tested & finite & active
    stat = np.full(values.shape[1], np.nan)
    p = np.full(values.shape[1], np.nan)
    lower = np.full(values.shape[1], np.nan)
    upper = np.full(values.shape[1], np.nan)
    if variant == "wright_v2":
        run = tested & finite
        if run.any():
            sub = values if run.all() else values[:, run]
            stat[run], lower[run], upper[run] = epoch_shuffle_percentile(sub, mov, n_shuffles, percentile, seed=seed)
        is_move = run & (stat > upper)
        is_quiet = run & (stat < lower)
    elif run.any():
        stat[run], p[run] = movement_shuffle_test(
            values if run.all() else values[:, run], mov, n_shuffles, seed=seed
        )
    if variant in ("peters2014", "peters2014_rewarded"):
        is_move, is_quiet = run & (p > p_movement), run & (p < p_quiescence)
        statistic_name = "sum of event amplitude on movement frames"
    else:
        statistic_name = "sum of activity on movement frames"
    coords = {k: v for k, v in ev.coords.items() if v.dims == ("unit",)}
    coords.update({k: v for k, v in ds.coords.items() if v.dims == ("unit",)})
    out = xr.Dataset(
        {
            "statistic": ("unit", stat, {"long_name": statistic_name}),
            "p_value": ("unit", p, {"long_name": "rank among shuffles / (N + 1)"}),
            "movement_related": ("unit", is_move),
            "quiescence_related": ("unit", is_quiet),
            "tested": ("unit", tested),
        },
        coords=coords,
        attrs={
            "analysis": func,
            "n_shuffles": int(n_shuffles),
            "dilate_frames": int(dilate_frames),
            "p_movement": float(p_movement),
            "p_quiescence": float(p_quiescence),
            "cell_types": list(cell_types),
            "seed": int(seed),
            "variant": variant,
            "frame_rule": frame_rule,
            "movement_fraction": float(mov.mean()),
            "n_frames_used": int(keep.sum()),
            "n_movement_epochs": int(np.sum(np.diff(np.r_[0, mov.astype(int)]) == 1)),
            "session_id": ds.attrs.get("session_id", ""),
        },
    )
    reasons = []
    if (~tested).any():
        reasons.append(
            f"{int((~tested).sum())} units not tested "
            f"(cell type not in {list(cell_types)} or excluded)"
        )
    if (tested & ~finite).any():
        reasons.append(f"{int((tested & ~finite).sum())} units have NaN in their trace")
    if (tested & finite & ~active).any():
        reasons.append(f"{int((tested & finite & ~active).sum())} units have no events")
    if variant == "wright_v2":
        out["shuffle_lower"] = ("unit", lower, {"long_name": f"{100 - percentile:g}th percentile of the shuffles"})
        out["shuffle_upper"] = ("unit", upper, {"long_name": f"{percentile:g}th percentile of the shuffles"})
        out["p_value"] = ("unit", np.full(values.shape[1], np.nan), {"long_name": "not computed by this variant"})
        out.attrs["percentile"] = float(percentile)
        reasons = [r for r in reasons if "no events" not in r]
    if reasons:
        out.attrs["nan_reason"] = "p_value is NaN where: " + "; ".join(reasons)
    return out


def fraction_movement_related(
    classification: xr.Dataset | Sequence[xr.Dataset] | Mapping[str, xr.Dataset] | xr.DataTree,
    *,
    kind: str = "movement_related",
) -> xr.DataArray:
    """Fraction of tested cells classified movement-related, per session.

    Parameters
    ----------
    classification : xarray.Dataset, or a sequence, mapping or DataTree of them
        Results of :func:`classify_movement_related`; a mapping's keys, a tree's node
        paths or each result's ``session_id`` name the sessions.
    kind : {"movement_related", "quiescence_related"}
        Which class to count.

    Returns
    -------
    xarray.DataArray
        Scalar for one session, else dim ``session``. The denominator is the
        cells with a p-value; NaN (with ``attrs['nan_reason']``) for a session
        without any.

    Examples
    --------
    >>> from nwbmotor.testing import planted_session
    >>> ds, truth = planted_session(n_cells=10, n_frames=3000, seed=0)
    >>> float(fraction_movement_related(classify_movement_related(ds, n_shuffles=500))) >= 0
    True
    """
    func = "fraction_movement_related"
    if kind not in ("movement_related", "quiescence_related"):
        raise NwbMotorValueError(
            f"{func}: kind must be 'movement_related' or 'quiescence_related', got {kind!r}"
        )
    single = isinstance(classification, xr.Dataset)
    items = session_items(classification, func)
    if not items:
        raise NwbMotorValueError(f"{func}: no sessions given")
    fractions, counts, tested, empty = [], [], [], []
    for name, res in items:
        if not isinstance(res, xr.Dataset) or kind not in res or "p_value" not in res:
            raise NwbMotorTypeError(
                f"{func}: session {name!r}: expected the Dataset returned by "
                f"classify_movement_related (with {kind!r} and 'p_value')"
            )
        ok = np.isfinite(res["p_value"].values)
        n = int(ok.sum())
        c = int(np.asarray(res[kind].values)[ok].sum())
        fractions.append(c / n if n else np.nan)
        counts.append(c)
        tested.append(n)
        if not n:
            empty.append(str(name))
    attrs = {"analysis": func, "kind": kind}
    if empty:
        attrs["nan_reason"] = f"no cell with a p-value in session(s) {empty}"
    if single:
        return xr.DataArray(
            fractions[0],
            name=f"fraction_{kind}",
            attrs={**attrs, "n_cells": tested[0], "n_classified": counts[0]},
        )
    return xr.DataArray(
        np.asarray(fractions),
        dims="session",
        name=f"fraction_{kind}",
        coords={
            "session": [str(n) for n, _ in items],
            "n_cells": ("session", tested),
            "n_classified": ("session", counts),
        },
        attrs=attrs,
    )
