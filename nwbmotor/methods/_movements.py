"""Lever movement detection and the trial logic built on it (Peters, Chen & Komiyama 2014).

The pure numeric core: numpy and scipy only, no pynwb, no xarray. The converters write
its output into NWB (``converters/lever/_movements_table.py``); the analysis layer wraps
it for xarray.

The lab's method (``AP_parseLeverMovement.m``; science.md A), on a lever force trace in
volts; presets ``peters2014`` and ``updated`` reproduce it exactly:

1. resample to 1 kHz (anti-aliased polyphase, the filter of MATLAB's ``resample``);
   4th-order Butterworth low-pass at 5 Hz (``butter(4, 5/500)``), zero-phase, padded as
   MATLAB's ``filtfilt`` (odd reflection of 12 samples);
2. velocity = first difference (0 first), MATLAB ``smooth(v, 5)`` (a centred 5-sample
   mean whose span shrinks at the ends); envelope = |Hilbert(velocity)| (an FFT of the
   trace's length, as MATLAB's ``hilbert``);
3. active where envelope > 0.0007 V per 1-ms sample; dilate with a 150-sample box
   (``conv2(.., ones(150,1), 'same')``: 75 samples before an active sample, 74 after);
   fill gaps with ``start - previous stop < 500`` (inclusive stop); drop runs with
   ``stop - start < 150``; drop a first run starting at the first sample and a last one
   ending at the last;
4. refine each movement: noise = MATLAB ``prctile(raw - smoothed, 99)`` of the signed
   residual over the inactive samples (``peters2014``), or its ``std`` (n - 1,
   ``updated``); from the movement's first sample ``s``, ``c = |raw - smoothed[s]| >
   |noise|``; the first sample ``k`` whose centred run of ``r`` (3 for ``peters2014``,
   10 for ``updated``; MATLAB ``conv(c, ones(r), 'same') >= r``) is all True; samples
   ``s .. s + k - floor(r / 2)`` (1-based ``k``) become inactive. Offsets the same from
   the end. A movement trimmed away from both ends disappears.

The ``nwbmotor`` preset (the default) keeps steps 1-3 and replaces step 4 by a fit
(``refinement="onset_fit"``), because the lab's onsets are off by tens to hundreds of
ms: the envelope of a big press stays above threshold up to ~0.5 s before it (its
Hilbert tails decay as 1/t), and the trim from the movement's first sample stops at the
first noise excursion, not at the press. Each onset is the hinge ``t0`` of a
least-squares fit of ``c + d t + beta max(0, t - t0)^2`` (a drifting rest, then a push
starting quadratically, as any smooth push from rest does) to the raw 1 kHz trace, up to
where the push reaches 20 % of its peak and at most 0.4 s back; offsets the same from
the end. A movement in which the lever rests (still, back at either rest level) for
``max_gap_s`` or longer is split there: such presses only joined through the envelope's
tails. On generated sessions of varied press styles (benchmarks/bench_lever_presets.py)
the ``nwbmotor`` onsets fall within 10 ms of the truth for 99 % of presses.

Trials: the rewarded movement is the movement containing the reward onset; a cued
movement starts after its trial's cue with no lever activity in the 100 ms before it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from collections.abc import Mapping
from fractions import Fraction
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError

__all__ = [
    "DEFAULT_MOVEMENT_PRESET",
    "MOVEMENT_PRESETS",
    "LeverMovements",
    "detect_movements",
    "movement_parameters",
]

DEFAULT_PRESET = "nwbmotor"

_PETERS2014: dict[str, Any] = {
    "working_rate_hz": 1000.0,  # the method runs on a 1 kHz trace; thresholds are per 1-ms sample
    "lowpass_hz": 5.0,  # butter(4, 5/500): the lab's comment says 10 Hz, the value is 5 Hz
    "lowpass_order": 4,
    "velocity_smoothing_samples": 5,
    "velocity_threshold_v_per_ms": 0.0007,
    "dilation_s": 0.075,  # a 150-sample box: 75 samples before an active sample, 74 after
    "max_gap_s": 0.5,  # gaps are filled when start - previous stop (inclusive) < 500 samples
    "min_duration_s": 0.15,  # runs are dropped when stop - start (inclusive) < 150 samples
    "noise_estimator": "p99",  # signed 99th percentile of raw - smoothed (MATLAB prctile); "std"
    "consecutive_samples": 3,
    "refinement": "lab",  # the lab's rule; "onset_fit": nwbmotor's (module docstring)
    "fit_window_s": 0.15,  # onset_fit: rest searched this far outside the epoch
    "nan_policy": "raise",  # or "interpolate": linear over NaN runs up to max_nan_gap_s
    "max_nan_gap_s": 0.01,
}

#: Named parameter sets. ``peters2014``: the lab's 2014 code (AP_parseLeverMovement.m);
#: ``updated``: the lab's later code (AP_parseLeverMovement_updated.m, 2014-10-27: noise =
#: std, 10 consecutive samples); ``nwbmotor``: the same movements (steps 1-3 of the lab's
#: code), onsets and offsets by nwbmotor's onset fit.
PRESETS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "peters2014": MappingProxyType(dict(_PETERS2014)),
        "updated": MappingProxyType({**_PETERS2014, "noise_estimator": "std", "consecutive_samples": 10}),
        "nwbmotor": MappingProxyType(
            {**_PETERS2014, "noise_estimator": "std", "consecutive_samples": 10, "refinement": "onset_fit"}
        ),
    }
)

#: The named parameter sets of :func:`detect_movements` (alias of ``PRESETS``).
MOVEMENT_PRESETS = PRESETS
DEFAULT_MOVEMENT_PRESET = DEFAULT_PRESET

_NOISE_ESTIMATORS = ("p99", "std")
_REFINEMENTS = ("lab", "onset_fit")
_NAN_POLICIES = ("raise", "interpolate")
_FIT_THRESHOLD_SD = 4.0  # onset_fit: departure = 5-sample mean beyond 4 noise levels from rest
_FIT_FRACTION = 0.2  # onset_fit: the fit window ends where the push reaches 20 % of its peak
_FIT_BACK_S = 0.4  # onset_fit: the fit window reaches this far back from the 20 % point


def movement_parameters(preset: str = DEFAULT_PRESET, **overrides: Any) -> dict[str, Any]:
    """The full, validated parameter set of a preset with overrides applied.

    Parameters
    ----------
    preset : {"nwbmotor", "peters2014", "updated"}
        Name of the parameter set in :data:`PRESETS`.
    **overrides
        Parameters to change; each must be a key of the preset.

    Returns
    -------
    dict
        Every parameter, JSON-serialisable.

    Raises
    ------
    NwbMotorValueError
        Unknown preset, unknown parameter, or a value out of range.

    Examples
    --------
    >>> movement_parameters("updated")["consecutive_samples"]
    10
    >>> movement_parameters(max_gap_s=0.3)["max_gap_s"]
    0.3
    """
    if preset not in PRESETS:
        raise NwbMotorValueError(
            f"movement detection: unknown preset {preset!r}; expected one of {sorted(PRESETS)}"
        )
    params = dict(PRESETS[preset])
    unknown = sorted(set(overrides) - set(params))
    if unknown:
        raise NwbMotorValueError(
            f"movement detection: unknown parameter(s) {unknown}; expected any of {sorted(params)}"
        )
    for key, value in overrides.items():
        default = params[key]
        if isinstance(default, bool):
            if not isinstance(value, (bool, np.bool_)):
                raise NwbMotorTypeError(
                    f"movement detection: parameter {key!r} must be True or False, got {value!r}"
                )
            value = bool(value)
        elif isinstance(default, str):
            if not isinstance(value, str):
                raise NwbMotorTypeError(
                    f"movement detection: parameter {key!r} must be a string, got {type(value).__name__}"
                )
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise NwbMotorTypeError(
                    f"movement detection: parameter {key!r} must be an integer, got {value!r}"
                )
            value = int(value)
        else:
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise NwbMotorTypeError(
                    f"movement detection: parameter {key!r} must be a number, got {value!r}"
                )
            value = float(value)
        params[key] = value
    _check_parameters(params)
    return params


def _check_parameters(p: dict[str, Any]) -> None:
    def bad(key: str, expected: str) -> NwbMotorValueError:
        return NwbMotorValueError(f"movement detection: parameter {key!r} must be {expected}, got {p[key]!r}")

    for key in ("working_rate_hz", "lowpass_hz", "velocity_threshold_v_per_ms"):
        if not (math.isfinite(p[key]) and p[key] > 0):
            raise bad(key, "a positive number")
    for key in ("dilation_s", "max_gap_s", "min_duration_s", "max_nan_gap_s", "fit_window_s"):
        if not (math.isfinite(p[key]) and p[key] >= 0):
            raise bad(key, "a number >= 0")
    if p["lowpass_hz"] >= p["working_rate_hz"] / 2:
        raise bad("lowpass_hz", f"below the Nyquist frequency of the working rate ({p['working_rate_hz'] / 2} Hz)")
    for key in ("lowpass_order", "velocity_smoothing_samples", "consecutive_samples"):
        if p[key] < 1:
            raise bad(key, "an integer >= 1")
    if p["noise_estimator"] not in _NOISE_ESTIMATORS:
        raise bad("noise_estimator", f"one of {_NOISE_ESTIMATORS}")
    if p["refinement"] not in _REFINEMENTS:
        raise bad("refinement", f"one of {_REFINEMENTS}")
    if p["nan_policy"] not in _NAN_POLICIES:
        raise bad("nan_policy", f"one of {_NAN_POLICIES}")


@dataclasses.dataclass(frozen=True, eq=False)
class LeverMovements:
    """Lever movements detected by :func:`detect_movements`.

    Attributes
    ----------
    onset_times, offset_times : ndarray of shape (n_movements,)
        Refined onset and offset of each movement, in seconds (``start_time`` + time
        from the first sample). The offset is the last sample of the movement.
    onset_samples, offset_samples : ndarray of shape (n_movements,)
        The same as indices into the input trace (input sample rate).
    peak_amplitudes : ndarray of shape (n_movements,)
        Largest absolute deflection during the movement from its rest level: the
        smoothed trace at the onset (lab presets) or the rest before the movement
        (``nwbmotor``), in volts.
    onset_working, offset_working : ndarray of int64, shape (n_movements,)
        Onset and (inclusive) offset of each movement as working-rate sample indices.
    n_working : int
        Length of the trace at the working rate.
    working_rate, sample_rate, start_time : float
        Rate of ``active`` and of the input trace (Hz); time of the first sample (s).
    noise : float
        The noise level the onsets and offsets were refined against, in volts.
    preset : str
        Name of the preset the parameters started from.
    parameters : dict
        Every parameter used (JSON-serialisable), including ``n_nan_interpolated``.
    """

    onset_times: NDArray[np.float64]
    offset_times: NDArray[np.float64]
    onset_samples: NDArray[np.int64]
    offset_samples: NDArray[np.int64]
    peak_amplitudes: NDArray[np.float64]
    onset_working: NDArray[np.int64]
    offset_working: NDArray[np.int64]
    n_working: int
    working_rate: float
    sample_rate: float
    start_time: float
    noise: float
    preset: str
    parameters: dict[str, Any]

    def __len__(self) -> int:
        return int(self.onset_times.size)

    @property
    def durations(self) -> NDArray[np.float64]:
        """Offset minus onset of each movement, in seconds."""
        return self.offset_times - self.onset_times

    @property
    def active(self) -> NDArray[np.bool_]:
        """Lever activity at the working rate (1 kHz): True inside a movement.

        Built on demand (``n_working`` bools) from the movements; sample ``k`` is at
        ``start_time + k / working_rate``. :attr:`active_intervals` is the compact form.
        """
        mask = np.zeros(self.n_working, dtype=bool)
        for on, off in zip(self.onset_working, self.offset_working):
            mask[on : off + 1] = True
        return mask

    @property
    def active_intervals(self) -> NDArray[np.int64]:
        """``(n_movements, 2)`` working-rate ``[start, stop)`` of the True runs of :attr:`active`."""
        return np.stack([self.onset_working, self.offset_working + 1], axis=1).reshape(-1, 2)

    def active_times(self) -> NDArray[np.float64]:
        """Times (s) of the samples of :attr:`active`."""
        return self.start_time + np.arange(self.n_working) / self.working_rate

    def parameters_json(self) -> str:
        """The parameters as a JSON object (keys sorted), as recorded in NWB files."""
        return json.dumps({"preset": self.preset, **self.parameters}, sort_keys=True)


def _as_trace(lever: ArrayLike, sample_rate: float) -> tuple[NDArray[np.float64], float]:
    try:
        x = np.asarray(lever, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise NwbMotorTypeError(f"movement detection: lever must be an array of numbers ({exc})") from None
    if x.ndim != 1:
        raise NwbMotorValueError(f"movement detection: lever must be one-dimensional, got shape {x.shape}")
    try:
        rate = float(sample_rate)
    except (TypeError, ValueError):
        raise NwbMotorTypeError(f"movement detection: sample_rate must be a number, got {sample_rate!r}") from None
    if not (math.isfinite(rate) and rate > 0):
        raise NwbMotorValueError(f"movement detection: sample_rate must be a positive number of Hz, got {sample_rate!r}")
    return x, rate


def _nan_problem(
    n_bad: int, first: int, longest: int, at_end: bool, n: int, rate: float, params: dict[str, Any]
) -> str | None:
    """The error message for the NaN/inf samples of a trace, or None when they may be interpolated."""
    if n_bad == 0:
        return None
    if params["nan_policy"] == "raise":
        return (
            f"movement detection: the lever trace has {n_bad} NaN/inf sample(s) of {n}, the first at "
            f"index {first} ({first / rate:.4f} s); remove them, or pass nan_policy='interpolate' "
            f"(linear across runs up to max_nan_gap_s={params['max_nan_gap_s']} s, recorded in the parameters)"
        )
    max_run = _max_nan_run(rate, params)
    if longest > max_run or at_end:
        where = "at an end of the trace" if at_end else f"of {longest} samples ({longest / rate:.4f} s)"
        return (
            f"movement detection: the lever trace has a NaN run {where}; nan_policy='interpolate' only bridges "
            f"interior runs up to max_nan_gap_s={params['max_nan_gap_s']} s ({max_run} samples). "
            f"First NaN at index {first}."
        )
    return None


def _max_nan_run(rate: float, params: dict[str, Any]) -> int:
    return int(round(params["max_nan_gap_s"] * rate))


def _interpolate_nan(x: NDArray[np.float64], bad: NDArray[np.bool_]) -> NDArray[np.float64]:
    """Linear interpolation of ``x`` over ``bad`` from its good neighbours (a copy)."""
    good = ~bad
    idx = np.arange(x.size)
    y = x.copy()
    y[bad] = np.interp(idx[bad], idx[good], x[good])
    return y


def _warn_nan(n_bad: int, first: int, stacklevel: int = 4) -> None:
    warnings.warn(
        f"movement detection: linearly interpolated {n_bad} NaN lever sample(s) (first at index {first}); "
        "recorded as n_nan_interpolated in the detection parameters",
        stacklevel=stacklevel,
    )


def _handle_nan(x: NDArray[np.float64], rate: float, params: dict[str, Any]) -> tuple[NDArray[np.float64], int]:
    bad = ~np.isfinite(x)
    n_bad = int(bad.sum())
    if n_bad == 0:
        return x, 0
    first = int(np.argmax(bad))
    longest = 0
    if params["nan_policy"] != "raise":
        starts, stops = _runs(bad)
        longest = int((stops - starts).max())
    problem = _nan_problem(n_bad, first, longest, bool(bad[0] or bad[-1]), x.size, rate, params)
    if problem:
        raise NwbMotorValueError(problem)
    y = _interpolate_nan(x, bad)
    _warn_nan(n_bad, first)
    return y, n_bad


def _runs(mask: NDArray[np.bool_]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Start (inclusive) and stop (exclusive) indices of the True runs of ``mask``."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    d = np.diff(padded)
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _resample(x: NDArray[np.float64], rate: float, working_rate: float) -> NDArray[np.float64]:
    from scipy.signal import resample_poly

    ratio = Fraction(working_rate / rate).limit_denominator(1000)
    if ratio == 1:
        return x.copy()
    if abs(float(ratio) - working_rate / rate) > 1e-9 * working_rate / rate:
        raise NwbMotorValueError(
            f"movement detection: cannot resample {rate} Hz to {working_rate} Hz by a rational factor "
            "with a denominator <= 1000"
        )
    return resample_poly(x, ratio.numerator, ratio.denominator)


def _envelope(velocity: NDArray[np.float64]) -> NDArray[np.float64]:
    """|analytic signal| of ``velocity``: MATLAB's ``hilbert`` (an FFT of the trace's own length)."""
    from scipy import fft

    n = velocity.size
    spectrum = fft.fft(velocity)
    h = np.zeros(n)
    h[0] = 1.0
    if n % 2 == 0:
        h[1 : n // 2] = 2.0
        h[n // 2] = 1.0
    else:
        h[1 : (n + 1) // 2] = 2.0
    return np.abs(fft.ifft(spectrum * h))


def _noise_level(residual: NDArray[np.float64], estimator: str) -> float:
    """Step 4's noise: MATLAB ``prctile(r, 99)`` (signed) or ``std(r)`` (n - 1)."""
    m = residual.size
    if m == 0:
        return 0.0
    if estimator == "p99":
        lower, upper, gamma = _hazen_ranks(m, 99.0)
        part = np.partition(residual, (lower, upper)) if upper > lower else np.partition(residual, lower)
        return _interpolate_ranks(float(part[lower]), float(part[upper]), gamma)
    mean = float(np.mean(residual))
    return math.sqrt(float(np.sum((residual - mean) ** 2)) / max(m - 1, 1))


