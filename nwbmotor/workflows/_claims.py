"""The claims of Feulner et al. (2022) measured over seeds: H_input against H_local.

A single trained network says little about a claim of a chaotic training process;
:func:`modular_rnn_claims` trains one network per seed, adapts it under both hypotheses
to every rotation, writes each run to NWB and measures it on the session view with
:func:`nwbmotor.analysis.compare_hypotheses`, so that what is reported is what a user
of the files would measure. :func:`claims_table` and :func:`claims_section` turn the
result into the report's table and figure, each caption computed from the numbers.

The paper's expectations (``../shared/science.md`` B): both hypotheses adapt; H_input
changes activity little and keeps the covariance, H_local changes them only slightly
more; the H_input / H_local difference grows with the size of the rotation.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError

if TYPE_CHECKING:
    import pandas as pd
    import xarray as xr

    from nwbmotor.workflows._report import Section

__all__ = ["CLAIM_METRICS", "CLAIM_AREAS", "modular_rnn_claims", "claims_table", "claims_section"]

#: Metrics of :func:`nwbmotor.analysis.compare_hypotheses` measured per seed.
CLAIM_METRICS = ("error_reduction", "activity_change", "covariance_change", "weight_change", "dw_dimensionality")
#: Areas as the paper reports them, and pooled.
CLAIM_AREAS = ("PMd", "M1", "PMd+M1")
#: What the paper expects of H_input against H_local, per metric ("<": H_input smaller).
PAPER_EXPECTS = {"activity_change": "<", "covariance_change": "<"}


def _one_seed(seed: int, *, preset: str, rotations: Sequence[float], options: dict[str, Any]) -> dict[str, Any]:
    from nwbmotor.analysis import compare_hypotheses
    from nwbmotor.converters.model import write_model_session
    from nwbmotor.methods import output_error
    from nwbmotor.models import adapt_modular_rnn, run_modular_rnn
    from nwbmotor.views import open_session

    t0 = time.perf_counter()
    session = run_modular_rnn(seed=seed, preset=preset, rotation=rotations[0], **options)
    train_seconds = time.perf_counter() - t0
    trained = session.trials["phase"] == "trained"
    start = int(round(0.5 / session.dt))  # the loss starts at the authors' step 50
    outputs, targets = np.asarray(session.outputs), np.asarray(session.targets)
    trained_error, _ = output_error(outputs[trained][:, start:], targets[trained][:, start:])
    values = np.full((len(rotations), len(CLAIM_METRICS), 2, len(CLAIM_AREAS)), np.nan)
    with tempfile.TemporaryDirectory(prefix="nwbmotor-claims-") as tmp:
        for k, rotation in enumerate(rotations):
            run = session if k == 0 else adapt_modular_rnn(session, rotation=rotation, seed=seed, preset=preset,
                                                           **options)
            path = write_model_session(run, Path(tmp) / f"seed{seed}_rotation{rotation:g}.nwb")
            with open_session(path) as ds:
                res = compare_hypotheses(ds, areas=CLAIM_AREAS).load()
            for m, metric in enumerate(CLAIM_METRICS):
                values[k, m] = res[metric].sel(hypothesis=["input", "local"], area=list(CLAIM_AREAS)).values
    return {"values": values, "trained_error": trained_error, "train_seconds": train_seconds,
            "seconds": time.perf_counter() - t0}


def modular_rnn_claims(
    seeds: Sequence[int] = tuple(range(10)),
    rotations: Sequence[float] = (10.0, 30.0, 60.0),
    *,
    preset: str = "default",
    workers: int = 1,
    progress: bool = True,
    **options: Any,
) -> xr.Dataset:
    """Train one modular network per seed and measure both hypotheses at every rotation.

    Parameters
    ----------
    seeds : sequence of int
        One network per seed (the paper's claims need >= 10).
    rotations : sequence of float
        Visuomotor rotations in degrees. The first trains the network's session; each
        other re-adapts the same trained network (``adapt_modular_rnn``).
    preset : str
        A preset of :func:`nwbmotor.models.run_modular_rnn` ("default": fast sizes;
        "paper": the authors' run, ~30 minutes per seed on one core).
    workers : int
        Seeds run in parallel (one single-threaded process each).
    progress : bool
        A bar as seeds finish.
    **options
        Further options of ``run_modular_rnn`` (e.g. ``n_units=100``).

    Returns
    -------
    xarray.Dataset
        Variables of :data:`CLAIM_METRICS` over (seed, rotation, hypothesis, area);
        ``trained_error`` (normalised output error of the trained network, from 0.5 s),
        ``train_seconds`` and ``seconds`` over seed. ``attrs``: preset, options, the
        wall time.

    Raises
    ------
    NwbMotorValueError
        No seeds or no rotations, repeated ones, a rotation that is not a finite number,
        an unknown preset or option.

    Examples
    --------
    >>> c = modular_rnn_claims([0], [30.0], progress=False, n_units=8, n_steps=80,
    ...                        n_updates=2, batch=2, n_adapt=1)
    >>> dict(c["activity_change"].sizes)
    {'seed': 1, 'rotation': 1, 'hypothesis': 2, 'area': 3}
    """
    import xarray as xr

    from nwbmotor._jobs import run_jobs
    from nwbmotor.models._modular_rnn import _options

    try:
        seeds = [int(s) for s in seeds]
        rotations = [float(r) for r in rotations]
    except (TypeError, ValueError) as exc:
        raise NwbMotorValueError(
            f"modular_rnn_claims: seeds expected integers and rotations numbers of degrees; {exc}"
        ) from None
    if "rotation" in options:
        raise NwbMotorValueError("modular_rnn_claims: pass the rotations as `rotations`, not as option 'rotation'")
    _options(preset, options)  # a bad preset or option fails here, before any worker starts
    if not seeds or len(set(seeds)) != len(seeds):
        raise NwbMotorValueError(f"modular_rnn_claims: seeds expected distinct integers, got {seeds}")
    if not rotations or len(set(rotations)) != len(rotations) or not np.isfinite(rotations).all():
        raise NwbMotorValueError(f"modular_rnn_claims: rotations expected distinct finite degrees, got {rotations}")
    t0 = time.perf_counter()
    rows = run_jobs(_one_seed, seeds, kwargs={"preset": preset, "rotations": rotations, "options": options},
                    workers=workers, progress=progress, label="seeds", describe=lambda s: f"seed {s}")
    dims = ("seed", "rotation", "hypothesis", "area")
    coords = {"seed": seeds, "rotation": rotations, "hypothesis": ["input", "local"], "area": list(CLAIM_AREAS)}
    stacked = np.stack([r["values"] for r in rows])
    data: dict[str, tuple[tuple[str, ...], np.ndarray]] = {
        metric: (dims, stacked[:, :, m]) for m, metric in enumerate(CLAIM_METRICS)}
    for name in ("trained_error", "train_seconds", "seconds"):
        data[name] = (("seed",), np.array([r[name] for r in rows]))
    out = xr.Dataset(data, coords=coords)
    out["rotation"].attrs["units"] = "degrees"
    out.attrs.update(preset=preset, options=repr(options), wall_seconds=time.perf_counter() - t0,
                     workers=workers, measured_by="nwbmotor.analysis.compare_hypotheses on open_session views")
    return out


def _range(values: np.ndarray) -> str:
    v = values[np.isfinite(values)]
    if v.size == 0:
        return "NaN"
    return f"{np.median(v):.3g} [{v.min():.3g}, {v.max():.3g}]"


def claims_table(claims: xr.Dataset) -> pd.DataFrame:
    """One row per rotation, metric and area: seed medians [min, max] of both hypotheses,
    how many seeds have H_input < H_local, and what the paper expects of the two.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> dims = ("seed", "rotation", "hypothesis", "area")
    >>> v = np.zeros((3, 1, 2, 3)); v[:, :, 0] = [[[1, 1, 1]], [[2, 2, 2]], [[9, 9, 9]]]; v[:, :, 1] = 5
    >>> c = xr.Dataset({m: (dims, v) for m in CLAIM_METRICS},
    ...                coords={"seed": [0, 1, 2], "rotation": [30.0], "hypothesis": ["input", "local"],
    ...                        "area": list(CLAIM_AREAS)})
    >>> row = claims_table(c).query("metric == 'activity_change' and area == 'M1'").iloc[0]
    >>> row["H_input"], row["H_local"], row["seeds H_input < H_local"], row["paper expects"]
    ('2 [1, 9]', '5 [5, 5]', '2/3', 'H_input < H_local')
    """
    import pandas as pd

    n = claims.sizes["seed"]
    rows = []
    for rotation in claims["rotation"].values:
        for metric in CLAIM_METRICS:
            for area in claims["area"].values:
                sel = claims[metric].sel(rotation=rotation, area=area)
                vi, vl = sel.sel(hypothesis="input").values, sel.sel(hypothesis="local").values
                both = np.isfinite(vi) & np.isfinite(vl)
                smaller = int(np.sum(vi[both] < vl[both]))
                expects = PAPER_EXPECTS.get(metric)
                rows.append({"rotation": float(rotation), "metric": metric, "area": str(area),
                             "H_input": _range(vi), "H_local": _range(vl),
                             "seeds H_input < H_local": f"{smaller}/{int(both.sum())}" if both.any() else "",
                             "paper expects": "H_input < H_local" if expects else "", "n seeds": n})
    return pd.DataFrame(rows)


def _difference(claims: xr.Dataset, metric: str, area: str) -> np.ndarray:
    """H_local − H_input per (seed, rotation), rotations sorted."""
    d = claims[metric].sel(area=area).sortby("rotation")
    return (d.sel(hypothesis="local") - d.sel(hypothesis="input")).values


def claims_section(claims: xr.Dataset, figures_dir: str | os.PathLike[str]) -> Section:
    """The report's section of the claims over seeds: a figure of H_local − H_input
    against the rotation (per area, seed median and range) and :func:`claims_table`."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from nwbmotor.workflows._report import Figure, Section, _save

    n = claims.sizes["seed"]
    rotations = np.sort(claims["rotation"].values)
    figures = []
    for metric, ylabel in (("activity_change", "H_local - H_input, % of sd"),
                           ("covariance_change", "H_local - H_input, 1 - r")):
        fig, ax = plt.subplots(figsize=(4.6, 3.0))
        parts = []
        for k, area in enumerate(CLAIM_AREAS):
            d = _difference(claims, metric, area)
            med, lo, hi = np.nanmedian(d, axis=0), np.nanmin(d, axis=0), np.nanmax(d, axis=0)
            x = rotations + (k - 1) * 1.2
            ax.errorbar(x, med, yerr=[med - lo, hi - med], marker="o", capsize=3, label=area)
            positive = int(np.sum(d > 0))
            grows = int(np.sum(np.all(np.diff(d, axis=1) > 0, axis=1))) if rotations.size > 1 else 0
            shrinks = int(np.sum(np.all(np.diff(d, axis=1) < 0, axis=1))) if rotations.size > 1 else 0
            trend = (f"; rising with the rotation in {grows}/{n} seeds, falling in {shrinks}/{n}"
                     if rotations.size > 1 else "")
            parts.append(f"{area}: " + ", ".join(f"{r:g}°: {m:.3g}" for r, m in zip(rotations, med, strict=True))
                         + f" (H_local larger in {positive}/{d.size} seed-rotations{trend})")
        ax.axhline(0, color="k", lw=0.8)
        ax.set_xlabel("rotation (degrees)")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8, frameon=False)
        ax.spines[["top", "right"]].set_visible(False)
        title = f"H_local - H_input: {metric.replace('_', ' ')}"
        ax.set_title(title, fontsize=10)
        caption = (f"Seed median and range over n = {n} networks. The paper expects H_local above H_input "
                   f"(above 0), more so for larger rotations. Medians: " + "; ".join(parts) + ".")
        figures.append(Figure(_save(fig, Path(figures_dir) / f"claims_{metric}.png"), title, caption))
    at = float(rotations[len(rotations) // 2])
    act = claims["activity_change"].sel(rotation=at, area="PMd+M1")
    red = claims["error_reduction"].sel(rotation=at, area="PMd+M1")
    smaller = int(np.sum(act.sel(hypothesis="input").values < act.sel(hypothesis="local").values))
    intro = (f"{n} networks (preset {claims.attrs.get('preset', '?')!r}, seeds "
             f"{int(claims['seed'].min())}-{int(claims['seed'].max())}), each adapted under both hypotheses to "
             f"rotations of {', '.join(f'{r:g}' for r in rotations)}°, written to NWB and measured on the session "
             f"view. At {at:g}°: error cut by {_range(red.sel(hypothesis='input').values)} (H_input) and "
             f"{_range(red.sel(hypothesis='local').values)} (H_local); PMd+M1 activity changed less under "
             f"H_input in {smaller}/{n} seeds "
             + ("(as the paper expects)." if smaller > n / 2 else "(the paper expects H_input to change it less)."))
    notes = []
    for metric in CLAIM_METRICS:
        for hyp in claims["hypothesis"].values:
            for area in claims["area"].values:
                if np.isnan(claims[metric].sel(hypothesis=hyp, area=area).values).all():
                    why = ""
                    if "weight_change" in claims and not np.any(claims["weight_change"].sel(hypothesis=hyp, area=area).values):
                        why = ": no weight of that area learns under that hypothesis"
                    notes.append(f"{metric} of {area} under H_{hyp} is NaN in every seed{why}.")
    return Section("Modular network: the paper's claims over seeds", intro, tuple(figures), claims_table(claims),
                   notes=tuple(notes))
