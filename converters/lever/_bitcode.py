"""Rising edges of TTL channels and the rig's 12-bit trial-number bitcode.

Pure numpy: every function takes arrays (or array-likes with slicing, such as
``numpy.memmap``) and returns arrays, so it is testable without files.

The bitcode (formats.md, "Trial bitcode"): binarize at 2 V; a rising edge more than
125 ms after the previous rising edge (and the first edge) is a sync pulse; bit ``k``
(k = 1..12, most significant first) is 1 when a rising edge falls in
``[sync + 7.5 ms + (k-1)·pitch, sync + 7.5 ms + k·pitch)``. The nominal pitch is 10 ms;
the state machine loses time per state, so real pitches are 10-10.2 ms: with the
default 10 ms windows every pitch up to ~10.6 ms decodes correctly.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError

__all__ = ["Bitcodes", "decode_bitcode_edges", "decode_bitcodes", "falling_edges", "pulse_edges", "rising_edges"]

_CHUNK = 1 << 22


def pulse_edges(trace: Any, threshold: float, *, chunk: int = _CHUNK) -> tuple[np.ndarray, np.ndarray]:
    """Rising and falling edges of ``trace`` in one pass (see :func:`rising_edges`).

    Returns
    -------
    rising, falling : ndarray of int64
        Index of the first sample above threshold of each pulse, and of the first
        sample at or below it after each pulse.

    Examples
    --------
    >>> pulse_edges(np.array([0, 5, 5, 0, 0, 5.0]), 2.0)
    (array([1, 5]), array([3]))
    """
    n = len(trace)
    rising: list[np.ndarray] = []
    falling: list[np.ndarray] = []
    prev = False  # the sample before the first counts as low
    for start in range(0, n, chunk):
        block = np.asarray(trace[start : start + chunk], dtype=np.float64)
        high = block > threshold  # NaN compares False: padded samples are low
        before = np.concatenate(([prev], high[:-1]))
        rising.append(np.flatnonzero(high & ~before) + start)
        falling.append(np.flatnonzero(~high & before) + start)
        prev = bool(high[-1]) if len(high) else prev
    if not rising:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rising).astype(np.int64), np.concatenate(falling).astype(np.int64)


def rising_edges(trace: Any, threshold: float, *, chunk: int = _CHUNK) -> np.ndarray:
    """Sample indices where ``trace`` goes from ``<= threshold`` to ``> threshold``.

    The trace is read in chunks, so a ``numpy.memmap`` of any length works in constant
    memory. NaN counts as low. A trace that starts high has an edge at sample 0.

    Parameters
    ----------
    trace : array-like of shape (n_samples,)
        Volts.
    threshold : float
        Volts.

    Returns
    -------
    ndarray of int64
        Index of the first sample above threshold of each pulse.

    Examples
    --------
    >>> rising_edges(np.array([0, 5, 5, 0, 0, 5.0]), 2.0)
    array([1, 5])
    """
    return pulse_edges(trace, threshold, chunk=chunk)[0]


def falling_edges(trace: Any, threshold: float, *, chunk: int = _CHUNK) -> np.ndarray:
    """Sample indices of the first sample ``<= threshold`` after a high run.

    Examples
    --------
    >>> falling_edges(np.array([0, 5, 5, 0, 0, 5.0]), 2.0)
    array([3])
    """
    return pulse_edges(trace, threshold, chunk=chunk)[1]


@dataclasses.dataclass(frozen=True)
class Bitcodes:
    """Decoded trial bitcodes of one acquisition channel.

    Attributes
    ----------
    times : ndarray of shape (n_codes,)
        Time of each sync edge, in seconds of the acquisition clock (the trial start).
    trial_numbers : ndarray of int64, shape (n_codes,)
        The decoded trial numbers.
    problems : tuple of str
        Human-readable notes on edges that could not be decoded (a code cut by the end
        of the recording, stray edges outside every bit window).
    """

    times: np.ndarray
    trial_numbers: np.ndarray
    problems: tuple[str, ...] = ()


def decode_bitcode_edges(
    edge_times: np.ndarray,
    *,
    end_time: float = np.inf,
    n_bits: int = 12,
    sync_gap: float = 0.125,
    bit_offset: float = 0.0075,
    bit_pitch: float = 0.010,
) -> Bitcodes:
    """Decode trial numbers from the rising-edge times of a bitcode channel.

    Parameters
    ----------
    edge_times : ndarray of shape (n_edges,)
        Rising-edge times in seconds, increasing.
    end_time : float
        Time of the end of the recording; a code whose bit windows run past it is
        dropped and reported in ``problems``.
    n_bits, sync_gap, bit_offset, bit_pitch
        The code's layout (seconds); defaults are the rig's.

    Returns
    -------
    Bitcodes

    Examples
    --------
    >>> sync = 1.0
    >>> edges = np.array([sync, sync + 0.11, sync + 0.12])  # bits 11 and 12 set -> 3
    >>> decode_bitcode_edges(edges).trial_numbers
    array([3])
    """
    edge_times = np.asarray(edge_times, dtype=np.float64)
    if len(edge_times) == 0:
        return Bitcodes(np.zeros(0), np.zeros(0, np.int64), ())
    gaps = np.diff(edge_times, prepend=-np.inf)
    sync_idx = np.flatnonzero(gaps > sync_gap)
    times, numbers, problems = [], [], []
    window_end = bit_offset + n_bits * bit_pitch
    for j, si in enumerate(sync_idx):
        sync = edge_times[si]
        stop = sync_idx[j + 1] if j + 1 < len(sync_idx) else len(edge_times)
        rel = edge_times[si + 1 : stop] - sync
        if sync + window_end > end_time:
            problems.append(f"the code at {sync:.4f} s is cut by the end of the recording; dropped")
            continue
        k = np.floor((rel - bit_offset) / bit_pitch).astype(np.int64)  # 0-based bit index
        inside = (k >= 0) & (k < n_bits)
        if not np.all(inside):
            problems.append(
                f"the code at {sync:.4f} s has {int(np.sum(~inside))} edge(s) outside its bit windows; ignored"
            )
        value = 0
        for b in np.unique(k[inside]):
            value |= 1 << (n_bits - 1 - int(b))
        times.append(sync)
        numbers.append(value)
    return Bitcodes(np.asarray(times, dtype=np.float64), np.asarray(numbers, dtype=np.int64), tuple(problems))


def decode_bitcodes(
    trace: Any,
    sample_rate: float,
    *,
    threshold: float = 2.0,
    start_time: float = 0.0,
    **layout: float,
) -> Bitcodes:
    """Decode the trial bitcodes of a bitcode channel in volts.

    Parameters
    ----------
    trace : array-like of shape (n_samples,)
        The ``Trial_number`` / ``trace_1`` channel, volts.
    sample_rate : float
        Hz.
    threshold : float, default 2.0
        Binarization threshold, volts.
    start_time : float, default 0.0
        Time of sample 0, seconds.
    **layout
        ``n_bits``, ``sync_gap``, ``bit_offset``, ``bit_pitch`` of
        :func:`decode_bitcode_edges`.

    Returns
    -------
    Bitcodes
        Sync times are the times of the first sample above threshold.

    Raises
    ------
    NwbMotorValueError
        If ``sample_rate`` is not positive.

    Examples
    --------
    >>> fs = 10_000.0
    >>> x = np.zeros(int(0.5 * fs))
    >>> for t in (0.1, 0.1 + 0.12):  # sync, then bit 12 -> trial 1
    ...     x[int(t * fs):int((t + 0.005) * fs)] = 5.0
    >>> decode_bitcodes(x, fs).trial_numbers
    array([1])
    """
    if not sample_rate > 0:
        raise NwbMotorValueError(f"sample_rate must be positive; got {sample_rate!r}")
    edges = rising_edges(trace, threshold)
    return decode_bitcode_edges(
        start_time + edges / float(sample_rate), end_time=start_time + len(trace) / float(sample_rate), **layout
    )