def _hazen_ranks(m: int, q: float) -> tuple[int, int, float]:
    """Order statistics (0-based) and weight of MATLAB's ``prctile`` (numpy's 'hazen')."""
    pos = m * q / 100.0 - 0.5  # 0-based position of the q-th percentile
    pos = min(max(pos, 0.0), m - 1.0)
    lower = int(math.floor(pos))
    upper = min(lower + 1, m - 1)
    return lower, upper, pos - lower


def _interpolate_ranks(a: float, b: float, gamma: float) -> float:
    return a + (b - a) * gamma


def _lab_trim(raw: NDArray[np.float64], smooth: NDArray[np.float64], a: int, b: int, noise: float, n_run: int) -> int:
    """The lab's onset of the epoch ``[a, b)``: index of its first sample kept active.

    ``c = |raw - smooth[a]| > |(smooth[a] + noise) - smooth[a]|`` over the epoch; the
    first sample ``k`` whose centred run (MATLAB ``conv(c, ones(r), 'same') >= r``:
    ``[k - (r - 1 - r // 2), k + r // 2]``) is all True; samples ``a .. a + k + 1 - r // 2``
    are trimmed. ``a`` when no run exists (nothing trimmed).
    """
    ref = smooth[a]
    cut = abs((ref + noise) - ref)
    c = np.abs(raw[a:b] - ref) > cut
    before = n_run - 1 - n_run // 2
    if c.size < n_run:
        return a
    full = np.convolve(c.astype(np.int32), np.ones(n_run, dtype=np.int32), mode="valid") >= n_run
    hits = np.flatnonzero(full)
    if not hits.size:
        return a
    k = int(hits[0]) + before  # the run's centre sample in MATLAB's 'same' convention
    return a + k + 2 - n_run // 2


