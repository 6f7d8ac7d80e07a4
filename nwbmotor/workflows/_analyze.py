"""``nwbmotor analyze``: the studies' standard analyses across sessions, as a report.

Lab sessions (imaging + lever): learning curves of behaviour timing, lever
reproducibility, the fraction of movement-related cells, activity timing and the
spatiotemporal correlation, and the effect of light on performance. Model sessions:
output error, and activity and covariance change between phases. Every number comes
from the public analysis functions (``nwbmotor.analysis``) on the session views
(``nwbmotor.open_session``); a number an analysis could not compute is NaN with its
reason listed in the report, never dropped silently.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbmotor._errors import NwbMotorError, NwbMotorValueError

if TYPE_CHECKING:
    import xarray as xr

__all__ = ["analyze", "AnalysisResult", "lab_session_metrics", "model_session_metrics"]

LAB_METRICS: dict[str, tuple[str, str, str]] = {
    # metric: (figure title, y label, what it is; the result is stated by the computed caption)
    "fraction_rewarded": ("Fraction of trials rewarded", "fraction", "Rewarded / all trials per session."),
    "median_reaction_time": ("Cue to movement onset", "s", "Median over rewarded trials."),
    "median_movement_duration": ("Movement duration", "s", "Median over rewarded trials."),
    "lever_correlation": ("Lever reproducibility", "median r", "Median Pearson r of lever traces over pairs "
                          "of cued-rewarded trials (-0.02 to 3 s from onset)."),
    "fraction_movement_related": ("Movement-related cells", "fraction", "Excitatory cells with p > 0.995 in the "
                                  "movement shuffle test ({n_shuffles} shuffles)."),
    "spatiotemporal_correlation": ("Spatiotemporal activity correlation", "median r", "Median trial-to-trial "
                                   "Pearson r of the movement-related cells x frames event matrix, onset -5 to "
                                   "+89 frames."),
    "latency_spread": ("Activity timing", "s", "Median over movement-related cells (active on > 5 trials) of the "
                       "sd of first-event latency after cued-rewarded movement onset."),
    "sequence_reproducibility": ("Sequence reproducibility", "median r", "Median over trials (> 3 active cells) "
                                 "of the rank correlation of the cells' largest-event times with the session "
                                 "template."),
    "ei_r": ("E/I coupling", "Pearson r", "Per session, Pearson r over movements of the inhibitory vs the "
             "excitatory fraction of active cells."),
}


@dataclasses.dataclass(frozen=True)
class AnalysisResult:
    """Where the report is, and the numbers it shows."""

    report: Path
    lab: Any  # pandas.DataFrame, one row per lab session
    models: Any  # pandas.DataFrame, one row per model comparison
    notes: tuple[str, ...]


def _scalar(value: Any) -> float:
    return float(np.asarray(value))


def _attempt(metrics: dict[str, float], notes: list[str], name: str, where: str, func, *args, **kwargs) -> Any:
    """Run one analysis; on a clear nwbmotor error record NaN and the reason."""
    try:
        return func(*args, **kwargs)
    except NwbMotorError as exc:
        metrics.setdefault(name, np.nan)
        notes.append(f"{where}: {name}: {exc}")
        return None


def lab_session_metrics(path: str | os.PathLike[str], *, n_shuffles: int = 10_000) -> tuple[dict[str, Any], list[str]]:
    """The standard numbers of one lab session (one row of the learning curves).

    Besides scalars, the row holds under ``"_extras"`` what the cross-session panels
    need (per-movement E/I fractions, per-source bouton fractions); ``analyze`` takes
    it out before the table is written.
    """
    from nwbmotor import analysis as an
    from nwbmotor.views import open_session

    notes: list[str] = []
    ds = open_session(path).load()
    where = Path(path).name
    row: dict[str, Any] = {
        "path": str(path),
        "subject_id": ds.attrs.get("subject_id", ""),
        "session_id": ds.attrs.get("session_id", ""),
        "session_start_time": str(ds.attrs.get("session_start_time", "")),
        "n_units": int(ds.sizes.get("unit", 0)),
        "n_trials": int(ds.sizes.get("trial", 0)),
        "n_shuffles": int(n_shuffles),
    }
    extras: dict[str, Any] = {}
    timing = _attempt(row, notes, "fraction_rewarded", where, an.behavior_timing, ds)
    if timing is not None:
        for key in ("fraction_rewarded", "median_reaction_time", "median_movement_duration"):
            row[key] = _scalar(timing[key])
    lever = _attempt(row, notes, "lever_correlation", where, an.lever_correlation, ds)
    if lever is not None:
        row["lever_correlation"] = _scalar(lever["median_correlation"])
    if "activity" not in ds.data_vars:
        notes.append(f"{where}: no imaging (behaviour-only session): activity analyses not computed")
    else:
        events = _attempt(row, notes, "fraction_movement_related", where, an.detect_events, ds["activity"],
                          cell_type=ds["cell_type"] if "cell_type" in ds.coords else None)
        if events is not None:
            ds = ds.assign(events=events)
            bouton = "input_source" in ds.coords
            classes = _attempt(row, notes, "fraction_movement_related", where, an.classify_movement_related, ds,
                               n_shuffles=n_shuffles)
            if classes is not None:
                row["fraction_movement_related"] = _scalar(an.fraction_movement_related(classes))
                for key, func, var in (
                    ("spatiotemporal_correlation", an.spatiotemporal_correlation, "median_correlation"),
                    ("latency_spread", an.activity_timing, "median_latency_std"),
                    ("sequence_reproducibility", an.sequence_reproducibility, "median_correlation"),
                ):
                    res = _attempt(row, notes, key, where, func, ds, units=classes)
                    if res is not None:
                        row[key] = _scalar(res[var])
                        if "nan_reason" in res.attrs and not np.isfinite(row[key]):
                            notes.append(f"{where}: {key}: {res.attrs['nan_reason']}")
            if "cell_type" in ds.coords and (np.asarray(ds["cell_type"].values) == "inhibitory").any():
                ei = _attempt(row, notes, "ei_r", where, an.ei_balance, ds)
                if ei is not None:
                    row["ei_r"] = _scalar(ei["r"])
                    row["ei_median_ratio"] = _scalar(ei["median_ei_ratio"])
                    extras["ei"] = (ei["excitatory_fraction"].values.tolist(), ei["inhibitory_fraction"].values.tolist())
            if bouton:
                enc = _attempt(row, notes, "input_encoding", where, an.input_encoding, ds,
                               n_shuffles=n_shuffles)
                if enc is not None:
                    extras["inputs"] = {str(k): (int(n), int(m)) for k, n, m in zip(
                        enc["input"].values, enc["n_tested"].values, enc["n_movement_related"].values)}
    if "opto" in ds and ds["opto"].dtype == bool and bool(ds["opto"].any()):
        rewarded = ds["rewarded"].values.astype(bool)
        light = ds["opto"].values.astype(bool)
        row["fraction_rewarded_light"] = float(rewarded[light].mean())
        row["fraction_rewarded_no_light"] = float(rewarded[~light].mean())
        row["n_light_trials"] = int(light.sum())
        if "behavior" in ds.data_vars:
            kin = _attempt(row, notes, "press_amplitude", where, an.opto_kinematics, ds)
            if kin is not None:
                row["press_amplitude_light"] = float(kin["amplitude"].sel(condition="light").values[0])
                row["press_amplitude_no_light"] = float(kin["amplitude"].sel(condition="no_light").values[0])
    if "epoch_start_time" in ds and ds.sizes.get("epoch", 0) and "activity" in ds.data_vars:
        ld = _attempt(row, notes, "fraction_light_driven", where, an.light_driven_units, ds)
        if ld is not None:
            row["fraction_light_driven"] = float(np.mean(ld["light_driven"].values))
    row["_extras"] = extras
    ds.close()
    return row, notes


def _phase_groups(ds) -> list[tuple[str, Any]]:
    """(label, trial indices) per phase; per phase and target when phases test different targets."""
    phase = np.asarray(ds["phase"].values).astype(str)
    target = np.asarray(ds["target_id"].values) if "target_id" in ds else np.zeros(phase.size, int)
    phases = list(dict.fromkeys(phase.tolist()))
    targets = {p: tuple(sorted(set(target[phase == p].tolist()))) for p in phases}
    if len(set(targets.values())) == 1:
        return [(p, np.flatnonzero(phase == p)) for p in phases]
    return [(f"{p}, target {t}", np.flatnonzero((phase == p) & (target == t)))
            for p in phases for t in targets[p]]


def model_session_metrics(path: str | os.PathLike[str]) -> tuple[list[dict[str, Any]], list[str]]:
    """Output error per phase, and activity/covariance change of learning phases.

    The error is computed per phase (per phase and target when the phases test
    different targets). Activity and covariance change compare the per-target PSTHs
    around the go cue of each adapted phase (``adapted_*``, or ``after``) with the
    phase before learning (``before_adaptation``, or ``before``), on the targets both
    tested.
    """
    import xarray as xr

    from nwbmotor import analysis as an
    from nwbmotor.views import open_session

    notes: list[str] = []
    ds = open_session(path).load()
    where = Path(path).name
    model = str(ds.attrs.get("subject_id", where))
    rows: list[dict[str, Any]] = []
    if "phase" not in ds or "target" not in ds:
        notes.append(f"{where}: no phases or no target; nothing to compare")
        return rows, notes
    start, stop = ds["start_time"].values, ds["stop_time"].values
    for label, trials in _phase_groups(ds):
        row: dict[str, Any] = {"path": str(path), "model": model, "phase": label, "n_trials": int(trials.size)}
        parts = [ds[["behavior", "target"]].sel(time_behavior=slice(start[i], stop[i])) for i in trials]
        joined = xr.concat(parts, "time_behavior")
        err = _attempt(row, notes, "output_error", where, an.output_error, joined["behavior"], joined["target"])
        if err is not None:
            row["output_error"] = _scalar(err)
        rows.append(row)
    phase = np.asarray(ds["phase"].values).astype(str)
    reference = next((p for p in ("before_adaptation", "before") if p in phase), None)
    learned = [p for p in dict.fromkeys(phase.tolist()) if p.startswith("adapted") or p == "after"]
    go = ds["go_time"].values if "go_time" in ds else np.full(phase.size, np.nan)
    events = np.where(np.isfinite(go), go, start)
    dt = float(np.median(np.diff(ds["time"].values))) if ds.sizes.get("time", 0) > 1 else 0.0
    # go +- 0.6 s (science.md B: go +- 60 steps of 10 ms), kept inside every trial
    window = (max(-0.6, float(np.max(start - events))), min(0.6, float(np.min(stop - events)) - 1.5 * dt))
    if reference is not None and learned:
        aligned = _attempt({}, notes, "trial_align", where, an.trial_align, ds["activity"], events,
                           window=window)
        target = np.asarray(ds["target_id"].values)
        for p in learned:
            shared = np.intersect1d(target[phase == reference], target[phase == p])
            before = np.flatnonzero((phase == reference) & np.isin(target, shared))
            after = np.flatnonzero((phase == p) & np.isin(target, shared))
            row = {"path": str(path), "model": model, "phase": f"{p} vs {reference}", "n_trials": int(after.size)}
            if aligned is not None:
                # the motor-cortex modules, as in Feulner et al. (the upstream module is
                # the one H_input rewires; its own change says nothing of M1's covariance)
                if "module" in aligned.coords and {"PMd", "M1"} & set(aligned["module"].values.tolist()):
                    aligned = aligned.isel(unit=np.isin(aligned["module"].values, ["PMd", "M1"]))
                b = aligned.isel(trial=before).assign_coords(target_id=("trial", target[before]))
                a = aligned.isel(trial=after).assign_coords(target_id=("trial", target[after]))
                for name, func in (("activity_change", an.activity_change), ("covariance_change", an.covariance_change)):
                    value = _attempt(row, notes, name, where, func, b, a, condition="target_id")
                    if value is not None:
                        row[name] = _scalar(value)
            rows.append(row)
    ds.close()
    return rows, notes


def _is_model(path: Path) -> bool:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return "processing/model" in f
    except OSError:
        raise NwbMotorValueError(f"{path}: cannot be opened as an NWB (HDF5) file") from None


def _session_index(table):
    """0-based order of each subject's sessions by start time."""
    order = table.sort_values(["subject_id", "session_start_time", "session_id"])
    return order.groupby("subject_id").cumcount().reindex(table.index)


