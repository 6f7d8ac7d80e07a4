"""In-memory session views with planted truth, for testing the analyses.

:func:`planted_session` builds one lever-press imaging session as an ``xarray.Dataset``
in the vocabulary of the session view (DESIGN.md: ``activity`` (time, unit),
``behavior`` (time_behavior, channel), trial variables on ``trial``, movements on
``movement``, light epochs on ``epoch``) together with the truth it planted: which
cells are movement- or quiescence-related, every calcium transient, which units are
light-driven, the behaviour. :func:`planted_learning` builds a series of such sessions
of the same cells in which learning is planted: the movement-related population
expands then refines, movement-locked activity and lever trajectories become more
reproducible, reaction times shorten.

Calcium transients are the generators' one GCaMP model (:mod:`nwbmotor.testing._calcium`):
rise time constant 50 ms (peak 2-4 frames after
onset), decay 0.5-1 s, amplitudes log-normal (median 1.2 dF/F, sd 0.35 in log units)
on white noise of 0.08 dF/F unless told otherwise: a well-imaged GCaMP6 cell, where
single events are 8-30 noise sd tall.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.testing._calcium import gcamp_trace
from nwbmotor.testing._lever import synthesize_lever_trace

__all__ = ["planted_session", "planted_learning", "gcamp_trace"]

_FIELD_UM = (470.0, 500.0)


def _refractory(times: NDArray[np.float64], gap: float) -> NDArray[np.float64]:
    times = np.sort(times)
    kept: list[float] = []
    for t in times:
        if not kept or t - kept[-1] >= gap:
            kept.append(float(t))
    return np.asarray(kept)


#: Trial fields of the behaviour generator, in table order (cued_rewarded is derived after).
_TRIAL_FIELDS = ("start_time", "stop_time", "cue_time", "movement_onset", "movement_offset", "reward_time",
                 "rewarded", "opto")


def _behaviour(
    rng: np.random.Generator,
    duration: float,
    *,
    p_respond: float,
    reaction_median_s: float,
    spontaneous_rate_hz: float,
    opto_fraction: float,
    p_respond_light: float,
) -> dict[str, Any]:
    """Trials and lever movements laid end to end over ``duration`` seconds."""
    trials: dict[str, list[Any]] = {k: [] for k in _TRIAL_FIELDS}
    movements: list[tuple[float, float, int]] = []  # start, stop, trial (-1 spontaneous)
    t = 2.0
    while True:
        iti = rng.uniform(2.0, 5.0)
        # spontaneous movement in the inter-trial interval
        if rng.random() < spontaneous_rate_hz * iti:
            ms = t + rng.uniform(0.2, max(iti - 2.0, 0.3))
            me = ms + rng.uniform(0.4, 1.0)
            if me < t + iti - 1.5:
                movements.append((ms, me, -1))
        start = t + iti
        cue = start + 0.1
        if cue + 6.0 > duration - 2.0:
            break
        opto = bool(rng.random() < opto_fraction)
        respond = rng.random() < (p_respond_light if opto else p_respond)
        trial = len(trials["start_time"])
        if respond:
            onset = cue + min(rng.lognormal(np.log(reaction_median_s), 0.35), 2.5)
            offset = onset + rng.uniform(0.6, 1.4)
            reward = onset + 0.2
            movements.append((onset, offset, trial))
            stop = max(offset, reward) + 3.0
        else:
            onset = offset = reward = np.nan
            stop = cue + 3.0
        for key, val in zip(_TRIAL_FIELDS, (start, stop, cue, onset, offset, reward, bool(respond), opto)):
            trials[key].append(val)
        t = stop
    arr = {k: np.asarray(v) for k, v in trials.items()}
    mov = np.asarray(sorted(movements)) if movements else np.zeros((0, 3))
    # cued-rewarded: rewarded, onset after the cue, no lever activity 100 ms before cue
    cued = arr["rewarded"].copy()
    for i, cue in enumerate(arr["cue_time"]):
        if cued[i]:
            busy = (mov[:, 0] < cue) & (mov[:, 1] > cue - 0.1)
            cued[i] = not busy.any() and arr["movement_onset"][i] > cue
    arr["cued_rewarded"] = cued
    return {"trials": arr, "movements": mov}


def _lever(
    rng: np.random.Generator,
    movements: NDArray[np.float64],
    duration: float,
    rate: float,
    variability: float,
    style: NDArray[np.float64] | None = None,
    scale: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The lever of the planted movements: the generators' one lever synthesizer, its
    presses repeating the session's template press (``template_variability``)."""
    trace, _ = synthesize_lever_trace(
        duration,
        sample_rate=rate,
        onset_times=movements[:, 0],
        offset_times=movements[:, 1],
        seed=int(rng.integers(2**31)),
        partial_fraction=0.0,
        rest_level=0.0,
        noise_rms=0.002,
        hum_amplitude=0.0,
        drift_amplitude=0.0,
        n_touches=0,
        adc_bits=None,
        template_variability=variability,
        press_modes=style,
        press_gains=scale,
    )
    return np.arange(trace.size) / rate, trace