def _onset_fit(
    raw: NDArray[np.float64],
    mean5: NDArray[np.float64],
    a: int,
    b: int,
    lo: int,
    noise: float,
    n_run: int,
    back: int,
) -> tuple[int, float] | None:
    """nwbmotor's onset of the movement in ``[a, b)``, with rest from ``lo``; None if no departure.

    ``sign`` and ``peak``: the largest deviation of the 5-sample mean from the rest
    level before the epoch (median of ``raw[lo:a]``). ``reach``: the first sample at
    20 % of it. The onset is the hinge ``t0`` of the least-squares fit of
    ``c + d t + beta max(0, t - t0)^2`` (a drifting rest, then a push that starts
    quadratically, as any smooth push from rest does) to the raw trace over
    ``[max(lo, reach - back), reach]``, beta of the push's sign.
    """
    rest = float(np.median(raw[lo:a])) if a - lo >= 10 else float(raw[a])
    dev = mean5[a:b] - rest
    k = int(np.argmax(np.abs(dev)))
    peak = abs(float(dev[k]))
    if peak <= _FIT_THRESHOLD_SD * noise:
        return None
    sign = 1.0 if dev[k] > 0 else -1.0
    level = max(_FIT_FRACTION * peak, _FIT_THRESHOLD_SD * noise)
    reach = a + int(np.argmax(sign * dev >= level))
    start = max(lo, reach - back)
    y = raw[start : reach + 1]
    m = y.size
    if m < 8:
        return None
    t = np.arange(m, dtype=np.float64)
    basis = np.stack([np.ones(m), t - t.mean()], axis=1)
    basis /= np.linalg.norm(basis, axis=0)
    cands = np.arange(2, m - 2, dtype=np.float64)
    x = np.maximum(t[None, :] - cands[:, None], 0.0) ** 2
    x -= (x @ basis) @ basis.T  # the hinge term, the rest's level and slope projected out
    yr = y - basis @ (basis.T @ y)
    sxx = np.einsum("ij,ij->i", x, x)
    sxy = x @ yr
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = np.where((sxx > 0) & (sign * sxy > 0), sxy * sxy / sxx, -np.inf)
    best = int(np.argmax(gain))
    if not np.isfinite(gain[best]):
        return None
    return start + int(cands[best]), rest


