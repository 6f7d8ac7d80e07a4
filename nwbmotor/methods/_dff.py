"""Numpy cores of the dF/F baseline and of the loess smoother (Peters et al. 2014).

Shared by the Suite2p converter (which writes DfOverF) and by the analysis layer
(:func:`nwbmotor.analysis.compute_dff`, :func:`nwbmotor.analysis.detect_events`), so it
imports neither pynwb nor xarray.

Baseline algorithm, per ROI, iterated until the set of excluded frames stops changing
(fewer than 0.1 % of frames change, at most 5 rounds):

1. moving baseline: mean of the not-excluded frames in a centred 1-min window
   (truncated at the ends of the recording); excluded frames are filled by linear
   interpolation;
2. residual = F - baseline, smoothed with loess (30 frames);
3. mode and sigma of the smoothed residual by a one-component Gaussian fitted to its
   histogram (around the peak, so transients do not bias it);
4. frames above mode + 2 sigma are active; padded by 2.5 s they are excluded.

The final baseline is the moving baseline plus the mode offset;
dF/F = (F - B) / B. An ROI with >= 95 % active frames, any NaN, or a non-positive
baseline is marked invalid.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.methods._matlab import matlab_loess, matlab_moving_mean

__all__ = ["DFF_PRESETS", "dff_from_fluorescence", "dff_lab", "loess_smooth"]

#: Named parameter sets of the baseline. ``peters2014`` is the lab's
#: ``AP_baselineEstimation.m`` exactly (:func:`dff_lab`; its values are fixed, listed for
#: the record); ``nwbmotor`` the iterative re-derivation of :func:`dff_from_fluorescence`.
DFF_PRESETS: dict[str, dict[str, Any]] = {
    "peters2014": {
        "baseline_window_s": 60.0,
        "loess_frames": 30,
        "active_sd": 2.0,
        "pad_s": 1.25,
        "iterations": 2,
        "max_active_fraction": 0.95,
    },
    "nwbmotor": {
        "baseline_window_s": 60.0,
        "loess_frames": 30,
        "loess_degree": 2,
        "active_sd": 2.0,
        "pad_s": 2.5,
        "max_iterations": 5,
        "convergence_fraction": 0.001,
        "max_active_fraction": 0.95,
        "histogram_bins": 200,
    },
}


# --------------------------------------------------------------------------- loess


def _tricube(d: NDArray[np.float64]) -> NDArray[np.float64]:
    d = np.clip(np.abs(d), 0.0, 1.0)
    return (1.0 - d**3) ** 3


def _fit_row(offsets: NDArray[np.float64], degree: int) -> NDArray[np.float64]:
    """Weights that give the local polynomial's value at offset 0 from window values."""
    scale = np.abs(offsets).max() + 1.0
    w = _tricube(offsets / scale)
    x = np.vander(offsets, degree + 1, increasing=True)
    xtw = x.T * w
    # value at 0 = first coefficient of (X' W X)^-1 X' W y
    return np.linalg.solve(xtw @ x, xtw)[0]


