"""Trial logic of lever movements (science.md A): which movement of each trial counts.

Split from :mod:`nwbmotor.methods._movements` (detection), which re-exports these names.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError

__all__ = [
    "TrialMovements",
    "assign_movements_to_trials",
    "cued_rewarded_trials",
    "find_cued_movements",
    "find_rewarded_movements",
    "lever_busy_before",
]


def _times(name: str, values: ArrayLike) -> NDArray[np.float64]:
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise NwbMotorTypeError(f"{name} must be an array of times in seconds") from None
    if a.ndim != 1:
        raise NwbMotorValueError(f"{name} must be one-dimensional, got shape {a.shape}")
    return a


def _movement_times(onsets: ArrayLike, offsets: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    on, off = _times("movement onsets", onsets), _times("movement offsets", offsets)
    if on.shape != off.shape:
        raise NwbMotorValueError(f"movement onsets ({on.size}) and offsets ({off.size}) must have the same length")
    if on.size and (np.any(off < on) or np.any(np.diff(on) < 0)):
        raise NwbMotorValueError("movements must be sorted by onset, each offset >= its onset")
    return on, off



def lever_busy_before(
    onsets: ArrayLike, offsets: ArrayLike, times: ArrayLike, window_s: float = 0.1
) -> NDArray[np.bool_]:
    """Whether the lever moved in the ``window_s`` before each time: the one quiescence rule.

    A movement ``[onset, offset]`` counts when it overlaps the closed interval
    ``[t - window_s, t]``, i.e. ``onset <= t`` and ``offset >= t - window_s``. The
    cued-movement and cued-rewarded definitions both use this rule.

    Parameters
    ----------
    onsets, offsets : array_like of shape (n_movements,)
        Movement onsets and offsets in seconds.
    times : array_like of shape (n,)
        The times to test (e.g. cue onsets); NaN gives False.
    window_s : float, default 0.1
        Length of the quiescent window before each time.

    Returns
    -------
    ndarray of bool, shape (n,)

    Examples
    --------
    >>> lever_busy_before([1.0], [2.0], [2.05, 2.2, np.nan])
    array([ True, False, False])
    """
    on, off = _movement_times(onsets, offsets)
    t = _times("times", times)
    if on.size == 0 or t.size == 0:
        return np.zeros(t.size, dtype=bool)
    busy = (on[None, :] <= t[:, None]) & (off[None, :] >= t[:, None] - window_s)
    return busy.any(axis=1) & np.isfinite(t)


def cued_rewarded_trials(
    movement_onset: ArrayLike,
    cue_times: ArrayLike,
    onsets: ArrayLike,
    offsets: ArrayLike,
    *,
    quiet_before_cue_s: float = 0.1,
) -> NDArray[np.bool_]:
    """Cued-rewarded trials: the rewarded movement starts after the cue, lever quiet before it.

    Peters et al. (2014): a trial is cued-rewarded when its rewarded movement starts
    after the cue and the lever did not move in the ``quiet_before_cue_s`` before the
    cue (:func:`lever_busy_before`). This is the one definition nwbmotor uses, in the
    converters' trial tables and in the analyses alike.

    Parameters
    ----------
    movement_onset : array_like of shape (n_trials,)
        Onset of each trial's rewarded movement (NaN: not rewarded).
    cue_times : array_like of shape (n_trials,)
        Cue onset per trial (NaN: no cue).
    onsets, offsets : array_like of shape (n_movements,)
        Every detected movement of the session, in seconds.
    quiet_before_cue_s : float, default 0.1

    Returns
    -------
    ndarray of bool, shape (n_trials,)

    Examples
    --------
    >>> cued_rewarded_trials([1.2, 3.3, np.nan], [1.0, 3.1, 5.0], [1.2, 3.05], [1.5, 3.6])
    array([ True, False, False])
    """
    onset = _times("movement_onset", movement_onset)
    cue = _times("cue_times", cue_times)
    if onset.shape != cue.shape:
        raise NwbMotorValueError(
            f"movement_onset has {onset.size} values, cue_times {cue.size}; one per trial is expected"
        )
    with np.errstate(invalid="ignore"):
        after = np.isfinite(onset) & np.isfinite(cue) & (onset > cue)
    return after & ~lever_busy_before(onsets, offsets, cue, quiet_before_cue_s)

def find_rewarded_movements(
    onsets: ArrayLike, offsets: ArrayLike, reward_times: ArrayLike
) -> NDArray[np.int64]:
    """Index of the movement containing each reward onset (-1 where none, or no reward).

    The rewarded movement of a trial is the active epoch containing the reward onset;
    its onset is the last inactive sample before the reward, i.e. the movement's onset.

    Parameters
    ----------
    onsets, offsets : array_like of shape (n_movements,)
        Movement onsets and offsets in seconds, sorted.
    reward_times : array_like of shape (n_trials,)
        Reward onset per trial, NaN for unrewarded trials.

    Returns
    -------
    ndarray of int64, shape (n_trials,)

    Examples
    --------
    >>> find_rewarded_movements([1.0, 5.0], [2.0, 6.0], [1.5, float("nan"), 7.0])
    array([ 0, -1, -1])
    """
    on, off = _movement_times(onsets, offsets)
    reward = _times("reward_times", reward_times)
    out = np.full(reward.size, -1, dtype=np.int64)
    if on.size == 0:
        return out
    ok = np.isfinite(reward)
    i = np.searchsorted(on, reward[ok], side="right") - 1
    inside = (i >= 0) & (reward[ok] <= off[np.maximum(i, 0)])
    out[np.flatnonzero(ok)[inside]] = i[inside]
    return out


def find_cued_movements(
    onsets: ArrayLike,
    offsets: ArrayLike,
    cue_times: ArrayLike,
    stop_times: ArrayLike | None = None,
    *,
    quiet_before_cue_s: float = 0.1,
) -> NDArray[np.int64]:
    """Index of each trial's cued movement (-1 where none).

    A cued movement is the first movement starting after the trial's cue (and before
    ``stop_times``, when given), provided no movement is active in the
    ``quiet_before_cue_s`` before the cue.

    Parameters
    ----------
    onsets, offsets : array_like of shape (n_movements,)
        Movement onsets and offsets in seconds, sorted.
    cue_times : array_like of shape (n_trials,)
        Cue onset per trial (NaN: no cue).
    stop_times : array_like of shape (n_trials,), optional
        End of each trial; a movement starting after it is not the trial's.
    quiet_before_cue_s : float, default 0.1

    Returns
    -------
    ndarray of int64, shape (n_trials,)

    Examples
    --------
    >>> find_cued_movements([1.0, 3.05], [2.0, 4.0], [0.5, 3.1])
    array([ 0, -1])
    """
    on, off = _movement_times(onsets, offsets)
    cue = _times("cue_times", cue_times)
    stop = np.full(cue.size, np.inf) if stop_times is None else _times("stop_times", stop_times)
    if stop.shape != cue.shape:
        raise NwbMotorValueError(f"cue_times ({cue.size}) and stop_times ({stop.size}) must have the same length")
    out = np.full(cue.size, -1, dtype=np.int64)
    busy = lever_busy_before(on, off, cue, quiet_before_cue_s)
    for t, (c, s) in enumerate(zip(cue, stop)):
        if not np.isfinite(c) or busy[t]:
            continue
        j = int(np.searchsorted(on, c, side="right"))
        if j < on.size and on[j] < s:
            out[t] = j
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class TrialMovements:
    """Movements assigned to trials by :func:`assign_movements_to_trials`.

    Attributes
    ----------
    movement_onset, movement_offset : ndarray of shape (n_trials,)
        Onset/offset of each trial's rewarded movement (NaN when unrewarded, or when
        the reward fell outside every detected movement).
    rewarded_movement : ndarray of int64, shape (n_trials,)
        Index of the rewarded movement, -1 where none.
    cued_rewarded : ndarray of bool, shape (n_trials,)
        The rewarded movement is the trial's cued movement.
    trial : ndarray of int64, shape (n_movements,)
        Trial during which each movement starts, -1 outside every trial.
    rewarded, cued : ndarray of bool, shape (n_movements,)
        Per movement: it earned a reward; it is its trial's cued movement.
    """

    movement_onset: NDArray[np.float64]
    movement_offset: NDArray[np.float64]
    rewarded_movement: NDArray[np.int64]
    cued_rewarded: NDArray[np.bool_]
    trial: NDArray[np.int64]
    rewarded: NDArray[np.bool_]
    cued: NDArray[np.bool_]


def assign_movements_to_trials(
    onsets: ArrayLike,
    offsets: ArrayLike,
    *,
    start_times: ArrayLike,
    stop_times: ArrayLike,
    cue_times: ArrayLike,
    reward_times: ArrayLike,
    quiet_before_cue_s: float = 0.1,
) -> TrialMovements:
    """Trial columns from movements: rewarded movement onset/offset, cued_rewarded, and back.

    Parameters
    ----------
    onsets, offsets : array_like of shape (n_movements,)
        Movement onsets and offsets in seconds (session clock), sorted.
    start_times, stop_times, cue_times : array_like of shape (n_trials,)
        Trial start, stop and cue onset in seconds (cue NaN if none).
    reward_times : array_like of shape (n_trials,)
        Reward onset in seconds, NaN for unrewarded trials.
    quiet_before_cue_s : float, default 0.1
        Lever quiescence required before the cue for a movement to count as cued.

    Returns
    -------
    TrialMovements

    Examples
    --------
    >>> tm = assign_movements_to_trials(
    ...     [1.2, 6.0], [2.0, 6.5], start_times=[0.0, 5.0], stop_times=[4.0, 9.0],
    ...     cue_times=[1.0, 5.5], reward_times=[1.4, float("nan")])
    >>> tm.movement_onset, tm.cued_rewarded
    (array([1.2, nan]), array([ True, False]))
    >>> tm.trial, tm.rewarded, tm.cued
    (array([0, 1]), array([ True, False]), array([ True,  True]))
    """
    on, off = _movement_times(onsets, offsets)
    start, stop = _times("start_times", start_times), _times("stop_times", stop_times)
    cue, reward = _times("cue_times", cue_times), _times("reward_times", reward_times)
    n = start.size
    for name, a in (("stop_times", stop), ("cue_times", cue), ("reward_times", reward)):
        if a.size != n:
            raise NwbMotorValueError(f"{name} has {a.size} values; start_times has {n}; one per trial is expected")
    rewarded_idx = find_rewarded_movements(on, off, reward)
    cued_idx = find_cued_movements(on, off, cue, stop, quiet_before_cue_s=quiet_before_cue_s)
    has = rewarded_idx >= 0
    m_on = np.full(n, np.nan)
    m_off = np.full(n, np.nan)
    m_on[has] = on[rewarded_idx[has]]
    m_off[has] = off[rewarded_idx[has]]
    cued_rewarded = has & cued_rewarded_trials(m_on, cue, on, off, quiet_before_cue_s=quiet_before_cue_s)

    trial = np.full(on.size, -1, dtype=np.int64)
    if n and on.size:
        order = np.argsort(start, kind="stable")
        k = np.searchsorted(start[order], on, side="right") - 1
        ok = k >= 0
        cand = order[np.maximum(k, 0)]
        ok &= on < stop[cand]
        trial[ok] = cand[ok]
    rewarded = np.zeros(on.size, dtype=bool)
    rewarded[rewarded_idx[has]] = True
    cued = np.zeros(on.size, dtype=bool)
    cued[cued_idx[cued_idx >= 0]] = True
    return TrialMovements(m_on, m_off, rewarded_idx, cued_rewarded, trial, rewarded, cued)
