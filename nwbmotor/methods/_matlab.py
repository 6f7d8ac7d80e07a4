"""MATLAB's smoothing conventions, as the lab's code (Peters et al. 2014) computed with them.

``smooth(y, span)`` (moving mean) and ``smooth(y, span, 'loess')`` on uniformly spaced
samples, reproduced from their documented algorithm so the lab's presets give the lab's
numbers. numpy and scipy only.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from nwbmotor._errors import NwbMotorValueError

__all__ = ["matlab_loess", "matlab_moving_mean"]


def _weighted_row(x: NDArray[np.float64], w: NDArray[np.float64], at: float) -> NDArray[np.float64]:
    """Coefficients giving the weighted quadratic least-squares fit's value at ``at``."""
    v = np.vander(x - at, 3, increasing=True)
    vtw = v.T * w
    return np.linalg.solve(vtw @ v, vtw)[0]


@lru_cache(maxsize=16)
def _loess_rows(span: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Interior taps (offsets -(h-1)..h-1) and the h end rows (on the first span-1 samples)."""
    h = (span - 1) // 2
    d = np.arange(1 - h, h, dtype=np.float64)
    interior = _weighted_row(d, (1.0 - (np.abs(d) / h) ** 3) ** 3, 0.0)
    x = np.arange(1, span, dtype=np.float64)
    ends = np.empty((h, span - 1))
    for j in range(1, h + 1):
        w = (1.0 - (np.abs(x - j) / (span - j)) ** 3) ** 3
        ends[j - 1] = _weighted_row(x, w, float(j))
    return interior, ends


def matlab_loess(y: NDArray[np.floating], span: int = 30, *, axis: int = -1) -> NDArray[np.float64]:
    """MATLAB's ``smooth(y, span, 'loess')`` on uniformly spaced samples.

    The span is made odd (``2 * floor(span / 2) + 1``: 31 for 30), ``h = (span - 1) / 2``.
    Each interior sample is the value at its position of a quadratic fitted by weighted
    least squares to its neighbours at offsets ``-(h-1) .. h-1`` with tricube weights
    ``(1 - (|d| / h)^3)^3`` (the neighbours at ``+-h`` have weight 0). The first ``h``
    samples use the first ``span - 1`` samples with weights
    ``(1 - (|x - j| / (span - j))^3)^3`` (1-based ``j``, ``x``); the last ``h`` the same
    mirrored.

    Parameters
    ----------
    y : ndarray
        Samples, without NaN.
    span : int, default 30
        Number of samples of each local fit (30 in the lab's code).
    axis : int, default -1

    Returns
    -------
    ndarray of float64, the shape of ``y``

    Raises
    ------
    NwbMotorValueError
        If ``span < 3`` or the axis is shorter than the odd span.

    Examples
    --------
    >>> t = np.arange(100.0)
    >>> bool(np.allclose(matlab_loess(3 + 0.2 * t - 0.01 * t**2), 3 + 0.2 * t - 0.01 * t**2))
    True
    """
    y = np.moveaxis(np.asarray(y, dtype=np.float64), axis, -1)
    span = 2 * (int(span) // 2) + 1
    n = y.shape[-1]
    if span < 3:
        raise NwbMotorValueError(f"matlab_loess: span must be >= 3 samples, got {span}")
    if n < span:
        raise NwbMotorValueError(f"matlab_loess: the trace has {n} samples, fewer than the span ({span})")
    interior, ends = _loess_rows(span)
    out = ndimage.correlate1d(y, interior, axis=-1, mode="constant")
    head = y[..., : span - 1]
    tail = y[..., : n - span : -1]  # y(end:-1:end-span+2)
    h = ends.shape[0]
    out[..., :h] = head @ ends.T
    out[..., n - h :] = (tail @ ends.T)[..., ::-1]
    return np.moveaxis(out, -1, axis)


def matlab_moving_mean(y: NDArray[np.floating], span: int) -> NDArray[np.float64]:
    """MATLAB's ``smooth(y, span)`` of a 1-D trace: centred moving mean, odd span, shrinking ends.

    An even span is reduced by one; sample ``i`` is the mean of ``y[i - w : i + w + 1]``
    with ``w = min(i, n - 1 - i, (span - 1) // 2)``.

    Examples
    --------
    >>> matlab_moving_mean(np.arange(6.0), 5).tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    >>> matlab_moving_mean(np.array([3.0, 0.0, 0.0, 0.0, 0.0, 0.0]), 5).tolist()
    [3.0, 1.0, 0.6, 0.0, 0.0, 0.0]
    """
    y = np.asarray(y, dtype=np.float64)
    n = y.size
    h = (max(int(span), 1) - 1) // 2
    h = min(h, (n - 1) // 2) if n else 0
    c = np.concatenate(([0.0], np.cumsum(y)))
    i = np.arange(n)
    w = np.minimum(np.minimum(i, n - 1 - i), h)
    return (c[i + w + 1] - c[i - w]) / (2 * w + 1)
