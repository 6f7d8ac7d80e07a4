"""Input boutons by source (Ramot et al. 2025): movement encoding, timing, axons.

The units are axonal boutons labelled by their input source (unit coord
``input_source``: e.g. motor thalamus, other cortical areas), from Suite2p or the lab's
ROI files; one session may hold several sources. Ramot et al. identify shared
movement representations with ShaReD, whose algorithm is not published in a form
that can be reproduced; it is not implemented here. These functions are the
documented generic methods: the movement shuffle test per bouton, onset-aligned
peak latency with a label-shuffle null for the naive→expert shift, and grouping of
boutons into putative axons by activity correlation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray
from scipy import stats
from scipy.cluster import hierarchy
from scipy.spatial.distance import squareform

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.analysis._common import (
    as_activity,
    frame_rate,
    gather,
    onset_frames,
    pearson_rows,
    require_dataset,
    select_units,
    session_name,
    trials_with_onset,
)

__all__ = ["bouton_timing", "group_axons", "input_encoding"]


def _sources(ds: xr.Dataset | xr.DataArray, source: str, func: str) -> NDArray[np.str_]:
    if source not in ds.coords:
        raise NwbMotorValueError(
            f"{func}: {session_name(ds)} has no unit coord {source!r}; bouton analyses need ROIs "
            f"labelled by input source (PlaneSegmentation column 'input_source')"
        )
    return np.asarray(ds[source].values).astype(str)


def _all_types(ds: xr.Dataset) -> tuple[str, ...]:
    if "cell_type" in ds.coords:
        return tuple(sorted(set(np.asarray(ds["cell_type"].values).astype(str).tolist())))
    return ("excitatory", "inhibitory", "unknown")


def input_encoding(
    session: xr.Dataset,
    classification: xr.Dataset | None = None,
    *,
    source: str = "input_source",
    n_shuffles: int = 10_000,
    seed: int = 0,
) -> xr.Dataset:
    """Fraction of movement-related boutons per input source.

    Every bouton (any ``cell_type``; boutons are axons, not cells) is tested with the
    movement shuffle of :func:`classify_movement_related`; per source, the number
    tested and the fraction movement- and quiescence-related. Sources are compared
    with Fisher's exact test (two sources) or a chi-square test of the contingency
    table (more).

    Parameters
    ----------
    session : xarray.Dataset
        A session view whose units carry ``input_source``.
    classification : xarray.Dataset, optional
        A result of :func:`classify_movement_related` on this session (default: run it
        on every bouton with ``n_shuffles`` and ``seed``).
    source : str
        The unit coord naming the input source.
    n_shuffles, seed : int
        Passed to the classification when it is computed here.

    Returns
    -------
    xarray.Dataset
        ``n_tested``, ``n_movement_related``, ``fraction_movement_related``,
        ``fraction_quiescence_related`` (input); scalars ``statistic`` and
        ``p_value`` of the comparison (NaN with one source).

    Raises
    ------
    NwbMotorValueError
        No ``input_source`` coord, or a classification of another size.

    Examples
    --------
    >>> from nwbmotor.testing import planted_boutons
    >>> ds, truth = planted_boutons(seed=0)
    >>> res = input_encoding(ds, n_shuffles=500)
    >>> sorted(res.input.values.tolist())
    ['cortex', 'thalamus']
    """
    func = "input_encoding"
    ds = require_dataset(session, func)
    src = _sources(ds, source, func)
    if classification is None:
        from nwbmotor.analysis._movement_related import classify_movement_related

        classification = classify_movement_related(ds, n_shuffles=n_shuffles, seed=seed, cell_types=_all_types(ds))
    if classification.sizes.get("unit") != src.size:
        raise NwbMotorValueError(
            f"{func}: the classification has {classification.sizes.get('unit')} units, the session {src.size}"
        )
    p = np.asarray(classification["p_value"].values, float)
    mr = np.asarray(classification["movement_related"].values, bool)
    qr = np.asarray(classification["quiescence_related"].values, bool)
    names = sorted(set(src.tolist()))
    tested = np.asarray([int((np.isfinite(p) & (src == s)).sum()) for s in names])
    n_mr = np.asarray([int((mr & (src == s)).sum()) for s in names])
    n_qr = np.asarray([int((qr & (src == s)).sum()) for s in names])
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(tested > 0, n_mr / tested, np.nan)
        frac_q = np.where(tested > 0, n_qr / tested, np.nan)
    attrs: dict[str, Any] = {
        "analysis": func,
        "source_coord": source,
        "classification": dict(classification.attrs),
        "session_id": ds.attrs.get("session_id", ""),
    }
    table = np.c_[n_mr, tested - n_mr]
    statistic = p_value = np.nan
    if len(names) == 2 and tested.all():
        res = stats.fisher_exact(table)
        statistic, p_value = float(res.statistic), float(res.pvalue)
        attrs["test"] = "Fisher exact (odds ratio of movement-related, first vs second source)"
    elif len(names) > 2 and (table.sum(axis=0) > 0).all() and tested.all():
        res = stats.chi2_contingency(table)
        statistic, p_value = float(res.statistic), float(res.pvalue)
        attrs["test"] = "chi-square test of the source x class table"
    else:
        attrs["nan_reason"] = f"comparison needs >= 2 sources with tested boutons (found {dict(zip(names, tested.tolist()))})"
    attrs["classification"] = {k: v for k, v in attrs["classification"].items() if not isinstance(v, dict)}
    return xr.Dataset(
        {
            "n_tested": ("input", tested),
            "n_movement_related": ("input", n_mr),
            "fraction_movement_related": ("input", frac),
            "fraction_quiescence_related": ("input", frac_q),
            "statistic": ((), statistic),
            "p_value": ((), p_value),
        },
        coords={"input": names},
        attrs=attrs,
    )


def _latencies(
    ds: xr.Dataset, units: Any, window: tuple[int, int], func: str
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Peak time (s from onset) of each unit's trial-mean activity; and the units used."""
    act = as_activity(ds, func)
    time = np.asarray(act["time"].values, float)
    fs = frame_rate(time, func)
    chosen, onset = trials_with_onset(ds, "cued_rewarded", func)
    idx, inside = onset_frames(onset[chosen], time, window, func)
    if not inside.any():
        raise NwbMotorValueError(f"{func}: {session_name(ds)} has no cued-rewarded movement inside the recording")
    if isinstance(units, xr.Dataset):
        units = units["movement_related"]
    sel = select_units(units, act.sizes["unit"], func)
    mean = np.nanmean(gather(np.asarray(act.values, float), idx[inside], window), axis=0)  # rel, unit
    lat = (np.argmax(mean, axis=0) + window[0]) / fs
    sel &= np.isfinite(mean).all(axis=0)
    return np.where(sel, lat, np.nan), sel


