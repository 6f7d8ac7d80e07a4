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
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorError, NwbMotorValueError

__all__ = ["analyze", "AnalysisResult", "lab_session_metrics", "model_session_metrics"]

LAB_METRICS: dict[str, tuple[str, str, str]] = {
    # metric: (figure title, y label, caption)
    "fraction_rewarded": ("Fraction of trials rewarded", "fraction", "Behaviour improves with training."),
    "median_reaction_time": ("Cue to movement onset", "s", "Median over rewarded trials."),
    "median_movement_duration": ("Movement duration", "s", "Median over rewarded trials."),
    "lever_correlation": ("Lever reproducibility", "median r", "Median Pearson r of lever traces over pairs "
                          "of cued-rewarded trials (-0.02 to 3 s from onset)."),
    "fraction_movement_related": ("Movement-related cells", "fraction", "Excitatory cells whose events fall in "
                                  "movement more than 99.5 % of 10,000 shuffles: expands early, then refines."),
    "spatiotemporal_correlation": ("Spatiotemporal activity correlation", "median r", "Trial-to-trial "
                                   "correlation of the cells x frames event matrix around movement onset."),
    "latency_spread": ("Activity timing", "s", "Median over cells of the spread of first-event latency "
                       "from movement onset; falls with learning."),
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
    """The standard numbers of one lab session (one row of the learning curves)."""
    from nwbmotor import analysis as an
    from nwbmotor.views import open_session

    notes: list[str] = []
    ds = open_session(path).load()
    where = Path(path).name
    row: dict[str, Any] = {
        "path": str(path),
        "subject_id": ds.attrs.get("subject_id", ""),
        "session_id": ds.attrs.get("session_id", ""),
        "session_start_time": ds.attrs.get("session_start_time", ""),
        "n_units": int(ds.sizes.get("unit", 0)),
        "n_trials": int(ds.sizes.get("trial", 0)),
    }
    timing = _attempt(row, notes, "fraction_rewarded", where, an.behavior_timing, ds)
    if timing is not None:
        for key in ("fraction_rewarded", "median_reaction_time", "median_movement_duration"):
            row[key] = _scalar(timing[key])
    lever = _attempt(row, notes, "lever_correlation", where, an.lever_correlation, ds)
    if lever is not None:
        row["lever_correlation"] = _scalar(lever["median_correlation"])
    events = _attempt(row, notes, "fraction_movement_related", where, an.detect_events, ds["activity"],
                      cell_type=ds["cell_type"] if "cell_type" in ds.coords else None)
    if events is not None:
        ds = ds.assign(events=events)
        classes = _attempt(row, notes, "fraction_movement_related", where, an.classify_movement_related, ds,
                           n_shuffles=n_shuffles)
        if classes is not None:
            row["fraction_movement_related"] = _scalar(an.fraction_movement_related(classes))
        st = _attempt(row, notes, "spatiotemporal_correlation", where, an.spatiotemporal_correlation, ds)
        if st is not None:
            row["spatiotemporal_correlation"] = _scalar(st["median_correlation"])
        at = _attempt(row, notes, "latency_spread", where, an.activity_timing, ds)
        if at is not None:
            spread = np.asarray(at["latency_std"]) if "latency_std" in at else np.array([np.nan])
            row["latency_spread"] = float(np.nanmedian(spread)) if np.isfinite(spread).any() else np.nan
    if "opto" in ds and ds["opto"].dtype == bool and bool(ds["opto"].any()):
        rewarded = ds["rewarded"].values.astype(bool)
        light = ds["opto"].values.astype(bool)
        row["fraction_rewarded_light"] = float(rewarded[light].mean())
        row["fraction_rewarded_no_light"] = float(rewarded[~light].mean())
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


def analyze(
    paths: Sequence[str | os.PathLike[str]],
    output_dir: str | os.PathLike[str],
    *,
    n_shuffles: int = 10_000,
    workers: int = 1,
    progress: bool = True,
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
    lab = pd.DataFrame([r for r, _ in lab_rows])
    for _, n in lab_rows + model_rows:
        notes.extend(n)
    models = pd.DataFrame([row for rows, _ in model_rows for row in rows])

    sections = []
    datasets: dict[str, xr.Dataset] = {}
    if not lab.empty:
        lab["session_index"] = _session_index(lab)
        lab = lab.sort_values(["subject_id", "session_index"]).reset_index(drop=True)
        figs = []
        for metric, (title, ylabel, caption) in LAB_METRICS.items():
            if metric in lab and lab[metric].notna().any():
                figs.append(learning_curve_figure(lab, metric, figures / f"{metric}.png", title=title,
                                                  ylabel=ylabel, caption=caption))
        sections.append(Section("Learning", f"{len(lab)} lab sessions of {lab['subject_id'].nunique()} "
                                "subjects.", tuple(figs), lab.drop(columns=["path"])))
        if "fraction_rewarded_light" in lab and lab["fraction_rewarded_light"].notna().any():
            from nwbmotor.analysis import opto_performance
            from nwbmotor.views import open_session

            opto_rows = lab[lab["fraction_rewarded_light"].notna()]
            opto_notes: list[str] = []
            stats = _attempt({}, opto_notes, "opto_performance", "light sessions", opto_performance,
                             {f"{r.subject_id}/{r.session_id}": open_session(r.path) for r in opto_rows.itertuples()})
            notes.extend(opto_notes)
            long = opto_rows.melt(id_vars=["subject_id", "session_index"],
                                  value_vars=["fraction_rewarded_light", "fraction_rewarded_no_light"])
            means = long.groupby("variable")["value"].mean()
            p = float(stats["p_value"]) if stats is not None else np.nan
            fig = bar_figure({"no light": means["fraction_rewarded_no_light"], "light": means["fraction_rewarded_light"]},
                             figures / "opto_performance.png", title="Optogenetic inactivation",
                             ylabel="fraction rewarded",
                             caption=f"Mean over {len(opto_rows)} sessions; Wilcoxon rank-sum p = {p:.3g}.")
            sections.append(Section("Optogenetics", "Light on a fifth of the trials silences the area "
                                    "(PV-Cre x ChR2).", (fig,), opto_rows[["subject_id", "session_id",
                                    "fraction_rewarded_light", "fraction_rewarded_no_light"]]))
        datasets["lab_sessions"] = xr.Dataset.from_dataframe(lab.drop(columns=["path"]).set_index(
            pd.Index(range(len(lab)), name="session")))
    if not models.empty:
        figs = []
        for model, rows in models.groupby("model", sort=False):
            for metric, ylabel, what in (
                ("output_error", "normalised error", "Output error per test phase: learning lowers it."),
                ("activity_change", "% of sd", "Median |change of the per-target PSTHs| / sd, learned vs before."),
                ("covariance_change", "1 - r", "1 - correlation of the unit covariance, learned vs before."),
            ):
                vals = {r.phase: getattr(r, metric) for r in rows.itertuples()
                        if metric in rows and np.isfinite(getattr(r, metric))}
                if vals:
                    figs.append(bar_figure(vals, figures / f"{model}_{metric}.png",
                                           title=f"{model}: {metric.replace('_', ' ')}", ylabel=ylabel, caption=what))
        sections.append(Section("Models", f"{len(model_files)} model sessions through the same views and "
                                "analyses as the lab sessions.", tuple(figs), models.drop(columns=["path"])))
        datasets["model_sessions"] = xr.Dataset.from_dataframe(models.drop(columns=["path"]).set_index(
            pd.Index(range(len(models)), name="row")))
    if notes:
        sections.append(Section("Not computed", "Numbers shown as NaN, and why.", notes=tuple(notes)))
    report = write_report(out, sections, title="nwbmotor report",
                          summary=f"{len(lab_files)} lab and {len(model_files)} model session(s).",
                          datasets=datasets)
    return AnalysisResult(report=report, lab=lab, models=models, notes=tuple(notes))
