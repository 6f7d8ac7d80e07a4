"""Microscope frame pulses: frame times, the dropped/extra frame report, event→frame mapping.

Pure numpy. Frame starts are rising edges of the ``Frame`` channel above 2.5 V.
"""

from __future__ import annotations

import numpy as np

from nwbmotor._errors import NwbMotorValueError

__all__ = ["check_frame_times", "frame_report", "map_to_frames", "map_to_regular_frames"]


def check_frame_times(frame_times: np.ndarray, *, source: str) -> np.ndarray:
    """Return ``frame_times`` as float64 after checking they strictly increase.

    Raises
    ------
    NwbMotorValueError
        At the first frame time that is not later than the one before, or on NaN.

    Examples
    --------
    >>> check_frame_times(np.array([0.0, 0.1, 0.2]), source="x")
    array([0. , 0.1, 0.2])
    """
    t = np.asarray(frame_times, dtype=np.float64)
    if t.ndim != 1:
        raise NwbMotorValueError(f"{source}: frame times must be 1-D; got shape {t.shape}")
    if np.any(~np.isfinite(t)):
        i = int(np.flatnonzero(~np.isfinite(t))[0])
        raise NwbMotorValueError(f"{source}: frame time {i} is {t[i]}; expected finite times")
    bad = np.flatnonzero(np.diff(t) <= 0)
    if len(bad):
        i = int(bad[0]) + 1
        raise NwbMotorValueError(
            f"{source}: frame pulses are not monotonic: frame {i} at {t[i]:.6f} s is not after frame "
            f"{i - 1} at {t[i - 1]:.6f} s ({len(bad)} such place(s)); expected strictly increasing frame times"
        )
    return t


def frame_report(frame_times: np.ndarray, n_movie_frames: int | None = None) -> dict[str, object]:
    """Count frame pulses against the movie and look for gaps.

    Parameters
    ----------
    frame_times : ndarray of shape (n_pulses,)
        Strictly increasing frame start times, s.
    n_movie_frames : int, optional
        Frames in the movie.

    Returns
    -------
    dict
        ``n_pulses``, ``n_movie_frames``, ``extra_pulses`` (pulses minus movie frames, so
        negative means the movie has frames without a pulse), ``frame_period`` (median, s),
        ``n_long_intervals`` (intervals > 1.5 periods: pulses missing in the channel) and
        ``text``, a sentence for the file.

    Examples
    --------
    >>> frame_report(np.arange(10) / 28.0, 12)["extra_pulses"]
    -2
    """
    t = np.asarray(frame_times, dtype=np.float64)
    n = len(t)
    period = float(np.median(np.diff(t))) if n > 1 else float("nan")
    n_long = int(np.sum(np.diff(t) > 1.5 * period)) if n > 2 else 0
    text = f"{n} frame pulses"
    if n > 1:
        text += f" ({1 / period:.3f} frames/s, first at {t[0]:.4f} s, last at {t[-1]:.4f} s)"
    if n_long:
        text += f"; {n_long} interval(s) longer than 1.5 frame periods (pulses missing)"
    extra = None
    if n_movie_frames is not None:
        extra = n - int(n_movie_frames)
        if extra == 0:
            text += f"; the movie has {n_movie_frames} frames: counts match"
        elif extra > 0:
            text += f"; the movie has {n_movie_frames} frames: {extra} extra pulse(s) (dropped movie frames)"
        else:
            text += f"; the movie has {n_movie_frames} frames: {-extra} movie frame(s) without a pulse"
    else:
        text += "; no movie frame count was given to compare"
    return {
        "n_pulses": n,
        "n_movie_frames": n_movie_frames,
        "extra_pulses": extra,
        "frame_period": period,
        "n_long_intervals": n_long,
        "text": text + ".",
    }


def map_to_frames(event_times: np.ndarray, frame_times: np.ndarray) -> np.ndarray:
    """Index of the frame whose start is nearest each event (ties go to the earlier frame).

    Events more than half a frame period before the first or after the last frame, and
    NaN events, get -1.

    Parameters
    ----------
    event_times : ndarray
        Session times, s.
    frame_times : ndarray of shape (n_frames,)
        Strictly increasing frame start times, s.

    Returns
    -------
    ndarray of int64, same shape as ``event_times``

    Examples
    --------
    >>> map_to_frames(np.array([0.04, 0.06, np.nan, 5.0]), np.array([0.0, 0.1, 0.2]))
    array([ 0,  1, -1, -1])
    """
    e = np.asarray(event_times, dtype=np.float64)
    f = np.asarray(frame_times, dtype=np.float64)
    out = np.full(e.shape, -1, dtype=np.int64)
    if len(f) == 0:
        return out
    half = 0.5 * (float(np.median(np.diff(f))) if len(f) > 1 else np.inf)
    ok = np.isfinite(e) & (e >= f[0] - half) & (e <= f[-1] + half)
    j = np.clip(np.searchsorted(f, e[ok], side="left"), 1, max(len(f) - 1, 1))
    if len(f) == 1:
        out[ok] = 0
        return out
    left, right = f[j - 1], f[j]
    choose_right = (e[ok] - left) > (right - e[ok])
    out[ok] = np.where(choose_right, j, j - 1)
    return out


def map_to_regular_frames(event_times: np.ndarray, start: float, step: float, n_frames: int) -> np.ndarray:
    """:func:`map_to_frames` for frames at ``start + i * step`` (i < ``n_frames``), without their times.

    The same rule (nearest frame start, ties to the earlier frame, -1 for NaN and for
    events more than half a period outside), computed from the frame positions next to
    each event, so a regularly sampled series of any length costs O(number of events).

    Examples
    --------
    >>> map_to_regular_frames(np.array([0.04, 0.06, np.nan, 5.0]), 0.0, 0.1, 3)
    array([ 0,  1, -1, -1])
    """
    e = np.asarray(event_times, dtype=np.float64)
    out = np.full(e.shape, -1, dtype=np.int64)
    n = int(n_frames)
    if n <= 0:
        return out
    start, step = float(start), float(step)
    if n == 1:
        out[np.isfinite(e)] = 0
        return out
    half = 0.5 * step
    last = start + (n - 1) * step
    ok = np.isfinite(e) & (e >= start - half) & (e <= last + half)
    x = e[ok]
    # searchsorted(side="left") on the grid: the first frame at or after the event, checked
    # against the grid's own values so that rounding of (x - start) / step cannot move it
    j = np.ceil((x - start) / step).astype(np.int64)
    j = np.where(start + (j - 1) * step >= x, j - 1, j)
    j = np.where(start + j * step < x, j + 1, j)
    j = np.clip(j, 1, n - 1)
    left, right = start + (j - 1) * step, start + j * step
    out[ok] = np.where((x - left) > (right - x), j, j - 1)
    return out