def _first_run(mask: NDArray[np.bool_], n: int) -> int:
    """Index of the first sample that starts ``n`` consecutive True values, or -1."""
    if mask.size < n:
        return -1
    if n == 1:
        hits = np.flatnonzero(mask)
        return int(hits[0]) if hits.size else -1
    counts = np.convolve(mask.astype(np.int32), np.ones(n, dtype=np.int32), mode="valid")
    hits = np.flatnonzero(counts == n)
    return int(hits[0]) if hits.size else -1


def detect_movements(
    lever: ArrayLike,
    sample_rate: float,
    *,
    preset: str = DEFAULT_PRESET,
    start_time: float = 0.0,
    **overrides: Any,
) -> LeverMovements:
    """Detect lever movements in a lever force trace (science.md A).

    Parameters
    ----------
    lever : array_like of shape (n_samples,)
        Lever force or position in volts, as recorded. NaN or inf samples are an error
        unless ``nan_policy="interpolate"``.
    sample_rate : float
        Sample rate of ``lever`` in Hz (10 kHz on the Ephus rigs).
    preset : {"nwbmotor", "peters2014", "updated"}, default "nwbmotor"
        Starting parameter set, see :data:`PRESETS`: ``peters2014`` and ``updated`` are
        the lab's two versions of the method exactly; ``nwbmotor`` finds the same
        movements and places their onsets and offsets by a fit (module docstring).
    start_time : float, default 0.0
        Time of the first sample in the session clock, in seconds; added to every time.
    **overrides
        Any parameter of the preset (see :func:`movement_parameters`), e.g.
        ``velocity_threshold_v_per_ms=0.001`` or ``nan_policy="interpolate"``.

    Returns
    -------
    LeverMovements
        Onsets, offsets, peak amplitudes, the activity trace and every parameter used.

    Raises
    ------
    NwbMotorValueError
        NaN in the trace (naming the count and first index), an unknown preset or
        parameter, a trace that is not one-dimensional or shorter than 1 s.

    Examples
    --------
    >>> from nwbmotor.testing import synthesize_lever_trace
    >>> trace, truth = synthesize_lever_trace(30.0, n_movements=5, seed=1)
    >>> moves = detect_movements(trace, 10_000.0)
    >>> len(moves)
    5
    """
    params = movement_parameters(preset, **overrides)
    x, rate = _as_trace(lever, sample_rate)
    _check_length(x.size, rate)
    x, n_nan = _handle_nan(x, rate, params)
    params["n_nan_interpolated"] = n_nan

    wr = float(params["working_rate_hz"])
    raw = _resample(x, rate, wr)
    smooth = _smooth(raw, params)
    velocity = _velocity(smooth, params["velocity_smoothing_samples"])
    envelope = _envelope(velocity)
    run_starts, run_stops = _runs(envelope > _threshold(params))
    merger = _EpochMerger(raw.size, params)
    merger.add(run_starts, run_stops)
    starts, stops = _kept_epochs(merger.epochs(), raw.size, params)

    # the noise is taken over the samples outside the kept movements (the lab's mask
    # after short and edge runs are erased); over all samples when fewer than 10
    residual = raw - smooth
    inactive = ~_mask(np.stack([starts, stops], axis=1), raw.size)
    if inactive.sum() >= 10:
        residual = residual[inactive]
    noise = _noise_level(residual, params["noise_estimator"])

    fit = params["refinement"] == "onset_fit"
    mean5 = _mean5(raw) if fit else raw
    onsets, offsets, peaks = _refine_epochs(raw, smooth, mean5, starts, stops, noise, params, velocity=velocity)
    return _result(onsets, offsets, peaks, raw.size, x.size, rate, start_time, noise, preset, params)


