"""Writing an analysis report: PNG figures, one HTML page that shows them, CSV and NetCDF.

This module knows nothing about the analyses: it takes tables of numbers (one row per
session) and turns them into learning curves and a page; every caption is computed from
the numbers its figure shows (direction, size, test, p, n). ``nwbmotor.workflows._analyze`` computes
the numbers.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import html
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from nwbmotor._io import atomic_output

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

__all__ = ["Figure", "Section", "write_report", "learning_curve_figure", "bar_figure", "binned_figure",
           "paired_figure", "trend_caption"]


@dataclasses.dataclass(frozen=True)
class Figure:
    """A written PNG and what it shows."""

    path: Path
    title: str
    caption: str


@dataclasses.dataclass(frozen=True)
class Section:
    """A part of the report: figures, a table and notes."""

    title: str
    intro: str
    figures: tuple[Figure, ...] = ()
    table: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    with atomic_output(path, overwrite=True) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _fmt(v: float) -> str:
    return "NaN" if v is None or not np.isfinite(v) else f"{v:.3g}"


def _p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "p = NaN"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def trend_caption(table: pd.DataFrame, metric: str, *, what: str = "", x: str = "training_day",
                  group: str = "subject_id") -> tuple[str, xr.Dataset | None]:
    """A caption computed from the numbers a learning curve shows, and the trend it states.

    States the n (sessions, animals), the test (Pearson r of the value vs training
    day, as in Peters et al. 2014) with r and p, the direction it supports (or
    "no significant trend"), the mean on the first and last day, and each animal's
    first and last value so a falling animal is visible in the text too.
    """
    import xarray as xr

    from nwbmotor.analysis import learning_trend

    data = table.dropna(subset=[metric])
    lead = f"{what}: t" if what else "T"
    if data.empty:
        return (f"{what}: no session has a value." if what else "No session has a value."), None
    da = xr.DataArray(data[metric].to_numpy(float), dims="session",
                      coords={"training_day": ("session", data[x].to_numpy(float)),
                              "subject_id": ("session", data[group].astype(str).to_numpy())})
    trend = learning_trend(da)
    n_s, n_a = int(trend.n_sessions), int(trend.n_subjects)
    days = trend.day.values
    parts = [f"{lead}hin lines one per animal, black mean ± SEM over animals per training day "
             f"({n_s} sessions of {n_a} animal{'s' if n_a != 1 else ''})."]
    if np.isfinite(float(trend.r)):
        direction = trend.attrs["direction"]
        parts.append(f"Pearson r of value vs training day = {float(trend.r):.2f}, {_p(float(trend.p_value))} "
                     f"(n = {n_s} sessions): {direction}"
                     + (f", mean {_fmt(float(trend.first_mean))} on day {int(days[0])} to "
                        f"{_fmt(float(trend.last_mean))} on day {int(days[-1])}." if days.size > 1 else "."))
    else:
        parts.append(f"No trend test: {trend.attrs.get('nan_reason', 'too few sessions')}.")
    per = []
    for name, rows in data.sort_values(x).groupby(group):
        if len(rows) >= 2:
            a, b = float(rows[metric].iloc[0]), float(rows[metric].iloc[-1])
            word = "rises" if b > a else "falls" if b < a else "is unchanged"
            per.append(f"{name} {word} from {_fmt(a)} to {_fmt(b)}")
    if per and len(per) <= 6:
        parts.append("First to last session: " + "; ".join(per) + ".")
    elif per:
        n_up = sum("rises" in t for t in per)
        parts.append(f"{n_up} of {len(per)} animals rise from their first to their last session.")
    return " ".join(parts), trend


def learning_curve_figure(
    table: pd.DataFrame,
    metric: str,
    path: str | os.PathLike[str],
    *,
    title: str,
    ylabel: str,
    caption: str = "",
    x: str = "training_day",
    group: str = "subject_id",
) -> Figure:
    """One thin line per animal of ``metric`` against training day; mean ± SEM in black.

    The caption is computed from the plotted numbers (:func:`trend_caption`);
    ``caption`` is put before it (what the metric is).
    """
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 3.2))
    data = table.dropna(subset=[metric])
    for name, rows in data.groupby(group):
        rows = rows.sort_values(x)
        ax.plot(rows[x], rows[metric], marker="o", markersize=3, linewidth=1, alpha=0.5, label=str(name))
    computed, trend = trend_caption(table, metric, x=x, group=group)
    if trend is not None:
        ax.errorbar(trend.day.values, trend.day_mean.values, yerr=np.nan_to_num(trend.day_sem.values),
                    color="black", linewidth=2, capsize=3, label="mean ± SEM")
        if np.isfinite(float(trend.r)):
            ax.text(0.02, 0.98, f"r = {float(trend.r):.2f}, {_p(float(trend.p_value))}", transform=ax.transAxes,
                    va="top", fontsize=7)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.set_xlabel("training day")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    if not data.empty:
        ax.legend(fontsize=6, frameon=False)
    else:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)
    full = f"{caption} {computed}".strip()
    return Figure(_save(fig, Path(path)), title, full)


def paired_figure(
    a: Sequence[float],
    b: Sequence[float],
    path: str | os.PathLike[str],
    *,
    labels: tuple[str, str],
    title: str,
    ylabel: str,
    what: str,
    unit: str = "sessions",
) -> Figure:
    """Paired values (one line per pair, e.g. per session), means ± SEM, and the paired test.

    The caption gives both means ± SEM, n pairs, the Wilcoxon signed-rank p and the
    direction, computed from the plotted values.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from nwbmotor.analysis import paired_comparison

    x, y = np.asarray(a, float), np.asarray(b, float)
    res = paired_comparison(x, y)
    ok = np.isfinite(x) & np.isfinite(y)
    fig, ax = plt.subplots(figsize=(3.4, 3.2))
    for u, v in zip(x[ok], y[ok]):
        ax.plot([0, 1], [u, v], color="grey", alpha=0.6, marker="o", markersize=3)
    for i, vals in enumerate((x[ok], y[ok])):
        if vals.size:
            sem = vals.std(ddof=1) / np.sqrt(vals.size) if vals.size > 1 else 0.0
            ax.errorbar([i], [vals.mean()], yerr=[sem], color="black", marker="s", capsize=4, linewidth=2)
    ax.set_xticks([0, 1], labels)
    ax.set_xlim(-0.4, 1.4)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.text(0.02, 0.98, f"{_p(float(res.p_value))} (signed-rank)", transform=ax.transAxes, va="top", fontsize=7)
    ax.spines[["top", "right"]].set_visible(False)

    def msem(vals: np.ndarray) -> str:
        if not vals.size:
            return "NaN"
        sem = vals.std(ddof=1) / np.sqrt(vals.size) if vals.size > 1 else np.nan
        return f"{_fmt(float(vals.mean()))} ± {_fmt(float(sem))}"

    d = res.attrs["direction"].replace("a", labels[0], 1).replace("b", labels[1], 1) \
        if res.attrs["direction"] != "no significant difference" else "no significant difference"
    caption = (f"{what}: {labels[0]} {msem(x[ok])} vs {labels[1]} {msem(y[ok])} (mean ± SEM over "
               f"{int(res.n_pairs)} {unit}; lines join the pairs). Wilcoxon signed-rank {_p(float(res.p_value))}: {d}.")
    if "nan_reason" in res.attrs:
        caption += f" Test not computed: {res.attrs['nan_reason']}."
    return Figure(_save(fig, Path(path)), title, caption)