def _training_days(table, notes: list[str]):
    """Training day per session: days since the subject's first session, + 1.

    From ``session_start_time``; a subject whose start dates cannot be read, or
    repeat, gets its session order instead, with a note.
    """
    import pandas as pd

    start = pd.to_datetime(table["session_start_time"], errors="coerce", utc=True)
    day = pd.Series(np.nan, index=table.index)
    for subject, idx in table.groupby("subject_id").groups.items():
        s = start.loc[idx]
        if s.notna().all() and not s.dt.normalize().duplicated().any():
            day.loc[idx] = (s.dt.normalize() - s.dt.normalize().min()).dt.days + 1
        else:
            day.loc[idx] = table.loc[idx, "session_index"] + 1
            why = "unreadable" if s.isna().any() else "not one per day"
            notes.append(f"subject {subject}: session start dates {why}; training day = session order")
    return day.astype(int)


def _spine_tables(paths: Sequence[Path], table) -> dict[str, Any]:
    """Each subject's spine scoring rows, gathered from its sessions' NWB files."""
    import xarray as xr

    from nwbmotor.views import open_spine_table

    subject_of = dict(zip(table["path"], table["subject_id"]))
    found: dict[str, list[Any]] = {}
    for p in paths:
        t = open_spine_table(p)
        if t is not None and t.sizes.get("row", 0):
            found.setdefault(str(subject_of.get(str(p), "")), []).append(t)
    out = {}
    for subject, parts in found.items():
        joined = xr.concat(parts, "row")
        key = np.char.add(np.asarray(joined["dendrite"].values, str), np.asarray(joined["session"].values, str))
        _, first = np.unique(key, return_index=True)
        out[subject] = joined.isel(row=np.sort(first))
    return out