def _check_length(n: int, rate: float) -> None:
    if n < rate:  # shorter than 1 s: the low-pass and the 0.5 s gap rule need room
        raise NwbMotorValueError(
            f"movement detection: the lever trace has {n} samples ({n / rate:.3f} s); at least 1 s is needed"
        )


def _lowpass_sos(params: dict[str, Any]) -> NDArray[np.float64]:
    from scipy.signal import butter

    wr = float(params["working_rate_hz"])
    return butter(params["lowpass_order"], params["lowpass_hz"], btype="low", fs=wr, output="sos")


def _filtfilt(sos: NDArray[np.float64], x: NDArray[np.float64]) -> NDArray[np.float64]:
    """Zero-phase filtering padded as MATLAB's ``filtfilt``: odd reflection of 3 x order samples."""
    from scipy.signal import sosfiltfilt

    padlen = min(3 * 2 * len(sos), x.size - 1)
    return sosfiltfilt(sos, x, padtype="odd", padlen=padlen)


def _smooth(raw: NDArray[np.float64], params: dict[str, Any]) -> NDArray[np.float64]:
    """Step 1's zero-phase low-pass of the working-rate trace."""
    return _filtfilt(_lowpass_sos(params), raw)


def _velocity(smooth: NDArray[np.float64], k: int) -> NDArray[np.float64]:
    """Step 2's velocity: first difference (0 at the first sample), MATLAB ``smooth(v, k)``.

    A centred k-sample mean whose span shrinks to 1, 3, ... samples at the ends.
    """
    d = np.diff(smooth, prepend=smooth[0])
    if k <= 1:
        return d
    v = np.convolve(d, np.ones(k) / k, mode="same")
    _velocity_ends(v, d, 0, 0, d.size)
    return v