def bouton_timing(
    naive: xr.Dataset | Sequence[xr.Dataset],
    expert: xr.Dataset | Sequence[xr.Dataset],
    *,
    naive_units: Any = None,
    expert_units: Any = None,
    source: str = "input_source",
    window_frames: tuple[int, int] = (-28, 84),
    n_shuffles: int = 10_000,
    seed: int = 0,
    level: str = "bouton",
    axon_threshold: float = 0.5,
) -> xr.Dataset:
    """Bouton timing relative to movement onset, naive vs expert, with a shuffle null.

    Per bouton, the latency of the peak of its mean dF/F over cued-rewarded
    movements (−1 … +3 s around onset at 28 Hz). Per input source, the median
    latency in the naive and the expert sessions and the shift (expert − naive;
    negative = earlier in experts). Null: the naive/expert labels of the source's
    boutons are shuffled ``n_shuffles`` times; ``p_earlier`` = (shuffles with a shift
    ≤ the observed + 1) / (N + 1), ``p_value`` the two-sided version.

    Boutons of one axon carry the same spikes, so their latencies are not independent:
    with ``level="axon"`` the boutons of each session are first grouped into axons
    (:func:`group_axons`, ``axon_threshold``), each axon's latency is the median of its
    used boutons', and the medians, shift and label shuffle are over axons. The
    bouton-level null (the default) is too narrow when each axon has several boutons.

    Parameters
    ----------
    naive, expert : Dataset or sequence of Dataset
        Session views of naive and expert animals/sessions (boutons need not be
        tracked across them).
    naive_units, expert_units : mask, indices, classification Dataset, or a sequence of them
        Boutons used per session (e.g. their movement-related boutons); default every bouton.
    source : str
        The unit coord naming the input source.
    window_frames : (int, int)
        Window around movement onset (frames).
    n_shuffles, seed : int
        Label shuffles and their seed.
    level : {"bouton", "axon"}
        The unit of the medians and of the shuffle (above).
    axon_threshold : float
        ``level="axon"``: the correlation threshold of :func:`group_axons` (0.5).

    Returns
    -------
    xarray.Dataset
        ``median_latency_naive``, ``median_latency_expert``, ``latency_shift``,
        ``p_earlier``, ``p_value``, ``n_naive``, ``n_expert`` (input: one per source); ``latency``
        (bouton, or one per axon with ``level="axon"``; coords ``bouton_source``, ``stage``).

    Raises
    ------
    NwbMotorValueError
        Missing source labels or trials.

    Examples
    --------
    >>> from nwbmotor.testing import planted_boutons
    >>> n, _ = planted_boutons(seed=0)
    >>> e, _ = planted_boutons(seed=1, expert=True)
    >>> res = bouton_timing(n, e, n_shuffles=200)
    >>> bool(res.latency_shift.sel(input="thalamus") < 0)
    True
    """
    func = "bouton_timing"
    if level not in ("bouton", "axon"):
        raise NwbMotorValueError(f"{func}: level must be 'bouton' or 'axon', got {level!r}")

    def listify(x: Any) -> list[xr.Dataset]:
        return [x] if isinstance(x, xr.Dataset) else list(x)

    groups = {"naive": (listify(naive), naive_units), "expert": (listify(expert), expert_units)}
    lat_all, src_all, stage_all = [], [], []
    for stage, (dss, units) in groups.items():
        if not dss:
            raise NwbMotorValueError(f"{func}: no {stage} session given")
        per_units = units if isinstance(units, (list, tuple)) else [units] * len(dss)
        if len(per_units) != len(dss):
            raise NwbMotorValueError(f"{func}: {len(per_units)} {stage}_units for {len(dss)} sessions")
        for ds, u in zip(dss, per_units):
            ds = require_dataset(ds, func)
            src = _sources(ds, source, func)
            lat, sel = _latencies(ds, u, window_frames, func)
            if level == "axon":
                axon = np.asarray(group_axons(ds, threshold=axon_threshold, source=source)["axon_id"].values)
                ids = np.unique(axon[sel & (axon >= 0)])
                lat = np.asarray([np.median(lat[sel & (axon == a)]) for a in ids], float)
                src = np.asarray([src[sel & (axon == a)][0] for a in ids])
                sel = np.ones(ids.size, bool)
            lat_all.append(lat[sel])
            src_all.append(src[sel])
            stage_all.append(np.full(int(sel.sum()), stage))
    lat = np.concatenate(lat_all)
    srcs = np.concatenate(src_all)
    stage = np.concatenate(stage_all)  # type: ignore[assignment]
    names = sorted(set(srcs.tolist()))
    rng = np.random.default_rng(seed)
    out = {k: np.full(len(names), np.nan) for k in ("median_latency_naive", "median_latency_expert", "latency_shift", "p_earlier", "p_value")}
    n_n, n_e = np.zeros(len(names), int), np.zeros(len(names), int)
    reasons = []
    for i, s in enumerate(names):
        x = lat[srcs == s]
        is_e = stage[srcs == s] == "expert"
        n_n[i], n_e[i] = int((~is_e).sum()), int(is_e.sum())  # type: ignore[attr-defined]
        if not n_n[i] or not n_e[i]:
            reasons.append(f"source {s!r}: {n_n[i]} naive and {n_e[i]} expert boutons (need both)")
            continue
        med_n, med_e = np.median(x[~is_e]), np.median(x[is_e])
        obs = med_e - med_n
        null = np.empty(n_shuffles)
        for k in range(n_shuffles):
            perm = rng.permutation(is_e)
            null[k] = np.median(x[perm]) - np.median(x[~perm])
        out["median_latency_naive"][i], out["median_latency_expert"][i], out["latency_shift"][i] = med_n, med_e, obs
        out["p_earlier"][i] = (np.sum(null <= obs) + 1) / (n_shuffles + 1)
        out["p_value"][i] = (np.sum(np.abs(null) >= abs(obs)) + 1) / (n_shuffles + 1)
    attrs: dict[str, Any] = {
        "analysis": func,
        "window_frames": list(window_frames),
        "n_shuffles": int(n_shuffles),
        "seed": int(seed),
        "latency": "peak of the trial-mean dF/F over cued-rewarded movements, s from onset",
        "null": f"naive/expert labels shuffled among the source's {level}s",
        "level": level,
    }
    if level == "axon":
        attrs["axon_threshold"] = float(axon_threshold)
    if reasons:
        attrs["nan_reason"] = "; ".join(reasons)
    return xr.Dataset(
        {
            **{k: ("input", v, {"units": "s"} if "latency" in k or k == "latency_shift" else {}) for k, v in out.items()},
            "n_naive": ("input", n_n),
            "n_expert": ("input", n_e),
            "latency": ("bouton", lat, {"units": "s"}),
        },
        coords={"input": names, "bouton_source": ("bouton", srcs), "stage": ("bouton", stage)},
        attrs=attrs,
    )


