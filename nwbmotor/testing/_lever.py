"""A realistic lever force trace with planted movements, for testing movement detection.

The trace is what an Ephus board records from the lever's force sensor: a resting
baseline with slow drift, broadband electrical noise and mains hum, quantised by a
16-bit converter, and on it presses of a head-fixed mouse. Each press is a smooth force
profile (half-cosine rise, a hold with tremor and sometimes a second push, a
half-cosine release) followed by a damped rebound of the lever's spring; after it the
lever settles at a slightly different rest. Some presses are partial (they do not
reach the reward threshold). With ``press_styles`` the presses mix named shapes (fast,
slow, double presses, the default "typical" one) and the drift periods and noise are
parameters, so detectors are measured on varied sessions, not one shape. Small touches of the lever that stay below the method's
movement criterion are planted too, and reported apart from the movements.

The truth is the physics, not a detector's answer: a movement's onset is the sample
where the force starts to rise; its offset the sample where the rebound has ended.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nwbmotor._errors import NwbMotorValueError

__all__ = ["PRESS_STYLES", "LeverTruth", "synthesize_lever_trace"]


@dataclasses.dataclass(frozen=True, eq=False)
class LeverTruth:
    """The movements planted by :func:`synthesize_lever_trace`.

    Attributes
    ----------
    onset_times, offset_times : ndarray of shape (n_movements,)
        When the force starts to rise, and when the rebound has died out, in seconds
        from the first sample.
    amplitudes : ndarray of shape (n_movements,)
        Peak deflection of each press from its rest level (the largest value of its
        profile, second pushes and tremor included), in volts.
    partial : ndarray of bool, shape (n_movements,)
        The press stays below ``reward_threshold``.
    crossing_times : ndarray of shape (n_movements,)
        First time the deflection exceeds ``reward_threshold`` (NaN for partial presses).
    reward_threshold : float
        Deflection in volts that counts as a full press.
    touch_times : ndarray of shape (n_touches, 2)
        Start and stop of small touches that stay below the movement criterion
        (peak velocity well under 0.7 V/s); they are not movements.
    rest_level : float
        Initial rest level, in volts.
    noise_rms, hum_amplitude : float
        Broadband noise (RMS) and 60 Hz hum amplitude, in volts.
    sample_rate, duration_s : float
    seed : int
    styles : ndarray of str, shape (n_movements,)
        Press style of each movement (see :data:`PRESS_STYLES`).
    """

    onset_times: NDArray[np.float64]
    offset_times: NDArray[np.float64]
    amplitudes: NDArray[np.float64]
    partial: NDArray[np.bool_]
    crossing_times: NDArray[np.float64]
    reward_threshold: float
    touch_times: NDArray[np.float64]
    rest_level: float
    noise_rms: float
    hum_amplitude: float
    sample_rate: float
    duration_s: float
    seed: int
    styles: NDArray[np.str_] = dataclasses.field(default_factory=lambda: np.zeros(0, dtype=str))

    def __len__(self) -> int:
        return int(self.onset_times.size)


def _half_cosine(n: int) -> NDArray[np.float64]:
    """0 -> 1 over n samples, the first exactly 0 (a smooth rise starting at rest)."""
    return 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / max(n, 1))


#: Press shapes of :func:`synthesize_lever_trace` (``press_styles``): ranges (s) of the
#: rise, the release and the duration of one press.
PRESS_STYLES: dict[str, dict[str, tuple[float, float]]] = {
    "typical": {"rise": (0.04, 0.15), "fall": (0.05, 0.2), "duration": (0.15, 2.0)},
    "fast": {"rise": (0.008, 0.03), "fall": (0.02, 0.06), "duration": (0.15, 0.6)},
    "slow": {"rise": (0.2, 0.5), "fall": (0.2, 0.5), "duration": (0.9, 2.5)},
    "double": {"rise": (0.03, 0.12), "fall": (0.05, 0.2), "duration": (0.7, 2.0)},
}


def _phases(rng: np.random.Generator, style: str) -> tuple[float, float, float, float, float, float]:
    """Rise, release and rebound durations (s), spring frequency (Hz), ring size and decay (s)."""
    ranges = PRESS_STYLES[style]
    rise = rng.uniform(*ranges["rise"])
    fall = rng.uniform(*ranges["fall"])
    rebound = rng.uniform(0.06, 0.25)
    return rise, fall, rebound, rng.uniform(8.0, 15.0), rng.uniform(0.05, 0.2), rng.uniform(0.03, 0.06)


def _press_profile(
    rng: np.random.Generator,
    amplitude: float,
    fs: float,
    duration_s: float,
    shift: float,
    style: str = "typical",
    template: tuple[float, float, float, float, float, float] | None = None,
    sub_movements: tuple[float, float] | None = None,
) -> NDArray[np.float64]:
    """Deflection of one press from rest, about ``duration_s`` long, ending at rest + ``shift``.

    ``double``: after the first rise the lever is let go part of the way (to 10-50 % of
    the amplitude) and pushed again within 0.1-0.4 s, one movement by the method's
    definition (the two pushes are less than 0.5 s apart).

    With ``template`` (the session's phases, :func:`_phases`) the press is the session's
    template press, exactly ``duration_s`` long, without tremor or second pushes; it
    departs from the template only by ``sub_movements`` (a, b): a · sin(2πu) +
    b · sin(3πu) · sin(πu) over the press (u from 0 to 1), in units of the amplitude.
    """
    n_total = int(round(duration_s * fs))
    if template is None:  # drawn in the order of earlier versions: the same seed gives the same trace
        ranges = PRESS_STYLES[style]
        rise, fall, rebound = rng.uniform(*ranges["rise"]), rng.uniform(*ranges["fall"]), rng.uniform(0.06, 0.25)
    else:
        rise, fall, rebound, f_spring, ring_size, ring_tau = template
    scale = min(1.0, 0.9 * duration_s / (rise + fall + rebound))  # short presses: shrink the phases
    n_rise, n_fall, n_reb = (max(8, int(round(v * scale * fs))) for v in (rise, fall, rebound))
    n_hold = max(0, n_total - n_rise - n_fall - n_reb)
    if template is not None and n_rise + n_hold + n_fall + n_reb > n_total:
        n_reb = max(1, n_total - n_rise - n_fall)
    n_total = n_rise + n_hold + n_fall + n_reb

    y = np.empty(n_total)
    y[:n_rise] = amplitude * _half_cosine(n_rise)
    hold = np.full(n_hold, amplitude)
    if n_hold and template is None:
        t = np.arange(n_hold) / fs
        f_tremor = rng.uniform(7.0, 13.0)
        hold += amplitude * rng.uniform(0.01, 0.05) * np.sin(2 * np.pi * f_tremor * t) * _half_cosine(n_hold)
        if n_hold > 0.3 * fs and rng.random() < 0.4:  # a second push during the hold
            m = int(rng.uniform(0.15, 0.3) * fs)
            a = int(rng.integers(0, n_hold - m))
            hold[a : a + m] += amplitude * rng.uniform(0.1, 0.4) * np.sin(np.pi * np.arange(m) / m) ** 2
    if style == "double" and n_hold > 0.45 * fs:
        # let go part of the way, then push again: release, dwell, second rise
        n_rel = int(rng.uniform(0.04, 0.12) * fs)
        n_dwell = int(rng.uniform(0.02, 0.12) * fs)
        n_push = int(rng.uniform(0.03, 0.12) * fs)
        a0 = int(rng.uniform(0.03, 0.1) * fs)
        if a0 + n_rel + n_dwell + n_push < n_hold:
            low = amplitude * rng.uniform(0.1, 0.5)
            second = amplitude * rng.uniform(0.8, 1.3)
            seg = np.concatenate(
                [
                    amplitude + (low - amplitude) * _half_cosine(n_rel),
                    np.full(n_dwell, low),
                    low + (second - low) * _half_cosine(n_push),
                ]
            )
            hold[a0 : a0 + seg.size] = seg
            hold[a0 + seg.size :] += second - amplitude
    y[n_rise : n_rise + n_hold] = hold
    top = y[n_rise + n_hold - 1] if n_hold else amplitude
    y[n_rise + n_hold : n_rise + n_hold + n_fall] = top + (shift - top) * _half_cosine(n_fall)
    # rebound: the spring overshoots past rest and rings down, tapered to end exactly at rest
    t = np.arange(n_reb) / fs
    if template is None:
        f_spring, ring_size, ring_tau = rng.uniform(8.0, 15.0), rng.uniform(0.05, 0.2), rng.uniform(0.03, 0.06)
    ring = -amplitude * ring_size * np.sin(2 * np.pi * f_spring * t) * np.exp(-t / ring_tau)
    taper = 1.0 - _half_cosine(n_reb)
    y[n_rise + n_hold + n_fall :] = shift + ring * taper
    if sub_movements is not None:
        u = np.arange(n_total) / n_total
        w1, w2 = sub_movements
        y += amplitude * (w1 * np.sin(2 * np.pi * u) + w2 * np.sin(3 * np.pi * u) * np.sin(np.pi * u))
    return y


def _place(rng: np.random.Generator, durations: NDArray[np.float64], span: float, min_rest: float) -> NDArray[np.float64]:
    """Onsets of movements of the given durations, in order, with at least min_rest between."""
    free = span - durations.sum() - min_rest * (durations.size - 1)
    if free < 0:
        raise NwbMotorValueError(
            f"synthesize_lever_trace: {durations.size} movements (total {durations.sum():.1f} s) with "
            f"min_rest_s={min_rest} do not fit in {span:.1f} s; lower n_movements or lengthen duration_s"
        )
    slack = rng.dirichlet(np.ones(durations.size + 1)) * free
    gaps = slack[:-1] + np.r_[0.0, np.full(durations.size - 1, min_rest)]
    return np.cumsum(gaps + np.r_[0.0, durations[:-1]])


def synthesize_lever_trace(
    duration_s: float,
    *,
    sample_rate: float = 10_000.0,
    n_movements: int | None = None,
    onset_times: ArrayLike | None = None,
    seed: int = 0,
    movement_rate_hz: float = 0.2,
    partial_fraction: float = 0.25,
    reward_threshold: float = 0.25,
    rest_level: float = 0.15,
    noise_rms: float = 0.0015,
    hum_amplitude: float = 0.001,
    drift_amplitude: float = 0.004,
    n_touches: int | None = None,
    min_rest_s: float = 1.0,
    margin_s: float = 1.0,
    adc_bits: int | None = 16,
    adc_range: float = 10.0,
    press_styles: Mapping[str, float] | None = None,
    drift_periods_s: tuple[float, float] = (20.0, 300.0),
    min_press_speed: float = 1.5,
    offset_times: ArrayLike | None = None,
    template_variability: float | None = None,
    press_modes: ArrayLike | None = None,
    press_gains: ArrayLike | None = None,
) -> tuple[NDArray[np.float64], LeverTruth]:
    """A lever force trace in volts, with the movements planted in it.

    Parameters
    ----------
    duration_s : float
        Length of the trace in seconds.
    sample_rate : float, default 10 kHz
    n_movements : int, optional
        Number of movements; default ``movement_rate_hz * duration_s``. Ignored when
        ``onset_times`` is given.
    onset_times : array_like, optional
        Explicit movement onsets (s, increasing). Each movement then ends at least
        ``min(min_rest_s, 0.3 s)`` before the next onset.
    seed : int, default 0
    movement_rate_hz : float, default 0.2
    partial_fraction : float, default 0.25
        Fraction of presses that stay below ``reward_threshold`` (0.05 V up to 70 % of it).
    reward_threshold : float, default 0.25
        Deflection in volts a full press exceeds (full presses reach 1.3 to 6 times it).
    rest_level : float, default 0.15
        Resting lever voltage.
    noise_rms : float, default 1.5 mV
        Broadband electrical noise.
    hum_amplitude : float, default 1 mV
        60 Hz mains hum amplitude (with a third harmonic at a fifth of it).
    drift_amplitude : float, default 4 mV
        Slow baseline drift (periods of 20 s to 5 min).
    n_touches : int, optional
        Small touches below the movement criterion; default one per 20 s.
    min_rest_s : float, default 1.0
        Least rest between movements (the method merges movements less than 0.5 s
        apart, so closer presses are one movement by its definition).
    margin_s : float, default 1.0
        No movement starts or ends within this time of either end.
    adc_bits : int or None, default 16
        Quantise as a converter of this resolution over +-``adc_range`` volts.
    adc_range : float, default 10.0
    press_styles : mapping of str to float, optional
        Relative frequency of each press shape of :data:`PRESS_STYLES` (``"typical"``,
        ``"fast"``: 8-30 ms rise, ``"slow"``: 0.2-0.5 s rise, ``"double"``: let go part
        of the way and pushed again), e.g. ``{"fast": 1, "slow": 1, "double": 1}``;
        each press draws its style, then its rise, release and duration from the
        style's ranges. Default: every press ``"typical"`` (the trace of earlier
        versions, sample for sample). The styles are in ``LeverTruth.styles``.
    drift_periods_s : (float, float), default (20, 300)
        Range of the periods of the three sinusoids of the baseline drift.
    min_press_speed : float, default 1.5
        With ``press_styles``: least peak speed (V/s) of a press seen through the
        movement method's 5 Hz low-pass, about twice its 0.7 V/s criterion; a push
        drawn slower is scaled up to it (a slower one is a touch by the method's
        definition, not a movement). ``partial`` is then re-evaluated.
    offset_times : array_like, optional
        With ``onset_times``: when each movement ends (its rebound has died out), so
        the presses fill given movement epochs exactly.
    template_variability : float, optional
        Presses repeat one template press of the session (its rise, release, rebound
        and full-press amplitude drawn once, no tremor or second pushes) and depart
        from it by two sub-movements over the press, a · sin(2πu) + b · sin(3πu) · sin(πu)
        (u from 0 to 1, in units of the amplitude), a and b ~ N(0, 0.72 ·
        ``template_variability``), and by an amplitude factor 1 + N(0, 0.3 ·
        ``template_variability``). 0: presses identical but for their duration. Default
        None: every press draws its own shape (the physical default above).
    press_modes : array_like of shape (n_movements,), optional
        With ``template_variability``: a planted press-to-press style z per movement;
        the first sub-movement is then a = 0.72 · ``template_variability`` · z.
    press_gains : array_like of shape (n_movements,), optional
        Factor on each press's deflection (e.g. weaker presses on light trials).

    Returns
    -------
    trace : ndarray of float64, shape (round(duration_s * sample_rate),)
    truth : LeverTruth

    Examples
    --------
    >>> trace, truth = synthesize_lever_trace(20.0, n_movements=3, seed=2)
    >>> trace.shape, len(truth)
    ((200000,), 3)
    >>> bool(truth.onset_times[0] < truth.offset_times[0] < truth.onset_times[1])
    True
    """
    if not (duration_s > 2 * margin_s + 1.0):
        raise NwbMotorValueError(f"synthesize_lever_trace: duration_s must exceed {2 * margin_s + 1.0} s, got {duration_s}")
    if not (sample_rate >= 500):
        raise NwbMotorValueError(f"synthesize_lever_trace: sample_rate must be >= 500 Hz, got {sample_rate}")
    rng = np.random.default_rng(seed)
    fs = float(sample_rate)
    n = int(round(duration_s * fs))
    span = duration_s - 2 * margin_s

    if onset_times is not None:
        onsets = np.asarray(onset_times, dtype=np.float64).ravel()
        if onsets.size and (np.any(np.diff(onsets) <= 0.5) or onsets[0] < margin_s or onsets[-1] > duration_s - margin_s - 0.2):
            raise NwbMotorValueError(
                "synthesize_lever_trace: onset_times must increase by more than 0.5 s and lie in "
                f"[{margin_s}, {duration_s - margin_s - 0.2}] s"
            )
        room = np.r_[np.diff(onsets), duration_s - margin_s - onsets[-1] if onsets.size else 0.0]
        n_mov = onsets.size
        styles = _draw_styles(rng, press_styles, n_mov)
        if offset_times is not None:
            durations = np.asarray(offset_times, dtype=np.float64).ravel() - onsets
            if durations.size != n_mov or np.any(~(durations >= 0.1)) or np.any(durations > room):
                raise NwbMotorValueError(
                    f"synthesize_lever_trace: offset_times must give one offset per onset ({n_mov}), each "
                    f">= 0.1 s after its onset and before the next onset, got {np.asarray(offset_times).ravel()[:5]}..."
                )
        elif press_styles is None:
            durations = rng.uniform(0.15, 2.0, onsets.size)
        else:
            durations = np.array([rng.uniform(*PRESS_STYLES[st]["duration"]) for st in styles])
        if offset_times is None:
            durations = np.minimum(durations, room - min(min_rest_s, 0.3))
            durations = np.maximum(durations, 0.15)
    else:
        if offset_times is not None:
            raise NwbMotorValueError("synthesize_lever_trace: offset_times needs onset_times")
        n_mov = int(round(movement_rate_hz * duration_s)) if n_movements is None else int(n_movements)
        if n_mov < 0:
            raise NwbMotorValueError(f"synthesize_lever_trace: n_movements must be >= 0, got {n_movements}")
        styles = _draw_styles(rng, press_styles, n_mov)
        if press_styles is None:
            # durations: mostly short presses, some long holds (150 ms - 2 s)
            durations = np.clip(rng.lognormal(math.log(0.6), 0.6, n_mov), 0.15, 2.0)
        else:
            durations = np.array([rng.uniform(*PRESS_STYLES[st]["duration"]) for st in styles])
        onsets = margin_s + _place(rng, durations, span, min_rest_s) if n_mov else np.zeros(0)

    partial = rng.random(n_mov) < partial_fraction
    amplitudes = np.where(
        partial,
        rng.uniform(0.05, 0.7 * reward_threshold, n_mov),
        reward_threshold * rng.uniform(1.3, 6.0, n_mov),
    )

    template = None
    sub = np.zeros((n_mov, 2))
    gains = np.ones(n_mov) if press_gains is None else _per_movement(press_gains, n_mov, "press_gains")
    if template_variability is not None:
        v = float(template_variability)
        if not (v >= 0):
            raise NwbMotorValueError(f"synthesize_lever_trace: template_variability must be >= 0, got {template_variability}")
        template = _phases(rng, styles[0] if styles else "typical")
        full = reward_threshold * rng.uniform(1.3, 6.0)
        amplitudes = np.where(partial, amplitudes, full * np.maximum(0.2, 1 + v * rng.normal(0.0, 0.3, n_mov)))
        sub = 0.72 * v * rng.normal(0.0, 1.0, (n_mov, 2))
        if press_modes is not None:
            sub[:, 0] = 0.72 * v * _per_movement(press_modes, n_mov, "press_modes")
    elif press_modes is not None:
        raise NwbMotorValueError("synthesize_lever_trace: press_modes needs template_variability")
    amplitudes = amplitudes * gains

    # baseline: rest level with slow drift, then presses
    trace = np.full(n, rest_level)
    onset_idx = np.round(onsets * fs).astype(np.int64)
    offsets = np.empty(n_mov)
    crossings = np.full(n_mov, np.nan)
    peaks = np.empty(n_mov)
    level = 0.0  # rest level relative to rest_level: the lever settles slightly differently each time
    for i in range(n_mov):
        shift = rng.normal(-0.3 * level, 0.002)
        y = _press_profile(rng, amplitudes[i], fs, durations[i], shift, styles[i],
                           template, None if template is None else (sub[i, 0], sub[i, 1]))
        if press_styles is not None:
            y = _to_criterion(y, fs, shift, min_press_speed)
            partial[i] = float(np.max(y)) <= reward_threshold
        peaks[i] = float(np.max(np.abs(y)))  # the real peak: plateau, tremor and second pushes
        a = onset_idx[i]
        b = min(a + y.size, n)
        trace[a:b] += level + y[: b - a]
        offsets[i] = (b - 1) / fs
        above = np.flatnonzero(y > reward_threshold)
        if above.size:
            crossings[i] = (a + above[0]) / fs
        # the new rest holds until the next movement starts
        nxt = onset_idx[i + 1] if i + 1 < n_mov else n
        trace[b:nxt] += level + shift
        level += shift

    # touches: sub-criterion bumps (< 3 mV, >= 80 ms) in the rests
    n_touch = int(round(duration_s / 20.0)) if n_touches is None else int(n_touches)
    touches = []
    busy = np.zeros(n, dtype=bool)
    for a, off in zip(onset_idx, offsets):
        busy[max(0, a - int(0.3 * fs)) : min(n, int(off * fs) + int(0.3 * fs))] = True
    for _ in range(n_touch):
        for _attempt in range(20):
            m = int(rng.uniform(0.08, 0.2) * fs)
            a = int(rng.integers(int(margin_s * fs), n - int(margin_s * fs) - m))
            if not busy[a : a + m].any():
                trace[a : a + m] += rng.uniform(0.001, 0.003) * np.sin(np.pi * np.arange(m) / m) ** 2
                busy[a : a + m] = True
                touches.append((a / fs, (a + m - 1) / fs))
                break

    # slow drift, noise and hum, added in blocks to keep memory flat
    periods = rng.uniform(float(drift_periods_s[0]), float(drift_periods_s[1]), 3)
    phases = rng.uniform(0, 2 * np.pi, 3)
    weights = rng.dirichlet(np.ones(3)) * drift_amplitude
    hum_phase = rng.uniform(0, 2 * np.pi)
    # drift (periods >= 20 s) is interpolated from a 100 Hz grid; mains hum repeats every
    # second exactly (60 and 180 Hz), so one second of it is tiled when the rate is whole
    grid = np.arange(0.0, duration_s + 0.02, 0.01)
    drift = sum(w * np.sin(2 * np.pi * grid / p + ph) for p, ph, w in zip(periods, phases, weights))
    whole = float(fs).is_integer()
    period_n = int(fs) if whole else 0
    if whole:
        t1 = np.arange(period_n) / fs
        hum_second = hum_amplitude * (np.sin(2 * np.pi * 60.0 * t1 + hum_phase) + 0.2 * np.sin(2 * np.pi * 180.0 * t1))
    block = 1 << 20
    for s in range(0, n, block):
        idx = np.arange(s, min(s + block, n))
        t = idx / fs
        seg = trace[s : s + idx.size]
        seg += np.interp(t, grid, drift)
        if whole:
            seg += hum_second[idx % period_n]
        else:
            seg += hum_amplitude * (np.sin(2 * np.pi * 60.0 * t + hum_phase) + 0.2 * np.sin(2 * np.pi * 180.0 * t))
        seg += rng.normal(0.0, noise_rms, idx.size)
    if adc_bits is not None:
        step = 2 * adc_range / 2**adc_bits
        trace /= step  # in place: no second copy of an hour of samples
        np.round(trace, out=trace)
        trace *= step
        np.clip(trace, -adc_range, adc_range, out=trace)

    truth = LeverTruth(
        onset_times=onset_idx / fs,
        offset_times=offsets,
        amplitudes=peaks,
        partial=partial,
        crossing_times=crossings,
        reward_threshold=float(reward_threshold),
        touch_times=np.asarray(touches, dtype=np.float64).reshape(-1, 2),
        rest_level=float(rest_level),
        noise_rms=float(noise_rms),
        hum_amplitude=float(hum_amplitude),
        sample_rate=fs,
        duration_s=float(duration_s),
        seed=int(seed),
        styles=np.asarray(styles, dtype=str),
    )
    return trace, truth


def _per_movement(values: ArrayLike, n: int, name: str) -> NDArray[np.float64]:
    out = np.asarray(values, dtype=np.float64).ravel()
    if out.size != n or not np.all(np.isfinite(out)):
        raise NwbMotorValueError(
            f"synthesize_lever_trace: {name} must give one finite value per movement ({n}), got {out.size} values"
        )
    return out


def _to_criterion(y: NDArray[np.float64], fs: float, shift: float, min_speed: float) -> NDArray[np.float64]:
    """``y`` scaled up about its rest so its 5 Hz low-passed peak speed is >= ``min_speed`` V/s."""
    from scipy.signal import butter, sosfiltfilt

    step = max(1, int(round(fs / 1000.0)))
    z = y[::step]
    rate = fs / step
    if z.size < 30:
        return y
    smooth = sosfiltfilt(butter(4, 5.0, fs=rate, output="sos"), np.concatenate([np.zeros(int(rate)), z, np.full(int(rate), shift)]))
    speed = float(np.max(np.abs(np.diff(smooth)))) * rate
    if speed >= min_speed or speed <= 0:
        return y
    ramp = np.linspace(0.0, 1.0, y.size)
    return y * (min_speed / speed) - (min_speed / speed - 1.0) * shift * ramp


def _draw_styles(rng: np.random.Generator, press_styles: Mapping[str, float] | None, n: int) -> list[str]:
    """The press style of each of ``n`` movements (no draw at all for the default)."""
    if press_styles is None:
        return ["typical"] * n
    names = list(press_styles)
    unknown = sorted(set(names) - set(PRESS_STYLES))
    if unknown or not names:
        raise NwbMotorValueError(
            f"synthesize_lever_trace: press_styles must name styles of {sorted(PRESS_STYLES)}, got {names}"
        )
    weights = np.asarray([float(press_styles[k]) for k in names])
    if not (np.all(np.isfinite(weights)) and np.all(weights >= 0) and weights.sum() > 0):
        raise NwbMotorValueError(
            f"synthesize_lever_trace: press_styles weights must be >= 0 and not all 0, got {dict(press_styles)}"
        )
    return [names[k] for k in rng.choice(len(names), size=n, p=weights / weights.sum())]