def _lead_cells(
    movement_related: NDArray[np.bool_],
    fraction_lead: float,
    lead_s: float,
    lead_cells: NDArray[np.integer] | None,
    seed: int,
) -> NDArray[np.bool_]:
    """Which movement-related cells fire before movement onset (bool per cell)."""
    if not (np.isfinite(lead_s) and lead_s > 0):
        raise NwbMotorValueError(f"planted_session: lead_s must be > 0 seconds, got {lead_s!r}")
    lead = np.zeros(movement_related.size, bool)
    if lead_cells is not None:
        lead[np.asarray(lead_cells, int)] = True
        if (lead & ~movement_related).any():
            raise NwbMotorValueError(
                f"planted_session: lead_cells must be movement-related cells, got "
                f"{np.flatnonzero(lead & ~movement_related).tolist()} that are not"
            )
        return lead
    if not 0.0 <= fraction_lead <= 1.0:
        raise NwbMotorValueError(
            f"planted_session: fraction_lead must be in [0, 1], got {fraction_lead!r}"
        )
    mov = np.flatnonzero(movement_related)
    n_lead = int(round(fraction_lead * mov.size))
    if n_lead:
        lead[np.random.default_rng([seed, 105]).permutation(mov)[:n_lead]] = True
    return lead


def planted_session(
    *,
    n_cells: int = 60,
    n_frames: int = 6000,
    frame_rate: float = 28.0,
    seed: int = 0,
    fraction_movement: float = 0.25,
    fraction_quiescence: float = 0.1,
    fraction_inhibitory: float = 0.15,
    movement_cells: NDArray[np.integer] | None = None,
    quiescence_cells: NDArray[np.integer] | None = None,
    inhibitory_cells: NDArray[np.integer] | None = None,
    positions_um: NDArray[np.floating] | None = None,
    noise_sd: float = 0.08,
    amplitude_median: float = 1.2,
    baseline_rate_hz: float = 0.02,
    quiescence_rate_hz: float = 0.12,
    p_participate: float = 0.8,
    timing_jitter_s: float = 0.1,
    latencies_s: NDArray[np.floating] | None = None,
    fraction_lead: float = 0.0,
    lead_s: float = 0.105,
    lead_cells: NDArray[np.integer] | None = None,
    p_respond: float = 0.8,
    reaction_median_s: float = 0.6,
    spontaneous_rate_hz: float = 0.1,
    lever_rate: float = 1000.0,
    lever_variability: float = 0.5,
    opto_fraction: float = 0.0,
    p_respond_light: float | None = None,
    n_light_epochs: int = 0,
    fraction_light_driven: float = 0.0,
    clustered: bool = False,
    light_driven_cells: NDArray[np.integer] | None = None,
    light_press_scale: float = 1.0,
    ei_coupling: float | None = None,
    press_coupling: float = 0.0,
    session_id: str = "planted",
    subject_id: str = "PLANT01",
) -> tuple[xr.Dataset, dict[str, Any]]:
    """One imaged lever-press session, as a session view, with its planted truth.

    Parameters
    ----------
    n_cells, n_frames, frame_rate : int, int, float
        Size of ``activity`` (time, unit) and the imaging rate (Hz).
    seed : int
        Random seed; the same arguments give the same session.
    fraction_movement, fraction_quiescence, fraction_inhibitory : float
        Fractions of cells planted movement-related (events locked to movement onsets),
        quiescence-related (events only outside movements) and inhibitory.
        ``movement_cells`` / ``quiescence_cells`` / ``inhibitory_cells`` (indices)
        override the fractions.
    positions_um : ndarray of shape (n_cells, 2), optional
        Cell positions (µm); default uniform over a 470 x 500 µm field.
    noise_sd, amplitude_median : float
        White-noise sd and median transient amplitude, in dF/F.
    baseline_rate_hz, quiescence_rate_hz : float
        Event rates of untuned cells and of quiescence-related cells (outside movements).
    p_participate, timing_jitter_s, latencies_s : float, float, ndarray
        Probability that a movement-related cell fires on a movement, jitter of its
        latency (s), and per-cell latencies after movement onset (default U(0, 0.6) s).
    fraction_lead, lead_s, lead_cells : float, float, ndarray
        Leading cells: this fraction of the movement-related cells (rounded; or the
        movement-related cells ``lead_cells``) fire ``lead_s`` seconds *before*
        movement onset (± ``timing_jitter_s``) instead of at their latency. Chosen by
        a generator of their own, so the behaviour and the cell classes are the same
        as without them. Default none.
    p_respond, reaction_median_s, spontaneous_rate_hz : float
        Behaviour: probability of a rewarded press per cue, median cue -> movement
        time, rate of uncued movements in the inter-trial interval.
    lever_rate, lever_variability : float
        Lever sampling rate (Hz) and trial-to-trial variability of the press shape.
    opto_fraction, p_respond_light : float
        Fraction of light trials (``opto``) and the probability of reward on them.
    n_light_epochs, fraction_light_driven : int, float
        Light epochs (1 s, on dim ``epoch``) and the fraction of units they drive.
    clustered : bool
        Place movement-related cells within 80 µm of one point (else uniformly).
    light_driven_cells : ndarray, optional
        Indices of the light-driven units (overrides ``fraction_light_driven``).
    light_press_scale : float
        Lever press amplitude on light (``opto``) trials relative to no-light ones (1).
    ei_coupling : float in [0, 1], optional
        Plant E/I coupling movement by movement: each movement gets a drive
        d ~ U(0, 1); movement-related excitatory cells fire on it with probability
        min(1, 2 · p_participate · d) and inhibitory cells with probability
        ``ei_coupling`` · d + (1 − ``ei_coupling``) / 2, 0-300 ms after onset.
        None (default) plants none of this.
    press_coupling : float
        Plant activity that follows the press: each movement gets a style
        z ~ N(0, 1) that shapes its lever sub-movement and shifts the latency of every
        movement-related cell by ``press_coupling`` · 0.15 s · z (0: none).
    session_id, subject_id : str
        Stored in ``attrs``.

    Returns
    -------
    session : xarray.Dataset
        ``activity`` (time, unit) dF/F with unit coords ``unit_id``, ``global_id``,
        ``cell_type``, ``excluded``, ``unit_x``/``unit_y`` (µm), ``region``, ``source``;
        ``fluorescence`` (time, unit) raw F with a slow drifting baseline;
        ``behavior`` (time_behavior, channel=['lever']); trial variables
        ``start_time``, ``stop_time``, ``cue_time``, ``movement_onset``,
        ``movement_offset``, ``reward_time``,
        ``rewarded``, ``cued_rewarded``, ``opto``; ``movement_start_time``,
        ``movement_stop_time``; ``epoch_start_time``, ``epoch_stop_time``.
    truth : dict
        ``movement_related``, ``quiescence_related``, ``light_driven``,
        ``inhibitory`` (bool per cell), ``event_onsets_s`` / ``event_amplitudes``
        (lists of arrays per cell), ``baseline`` (n_cells, n_frames) of F,
        ``fraction_movement``, ``timing_jitter_s``, ``latencies_s`` (the leading cells'
        at ``-lead_s``), ``lead`` (bool per cell), ``fraction_lead`` (of the
        movement-related cells), ``lead_s``.

    Examples
    --------
    >>> ds, truth = planted_session(n_cells=20, n_frames=3000, seed=1)
    >>> ds.activity.dims, int(truth["movement_related"].sum())
    (('time', 'unit'), 5)
    """
    if n_cells < 1 or n_frames < 10 * frame_rate:
        raise NwbMotorValueError(
            f"planted_session: need n_cells >= 1 and n_frames >= 10 s of frames, "
            f"got n_cells={n_cells}, n_frames={n_frames}"
        )
    rng = np.random.default_rng(seed)
    duration = n_frames / frame_rate
    cells = np.arange(n_cells)
    order = rng.permutation(n_cells)
    n_mov = int(round(fraction_movement * n_cells))
    n_qui = int(round(fraction_quiescence * n_cells))
    mov_idx = order[:n_mov] if movement_cells is None else np.asarray(movement_cells, int)
    rest = np.setdiff1d(order, mov_idx, assume_unique=False)
    rest = rest[rng.permutation(rest.size)]
    qui_idx = rest[:n_qui] if quiescence_cells is None else np.asarray(quiescence_cells, int)
    movement_related = np.isin(cells, mov_idx)
    quiescence_related = np.isin(cells, qui_idx) & ~movement_related
    inhibitory = np.zeros(n_cells, bool)
    if inhibitory_cells is None:
        inhibitory[rng.permutation(n_cells)[: int(round(fraction_inhibitory * n_cells))]] = True
    else:
        inhibitory[np.asarray(inhibitory_cells, int)] = True

    beh = _behaviour(
        rng,
        duration,
        p_respond=p_respond,
        reaction_median_s=reaction_median_s,
        spontaneous_rate_hz=spontaneous_rate_hz,
        opto_fraction=opto_fraction,
        p_respond_light=p_respond if p_respond_light is None else p_respond_light,
    )
    trials, movs = beh["trials"], beh["movements"]
    # light epochs, 1 s long, evenly spread with jitter
    if n_light_epochs:
        slots = np.linspace(3.0, duration - 4.0, n_light_epochs)
        light_on = slots + rng.uniform(0, 0.5, n_light_epochs)
    else:
        light_on = np.zeros(0)
    light_driven = np.zeros(n_cells, bool)
    light_pick = rng.permutation(n_cells)[: int(round(fraction_light_driven * n_cells))]
    light_driven[light_pick if light_driven_cells is None else np.asarray(light_driven_cells, int)] = True
    n_movs = len(movs)
    drive = (
        np.random.default_rng([seed, 41]).uniform(0.0, 1.0, n_movs) if ei_coupling is not None else None
    )
    style = np.random.default_rng([seed, 43]).normal(0.0, 1.0, n_movs) if press_coupling else None
    ei_rng = np.random.default_rng([seed, 47])

    if latencies_s is None:
        latencies_s = rng.uniform(0.0, 0.6, n_cells)
    latencies_s = np.array(latencies_s, float)  # a copy: the leading cells' are changed
    lead = _lead_cells(movement_related, fraction_lead, lead_s, lead_cells, seed)
    latencies_s[lead] = -lead_s
    quiet_mask_t = np.ones(int(duration * 100), bool)  # 10 ms grid of quiescence
    for start, stop, _ in movs:
        quiet_mask_t[int(start * 100) : int(np.ceil(stop * 100)) + 1] = False

    onsets_all: list[NDArray[np.float64]] = []
    amps_all: list[NDArray[np.float64]] = []
    activity = np.empty((n_frames, n_cells))
    decays = rng.uniform(0.5, 1.0, n_cells)
    for c in cells:
        times = [rng.uniform(0, duration, rng.poisson(baseline_rate_hz * duration))]
        if movement_related[c]:
            p_fire = p_participate if drive is None or inhibitory[c] else np.minimum(1.0, 2 * p_participate * drive)
            fire = rng.random(len(movs)) < p_fire
            shift = 0.0 if style is None else press_coupling * 0.15 * style[fire]
            times.append(
                movs[fire, 0] + latencies_s[c] + shift + rng.normal(0, timing_jitter_s, fire.sum())
            )
        if drive is not None and ei_coupling is not None and inhibitory[c] and n_movs:
            on = ei_rng.random(n_movs) < ei_coupling * drive + (1 - ei_coupling) / 2
            times.append(movs[on, 0] + ei_rng.uniform(0.0, 0.3, int(on.sum())))
        if quiescence_related[c]:
            cand = rng.uniform(0, duration, rng.poisson(quiescence_rate_hz * duration * 2))
            grid = np.minimum((cand * 100).astype(int), quiet_mask_t.size - 1)
            times.append(cand[quiet_mask_t[grid]])
        if light_driven[c]:
            times.append(light_on + 0.1 + rng.normal(0, 0.03, light_on.size))
        t_all = np.concatenate(times)
        if quiescence_related[c]:
            # quiescence-related cells are silent during movement (with a margin)
            inside = np.zeros(t_all.size, bool)
            for start, stop, _ in movs:
                inside |= (t_all > start - 0.4) & (t_all < stop + 0.4)
            t_all = t_all[~inside]
        t_all = _refractory(t_all[(t_all > 0.5) & (t_all < duration - 1.0)], 1.2)
        amps = amplitude_median * rng.lognormal(0.0, 0.35, t_all.size)
        onsets_all.append(t_all)
        amps_all.append(amps)
        activity[:, c] = gcamp_trace(t_all, amps, n_frames, frame_rate, decay_s=decays[c])
    activity += rng.normal(0.0, noise_sd, activity.shape)

    # raw fluorescence: F = B (1 + dF/F) with a slowly drifting baseline B
    time = np.arange(n_frames) / frame_rate
    f0 = rng.uniform(200, 800, n_cells)
    drift = 1 + 0.1 * np.sin(2 * np.pi * time[:, None] / rng.uniform(200, 600, n_cells))
    baseline = f0 * drift
    fluorescence = baseline * (1 + activity)

    if positions_um is not None:
        xy = np.asarray(positions_um, float).reshape(n_cells, 2)
    elif clustered and movement_related.any():
        centre = np.array(_FIELD_UM) / 2
        xy = rng.uniform(0, 1, (n_cells, 2)) * _FIELD_UM
        ang = rng.uniform(0, 2 * np.pi, n_cells)
        rad = 80 * np.sqrt(rng.uniform(0, 1, n_cells))
        near = centre + np.c_[rad * np.cos(ang), rad * np.sin(ang)]
        xy[movement_related] = near[movement_related]
    else:
        xy = rng.uniform(0, 1, (n_cells, 2)) * _FIELD_UM

    press_gain = None
    if light_press_scale != 1.0 and n_movs:
        trial_of = movs[:, 2].astype(int)
        lit = np.asarray(trials["opto"], bool)
        press_gain = np.where((trial_of >= 0) & lit[np.maximum(trial_of, 0)], light_press_scale, 1.0)
    tb, lever = _lever(rng, movs, duration, lever_rate, lever_variability, style, press_gain)
    cell_type = np.where(inhibitory, "inhibitory", "excitatory")
    ds = xr.Dataset(
        data_vars={
            "activity": (("time", "unit"), activity, {"units": "dF/F", "kind": "dff"}),
            "fluorescence": (("time", "unit"), fluorescence, {"units": "a.u."}),
            "behavior": (("time_behavior", "channel"), lever[:, None], {"units": "V"}),
            **{
                name: (
                    "trial",
                    trials[name],
                    {"units": "s"} if trials[name].dtype.kind == "f" else {},
                )
                for name in trials  # the trial fields, then cued_rewarded
            },
            "movement_start_time": ("movement", movs[:, 0], {"units": "s"}),
            "movement_stop_time": ("movement", movs[:, 1], {"units": "s"}),
            "epoch_start_time": ("epoch", light_on, {"units": "s"}),
            "epoch_stop_time": ("epoch", light_on + 1.0, {"units": "s"}),
        },
        coords={
            "time": ("time", time, {"units": "s"}),
            "time_behavior": ("time_behavior", tb, {"units": "s"}),
            "channel": ["lever"],
            "unit_id": ("unit", cells),
            "global_id": (
                "unit",
                cells.astype(np.int64),
                {"long_name": "identity across sessions"},
            ),
            "cell_type": ("unit", cell_type),
            "excluded": ("unit", np.zeros(n_cells, bool)),
            "unit_x": ("unit", xy[:, 0], {"units": "um"}),
            "unit_y": ("unit", xy[:, 1], {"units": "um"}),
            "region": ("unit", np.full(n_cells, "M1")),
            "source": ("unit", np.full(n_cells, "imaging")),
        },
        attrs={"session_id": session_id, "subject_id": subject_id, "frame_rate": frame_rate},
    )
    truth = {
        "movement_related": movement_related,
        "quiescence_related": quiescence_related,
        "inhibitory": inhibitory,
        "light_driven": light_driven,
        "event_onsets_s": onsets_all,
        "event_amplitudes": amps_all,
        "baseline": baseline.T,
        "fraction_movement": movement_related.mean(),
        "timing_jitter_s": timing_jitter_s,
        "latencies_s": latencies_s,
        "noise_sd": noise_sd,
        "lead": lead,
        "fraction_lead": (
            float(lead.sum() / movement_related.sum()) if movement_related.any() else 0.0
        ),
        "lead_s": float(lead_s),
        "movement_drive": drive,
        "press_style": style,
    }
    return ds, truth