def _fmt(v: float) -> str:
    return "NaN" if not np.isfinite(v) else f"{v:.3g}"


def _pstr(p: float) -> str:
    return "p = NaN" if not np.isfinite(p) else ("p < 0.001" if p < 0.001 else f"p = {p:.3f}")


def _population_section(lab, figures: Path, notes: list[str], skipped: list[str]) -> list[Any]:
    """Population similarity between sessions, per animal; early-vs-late rank-sum pooled over animals."""
    import pandas as pd
    from scipy import stats

    from nwbmotor.analysis import population_similarity
    from nwbmotor.views import open_session
    from nwbmotor.workflows._report import Section, learning_curve_figure

    rows, early, late, ranges = [], [], [], None  # type: ignore[var-annotated]
    for subject, group in lab.groupby("subject_id"):
        group = group.sort_values("training_day")
        if len(group) < 2:
            skipped.append(f"Population similarity, {subject}: one session only (needs >= 2)")
            continue
        views = {str(r.session_id): open_session(r.path) for r in group.itertuples()}
        res = _attempt({}, notes, "population_similarity", str(subject), population_similarity, views)
        for v in views.values():
            v.close()
        if res is None:
            continue
        ranges = (res.attrs["early"], res.attrs["late"])
        sim = res["similarity"].values
        num = np.arange(1, sim.shape[0] + 1)
        iu, ju = np.triu_indices(sim.shape[0], 1)
        for lo_hi, bucket in ((res.attrs["early"], early), (res.attrs["late"], late)):
            m = (num >= lo_hi[0]) & (num <= lo_hi[1])
            vals = sim[iu, ju][m[iu] & m[ju]]
            bucket.extend(vals[np.isfinite(vals)].tolist())
        for (_, r), c in zip(group.iterrows(), res["consecutive_similarity"].values):
            rows.append({"subject_id": subject, "training_day": r["training_day"], "consecutive_similarity": c})
    if not rows:
        skipped.append("Population similarity: no animal with >= 2 imaged sessions")
        return []
    table = pd.DataFrame(rows)
    what = ("Per cell, the fraction of rewarded movements (+-5 frames) with an event; Pearson r of that "
            "vector between a session and the next (cells matched by global_id), plotted at the first "
            "session's day.")
    fig = learning_curve_figure(table, "consecutive_similarity", figures / "population_similarity.png",
                                title="Population similarity, session to next", ylabel="r", caption=what)
    (e0, e1), (l0, l1) = ranges  # type: ignore[misc]
    if early and late:
        rs = stats.ranksums(late, early)
        sentence = (f"Early (sessions {e0}-{e1}) vs late ({l0}-{l1}) within-group session pairs, pooled over "
                    f"animals: mean r {np.mean(early):.3g} (n = {len(early)} pairs) vs {np.mean(late):.3g} "
                    f"(n = {len(late)}); Wilcoxon rank-sum {_pstr(float(rs.pvalue))}: "
                    + ("late more similar" if rs.pvalue < 0.05 and rs.statistic > 0 else
                       "early more similar" if rs.pvalue < 0.05 else "no significant difference") + ".")
    else:
        sentence = (f"Early-vs-late rank-sum not computed: {len(early)} early (sessions {e0}-{e1}) and "
                    f"{len(late)} late ({l0}-{l1}) session pairs; both groups need pairs.")
        skipped.append(f"Population similarity: {sentence}")
    fig = dataclasses.replace(fig, caption=f"{fig.caption} {sentence}")
    return [Section("Population similarity", "The movement-active population across sessions "
                    "(Peters et al. 2014, Fig. 3).", (fig,))]