@lru_cache(maxsize=32)
def _loess_kernels(window: int, degree: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Interior kernel (length ``window``) and the left-edge rows (half, window)."""
    half = window // 2
    offsets = np.arange(-half, half + 1, dtype=np.float64)
    interior = _fit_row(offsets, degree)
    # near the left edge the window is shifted to keep ``window`` points (as MATLAB does)
    edges = np.empty((half, window))
    for i in range(half):
        edges[i] = _fit_row(np.arange(window, dtype=np.float64) - i, degree)
    return interior, edges


def loess_smooth(
    y: NDArray[np.floating], span: int = 30, *, degree: int = 2, axis: int = -1
) -> NDArray[np.float64]:
    """Smooth by local polynomial regression with tricube weights (loess).

    Each sample is replaced by the value at that sample of a polynomial of ``degree``
    fitted by weighted least squares to ``span`` neighbouring samples (``span`` is
    rounded up to an odd window). Near the ends the window is shifted so that it keeps
    its length, as MATLAB's ``smooth(y, span, 'loess')`` does. The interior is one
    convolution, so the cost is that of a 31-tap filter.

    Parameters
    ----------
    y : ndarray
        Samples; must not contain NaN.
    span : int
        Number of samples in each local fit (30 in Peters et al. 2014).
    degree : {1, 2}
        Local polynomial degree: 2 is MATLAB's ``loess``, 1 its ``lowess``.
    axis : int
        Axis along which to smooth.

    Returns
    -------
    ndarray
        Smoothed samples, same shape as ``y``, float64.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(200.0)
    >>> bool(np.allclose(loess_smooth(0.5 * t**2 - t), 0.5 * t**2 - t))
    True
    """
    if degree not in (1, 2):
        raise NwbMotorValueError(f"loess_smooth: degree must be 1 or 2, got {degree!r}")
    if int(span) < 3:
        raise NwbMotorValueError(f"loess_smooth: span must be >= 3 samples, got {span!r}")
    y = np.asarray(y, dtype=np.float64)
    y = np.moveaxis(y, axis, -1)
    n = y.shape[-1]
    window = int(span) | 1  # odd
    window = min(window, n if n % 2 else n - 1)
    if window <= degree + 1:
        return np.moveaxis(y.copy(), -1, axis)  # type: ignore[arg-type]
    interior, edges = _loess_kernels(window, degree)
    out = ndimage.correlate1d(y, interior, axis=-1, mode="constant")
    half = window // 2
    if half:
        out[..., :half] = y[..., :window] @ edges.T
        out[..., n - half :] = (y[..., n - window :][..., ::-1] @ edges.T)[..., ::-1]
    return np.moveaxis(out, -1, axis)


# --------------------------------------------------------------------------- baseline


def _moving_mean_on(
    f: NDArray[np.float64], keep: NDArray[np.bool_], window: int
) -> NDArray[np.float64]:
    """Mean over kept frames in a centred window; frames with none kept are interpolated."""
    num = ndimage.uniform_filter1d(np.where(keep, f, 0.0), window, axis=-1, mode="constant")
    den = ndimage.uniform_filter1d(keep.astype(np.float64), window, axis=-1, mode="constant")
    ok = keep & (den > 1e-9)
    base = np.empty_like(f)
    frames = np.arange(f.shape[-1])
    for i in range(f.shape[0]):
        good = ok[i]
        if good.all():
            base[i] = num[i] / den[i]
        elif good.any():
            base[i] = np.interp(frames, frames[good], num[i, good] / den[i, good])
        else:
            base[i] = np.nanmedian(f[i]) if np.isfinite(f[i]).any() else np.nan
    return base


def _gaussian_mode(x: NDArray[np.float64], bins: int) -> tuple[float, float]:
    """Mode and sigma of ``x`` from a Gaussian fitted to the peak of its histogram."""
    lo, hi = np.percentile(x, [0.5, 99.5])
    if not hi > lo:
        return float(np.median(x)), float(max(np.std(x), 1e-12))  # type: ignore[arg-type]
    counts, edges = np.histogram(x, bins=bins, range=(lo, hi))
    centres = 0.5 * (edges[1:] + edges[:-1])
    peak = int(np.argmax(counts))
    top = counts >= 0.2 * counts[peak]
    # the contiguous run of bins around the peak above 20 % of it
    left = peak
    while left > 0 and top[left - 1]:
        left -= 1
    right = peak
    while right < bins - 1 and top[right + 1]:
        right += 1
    sel = slice(left, right + 1)
    if right - left >= 2:
        c = centres[sel]
        logc = np.log(counts[sel].astype(np.float64))
        a, b, _ = np.polyfit(c - centres[peak], logc, 2, w=np.sqrt(counts[sel]))
        if a < 0:
            mode = centres[peak] - b / (2 * a)
            sigma = float(np.sqrt(-1.0 / (2 * a)))
            if lo <= mode <= hi:
                return float(mode), sigma
    med = float(np.median(x))
    return med, float(max(1.4826 * np.median(np.abs(x - med)), 1e-12))


def dff_from_fluorescence(
    F: NDArray[np.floating],
    frame_rate: float,
    *,
    preset: str = "nwbmotor",
    **overrides: Any,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """dF/F with the iterative baseline of Peters et al. 2014.

    ``preset="nwbmotor"`` (default): the algorithm of the module docstring, whose
    parameters can be changed. ``preset="peters2014"``: the lab's code exactly
    (:func:`dff_lab`), parameters fixed.

    Parameters
    ----------
    F : ndarray of shape (n_rois, n_frames)
        Raw fluorescence (neuropil-corrected or not), any positive scale.
    frame_rate : float
        Imaging frame rate in Hz (about 28 in the study).
    preset : {"nwbmotor", "peters2014"}
        Name of a parameter set in :data:`DFF_PRESETS`.
    **overrides
        Any preset parameter: ``baseline_window_s`` (60), ``loess_frames`` (30),
        ``loess_degree`` (2), ``active_sd`` (2), ``pad_s`` (2.5), ``max_iterations``
        (5), ``convergence_fraction`` (0.001: an ROI stops iterating when fewer frames
        than this fraction change state), ``max_active_fraction`` (0.95),
        ``histogram_bins`` (200).

    Returns
    -------
    dff : ndarray of shape (n_rois, n_frames)
        (F - B) / B; NaN where F is NaN.
    baseline : ndarray of shape (n_rois, n_frames)
        The baseline B.
    valid : ndarray of bool, shape (n_rois,)
        False for an ROI with >= 95 % active frames, any NaN, or a baseline <= 0.

    Raises
    ------
    NwbMotorValueError
        On a bad shape, frame rate, preset or parameter name.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> F = 100 + rng.normal(0, 1, (3, 5000))
    >>> F[:, 2000:2040] += 50
    >>> dff, base, valid = dff_from_fluorescence(F, 28.0)
    >>> bool(valid.all()), bool(abs(np.median(dff)) < 0.01), bool(dff[0, 2020] > 0.4)
    (True, True, True)
    """
    if preset not in DFF_PRESETS:
        raise NwbMotorValueError(
            f"dff_from_fluorescence: preset must be one of {sorted(DFF_PRESETS)}, got {preset!r}"
        )
    params = dict(DFF_PRESETS[preset])
    if preset == "peters2014":
        if overrides:
            raise NwbMotorValueError(
                f"dff_from_fluorescence: preset 'peters2014' is the lab's code with fixed values; "
                f"got overrides {sorted(overrides)} (use preset='nwbmotor' to change parameters)"
            )
        return dff_lab(F, frame_rate)
    unknown = set(overrides) - set(params)
    if unknown:
        raise NwbMotorValueError(
            f"dff_from_fluorescence: unknown parameter(s) {sorted(unknown)}; "
            f"expected any of {sorted(params)}"
        )
    params.update(overrides)
    try:
        F = np.asarray(F, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise NwbMotorTypeError(f"dff_from_fluorescence: F must be numeric, got {err}") from None
    if F.ndim != 2:
        raise NwbMotorValueError(
            f"dff_from_fluorescence: F must have shape (n_rois, n_frames), got shape {F.shape}"
        )
    if not (np.isfinite(frame_rate) and frame_rate > 0):
        raise NwbMotorValueError(
            f"dff_from_fluorescence: frame_rate must be a positive number of Hz, got {frame_rate!r}"
        )
    n_rois, n_frames = F.shape
    if n_frames < 2:
        raise NwbMotorValueError(
            f"dff_from_fluorescence: F needs at least 2 frames per ROI, got {n_frames}"
        )
    if n_rois == 0:
        empty = np.empty((0, n_frames))
        return empty, empty.copy(), np.zeros(0, dtype=bool)

    nan = ~np.isfinite(F)
    has_nan = nan.any(axis=1)
    work = F.copy()
    frames = np.arange(n_frames)
    for i in np.flatnonzero(has_nan):
        good = ~nan[i]
        work[i] = np.interp(frames, frames[good], F[i, good]) if good.any() else 0.0

    window = max(int(round(params["baseline_window_s"] * frame_rate)), 1)
    pad = int(round(params["pad_s"] * frame_rate))
    keep = np.ones_like(work, dtype=bool)
    active = np.zeros_like(keep)
    modes = np.zeros(n_rois)
    sigmas = np.ones(n_rois)
    base = np.empty_like(work)
    todo = np.arange(n_rois)  # ROIs whose exclusion mask still changes
    for _ in range(int(params["max_iterations"])):
        if todo.size == 0:
            break
        base[todo] = _moving_mean_on(work[todo], keep[todo], window)  # type: ignore[arg-type]
        smooth = loess_smooth(
            work[todo] - base[todo], int(params["loess_frames"]), degree=int(params["loess_degree"])
        )
        for j, i in enumerate(todo):
            modes[i], sigmas[i] = _gaussian_mode(smooth[j], int(params["histogram_bins"]))
        act = smooth > (modes[todo] + params["active_sd"] * sigmas[todo])[:, None]
        active[todo] = act
        excluded = (
            ndimage.maximum_filter1d(act, 2 * pad + 1, axis=-1, mode="constant") if pad > 0 else act
        )
        new_keep = ~excluded
        # an ROI with nothing left to fit keeps its previous mask
        empty = ~new_keep.any(axis=1)
        new_keep[empty] = keep[todo][empty]
        changed = (new_keep != keep[todo]).mean(axis=1) > params["convergence_fraction"]
        keep[todo] = new_keep
        todo = todo[changed]
    baseline = base + modes[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        dff = (work - baseline) / baseline
    dff[nan] = np.nan
    active_fraction = active.mean(axis=1)
    valid = (
        ~has_nan & (active_fraction < params["max_active_fraction"]) & (baseline > 0).all(axis=1)
    )
    return dff, baseline, valid


# ------------------------------------------------------------ the lab's code, exactly


def _matlab_round(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """MATLAB ``round``: halves away from zero."""
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


def _round(x: float) -> int:
    """MATLAB ``round`` of a scalar."""
    return int(_matlab_round(np.array(float(x)))[()])


def _matlab_mode(x: NDArray[np.float64]) -> float:
    """MATLAB ``mode``: the most frequent value, the smallest of ties."""
    values, counts = np.unique(x, return_counts=True)
    return float(values[int(np.argmax(counts))])


def _grid_mode(x: NDArray[np.float64]) -> float:
    """The lab's Gaussian mode: the point of ``min:(max-min)/n:max`` (last dropped) nearest the mean.

    A one-component ``gmdistribution`` fit is the mean and variance of ``x``; its pdf on
    that grid peaks at the grid point nearest the mean.
    """
    lo, hi, n = float(np.min(x)), float(np.max(x)), x.size
    dx = (hi - lo) / n
    if dx <= 0:
        return lo
    k = int(np.clip(np.round((float(np.mean(x)) - lo) / dx), 0, n - 1))
    return lo + k * dx


def _lab_pad(mask: NDArray[np.bool_], k: int) -> NDArray[np.bool_]:
    """``conv2(mask, ones(1, k), 'same') > 0``: a True frame j marks ``[j - k//2, j + k - 1 - k//2]``."""
    if k <= 1:
        return mask.copy()
    full = np.convolve(mask.astype(np.int64), np.ones(k, dtype=np.int64))
    return full[k // 2 : k // 2 + mask.size] > 0


def _lab_mode(x: NDArray[np.float64]) -> float:
    """``mode(round(x))``, replaced by the Gaussian grid mode when within 100 of it."""
    mode = _matlab_mode(_matlab_round(x))
    grid = _grid_mode(x)
    return grid if abs(mode - grid) < 100 else mode


def _clamp_ends(b: NDArray[np.float64], reliable: int) -> None:
    """``b(1:r) = b(r); b(end-r:end) = b(end-r)`` in place (MATLAB, 1-based)."""
    n = b.size
    if reliable < 1 or reliable >= n:
        return
    b[:reliable] = b[reliable - 1]
    b[n - reliable - 1 :] = b[n - reliable - 1]


def _lab_window(n: int, frame_rate: float) -> int:
    """``AP_baselineEstimation.m`` step 1: ``round(60 fr)`` frames, ``round(n / 3)`` when the trace is not longer."""
    window = _round(60.0 * frame_rate)
    return _round(n / 3.0) if n <= window else window


def _lab_roi(trace: NDArray[np.float64], frame_rate: float) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """One ROI of ``AP_baselineEstimation.m``: (dF/F, baseline), or None when the ROI is invalid."""
    n = trace.size
    k = _round(_round(5.0 * frame_rate) / 2.0)  # 70 frames at 28 Hz: +-1.25 s
    cur = trace.copy()
    index = np.arange(n)
    active = np.zeros(n, dtype=bool)
    window = 1
    for run in (1, 2):
        window = _lab_window(cur.size, frame_rate)
        if cur.size < 31:
            return None
        base = matlab_moving_mean(cur, window)
        _clamp_ends(base, int(np.ceil(window / 2)))
        resid = cur - base
        smooth = matlab_loess(cur, 30)
        smooth_resid = matlab_loess(resid, 30)
        mode = _lab_mode(smooth_resid)
        sd = float(np.std(resid - smooth_resid, ddof=1))
        upper = mode + base + 2.0 * sd
        lower = mode + base - 2.0 * sd
        bound = smooth > upper if run == 1 else (smooth > upper) | (smooth < lower)
        now = bound | _lab_pad(bound, k)
        active[index] = now
        index = index[~now]
        cur = cur[~now]
    if cur.size <= 0.05 * n:
        return None
    whole = matlab_loess(trace, 30)
    part = matlab_moving_mean(whole[~active], window)
    reliable = int(np.ceil(window / 2))
    if reliable >= part.size:
        reliable = _round(part.size / 3.0)
    _clamp_ends(part, reliable)
    base = np.full(n, np.nan)
    base[~active] = part
    base[0], base[-1] = part[0], part[-1]
    known = ~active
    known[0] = known[-1] = True
    frames = np.arange(n)
    base = np.interp(frames, frames[known], base[known])
    d = trace - base
    ds = matlab_loess(d, 30)
    sd2 = float(np.std(np.abs(d - ds), ddof=1))
    bound = (ds > 2.0 * sd2) | (ds < -2.0 * sd2)
    quiet = ~(bound | _lab_pad(bound, k))
    if (~quiet).sum() >= 0.95 * n:
        return None
    baseline = base + _lab_mode(ds[quiet])
    return (trace - baseline) / baseline, baseline


def dff_lab(
    F: NDArray[np.floating], frame_rate: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """dF/F by the lab's ``AP_baselineEstimation.m``, exactly (preset ``peters2014``).

    Step by step (every step is ``AP_baselineEstimation.m``; MATLAB's ``smooth`` is
    :func:`nwbmotor.methods._matlab.matlab_moving_mean` / ``matlab_loess``):

    ========================================  ==============================================
    lab code (``AP_baselineEstimation.m``)    here
    ========================================  ==============================================
    ``baseline_est_runs = 2``                 two rounds in ``_lab_roi``
    step 1, ``smooth(curr_trace, W)``         ``_lab_window`` (``round(60 fr)``, else
                                              ``round(n/3)``), ``matlab_moving_mean``
    ``smooth_reliable`` end copy              ``_clamp_ends`` (``ceil(W/2)``)
    step 2, ``smooth(., 30, 'loess')``        ``matlab_loess`` of the trace and of F - B
    ``mode(round(.))`` / ``gmdistribution``   ``_lab_mode`` (``_matlab_mode``,
                                              ``_grid_mode``; grid kept when within 100)
    ``noise_std = std(df - smooth(df))``      ``np.std(..., ddof=1)``
    step 3, ``ub`` / ``lb`` bounds            one-sided round 1, two-sided round 2
    ``conv2(., ones(1, round(round(5 fr)/2)), 'same')``  ``_lab_pad``
    truncate active frames, iterate           ``index`` / ``cur`` bookkeeping
    ``length <= 0.05 n`` -> skip              invalid (NaN row)
    ``smooth(whole_noise_smooth(~active), W)``  moving mean of the loess'd trace on
                                              inactive frames, ends copied, ``interp1``
                                              with first and last frames pinned
    step 4, ``noise_std2 = std(|d - s|)``     ``+-2 noise_std2`` bounds, padded as above
    ``sum(active) >= 0.95 n`` -> skip         invalid (NaN row)
    ``baseline_offset`` (mode / grid mode)    ``_lab_mode`` of the inactive ``s``
    step 5, ``(F - F0) ./ F0``                returned ``dff``, ``baseline`` = F0
    ========================================  ==============================================

    Per ROI (an ROI with any NaN is invalid), two rounds: a 1-min moving mean ``B``
    (MATLAB ``smooth``, ends clamped over ``ceil(W/2)`` frames; ``W = round(60 fr)``, a
    third of the trace when shorter); the mode of ``loess(F - B)`` (``mode(round(.))``,
    or the nearest grid point to its mean, the one-component Gaussian fit's peak, when
    within 100 of it); ``sd = std(r - loess(r))``; frames where ``loess(F)`` lies above
    ``mode + B + 2 sd`` (round 1) or outside ``mode + B +- 2 sd`` (round 2) are active,
    padded by ``conv2(., ones(1, round(round(5 fr)/2)), 'same')`` (+-1.25 s) and
    removed: round 2 runs on the remaining frames, concatenated. Invalid when <= 5 % of
    frames remain. Baseline: a ``W``-frame moving mean of ``loess(F)`` over the inactive
    frames (ends clamped), linearly interpolated across the active ones (first and last
    frames pinned to its ends); then the offset: ``mode`` of ``loess(F - baseline)``
    outside its +-2 ``std(|d - loess(d)|)`` frames (padded as above; invalid when >= 95 %
    are excluded). ``dF/F = (F - F0) / F0`` with ``F0`` = baseline + offset.

    Parameters
    ----------
    F : ndarray of shape (n_rois, n_frames)
        Raw fluorescence, in the units the lab's rounding assumes (counts).
    frame_rate : float
        Frames per second.

    Returns
    -------
    dff, baseline : ndarray of shape (n_rois, n_frames)
        NaN rows for invalid ROIs.
    valid : ndarray of bool, shape (n_rois,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> F = 1000 + rng.normal(0, 10, (2, 6000))
    >>> F[:, 3000:3040] += 500
    >>> dff, base, valid = dff_lab(F, 28.0)
    >>> bool(valid.all()), bool(abs(np.median(dff)) < 0.01), bool(dff[0, 3020] > 0.4)
    (True, True, True)
    """
    F = np.asarray(F, dtype=np.float64)
    if F.ndim != 2:
        raise NwbMotorValueError(f"dff_lab: F must have shape (n_rois, n_frames), got shape {F.shape}")
    if not (np.isfinite(frame_rate) and frame_rate > 0):
        raise NwbMotorValueError(f"dff_lab: frame_rate must be a positive number of Hz, got {frame_rate!r}")
    dff = np.full(F.shape, np.nan)
    baseline = np.full(F.shape, np.nan)
    valid = np.zeros(F.shape[0], dtype=bool)
    for i, trace in enumerate(F):
        if not np.all(np.isfinite(trace)):
            continue
        res = _lab_roi(trace, float(frame_rate))
        if res is not None:
            dff[i], baseline[i] = res
            valid[i] = True
    return dff, baseline, valid