def group_axons(
    session: xr.Dataset | xr.DataArray,
    *,
    threshold: float = 0.5,
    source: str = "input_source",
    linkage: str = "average",
) -> xr.Dataset:
    """Group boutons into putative axons by the correlation of their activity.

    Within each input source, boutons are clustered hierarchically (``average``
    linkage) on 1 − Pearson r of their dF/F traces and the tree is cut at 1 −
    ``threshold``: boutons of one axon fire the same spikes, so their traces
    correlate far above those of different axons. Boutons of different sources never
    share an axon.

    Parameters
    ----------
    session : xarray.Dataset or DataArray (time, unit)
        The session view (its ``activity``) with the ``input_source`` coord.
    threshold : float
        Correlation above which boutons join one axon (0.5).
    source : str
        The unit coord naming the input source.
    linkage : str
        scipy linkage method.

    Returns
    -------
    xarray.Dataset
        ``axon_id`` (unit; −1 for NaN traces), ``within_axon_r`` (unit: mean r with the
        rest of its axon, NaN for a single bouton), ``n_axons`` (input); unit coords
        of the session.

    Raises
    ------
    NwbMotorValueError
        No ``input_source`` coord or a threshold outside (−1, 1).

    Examples
    --------
    >>> from nwbmotor.testing import planted_boutons
    >>> ds, truth = planted_boutons(seed=0)
    >>> res = group_axons(ds)
    >>> int(res.n_axons.sum()) == len(set(truth["axon"].tolist()))
    True
    """
    func = "group_axons"
    if not -1.0 < threshold < 1.0:
        raise NwbMotorValueError(f"{func}: threshold must be a correlation in (-1, 1), got {threshold!r}")
    act = as_activity(session, func)
    src = _sources(act, source, func) if source in act.coords else _sources(session, source, func)
    x = np.asarray(act.values, float)
    finite = np.isfinite(x).all(axis=0) & (np.nanstd(x, axis=0) > 0)
    axon = np.full(x.shape[1], -1, np.int64)
    within = np.full(x.shape[1], np.nan)
    names = sorted(set(src.tolist()))
    n_axons = np.zeros(len(names), int)
    next_id = 0
    for i, s in enumerate(names):
        idx = np.flatnonzero((src == s) & finite)
        if idx.size == 0:
            continue
        if idx.size == 1:
            labels = np.array([1])
        else:
            r = pearson_rows(x[:, idx].T)
            d = np.clip(1.0 - r, 0.0, 2.0)
            np.fill_diagonal(d, 0.0)
            tree = hierarchy.linkage(squareform(d, checks=False), method=linkage)
            labels = hierarchy.fcluster(tree, t=1.0 - threshold, criterion="distance")
            for j, u in enumerate(idx):
                mates = labels == labels[j]
                mates[j] = False
                if mates.any():
                    within[u] = float(np.mean(r[j, mates]))
        uniq = np.unique(labels)
        for lab in uniq:
            axon[idx[labels == lab]] = next_id
            next_id += 1
        n_axons[i] = uniq.size
    coords = {k: v for k, v in act.coords.items() if v.dims == ("unit",)}
    attrs: dict[str, Any] = {"analysis": func, "threshold": float(threshold), "linkage": linkage, "source_coord": source}
    if (~finite).any():
        attrs["nan_reason"] = f"{int((~finite).sum())} boutons with NaN or flat traces are not grouped (axon_id -1)"
    return xr.Dataset(
        {
            "axon_id": ("unit", axon),
            "within_axon_r": ("unit", within),
            "n_axons": ("input", n_axons),
        },
        coords={**coords, "input": names},
        attrs=attrs,
    )