def _opto_section(lab, figures: Path, skipped: list[str]) -> list[Any]:
    from nwbmotor.workflows._report import Section, paired_figure

    if "fraction_rewarded_light" not in lab or not lab["fraction_rewarded_light"].notna().any():
        skipped.append("Optogenetics: no session has light trials")
        return []
    rows = lab[lab["fraction_rewarded_light"].notna()]
    n_animals = rows["subject_id"].nunique()
    figs = [paired_figure(rows["fraction_rewarded_light"], rows["fraction_rewarded_no_light"],
                          figures / "opto_performance.png", labels=("light", "no light"),
                          title="Optogenetic inactivation", ylabel="fraction rewarded",
                          what=f"Fraction of trials rewarded, {n_animals} animal(s)")]
    if "press_amplitude_light" in rows and rows["press_amplitude_light"].notna().any():
        figs.append(paired_figure(rows["press_amplitude_light"], rows["press_amplitude_no_light"],
                                  figures / "opto_press_amplitude.png", labels=("light", "no light"),
                                  title="Press amplitude, light vs no light", ylabel="lever amplitude (V)",
                                  what="Mean lever amplitude of rewarded presses (peak in 0-1.5 s after onset "
                                       "minus the value at onset)"))
    else:
        skipped.append("Light vs no-light kinematics: no lever trace in the light sessions")
    cols = [c for c in ("subject_id", "session_id", "training_day", "n_light_trials", "fraction_rewarded_light",
                        "fraction_rewarded_no_light", "press_amplitude_light", "press_amplitude_no_light")
            if c in rows]
    return [Section("Optogenetics", "Light on a fraction of the trials silences the imaged area; every "
                    "comparison is paired by session.", tuple(figs), rows[cols])]


