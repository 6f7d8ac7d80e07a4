"""One session clock: Dispatcher (state machine) time mapped onto acquisition time.

Each decoded bitcode gives one anchor: (Dispatcher time of the trial's ``bitcode``
state, acquisition time of its sync edge). Dispatcher times are mapped to the session
clock (acquisition time) by linear interpolation between consecutive anchors, so both
a steady drift and the per-trial offset are corrected; outside the anchors the fitted
slope continues from the nearest anchor. Pure numpy.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from nwbmotor._errors import NwbMotorValueError

__all__ = ["ClockAlignment", "align_clocks", "check_trial_numbers"]


def check_trial_numbers(trial_numbers: np.ndarray, times: np.ndarray, *, source: str) -> list[str]:
    """Check decoded trial numbers: repeats are an error, gaps are returned as warnings.

    Parameters
    ----------
    trial_numbers : ndarray of int
        Decoded trial numbers, in recording order.
    times : ndarray of float
        Their sync times, seconds.
    source : str
        The file or folder named in messages.

    Returns
    -------
    list of str
        One warning per gap (missing trial numbers) or decrease.

    Raises
    ------
    NwbMotorValueError
        If a trial number is decoded more than once.

    Examples
    --------
    >>> check_trial_numbers(np.array([1, 2, 4]), np.array([0.0, 9.0, 27.0]), source="x")
    ['x: no bitcode decodes trial(s) [3] (between 9.000 s and 27.000 s); those trials are aligned by the fitted clock, not by their own bitcode']
    """
    numbers = np.asarray(trial_numbers, dtype=np.int64)
    times = np.asarray(times, dtype=np.float64)
    values, counts = np.unique(numbers, return_counts=True)
    if np.any(counts > 1):
        bad = int(values[counts > 1][0])
        at = ", ".join(f"{t:.3f} s" for t in times[numbers == bad])
        raise NwbMotorValueError(
            f"{source}: channel 'Trial_number': trial {bad} is decoded {int(counts[values == bad][0])} times "
            f"(at {at}); expected each trial number once. The task may have been restarted within "
            "the recording (split the recording), the bitcode wiring may be wrong, or the sample_rate "
            "given for the channels may not be the one they were recorded at"
        )
    warnings = []
    for i in range(1, len(numbers)):
        step = numbers[i] - numbers[i - 1]
        if step > 1:
            missing = list(range(int(numbers[i - 1]) + 1, int(numbers[i])))
            shown = missing if len(missing) <= 10 else [*missing[:10], "..."]
            warnings.append(
                f"{source}: no bitcode decodes trial(s) {shown} (between {times[i - 1]:.3f} s and "
                f"{times[i]:.3f} s); those trials are aligned by the fitted clock, not by their own bitcode"
            )
        elif step < 1:
            warnings.append(
                f"{source}: trial numbers go down from {numbers[i - 1]} to {numbers[i]} at {times[i]:.3f} s"
            )
    return warnings


@dataclasses.dataclass(frozen=True)
class ClockAlignment:
    """Anchors between the Dispatcher clock and the session (acquisition) clock.

    Attributes
    ----------
    trial_numbers : ndarray of int64
        Trials that have both a bitcode and a Dispatcher ``bitcode`` state.
    dispatcher_times, session_times : ndarray of float64
        The anchors: the trial start on each clock, seconds.
    slope, intercept : float
        Least-squares fit ``session = intercept + slope * dispatcher``.
    """

    trial_numbers: np.ndarray
    dispatcher_times: np.ndarray
    session_times: np.ndarray
    slope: float
    intercept: float

    @property
    def offsets(self) -> np.ndarray:
        """Per anchor ``session - dispatcher`` time, seconds."""
        return self.session_times - self.dispatcher_times

    @property
    def drift_ppm(self) -> float:
        """How much faster the acquisition clock runs than the Dispatcher clock, ppm."""
        return (self.slope - 1.0) * 1e6

    @property
    def residuals(self) -> np.ndarray:
        """Anchor minus linear fit, seconds."""
        return self.session_times - (self.intercept + self.slope * self.dispatcher_times)

    def to_session(self, dispatcher_times: np.ndarray) -> np.ndarray:
        """Map Dispatcher times to session times (NaN stays NaN).

        Examples
        --------
        >>> a = align_clocks(np.array([1, 2]), np.array([10.0, 20.0]), np.array([1, 2]), np.array([0.0, 10.0]))
        >>> a.to_session(np.array([5.0, 15.0]))
        array([15., 25.])
        """
        t = np.asarray(dispatcher_times, dtype=np.float64)
        d, s = self.dispatcher_times, self.session_times
        out = np.interp(t, d, s)
        before, after = t < d[0], t > d[-1]
        out = np.where(before, s[0] + self.slope * (t - d[0]), out)
        out = np.where(after, s[-1] + self.slope * (t - d[-1]), out)
        return np.where(np.isnan(t), np.nan, out)

    def summary(self) -> str:
        """One sentence on the alignment, for descriptions."""
        r = self.residuals
        worst = float(np.max(np.abs(r))) * 1e3 if len(r) else 0.0
        return (
            f"Dispatcher times mapped to the acquisition clock by linear interpolation between "
            f"{len(self.trial_numbers)} trial bitcodes; fitted drift {self.drift_ppm:+.1f} ppm, "
            f"offset at the first trial {self.offsets[0]:+.6f} s, largest deviation of a bitcode "
            f"from the linear fit {worst:.3f} ms."
        )


def align_clocks(
    bitcode_trials: np.ndarray,
    bitcode_times: np.ndarray,
    dispatcher_trials: np.ndarray,
    dispatcher_starts: np.ndarray,
    *,
    max_residual: float = 0.020,
    source: str = "bitcodes",
) -> ClockAlignment:
    """Pair bitcodes with Dispatcher trials by trial number and fit the clocks.

    Parameters
    ----------
    bitcode_trials, bitcode_times : ndarray
        Decoded trial numbers and their sync times (session clock, s).
    dispatcher_trials, dispatcher_starts : ndarray
        Dispatcher trial numbers (1-based) and the start of each trial's ``bitcode``
        state (Dispatcher clock, s).
    max_residual : float, default 0.020
        A paired bitcode further than this from the linear fit means a trial number
        was mis-decoded or the files belong to different sessions: an error.
    source : str
        Named in messages.

    Returns
    -------
    ClockAlignment

    Raises
    ------
    NwbMotorValueError
        If fewer than two trials pair up, or an anchor is off the fit.

    Examples
    --------
    >>> a = align_clocks(np.array([1, 2, 3]), np.array([5.0, 15.001, 25.002]),
    ...                  np.array([1, 2, 3]), np.array([0.0, 10.0, 20.0]))
    >>> round(a.drift_ppm)
    100
    """
    bt = np.asarray(bitcode_trials, dtype=np.int64)
    btime = np.asarray(bitcode_times, dtype=np.float64)
    dt = np.asarray(dispatcher_trials, dtype=np.int64)
    dstart = np.asarray(dispatcher_starts, dtype=np.float64)
    common, ib, id_ = np.intersect1d(bt, dt, return_indices=True)
    keep = np.isfinite(dstart[id_])
    common, ib, id_ = common[keep], ib[keep], id_[keep]
    if len(common) < 2:
        raise NwbMotorValueError(
            f"{source}: only {len(common)} trial number(s) appear both in the bitcodes "
            f"({len(bt)} decoded: {bt[:5].tolist()}...) and in the Dispatcher file ({len(dt)} trials); "
            "expected at least 2 to align the clocks. Are both files from the same session?"
        )
    order = np.argsort(dstart[id_])
    d = dstart[id_][order]
    s = btime[ib][order]
    if np.any(np.diff(s) <= 0):
        raise NwbMotorValueError(
            f"{source}: bitcode times do not increase with Dispatcher trial start times; "
            "expected the same trial order on both clocks"
        )
    slope, intercept = np.polyfit(d, s, 1)
    resid = s - (intercept + slope * d)
    bad = np.flatnonzero(np.abs(resid) > max_residual)
    if len(bad):
        i = int(bad[np.argmax(np.abs(resid[bad]))])
        raise NwbMotorValueError(
            f"{source}: trial {int(common[order][i])}'s bitcode at {s[i]:.4f} s is {resid[i] * 1e3:+.1f} ms "
            f"off the clock fit of all trials (allowed {max_residual * 1e3:.0f} ms); a mis-decoded trial "
            "number, or files from different sessions"
        )
    return ClockAlignment(common[order], d, s, float(slope), float(intercept))
