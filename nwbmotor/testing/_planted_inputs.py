"""Planted input boutons and spine dynamics, for testing the Ramot and spine analyses.

:func:`planted_boutons` builds one lever-press session whose units are axonal
boutons labelled by input source: several boutons per axon share the axon's
transients (each with its own gain and noise), a planted fraction of each source's
axons is movement-locked at a planted latency, and ``expert=True`` shifts the
latencies by a planted amount per source. :func:`planted_spines` builds per-spine
presence over sessions with planted gain, loss and new-spine survival, and its
scoring table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from nwbmotor._errors import NwbMotorValueError

__all__ = ["planted_boutons", "planted_spines"]


def planted_boutons(
    *,
    sources: Mapping[str, Mapping[str, float]] | None = None,
    boutons_per_axon: int = 4,
    n_frames: int = 8000,
    frame_rate: float = 28.0,
    expert: bool = False,
    noise_sd: float = 0.1,
    seed: int = 0,
    session_id: str | None = None,
    subject_id: str = "BOUTON01",
) -> tuple[xr.Dataset, dict[str, Any]]:
    """One session of axonal boutons from several input sources, with planted truth.

    Parameters
    ----------
    sources : mapping, optional
        Per source name: ``n_axons``, ``fraction_movement`` (of its axons),
        ``latency_s`` (movement-locked latency after onset, naive) and
        ``expert_shift_s`` (added to the latency when ``expert``). Default
        ``thalamus`` (12 axons, 0.6 movement-locked, 0.35 s, shift −0.2 s) and
        ``cortex`` (12 axons, 0.25, 0.35 s, shift 0).
    boutons_per_axon : int
        Boutons (ROIs) per axon (4).
    n_frames, frame_rate : int, float
        Recording length and rate.
    expert : bool
        Apply each source's ``expert_shift_s``.
    noise_sd : float
        White noise per bouton (dF/F).
    seed : int
        Random seed.
    session_id, subject_id : str
        Stored in ``attrs``.

    Returns
    -------
    session : xarray.Dataset
        A session view (behaviour, trials, movements as in :func:`planted_session`)
        whose ``activity`` holds the boutons, with unit coords ``input_source``,
        ``cell_type`` (``unknown``), ``global_id`` (−1: boutons are not tracked).
    truth : dict
        ``axon`` (per bouton), ``source`` (per bouton), ``movement_related`` (per
        bouton, from its axon), ``latency_s`` (per bouton), ``sources`` (the settings).

    Examples
    --------
    >>> ds, truth = planted_boutons(seed=0)
    >>> sorted(set(ds.input_source.values.tolist())), ds.sizes["unit"]
    (['cortex', 'thalamus'], 96)
    """
    from nwbmotor.testing._planted import gcamp_trace, planted_session

    if sources is None:
        sources = {
            "thalamus": {"n_axons": 12, "fraction_movement": 0.6, "latency_s": 0.35, "expert_shift_s": -0.2},
            "cortex": {"n_axons": 12, "fraction_movement": 0.25, "latency_s": 0.35, "expert_shift_s": 0.0},
        }
    if boutons_per_axon < 1:
        raise NwbMotorValueError(f"planted_boutons: boutons_per_axon must be >= 1, got {boutons_per_axon}")
    rng = np.random.default_rng([seed, 53])
    src_axon: list[str] = []
    mov_axons: list[int] = []
    lat = []
    for name, cfg in sources.items():
        n = int(cfg.get("n_axons", 12))
        first = len(src_axon)
        src_axon += [name] * n
        n_mov = int(round(float(cfg.get("fraction_movement", 0.5)) * n))
        mov_axons += (first + rng.permutation(n)[:n_mov]).tolist()
        base = float(cfg.get("latency_s", 0.3)) + (float(cfg.get("expert_shift_s", 0.0)) if expert else 0.0)
        lat.append(base + rng.normal(0.0, 0.03, n))
    n_axons = len(src_axon)
    ds, tr = planted_session(
        n_cells=n_axons,
        n_frames=n_frames,
        frame_rate=frame_rate,
        seed=seed,
        movement_cells=np.asarray(mov_axons, int),
        quiescence_cells=np.zeros(0, int),
        inhibitory_cells=np.zeros(0, int),
        latencies_s=np.concatenate(lat),
        timing_jitter_s=0.05,
        baseline_rate_hz=0.1,
        p_participate=0.8,
        noise_sd=0.0,
        session_id=session_id or ("expert" if expert else "naive"),
        subject_id=subject_id,
    )
    axon = np.repeat(np.arange(n_axons), boutons_per_axon)
    n_b = axon.size
    act = np.empty((n_frames, n_b))
    for b, a in enumerate(axon):
        gain = rng.uniform(0.6, 1.4)
        act[:, b] = gain * gcamp_trace(tr["event_onsets_s"][a], tr["event_amplitudes"][a], n_frames, frame_rate)
    act += rng.normal(0.0, noise_sd, act.shape)
    source = np.asarray(src_axon)[axon]
    xy = rng.uniform(0, 1, (n_b, 2)) * np.array([470.0, 500.0])
    out = ds.drop_vars(["activity", "fluorescence"]).drop_dims("unit")
    out = out.assign(activity=(("time", "unit"), act, {"units": "dF/F", "kind": "dff"}))
    out = out.assign_coords(
        unit_id=("unit", np.arange(n_b)),
        global_id=("unit", np.full(n_b, -1, np.int64), {"long_name": "identity across sessions", "missing": -1}),
        cell_type=("unit", np.full(n_b, "unknown")),
        excluded=("unit", np.zeros(n_b, bool)),
        input_source=("unit", source),
        unit_x=("unit", xy[:, 0], {"units": "um"}),
        unit_y=("unit", xy[:, 1], {"units": "um"}),
        region=("unit", np.full(n_b, "M1")),
        source=("unit", np.full(n_b, "imaging")),
    )
    truth = {
        "axon": axon,
        "source": source,
        "movement_related": np.isin(axon, mov_axons),
        "latency_s": np.asarray(tr["latencies_s"])[axon],
        "sources": {k: dict(v) for k, v in sources.items()},
        "expert": bool(expert),
    }
    return out, truth


def planted_spines(
    *,
    n_dendrites: int = 20,
    spines_per_dendrite: int = 15,
    n_sessions: int = 6,
    p_gain: Mapping[str, float] | None = None,
    p_loss: float = 0.08,
    p_loss_new: float = 0.4,
    seed: int = 0,
) -> tuple[xr.DataArray, dict[str, list[Any]], dict[str, Any]]:
    """Per-spine presence over sessions with planted turnover, and its scoring table.

    Each dendrite starts with ``spines_per_dendrite`` spines. Between sessions every
    pre-existing spine is lost with probability ``p_loss``, a spine that is new in the
    previous session with ``p_loss_new`` (new spines are less stable), and each
    dendrite gains Poisson(``p_gain[condition]`` × spines present) new spines.
    Half of the dendrites are ``training``, half ``control``.

    Returns
    -------
    presence : xarray.DataArray of bool (spine, session)
        With coords ``dendrite`` and ``condition`` on ``spine``.
    table : dict of lists
        The scoring table (dendrite, session, present, gained, lost, length, area,
        condition): one row per dendrite per session.
    truth : dict
        ``p_gain``, ``p_loss``, ``p_loss_new``, ``survival`` (expected survival of a
        new spine at lag L: (1 − p_loss_new)(1 − p_loss)^(L−1)).

    Examples
    --------
    >>> presence, table, truth = planted_spines(n_dendrites=2, n_sessions=3)
    >>> presence.dims, len(table["session"])
    (('spine', 'session'), 6)
    """
    if p_gain is None:
        p_gain = {"training": 0.12, "control": 0.05}
    if n_sessions < 2:
        raise NwbMotorValueError(f"planted_spines: need n_sessions >= 2, got {n_sessions}")
    rng = np.random.default_rng(seed)
    sessions = [f"day{k + 1:02d}" for k in range(n_sessions)]
    rows: list[list[bool]] = []
    dend_of: list[str] = []
    cond_of: list[str] = []
    table: dict[str, list[Any]] = {k: [] for k in ("dendrite", "session", "present", "gained", "lost", "length", "area", "condition")}
    for d in range(n_dendrites):
        cond = "training" if d < n_dendrites / 2 else "control"
        name = f"d{d:02d}"
        length = round(float(rng.uniform(20, 60)), 2)
        spines = [[True] + [False] * (n_sessions - 1) for _ in range(spines_per_dendrite)]
        born = [0] * spines_per_dendrite
        for k in range(1, n_sessions):
            present = [s for s in range(len(spines)) if spines[s][k - 1]]
            for s in present:
                p = p_loss_new if born[s] == k - 1 and k - 1 > 0 else p_loss
                spines[s][k] = bool(rng.random() >= p)
            for _ in range(int(rng.poisson(p_gain[cond] * len(present)))):
                spines.append([False] * k + [True] + [False] * (n_sessions - k - 1))
                born.append(k)
        arr = np.asarray(spines, bool)
        for k, sess in enumerate(sessions):
            gained = int((arr[:, k] & ~arr[:, k - 1]).sum()) if k else 0
            lost = int((~arr[:, k] & arr[:, k - 1]).sum()) if k else 0
            for key, val in zip(table, (name, sess, int(arr[:, k].sum()), gained, lost, length, "forelimb", cond)):
                table[key].append(val)
        rows += arr.tolist()
        dend_of += [name] * arr.shape[0]
        cond_of += [cond] * arr.shape[0]
    presence = xr.DataArray(
        np.asarray(rows, bool),
        dims=("spine", "session"),
        coords={"session": sessions, "dendrite": ("spine", dend_of), "condition": ("spine", cond_of)},
    )
    lags = np.arange(1, n_sessions - 1)
    truth = {
        "p_gain": dict(p_gain),
        "p_loss": p_loss,
        "p_loss_new": p_loss_new,
        "survival": (1 - p_loss_new) * (1 - p_loss) ** (lags - 1),
    }
    return presence, table, truth
