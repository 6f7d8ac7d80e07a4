"""Block-wise ``scipy.signal.resample_poly(x, 1, down)`` of a long trace read in pieces.

Movement detection starts by resampling the 10 kHz lever to 1 kHz. Done on the whole
trace at once, an hour of lever needs the 288 MB trace and resample_poly's copies in
memory; done here, block by block with overlap, it needs a few MB, and gives the same
numbers: the filter is linear and shift-invariant for shifts that are multiples of
``down``, so every output computed from a window that covers its whole support
equals the one-shot result (zero padding at the ends of the trace included).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["decimate_blockwise"]


def decimate_blockwise(
    read: Callable[[int, int], np.ndarray],
    n_samples: int,
    down: int,
    *,
    block: int = 1 << 21,
) -> np.ndarray:
    """``resample_poly(x, 1, down)`` of ``x = read(0, n_samples)``, reading blocks.

    Parameters
    ----------
    read : callable
        ``read(start, stop)`` returns samples ``[start, stop)`` as float64.
    n_samples : int
    down : int
        Integer decimation factor (10 for 10 kHz -> 1 kHz).
    block : int
        Input samples per block (rounded to a multiple of ``down``).

    Returns
    -------
    ndarray of shape (ceil(n_samples / down),)

    Examples
    --------
    >>> from scipy.signal import resample_poly
    >>> x = np.random.default_rng(0).normal(size=100_003)
    >>> y = decimate_blockwise(lambda a, b: x[a:b], x.size, 10, block=7_000)
    >>> bool(np.allclose(y, resample_poly(x, 1, 10), rtol=0, atol=1e-12))
    True
    """
    from scipy.signal import resample_poly

    down = int(down)
    n_out = -(-n_samples // down)
    if down == 1:
        return np.asarray(read(0, n_samples), dtype=np.float64).copy()
    half_len = 10 * down  # resample_poly's filter half length
    pad = (half_len // down + 2) * down  # overlap on each side, a multiple of down
    block = max(down, (block // down) * down)
    out = np.empty(n_out, dtype=np.float64)
    for a in range(0, n_samples, block):
        b = min(a + block, n_samples)
        lo, hi = max(0, a - pad), min(n_samples, b + pad)
        y = resample_poly(np.asarray(read(lo, hi), dtype=np.float64), 1, down)
        j0 = (a - lo) // down
        count = min(-(-(b - a) // down), n_out - a // down)
        out[a // down : a // down + count] = y[j0 : j0 + count]
    return out