#: Planted course of learning over 14 sessions (index 0 = session 1).
LEARNING_FRACTION = np.array(
    [0.20, 0.32, 0.42, 0.45, 0.42, 0.36, 0.31, 0.28, 0.26, 0.24, 0.22, 0.21, 0.20, 0.20]
)


def planted_learning(
    n_sessions: int = 14,
    *,
    n_cells: int = 60,
    n_frames: int = 6000,
    seed: int = 0,
    **session_kwargs: Any,
) -> tuple[list[xr.Dataset], dict[str, Any]]:
    """A series of sessions of the same cells with planted motor learning.

    The movement-related population expands over the first sessions and then refines
    to a stable core (fractions :data:`LEARNING_FRACTION`, resampled to
    ``n_sessions``); movement-locked activity gets more reliable and better timed
    (participation 0.5 -> 0.9, jitter 0.4 -> 0.05 s) so spatiotemporal correlation
    rises; lever presses get stereotyped and reaction times shorten.

    Parameters
    ----------
    n_sessions : int
        Number of daily sessions.
    n_cells, n_frames, seed : int
        Size and seed (session ``k`` uses ``seed + k``).
    **session_kwargs
        Passed on to :func:`planted_session`.

    Returns
    -------
    sessions : list of xarray.Dataset
        ``session_id`` attrs ``day01``, ``day02``, ...; the same ``global_id`` per cell.
    truth : dict
        ``fraction_movement``, ``p_participate``, ``timing_jitter_s``,
        ``lever_variability``, ``core`` (bool per cell: the late population),
        ``movement_related`` (n_sessions, n_cells), and the per-session truths.

    Examples
    --------
    >>> sessions, truth = planted_learning(4, n_cells=20, n_frames=2000)
    >>> len(sessions), sessions[0].attrs["session_id"]
    (4, 'day01')
    """
    if n_sessions < 2:
        raise NwbMotorValueError(f"planted_learning: need n_sessions >= 2, got {n_sessions}")
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, n_sessions)
    frac = np.interp(x, np.linspace(0, 1, LEARNING_FRACTION.size), LEARNING_FRACTION)
    participate = 0.5 + 0.4 * x
    jitter = 0.4 * (0.05 / 0.4) ** x
    variability = 1.0 - 0.85 * x
    reaction = 1.2 - 0.8 * x
    order = rng.permutation(n_cells)
    n_core = int(round(frac[-1] * n_cells))
    core = order[:n_core]
    n_inh = int(round(0.15 * n_cells))
    pool = order[n_core : n_cells - n_inh]
    latencies = rng.uniform(0.0, 0.6, n_cells)
    inhibitory = order[n_cells - n_inh :]
    positions = rng.uniform(0, 1, (n_cells, 2)) * _FIELD_UM
    sessions, truths = [], []
    mov = np.zeros((n_sessions, n_cells), bool)
    for k in range(n_sessions):
        extra = int(round(frac[k] * n_cells)) - n_core
        chosen = np.concatenate([core, rng.permutation(pool)[: max(extra, 0)]])
        ds, tr = planted_session(
            n_cells=n_cells,
            n_frames=n_frames,
            seed=seed + 1000 + k,
            movement_cells=chosen,
            p_participate=participate[k],
            timing_jitter_s=jitter[k],
            latencies_s=latencies,
            lever_variability=variability[k],
            reaction_median_s=reaction[k],
            inhibitory_cells=inhibitory,
            positions_um=positions,
            session_id=f"day{k + 1:02d}",
            **session_kwargs,
        )
        mov[k] = tr["movement_related"]
        sessions.append(ds)
        truths.append(tr)
    core_mask = np.isin(np.arange(n_cells), core)
    truth = {
        "fraction_movement": mov.mean(axis=1),
        "p_participate": participate,
        "timing_jitter_s": jitter,
        "lever_variability": variability,
        "reaction_median_s": reaction,
        "core": core_mask,
        "movement_related": mov,
        "sessions": truths,
    }
    return sessions, truth