def binned_figure(
    centres: Sequence[float],
    mean: Sequence[float],
    sem: Sequence[float],
    path: str | os.PathLike[str],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    caption: str,
    series: Mapping[str, tuple[Sequence[float], Sequence[float], Sequence[float]]] | None = None,
    xticklabels: Sequence[str] | None = None,
) -> Figure:
    """A binned mean ± SEM curve (or several, by name); the caption is given by the caller."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 3.2))
    curves = dict(series or {})
    if not curves:
        curves = {"": (centres, mean, sem)}
    for name, (cx, m, e) in curves.items():
        cx, m, e = (np.asarray(v, float) for v in (cx, m, e))  # type: ignore[assignment]
        ok = np.isfinite(m)
        ax.errorbar(cx[ok], m[ok], yerr=np.nan_to_num(e[ok]), marker="o", markersize=3, capsize=3,  # type: ignore[call-overload]
                    linewidth=1.5, label=name or None)
    if any(curves):
        ax.legend(fontsize=7, frameon=False)
    if xticklabels is not None:
        ax.set_xticks(np.arange(1, len(xticklabels) + 1), list(xticklabels), fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return Figure(_save(fig, Path(path)), title, caption)


def bar_figure(
    values: Mapping[str, float],
    path: str | os.PathLike[str],
    *,
    title: str,
    ylabel: str,
    caption: str,
) -> Figure:
    """Bars of named values (e.g. a model metric per hypothesis)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    names = list(values)
    fig, ax = plt.subplots(figsize=(4.6, max(2.4, 0.28 * len(names) + 1.0)))
    ax.barh(range(len(names)), [values[n] for n in names], color="#4c72b0")
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=4))  # small values: no crowded labels
    ax.set_yticks(range(len(names)), names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    return Figure(_save(fig, Path(path)), title, caption)


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; }
.figures { display: flex; flex-wrap: wrap; gap: 1.2em; }
figure { margin: 0; width: 470px; } figure img { width: 100%; }
figcaption { font-size: .85em; color: #444; }
table { border-collapse: collapse; font-size: .8em; margin: 1em 0; }
td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
.note { font-size: .85em; color: #8a4b00; }
.scroll { overflow-x: auto; }
"""


def write_report(
    output_dir: str | os.PathLike[str],
    sections: Sequence[Section],
    *,
    title: str,
    summary: str,
    datasets: Mapping[str, xr.Dataset] | None = None,
) -> Path:
    """Write ``report.html`` (figures linked by relative path), each section's table as CSV,
    and ``datasets`` as NetCDF files. Returns the HTML path."""
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><p>{html.escape(summary)}</p>",
        f"<p class='note'>Generated by nwbmotor on {_dt.datetime.now().isoformat(timespec='seconds')}.</p>",
    ]
    n_tables = 0
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2><p>{html.escape(section.intro)}</p>")
        if section.figures:
            parts.append("<div class='figures'>")
            for fig in section.figures:
                rel = os.path.relpath(fig.path, out)
                parts.append(
                    f"<figure><img src='{html.escape(rel)}' alt='{html.escape(fig.title)}'>"
                    f"<figcaption><b>{html.escape(fig.title)}.</b> {html.escape(fig.caption)}</figcaption></figure>"
                )
            parts.append("</div>")
        if section.table is not None and not section.table.empty:
            n_tables += 1
            stem = f"table_{n_tables}_{re.sub(r'[^a-z0-9]+', '_', section.title.lower()).strip('_')}"
            csv = out / f"{stem}.csv"
            with atomic_output(csv, overwrite=True) as tmp:
                section.table.to_csv(tmp, index=False)
            parts.append("<div class='scroll'>")
            parts.append(section.table.to_html(index=False, float_format=lambda v: f"{v:.3g}", na_rep="NaN"))
            parts.append("</div>")
            parts.append(f"<p class='note'>Table: <a href='{csv.name}'>{csv.name}</a></p>")
        parts += [f"<p class='note'>{html.escape(n)}</p>" for n in section.notes]
    for name, ds in (datasets or {}).items():
        path = out / f"{name}.nc"
        with atomic_output(path, overwrite=True) as tmp:
            ds.to_netcdf(tmp)
        parts.append(f"<p class='note'>Data: <a href='{path.name}'>{path.name}</a></p>")
    parts.append("</body></html>")
    page = out / "report.html"
    with atomic_output(page, overwrite=True) as tmp:
        tmp.write_text("\n".join(parts))
    return page