def _ei_section(lab, extras: list[dict[str, Any]], figures: Path, skipped: list[str]) -> list[Any]:
    from scipy import stats

    from nwbmotor.analysis._ei import EI_BIN_EDGES
    from nwbmotor.workflows._report import Section, binned_figure

    pairs = [e["ei"] for e in extras if "ei" in e]
    if not pairs:
        skipped.append("E/I balance: no session has inhibitory (cell_type) units with events")
        return []
    fe = np.concatenate([np.asarray(a, float) for a, _ in pairs])
    fi = np.concatenate([np.asarray(b, float) for _, b in pairs])
    edges = np.asarray(EI_BIN_EDGES)
    idx = np.searchsorted(edges, fe, side="right") - 1
    idx[(fe > edges[-1])] = -1
    mean = np.array([fi[idx == k].mean() if (idx == k).any() else np.nan for k in range(edges.size)])
    sem = np.array([fi[idx == k].std(ddof=1) / np.sqrt((idx == k).sum()) if (idx == k).sum() > 1 else np.nan
                    for k in range(edges.size)])
    if fe.size >= 3 and np.ptp(fe) > 0 and np.ptp(fi) > 0:
        r, p = stats.pearsonr(fe, fi)
        verdict = ("inhibitory activity rises with excitatory activity" if p < 0.05 and r > 0 else
                   "inhibitory activity falls as excitatory activity rises" if p < 0.05 else
                   "no significant relation")
        test = f"Pearson r over movements = {r:.2f}, {_pstr(float(p))}: {verdict}."
    else:
        test = "Pearson r not computed: fewer than 3 movements with varying fractions."
    caption = (f"Per movement (+-5 frames), the fraction of inhibitory cells active against the fraction of "
               f"excitatory cells with an event; mean ± SEM per bin of width 0.02 ({fe.size} movements of "
               f"{len(pairs)} sessions; {int((idx < 0).sum())} movements above 0.24 left out of the bins). {test}")
    fig = binned_figure(edges + 0.01, mean, sem, figures / "ei_balance.png", title="E/I balance by movement",  # type: ignore[arg-type]
                        xlabel="fraction of excitatory cells active", ylabel="fraction of inhibitory cells active",
                        caption=caption)
    return [Section("E/I balance", "Inhibitory activity follows excitatory activity movement by movement "
                    "(Peters et al. 2014, Fig. 2).", (fig,))]


