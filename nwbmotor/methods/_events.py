"""Calcium event detection kernels (Peters et al. 2014): excitatory and inhibitory variants, on numpy traces."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from nwbmotor.methods._dff import loess_smooth

__all__ = ["EVENT_DEFAULTS", "events_excitatory", "events_inhibitory"]

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