def _velocity_ends(v: NDArray[np.float64], d: NDArray[np.float64], a: int, d0: int, n: int) -> None:
    """Set MATLAB's shrinking-span means at the trace's ends in ``v`` (samples ``a ..``).

    ``d`` holds the first differences from sample ``d0``; ``n`` is the trace length.
    """
    h = (_VELOCITY_K - 1) // 2
    for i in range(h):
        if a <= i < a + v.size:
            v[i - a] = float(np.mean(d[0 - d0 : 2 * i + 1 - d0]))
        j = n - 1 - i
        if a <= j < a + v.size and j >= h:
            v[j - a] = float(np.mean(d[n - 2 * i - 1 - d0 : n - d0]))


_VELOCITY_K = 5


def _threshold(params: dict[str, Any]) -> float:
    """Step 3's envelope threshold in volts per working sample."""
    return params["velocity_threshold_v_per_ms"] * 1000.0 / float(params["working_rate_hz"])


def _mean5(raw: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.convolve(raw, np.ones(5) / 5, mode="same")


class _EpochMerger:
    """Step 3 on intervals: dilate threshold runs and fill gaps, as the lab's code does.

    Dilation is MATLAB's ``conv2(active, ones(2 h, 1), 'same') > 0``: an active sample
    ``j`` makes ``[j - h, j + h - 1]`` active (h = 75 at 1 kHz). A gap between runs
    ``[s1, e1)`` and ``[s2, e2)`` is filled when ``s2 - (e1 - 1) < max_gap`` samples.

    Runs are added in increasing order (any number of batches, e.g. one per block of a
    long trace); a batch may start inside the previous one's last run. The merged
    epochs equal the True runs of the mask the method describes, without ever holding
    a full-length mask: memory grows with the number of epochs only.
    """

    def __init__(self, n: int, params: dict[str, Any]) -> None:
        wr = float(params["working_rate_hz"])
        self.n = int(n)
        self.half = int(round(params["dilation_s"] * wr))
        self.max_gap = int(round(params["max_gap_s"] * wr))
        self._starts: list[int] = []
        self._stops: list[int] = []

    def add(self, starts: ArrayLike, stops: ArrayLike) -> None:
        half, n, max_gap = self.half, self.n, self.max_gap
        after = max(half - 1, 0)
        s_list, e_list = self._starts, self._stops
        for s, e in zip(np.asarray(starts).tolist(), np.asarray(stops).tolist()):
            s, e = max(0, s - half), min(n, e + after)
            if e_list and (s <= e_list[-1] or s - (e_list[-1] - 1) < max_gap):
                if e > e_list[-1]:
                    e_list[-1] = e
            else:
                s_list.append(s)
                e_list.append(e)

    def epochs(self) -> NDArray[np.int64]:
        """``(n_epochs, 2)`` ``[start, stop)`` of the active epochs, sorted."""
        return np.array([self._starts, self._stops], dtype=np.int64).T.reshape(-1, 2)


def _kept_epochs(epochs: NDArray[np.int64], n: int, params: dict[str, Any]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Drop short epochs (``stop - start < min`` with an inclusive stop) and those touching an end."""
    starts, stops = epochs[:, 0], epochs[:, 1]
    keep = (stops - 1 - starts) >= int(round(params["min_duration_s"] * float(params["working_rate_hz"])))
    starts, stops = starts[keep], stops[keep]
    keep = np.ones(starts.size, dtype=bool)
    if starts.size and starts[0] == 0:
        keep[0] = False
    if stops.size and stops[-1] == n:
        keep[-1] = False
    return starts[keep], stops[keep]


def _mask(epochs: NDArray[np.int64], n: int, offset: int = 0) -> NDArray[np.bool_]:
    """Bool mask of samples ``[offset, offset + n)`` inside any of ``epochs``."""
    mask = np.zeros(n, dtype=bool)
    for a, b in np.asarray(epochs).reshape(-1, 2).tolist():
        a, b = max(a - offset, 0), min(b - offset, n)
        if b > a:
            mask[a:b] = True
    return mask


def _refine_epochs(
    raw: NDArray[np.float64],
    smooth: NDArray[np.float64],
    mean5: NDArray[np.float64],
    starts: NDArray[np.int64],
    stops: NDArray[np.int64],
    noise: float,
    params: dict[str, Any],
    limits: tuple[int, int] | None = None,
    velocity: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Step 4 for each epoch ``[start, stop)``: refined onset, offset (inclusive) and peak.

    Epochs the lab's rule trims away entirely are dropped (as in the lab's code). The
    arrays may be a window of the trace: indices are into them; ``limits`` are the stop
    of the epoch before the window's first and the start of the one after its last
    (default: the window's ends). For ``onset_fit`` the window must hold
    ``fit_window_s`` before and after each epoch (or reach the trace's end), ``mean5``
    must be the 5-sample mean of the whole trace there and ``velocity`` step 2's velocity.
    """
    n = raw.size
    lo_limit, hi_limit = (0, n) if limits is None else limits
    if params["refinement"] == "lab":
        return _refine_lab(raw, smooth, starts, stops, noise, params["consecutive_samples"])
    assert velocity is not None
    wr = float(params["working_rate_hz"])
    span = int(round(params["fit_window_s"] * wr))
    back = max(8, int(round(_FIT_BACK_S * wr)))
    min_rest = int(round(params["max_gap_s"] * wr))
    thr = _threshold(params)
    n_run = params["consecutive_samples"]
    rr, mr = raw[::-1], mean5[::-1]

    def onset(a: int, b: int, lo: int) -> tuple[int, float]:
        fit = _onset_fit(raw, mean5, a, b, lo, noise, n_run, back)
        return fit if fit is not None else (a, float(raw[a]))

    def offset(a: int, b: int, hi: int) -> tuple[int, float]:
        fit = _onset_fit(rr, mr, n - b, n - a, n - hi, noise, n_run, back)
        return (n - 1 - fit[0], fit[1]) if fit is not None else (b - 1, float(raw[b - 1]))

    onsets, offsets, peaks = [], [], []
    for i, (a, b) in enumerate(zip(starts.tolist(), stops.tolist())):
        prev = stops[i - 1] if i else lo_limit
        nxt = starts[i + 1] if i + 1 < starts.size else hi_limit
        on, rest0 = onset(a, b, max(prev, a - span, 0))
        off, rest1 = offset(a, b, min(nxt, b + span, n))
        if off <= on:
            on, off, rest0, rest1 = a, b - 1, float(raw[a]), float(raw[b - 1])
        # rests inside the epoch (the envelope's 1/t tails join big presses up to
        # ~1.5 s apart): the lever back at either rest level, still, for >= max_gap_s
        seg = slice(on, off + 1)
        peak = float(np.max(np.abs(raw[seg] - rest0)))
        tol = max(8.0 * noise, 0.05 * peak)
        quiet = (np.abs(velocity[seg]) < thr) & (
            np.minimum(np.abs(smooth[seg] - rest0), np.abs(smooth[seg] - rest1)) < tol
        )
        q_starts, q_stops = _runs(quiet)
        long = (q_stops - q_starts) >= min_rest
        pieces_on, pieces_off = [on], []
        for qs, qe in zip((q_starts[long] + on).tolist(), (q_stops[long] + on).tolist()):
            pieces_off.append(offset(pieces_on[-1], qs, qe)[0])
            pieces_on.append(onset(qe, off + 1, qs)[0])
        pieces_off.append(off)
        for p_on, p_off in zip(pieces_on, pieces_off):
            if p_off <= p_on:
                continue
            onsets.append(p_on)
            offsets.append(p_off)
            peaks.append(float(np.max(np.abs(raw[p_on : p_off + 1] - rest0))))
    return (
        np.asarray(onsets, dtype=np.int64),
        np.asarray(offsets, dtype=np.int64),
        np.asarray(peaks, dtype=np.float64),
    )


def _refine_lab(
    raw: NDArray[np.float64],
    smooth: NDArray[np.float64],
    starts: NDArray[np.int64],
    stops: NDArray[np.int64],
    noise: float,
    n_run: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """The lab's step 4 (:func:`_lab_trim` from each end); epochs trimmed away are dropped."""
    n = raw.size
    rr, sr = raw[::-1], smooth[::-1]
    onsets, offsets, peaks = [], [], []
    for a, b in zip(starts.tolist(), stops.tolist()):
        on = _lab_trim(raw, smooth, a, b, noise, n_run)
        off = n - 1 - _lab_trim(rr, sr, n - b, n - a, noise, n_run)
        if off < on:  # trimmed away from both ends: no movement left
            continue
        onsets.append(on)
        offsets.append(off)
        peaks.append(float(np.max(np.abs(raw[on : off + 1] - smooth[on]))))
    return (
        np.asarray(onsets, dtype=np.int64),
        np.asarray(offsets, dtype=np.int64),
        np.asarray(peaks, dtype=np.float64),
    )


def _result(
    onsets: NDArray[np.int64],
    offsets: NDArray[np.int64],
    peaks: NDArray[np.float64],
    n_working: int,
    n_input: int,
    rate: float,
    start_time: float,
    noise: float,
    preset: str,
    params: dict[str, Any],
) -> LeverMovements:
    wr = float(params["working_rate_hz"])
    to_input = rate / wr
    return LeverMovements(
        onset_times=start_time + onsets / wr,
        offset_times=start_time + offsets / wr,
        onset_samples=np.minimum(np.round(onsets * to_input).astype(np.int64), n_input - 1),
        offset_samples=np.minimum(np.round(offsets * to_input).astype(np.int64), n_input - 1),
        peak_amplitudes=peaks,
        onset_working=onsets,
        offset_working=offsets,
        n_working=int(n_working),
        working_rate=wr,
        sample_rate=rate,
        start_time=float(start_time),
        noise=noise,
        preset=preset,
        parameters=params,
    )