def _spine_section(lab, files: Sequence[Path], figures: Path, notes: list[str], skipped: list[str]) -> list[Any]:
    import xarray as xr

    from nwbmotor.analysis import spine_turnover
    from nwbmotor.workflows._report import Section, binned_figure

    tables = _spine_tables(files, lab)
    if not tables:
        skipped.append("Spine turnover: no session file holds a spine scoring table")
        return []
    parts = []
    for subject, t in tables.items():
        t = t.assign(dendrite=("row", np.char.add(f"{subject}/", np.asarray(t["dendrite"].values, str))))
        parts.append(t)
    joined = xr.concat(parts, "row")
    order = sorted(set(np.asarray(joined["session"].values, str).tolist()))
    res = _attempt({}, notes, "spine_turnover", "spine tables", spine_turnover, joined, sessions=order)
    if res is None:
        return []
    series = {}
    lines = []
    for g in res["group"].values:
        gain = res["gain_fraction"].sel(group=g).values
        loss = res["loss_fraction"].sel(group=g).values
        d = res["dendrite_gain_fraction"].isel(dendrite=res["dendrite_group"].values == g)
        n_d = d.notnull().sum("dendrite").values
        sem = d.std("dendrite", ddof=1).values / np.sqrt(np.maximum(n_d, 1))
        series[f"{g} gained"] = (np.arange(1, len(order) + 1), gain, sem)
        series[f"{g} lost"] = (np.arange(1, len(order) + 1), loss, np.full(len(order), np.nan))
        lines.append(f"{g}: gained {_fmt(float(np.nanmean(gain[1:])))} and lost {_fmt(float(np.nanmean(loss[1:])))} "
                     f"of the first session's spines per session (mean of sessions 2-{len(order)}; "
                     f"{int(np.max(n_d))} dendrites); total {_fmt(float(res['total_normalized'].sel(group=g).values[-1]))} "
                     f"of session 1 at the last session, trend r = {_fmt(float(res['trend_r'].sel(group=g)))}, "
                     f"{_pstr(float(res['trend_p'].sel(group=g)))}")
    group_test = (f"Per-dendrite gain, {res.attrs['groups_compared'][0]} vs {res.attrs['groups_compared'][1]}: "
                  f"Wilcoxon rank-sum {_pstr(float(res['group_p_value']))}."
                  if res.attrs["groups_compared"] else f"No group test: {res.attrs.get('nan_reason', '')}.")
    caption = ("Fraction of spines gained and lost per session (pooled over dendrites, relative to the first "
               "session's count; gained: mean ± SEM over dendrites). " + "; ".join(lines) + ". " + group_test)
    fig = binned_figure([], [], [], figures / "spine_turnover.png", title="Spine turnover",
                        xlabel="scored session", ylabel="fraction of session-1 spines", caption=caption,
                        series=series, xticklabels=order)  # type: ignore[arg-type]
    return [Section("Spines", f"Spine scoring tables of {len(tables)} animal(s), sessions {', '.join(order)}.",
                    (fig,))]


