"""The one calcium indicator model of the generators: GCaMP transients and Suite2p-like raw traces.

Every generator that plants calcium activity (:mod:`nwbmotor.testing._planted`,
:mod:`nwbmotor.testing._segmentation`, :mod:`nwbmotor.testing._sessions`,
:mod:`nwbmotor.testing._demo`, :mod:`nwbmotor.testing._foreign`) draws it here, so that
every planted transient has the same shape: a difference of exponentials
``(1 - exp(-t / rise)) * exp(-t / decay)`` scaled to a peak of 1, rise 50 ms and
decay 0.7 s by default (GCaMP6f/s in layer 2/3 at 28-30 Hz).

:func:`gcamp_trace` renders transients at arbitrary onset times (sub-frame precision);
:func:`gcamp_kernel` is the same shape sampled on frames, for events already on frames;
:func:`raw_traces` turns a dF/F into what Suite2p writes (``F``, ``Fneu``, ``spks``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["GCAMP_RISE_S", "GCAMP_DECAY_S", "gcamp_kernel", "gcamp_trace", "raw_traces"]

#: rise and decay time constants of a GCaMP transient, seconds
GCAMP_RISE_S = 0.05
GCAMP_DECAY_S = 0.7


def _shape(t: NDArray[np.float64], rise_s: float, decay_s: float) -> NDArray[np.float64]:
    return (1.0 - np.exp(-t / rise_s)) * np.exp(-t / decay_s)


def _peak(rise_s: float, decay_s: float) -> float:
    """Peak of the unscaled shape (at t = rise * ln(1 + decay / rise))."""
    t = rise_s * np.log1p(decay_s / rise_s)
    return float(_shape(np.array([t]), rise_s, decay_s)[0])


def gcamp_kernel(frame_rate: float, *, rise_s: float = GCAMP_RISE_S, decay_s: float = GCAMP_DECAY_S,
                 length_s: float | None = None) -> NDArray[np.float64]:
    """The transient of an event at frame 0, sampled at the frames: peak 1.

    Parameters
    ----------
    frame_rate : float
        Frames per second.
    rise_s, decay_s : float
        Time constants, seconds.
    length_s : float, optional
        Kernel length; default ``8 * decay_s``.

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> k = gcamp_kernel(28.0)
    >>> float(k[0]), int(k.argmax()) in (3, 4), bool(k.max() <= 1.0)
    (0.0, True, True)
    """
    length = 8 * decay_s if length_s is None else length_s
    t = np.arange(int(np.ceil(length * frame_rate))) / frame_rate
    return _shape(t, rise_s, decay_s) / _peak(rise_s, decay_s)


def gcamp_trace(
    onsets_s: NDArray[np.floating],
    amplitudes: NDArray[np.floating],
    n_frames: int,
    frame_rate: float,
    *,
    rise_s: float = GCAMP_RISE_S,
    decay_s: float = GCAMP_DECAY_S,
) -> NDArray[np.float64]:
    """Noise-free dF/F of GCaMP transients at the given onsets.

    Parameters
    ----------
    onsets_s : ndarray of shape (n_events,)
        Transient onset times in seconds (time 0 is frame 0).
    amplitudes : ndarray of shape (n_events,)
        Peak dF/F of each transient.
    n_frames : int
        Trace length in frames.
    frame_rate : float
        Frames per second.
    rise_s, decay_s : float
        Rise and decay time constants in seconds.

    Returns
    -------
    ndarray of shape (n_frames,)

    Examples
    --------
    >>> tr = gcamp_trace(np.array([1.0]), np.array([0.8]), 100, 28.0)
    >>> bool(abs(tr.max() - 0.8) < 0.01), int(tr.argmax()) - 28 in (2, 3, 4)
    (True, True)
    """
    t = np.arange(n_frames) / frame_rate
    out = np.zeros(n_frames)
    peak = _peak(rise_s, decay_s)
    for onset, amp in zip(np.asarray(onsets_s, dtype=np.float64), np.asarray(amplitudes, dtype=np.float64)):
        first = max(int(np.ceil(onset * frame_rate)), 0)
        last = min(n_frames, int(np.ceil((onset + 8 * decay_s) * frame_rate)))
        if last <= first:
            continue
        out[first:last] += amp * _shape(t[first:last] - onset, rise_s, decay_s) / peak
    return out


def raw_traces(
    dff: NDArray[np.floating],
    frame_rate: float,
    rng: np.random.Generator,
    *,
    baseline: tuple[float, float] = (250.0, 600.0),
    noise_sd: float = 0.05,
    neuropil_coefficient: float = 0.7,
) -> dict[str, NDArray[np.float32]]:
    """Suite2p's ``F``, ``Fneu`` and ``spks`` (ROIs × frames, float32) of a planted dF/F.

    ``F = B (1 + dF/F + noise) + c * Fneu``: a per-ROI baseline ``B`` (uniform over
    ``baseline``), white noise of ``noise_sd`` (in dF/F), and a neuropil ``Fneu`` that
    drifts slowly (period 90 s) around 150, added with the coefficient ``c`` that
    Suite2p subtracts again. ``spks`` is the non-negative rise of the planted dF/F
    times ``B`` (a deconvolution's answer).

    Parameters
    ----------
    dff : ndarray of shape (n_rois, n_frames)
    frame_rate : float
    rng : numpy.random.Generator
    baseline : (float, float)
    noise_sd : float
    neuropil_coefficient : float

    Returns
    -------
    dict
        ``F``, ``Fneu``, ``spks``.

    Examples
    --------
    >>> out = raw_traces(np.zeros((2, 50)), 28.0, np.random.default_rng(0))
    >>> out["F"].shape, out["F"].dtype
    ((2, 50), dtype('float32'))
    """
    dff = np.asarray(dff, dtype=np.float64)
    n_rois, n_frames = dff.shape
    b = np.asarray(rng.uniform(baseline[0], baseline[1], n_rois))[:, None]
    t = np.arange(n_frames) / frame_rate
    neuropil = 150.0 + 8.0 * np.sin(2 * np.pi * t / 90.0)[None, :] + rng.normal(0.0, 3.0, (n_rois, n_frames))
    F = b * (1.0 + dff + rng.normal(0.0, noise_sd, (n_rois, n_frames))) + neuropil_coefficient * neuropil
    spks = np.clip(np.diff(dff, axis=1, prepend=0.0), 0.0, None) * b
    return {"F": F.astype(np.float32), "Fneu": neuropil.astype(np.float32), "spks": spks.astype(np.float32)}
