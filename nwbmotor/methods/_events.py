"""Calcium event detection kernels (Peters et al. 2014): excitatory and inhibitory variants, on numpy traces."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from nwbmotor.methods._dff import loess_smooth
from nwbmotor.methods._matlab import matlab_loess

__all__ = [
    "EVENT_DEFAULTS",
    "EVENT_PRESETS",
    "events_excitatory",
    "events_excitatory_lab",
    "events_inhibitory",
    "events_inhibitory_lab",
]

#: Event detection variants: ``peters2014`` is the lab's ``AP_caEvents.m`` exactly
#: (:func:`events_excitatory_lab`, :func:`events_inhibitory_lab`); ``nwbmotor`` the
#: re-derivation from the paper's text (:func:`events_excitatory`,
#: :func:`events_inhibitory`, parameters :data:`EVENT_DEFAULTS`).
EVENT_PRESETS = ("peters2014", "nwbmotor")

#: Parameters of the published algorithm.
EVENT_DEFAULTS: dict[str, Any] = {
    "loess_frames": 30,
    "loess_degree": 2,
    "velocity_sd": 5.0,
    "quiet_sd": 3.0,
    "peak_search_frames": 5,
    "min_peak_sd": 3.0,
    "min_rise_sd": 2.0,
    "min_low_sd": -2.0,
    "start_sd": 1.0,
    "inhibitory_active": 3.0,
    "inhibitory_extend": 1.0,
}


def _last_below(raw: NDArray[np.floating], end: int, level: float) -> int:
    """Last index < ``end`` with ``raw < level``, or -1; searched backwards in blocks."""
    block = 64
    hi = end
    while hi > 0:
        lo = max(hi - block, 0)
        hits = np.flatnonzero(raw[lo:hi] < level)
        if hits.size:
            return lo + int(hits[-1])
        hi = lo
        block *= 4
    return -1


def events_excitatory(
    raw: NDArray[np.floating], smooth: NDArray[np.floating] | None = None, **params: Any
) -> NDArray[np.float64]:
    """Events of one excitatory trace: frames start..peak hold the amplitude, else 0.

    Parameters
    ----------
    raw : ndarray of shape (n_frames,)
        dF/F without NaN.
    smooth : ndarray of shape (n_frames,), optional
        loess(raw, 30 frames); computed if not given.
    **params
        Overrides of :data:`EVENT_DEFAULTS`.

    Returns
    -------
    ndarray of shape (n_frames,)

    Examples
    --------
    >>> from nwbmotor.testing import gcamp_trace
    >>> rng = np.random.default_rng(0)
    >>> tr = gcamp_trace(np.array([5.0]), np.array([1.0]), 400, 28.0) + rng.normal(0, .1, 400)
    >>> ev = events_excitatory(tr)
    >>> int(np.flatnonzero(ev).max()) - 140 in range(0, 6)
    True
    """
    p = {**EVENT_DEFAULTS, **params}
    raw = np.asarray(raw, dtype=np.float64)
    n = raw.size
    out = np.zeros(n)
    if n < 3:
        return out
    s = loess_smooth(raw, p["loess_frames"], degree=p["loess_degree"]) if smooth is None else smooth
    sigma = float(np.std(raw - s))
    if not sigma > 0:
        return out
    v = np.diff(s)  # v[i] = s[i+1] - s[i]
    quiet = s[:-1] < p["quiet_sd"] * sigma
    if quiet.sum() < 2:
        return out
    thr = p["velocity_sd"] * float(np.std(v[quiet]))
    above = v >= thr
    crossings = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    down = np.flatnonzero((v[1:] <= 0) & (v[:-1] > 0)) + 1  # local maxima of s
    up = np.flatnonzero((v[1:] > 0) & (v[:-1] <= 0)) + 1  # local minima of s
    last_peak = -1
    half = int(p["peak_search_frames"])
    for c in crossings:
        if c <= last_peak:
            continue
        k = np.searchsorted(down, c, side="right")
        if k == down.size:
            break
        peak0 = int(down[k])
        lo_i, hi_i = max(peak0 - half, 0), min(peak0 + half + 1, n)
        peak = lo_i + int(np.argmax(raw[lo_i:hi_i]))
        j = np.searchsorted(up, c, side="left") - 1
        low_frame = int(up[j]) if j >= 0 else 0
        low = raw[low_frame]
        last_peak = max(last_peak, peak0)
        if peak + 1 >= n:
            continue
        start = _last_below(raw, peak, low + p["start_sd"] * sigma)
        if start < 0:
            continue
        if (
            raw[peak] < p["min_peak_sd"] * sigma
            or raw[peak + 1] - low < p["min_rise_sd"] * sigma
            or low < p["min_low_sd"] * sigma
        ):
            continue
        out[start : peak + 1] = raw[peak] - low
        last_peak = max(last_peak, peak)
    return out


def events_inhibitory(
    raw: NDArray[np.floating], smooth: NDArray[np.floating] | None = None, **params: Any
) -> NDArray[np.float64]:
    """Activity of one inhibitory trace: raw dF/F on active frames, else 0.

    noise = mean |raw - s|; active where s > 3 noise, extended back to where s first
    exceeded 1 noise.

    Parameters
    ----------
    raw : ndarray of shape (n_frames,)
        dF/F without NaN.
    smooth : ndarray of shape (n_frames,), optional
        loess(raw, 30 frames); computed if not given.
    **params
        Overrides of :data:`EVENT_DEFAULTS`.

    Returns
    -------
    ndarray of shape (n_frames,)

    Examples
    --------
    >>> t = np.arange(300)
    >>> tr = np.where((t > 100) & (t < 160), 1.0, 0.0) + 0.05 * np.sin(t)
    >>> out = events_inhibitory(tr)
    >>> bool(out[130] > 0.9), bool(out[50] == 0)
    (True, True)
    """
    p = {**EVENT_DEFAULTS, **params}
    raw = np.asarray(raw, dtype=np.float64)
    s = loess_smooth(raw, p["loess_frames"], degree=p["loess_degree"]) if smooth is None else smooth
    noise = float(np.mean(np.abs(raw - s)))
    if not noise > 0:
        return np.zeros_like(raw)
    core = s > p["inhibitory_active"] * noise
    weak = s > p["inhibitory_extend"] * noise
    active = core.copy()
    # extend each active run back through the frames where s already exceeded 1 noise
    starts = np.flatnonzero(core & ~np.r_[False, core[:-1]])
    for st in starts:
        i = st - 1
        while i >= 0 and weak[i] and not active[i]:
            active[i] = True
            i -= 1
    return np.where(active, raw, 0.0)




def _sign_steps(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """MATLAB ``[0 diff(sign(x))]``."""
    return np.concatenate(([0.0], np.diff(np.sign(x))))


def events_excitatory_lab(raw: NDArray[np.floating]) -> NDArray[np.float64]:
    """Events of one excitatory trace by the lab's code (``AP_caEvents.m``, pyramidal cells).

    In MATLAB's 1-based terms: ``s = smooth(raw, 30, 'loess')``; ``v = [0 diff(s)]``,
    ``a = [0 diff(v)]``; ``sigma = std(raw - s)``; threshold ``5 std(v(s < 3 sigma))``.
    A rise is a frame where ``sign(v - threshold)`` steps from -1 to +1 with ``a > 0``;
    ``down`` / ``up`` frames where ``sign(v)`` steps +1 -> -1 with ``a < 0`` / -1 -> +1 with
    ``a > 0``. Rises after the last down or before the first up are ignored. Peak: the
    first down at or after the rise, moved to the raw maximum over its +-5 frames that lie
    in ``1 .. n-1`` (the last frame is never searched) by ``peak + argmax - 6`` (which is
    off when the window is clipped at the start; an event whose frame falls before the
    trace, where MATLAB stops with an error, is rejected). ``low`` = raw at the last up
    at or before the rise; start = the last frame ``<= peak`` with ``raw < low + sigma``.
    Rejected if the maximum < 3 sigma, ``raw(peak + 1) - low < 2 sigma``,
    ``raw(peak) < 3 sigma``, ``low < -2 sigma`` or no start. Kept events write
    ``maximum - low`` on frames start..peak, in order.

    Parameters
    ----------
    raw : ndarray of shape (n_frames,)
        dF/F without NaN (the lab sets NaN frames to 0 first).

    Returns
    -------
    ndarray of shape (n_frames,)

    Examples
    --------
    >>> from nwbmotor.testing import gcamp_trace
    >>> rng = np.random.default_rng(0)
    >>> tr = gcamp_trace(np.array([5.0]), np.array([1.0]), 400, 28.0) + rng.normal(0, .1, 400)
    >>> ev = events_excitatory_lab(tr)
    >>> int(np.flatnonzero(ev).max()) - 140 in range(0, 6)
    True
    """
    raw = np.asarray(raw, dtype=np.float64)
    n = raw.size
    out = np.zeros(n)
    if n < 31:
        return out
    s = matlab_loess(raw, 30)
    v = np.concatenate(([0.0], np.diff(s)))
    acc = np.concatenate(([0.0], np.diff(v)))
    sigma = float(np.std(raw - s, ddof=1))
    quiet = v[s < 3.0 * sigma]
    if quiet.size < 2:
        return out
    vthr = 5.0 * float(np.std(quiet, ddof=1))
    rises = np.flatnonzero((_sign_steps(v - vthr) == 2) & (acc > 0))
    steps = _sign_steps(v)
    down = np.flatnonzero((steps == -2) & (acc < 0))
    up = np.flatnonzero((steps == 2) & (acc > 0))
    if not (down.size and up.size):
        return out
    rises = rises[(rises <= down[-1]) & (rises >= up[0])]
    for r in rises.tolist():
        peak0 = int(down[np.searchsorted(down, r)])
        window = np.arange(peak0 - 5, peak0 + 6)
        window = window[(window >= 0) & (window < n - 1)]  # 1-based x > 0 & x < n
        k = int(np.argmax(raw[window]))
        top = float(raw[window[k]])
        peak = peak0 + k - 5  # MATLAB: peak_frames + (offset - 6), offset 1-based
        if peak < 0:
            continue
        low = float(raw[up[np.searchsorted(up, r, side="right") - 1]])
        below = np.flatnonzero(raw[: peak + 1] < low + sigma)
        if (
            top < 3.0 * sigma
            or raw[peak + 1] - low < 2.0 * sigma
            or raw[peak] < 3.0 * sigma
            or low < -2.0 * sigma
            or not below.size
        ):
            continue
        out[int(below[-1]) : peak + 1] = top - low
    return out


def events_inhibitory_lab(raw: NDArray[np.floating]) -> NDArray[np.float64]:
    """Activity of one inhibitory trace by the lab's code (``AP_caEvents.m``, GAD cells).

    ``s = smooth(raw, 30, 'loess')``; ``noise = mean |raw - s|``; for every run of
    ``s > 3 noise``, the frames from the start of the run of ``s > noise`` that holds it
    to the run's last frame are active (nothing is added after the 3-noise run ends);
    the output is raw dF/F on active frames, 0 elsewhere.

    Parameters
    ----------
    raw : ndarray of shape (n_frames,)
        dF/F without NaN.

    Returns
    -------
    ndarray of shape (n_frames,)

    Examples
    --------
    >>> t = np.arange(300)
    >>> tr = np.where((t > 100) & (t < 160), 1.0, 0.0) + 0.05 * np.sin(t)
    >>> out = events_inhibitory_lab(tr)
    >>> bool(out[130] > 0.9), bool(out[50] == 0)
    (True, True)
    """
    raw = np.asarray(raw, dtype=np.float64)
    n = raw.size
    out = np.zeros(n)
    if n < 31:
        return out
    s = matlab_loess(raw, 30)
    noise = float(np.mean(np.abs(raw - s)))
    t1 = s > noise
    t3 = s > 3.0 * noise
    d1 = np.diff(np.concatenate(([0], t1.astype(np.int8), [0])))
    t1_starts = np.flatnonzero(d1 == 1)
    d3 = np.diff(np.concatenate(([0], t3.astype(np.int8), [0])))
    active = np.zeros(n, dtype=bool)
    for x, y in zip(np.flatnonzero(d3 == 1).tolist(), np.flatnonzero(d3 == -1).tolist()):
        first = int(t1_starts[np.searchsorted(t1_starts, x, side="right") - 1])
        active[first:y] = True
    out[active] = raw[active]
    return out
