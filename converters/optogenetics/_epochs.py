"""Light epochs from Dispatcher states and the Opto TTL: pure numpy, no pynwb.

An epoch is one period of light: a trial's ``opto_on`` state, an ITI pulse train of an
identification session (``iti2``), or, without a Dispatcher, one train of TTL pulses.
When the TTL was recorded, each epoch's pulse length, period and count are measured
from the pulses that fall in it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nwbmotor._errors import NwbMotorValueError

__all__ = ["LightEpochs", "pulse_trains", "measure_epochs", "epochs_from_states"]

#: Pulses whose rising edge lies this close outside an epoch still belong to it (s).
EDGE_TOLERANCE_S = 0.05


@dataclasses.dataclass(frozen=True, eq=False)
class LightEpochs:
    """Light epochs, in session time (s).

    Attributes
    ----------
    start, stop : ndarray of shape (n,)
    kind : ndarray of str
        ``"trial"`` (a trial's ``opto_on`` state), ``"identification"`` (a pulse train in
        the ITI, ``iti2``), ``"ttl"`` (a TTL pulse train with no Dispatcher state), or
        ``"given"`` (passed in by the caller).
    trial_number : ndarray of int64
        Dispatcher trial number (1-based), -1 when none.
    n_pulses : ndarray of int64
        TTL pulses in the epoch (-1 when the TTL was not recorded).
    pulse_length_ms, period_ms : ndarray of float
        Median pulse length and pulse period measured from the TTL (NaN when not measured,
        period NaN for a single pulse).
    """

    start: NDArray[np.float64]
    stop: NDArray[np.float64]
    kind: NDArray[np.str_]
    trial_number: NDArray[np.int64]
    n_pulses: NDArray[np.int64]
    pulse_length_ms: NDArray[np.float64]
    period_ms: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.start.size)


def _edges(rising: ArrayLike, falling: ArrayLike, source: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Paired rising/falling edges (a pulse still high at the end is dropped)."""
    r = np.asarray(rising, dtype=np.float64).ravel()
    f = np.asarray(falling, dtype=np.float64).ravel()
    if np.any(np.diff(r) <= 0) or np.any(np.diff(f) <= 0):
        raise NwbMotorValueError(f"{source}: TTL edge times must increase strictly")
    if f.size and r.size and f[0] < r[0]:  # the recording started during a pulse
        f = f[1:]
    n = min(r.size, f.size)
    r, f = r[:n], f[:n]
    if np.any(f < r):
        raise NwbMotorValueError(f"{source}: TTL rising and falling edges do not alternate")
    return r, f


def pulse_trains(
    rising: ArrayLike, falling: ArrayLike, *, max_gap_s: float = 0.5, source: str = "Opto TTL"
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Group TTL pulses into trains: pulses less than ``max_gap_s`` apart form one train.

    Parameters
    ----------
    rising, falling : array_like
        Edge times of the TTL pulses, in seconds.
    max_gap_s : float, default 0.5
        Largest gap between the end of one pulse and the start of the next within a train.

    Returns
    -------
    start, stop : ndarray
        First rising and last falling edge of each train.

    Examples
    --------
    >>> pulse_trains([1.0, 1.05, 1.1, 5.0], [1.01, 1.06, 1.11, 5.01])
    (array([1., 5.]), array([1.11, 5.01]))
    """
    r, f = _edges(rising, falling, source)
    if r.size == 0:
        return np.zeros(0), np.zeros(0)
    breaks = np.flatnonzero(r[1:] - f[:-1] > max_gap_s) + 1
    first = np.r_[0, breaks]
    last = np.r_[breaks - 1, r.size - 1]
    return r[first], f[last]


def measure_epochs(
    start: ArrayLike,
    stop: ArrayLike,
    rising: ArrayLike | None,
    falling: ArrayLike | None,
    *,
    kind: Sequence[str] | str = "given",
    trial_number: ArrayLike | None = None,
    source: str = "Opto TTL",
) -> tuple[LightEpochs, NDArray[np.bool_]]:
    """Epochs with pulse length, period and count measured from the TTL pulses inside each.

    Parameters
    ----------
    start, stop : array_like of shape (n,)
        Epoch bounds in seconds.
    rising, falling : array_like or None
        TTL edges (None: the TTL was not recorded).
    kind : str or sequence of str
    trial_number : array_like of int, optional

    Returns
    -------
    epochs : LightEpochs
    used : ndarray of bool
        Per TTL pulse, whether it fell in some epoch (all True without TTL).

    Examples
    --------
    >>> e, used = measure_epochs([1.0], [2.0], [1.0, 1.05, 1.1], [1.01, 1.06, 1.11])
    >>> int(e.n_pulses[0]), round(float(e.pulse_length_ms[0]), 6), round(float(e.period_ms[0]), 6)
    (3, 10.0, 50.0)
    """
    a = np.asarray(start, dtype=np.float64).ravel()
    b = np.asarray(stop, dtype=np.float64).ravel()
    if a.shape != b.shape or np.any(~np.isfinite(a)) or np.any(~np.isfinite(b)) or np.any(b < a):
        raise NwbMotorValueError(f"{source}: epoch starts/stops must be finite pairs with stop >= start")
    n = a.size
    kinds = np.array([kind] * n if isinstance(kind, str) else list(kind), dtype=str)
    trials = np.full(n, -1, dtype=np.int64) if trial_number is None else np.asarray(trial_number, dtype=np.int64)
    count = np.full(n, -1, dtype=np.int64)
    length = np.full(n, np.nan)
    period = np.full(n, np.nan)
    if rising is None or falling is None:
        used = np.zeros(0, dtype=bool)
    else:
        r, f = _edges(rising, falling, source)
        used = np.zeros(r.size, dtype=bool)
        for i in range(n):
            inside = (r >= a[i] - EDGE_TOLERANCE_S) & (r <= b[i] + EDGE_TOLERANCE_S)
            used |= inside
            k = int(inside.sum())
            count[i] = k
            if k:
                length[i] = float(np.median(f[inside] - r[inside]) * 1000.0)
            if k > 1:
                period[i] = float(np.median(np.diff(r[inside])) * 1000.0)
    order = np.argsort(a, kind="stable")
    epochs = LightEpochs(a[order], b[order], kinds[order], trials[order], count[order], length[order], period[order])
    return epochs, used


def epochs_from_states(
    trial_states: Sequence[dict[str, NDArray[np.float64]]],
    state: str,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """Every row of a Dispatcher state over the trials: start, stop, trial number (1-based).

    Examples
    --------
    >>> states = [{"opto_on": np.zeros((0, 2))}, {"opto_on": np.array([[3.0, 4.0]])}]
    >>> epochs_from_states(states, "opto_on")
    (array([3.]), array([4.]), array([2]))
    """
    starts, stops, trials = [], [], []
    for i, st in enumerate(trial_states):
        rows = np.asarray(st.get(state, np.zeros((0, 2))), dtype=np.float64).reshape(-1, 2)
        for a, b in rows:
            if np.isfinite(a) and np.isfinite(b):
                starts.append(a)
                stops.append(b)
                trials.append(i + 1)
    return np.asarray(starts, dtype=np.float64), np.asarray(stops, dtype=np.float64), np.asarray(trials, dtype=np.int64)