def _bouton_section(lab, extras: list[dict[str, Any]], figures: Path, skipped: list[str]) -> list[Any]:
    from scipy import stats

    from nwbmotor.workflows._report import Section, bar_figure

    per = [e["inputs"] for e in extras if "inputs" in e]
    if not per:
        skipped.append("Input boutons: no session has ROIs labelled by input source (input_source)")
        return []
    sources = sorted({s for d in per for s in d})
    means, parts, counts = {}, [], []
    for src in sources:
        fr = np.array([d[src][1] / d[src][0] for d in per if src in d and d[src][0]])
        n_b = sum(d[src][0] for d in per if src in d)
        n_m = sum(d[src][1] for d in per if src in d)
        counts.append([n_m, n_b - n_m])
        means[src] = float(fr.mean()) if fr.size else np.nan
        sem = fr.std(ddof=1) / np.sqrt(fr.size) if fr.size > 1 else np.nan
        parts.append(f"{src} {_fmt(means[src])} ± {_fmt(float(sem))} ({fr.size} sessions, {n_b} boutons)")
    if len(sources) == 2:
        res = stats.fisher_exact(counts)
        test = f"Pooled Fisher exact test of the two sources: {_pstr(float(res.pvalue))}."
    elif len(sources) > 2:
        res = stats.chi2_contingency(counts)
        test = f"Pooled chi-square test of the sources: {_pstr(float(res.pvalue))}."
    else:
        test = "One source only: no comparison."
    caption = ("Fraction of boutons movement-related (shuffle test), mean ± SEM over sessions: "
               + "; ".join(parts) + ". " + test)
    fig = bar_figure(means, figures / "input_encoding.png", title="Movement encoding by input source",
                     ylabel="fraction movement-related", caption=caption)
    return [Section("Input boutons", "Axonal boutons labelled by input source (Ramot et al. 2025); ShaReD "
                    "is not implemented (its algorithm is not published in reproducible form).", (fig,))]


def analyze(
    paths: Sequence[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str],
    *,
    n_shuffles: int = 10_000,
    workers: int = 1,
    progress: bool = True,
    model_claims: xr.Dataset | None = None,
) -> AnalysisResult:
    """Run the standard analyses on NWB sessions and write the report.

    Parameters
    ----------
    paths : sequence of str or PathLike
        NWB files, or folders searched for ``*.nwb``; lab and model sessions may mix.
    output_dir : str or PathLike
        Receives ``report.html``, ``figures/*.png``, ``*.csv`` and ``*.nc``.
    n_shuffles : int, default 10,000
        Shuffles of the movement-related classification.
    workers : int, default 1
        Sessions analysed in parallel (dask.distributed LocalCluster).
    progress : bool, default True
    model_claims : xarray.Dataset, optional
        The result of :func:`nwbmotor.workflows.modular_rnn_claims`: a section of the
        paper's claims over seeds (table, figures; saved as ``modular_rnn_claims.nc``).

    Returns
    -------
    AnalysisResult
    """
    import pandas as pd
    import xarray as xr

    from nwbmotor._jobs import run_jobs
    from nwbmotor.workflows._report import Section, bar_figure, learning_curve_figure, write_report

    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            files += sorted(q for q in p.rglob("*.nwb") if not q.name.startswith("."))
        elif p.exists():
            files.append(p)
        else:
            raise NwbMotorValueError(f"{p}: no such file or folder")
    if not files:
        raise NwbMotorValueError(f"no .nwb files in {', '.join(map(str, paths))}")
    model_files = [f for f in files if _is_model(f)]
    lab_files = [f for f in files if f not in model_files]

    out = Path(output_dir)
    figures = out / "figures"
    notes: list[str] = []
    lab_rows = run_jobs(lab_session_metrics, lab_files, kwargs={"n_shuffles": n_shuffles}, workers=workers,
                        progress=progress, label="lab sessions") if lab_files else []
    model_rows = run_jobs(model_session_metrics, model_files, workers=1, progress=progress,
                          label="model sessions") if model_files else []
    for _, n in lab_rows + model_rows:
        notes.extend(n)
    models = pd.DataFrame([row for rows, _ in model_rows for row in rows])

    sections = []
    datasets: dict[str, Any] = {}
    skipped: list[str] = []
    extras = [r.pop("_extras", {}) for r, _ in lab_rows]
    lab = pd.DataFrame([r for r, _ in lab_rows])
    if not lab.empty:
        lab["_extras"] = extras
        lab["session_index"] = _session_index(lab)
        lab["training_day"] = _training_days(lab, notes)
        lab = lab.sort_values(["subject_id", "training_day"]).reset_index(drop=True)
        extras = list(lab.pop("_extras"))
        n_sh = int(lab["n_shuffles"].iloc[0])
        figs = []
        for metric, (title, ylabel, what) in LAB_METRICS.items():
            if metric in lab and lab[metric].notna().any():
                figs.append(learning_curve_figure(lab, metric, figures / f"{metric}.png", title=title,
                                                  ylabel=ylabel, caption=what.format(n_shuffles=f"{n_sh:,}")))
            else:
                skipped.append(f"{title} ({metric}): no session gave a value")
        sections.append(Section("Learning", f"{len(lab)} lab sessions of {lab['subject_id'].nunique()} "
                                "subjects; x is the training day (days since each animal's first session + 1).",
                                tuple(figs), lab.drop(columns=["path"])))
        sections += _population_section(lab, figures, notes, skipped)
        sections += _opto_section(lab, figures, skipped)
        sections += _ei_section(lab, extras, figures, skipped)
        sections += _spine_section(lab, lab_files, figures, notes, skipped)
        sections += _bouton_section(lab, extras, figures, skipped)
        datasets["lab_sessions"] = xr.Dataset.from_dataframe(lab.drop(columns=["path"]).set_index(
            pd.Index(range(len(lab)), name="session")))
    if not models.empty:
        figs = []
        for model, rows in models.groupby("model", sort=False):
            for metric, ylabel, what in (
                ("output_error", "normalised error", "Output error per test phase (lower is closer to the target)"),
                ("activity_change", "% of sd", "Median |change of the per-target PSTHs| / sd, learned vs before"),
                ("covariance_change", "1 - r", "1 - correlation of the unit covariance, learned vs before"),
            ):
                vals = {r.phase: getattr(r, metric) for r in rows.itertuples()
                        if metric in rows and np.isfinite(getattr(r, metric))}
                if vals:
                    shown = "; ".join(f"{k}: {v:.3g}" for k, v in vals.items())
                    lo, hi = min(vals, key=vals.get), max(vals, key=vals.get)  # type: ignore[arg-type]
                    caption = (f"{what}, one value per phase of one simulated network (n = 1 run, no test): "
                               f"{shown}. Lowest: {lo}; highest: {hi}.")
                    figs.append(bar_figure(vals, figures / f"{model}_{metric}.png",
                                           title=f"{model}: {metric.replace('_', ' ')}", ylabel=ylabel,
                                           caption=caption))
        sections.append(Section("Models", f"{len(model_files)} model sessions through the same views and "
                                "analyses as the lab sessions.", tuple(figs), models.drop(columns=["path"])))
        datasets["model_sessions"] = xr.Dataset.from_dataframe(models.drop(columns=["path"]).set_index(
            pd.Index(range(len(models)), name="row")))
    if model_claims is not None:
        from nwbmotor.workflows._claims import claims_section

        sections.append(claims_section(model_claims, figures))
        datasets["modular_rnn_claims"] = model_claims
    if notes or skipped:
        sections.append(Section("Not computed", "Analyses and panels that could not be computed on these data, "
                                "and why (numbers shown as NaN in the tables are explained here too).",
                                notes=tuple(skipped) + tuple(notes)))
    report = write_report(out, sections, title="nwbmotor report",
                          summary=f"{len(lab_files)} lab and {len(model_files)} model session(s).",
                          datasets=datasets)
    return AnalysisResult(report=report, lab=lab, models=models, notes=tuple(notes))
