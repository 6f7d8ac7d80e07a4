"""Lever movement detection block by block: constant memory, the same movements.

:func:`detect_movements` works on the whole trace at the 1 kHz working rate (a dozen
full-length temporaries: ~100 bytes per working sample). Converters must stream
(DESIGN.md: a converter's peak memory does not grow with the recording), so they call
:func:`detect_movements_blockwise`, which reads the lever through ``read(a, b)`` and
runs the same numeric core (``nwbmotor.methods._movements``) on blocks:

0. compute pass: the working-rate trace, block by block from the input with margins
   (the polyphase resampling gives the whole-trace values bitwise, NaN runs are
   interpolated as on the whole trace, the zero-phase low-pass gets a margin in which
   its slowest pole decays below 1e-18, the velocity a few samples), is written to a
   temporary file (raw, smoothed, velocity: 24 bytes per working sample on disk, read
   back by plain file reads, so the page cache holds it, not the process), and the
   velocity's chunk moments (128 samples per chunk) are kept.
1. threshold pass: the FFT envelope of each block. The whole-trace envelope is
   ``|v + i (h * v)|`` with ``h`` the discrete Hilbert kernel of the FFT length: a
   circular convolution whose kernel decays only as 1/k, so no finite margin gives
   the same numbers. Here: the exact kernel over the block and ``hilbert_margin_s``
   (30 s) on each side of it on the circular, zero-padded trace the whole-trace FFT
   sees (a linear FFT convolution), plus the rest of the circle from the chunk
   moments (kernel expanded to first order about each chunk centre, evaluated at
   Chebyshev nodes of the block and interpolated). Envelope error < 1e-10 V against
   a threshold of 7e-4 V. The threshold runs feed the interval merger (dilation, gap
   filling) with carry-over between blocks; epochs are kept as an interval list.
2. noise passes. ``p99``: a histogram of ``|raw - smooth|`` over inactive samples on
   fine fixed bins finds the bins holding the two order statistics numpy's
   percentile interpolates; a second pass collects only those bins' values: exact.
   ``std``: mean, then the sum of squared deviations (exact up to summation order).
3. refinement pass: each epoch is refined on a window around it (groups of nearby
   epochs share a window).

Memory: O(block + margins + number of epochs) plus 32 bytes per 128 working samples
(the chunk moments: ~1 MB per recorded hour). Time: about that of the whole-trace
detector (the resampling and filtering run once).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import NDArray

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.methods._movements import (
    DEFAULT_PRESET,
    LeverMovements,
    _check_length,
    _envelope,
    _EpochMerger,
    _interpolate_nan,
    _kept_epochs,
    _lowpass_sos,
    _mask,
    _max_nan_run,
    _mean5,
    _nan_problem,
    _refine_epochs,
    _result,
    _runs,
    _threshold,
    _warn_nan,
    movement_parameters,
)

__all__ = ["detect_movements_blockwise"]

_RESAMPLE_HALF = 10  # resample_poly's filter half length, in units of max(up, down)
_HIST_DECADES = (-16.0, 4.0)  # |raw - smooth| histogram range, log10 volts (outside: end bins)
_HIST_BINS_PER_DECADE = 4096


def detect_movements_blockwise(
    read: Callable[[int, int], Any],
    n_samples: int,
    sample_rate: float,
    *,
    preset: str = DEFAULT_PRESET,
    start_time: float = 0.0,
    block_s: float = 120.0,
    hilbert_margin_s: float = 30.0,
    **overrides: Any,
) -> LeverMovements:
    """:func:`~nwbmotor.methods._movements.detect_movements` of a trace read in blocks.

    Same result as ``detect_movements(read(0, n_samples), sample_rate, ...)`` —
    movement count, onsets and offsets equal, noise and peaks to ~1e-12 relative —
    with memory that does not grow with the trace (see the module docstring).

    Parameters
    ----------
    read : callable
        ``read(a, b)`` returns input samples ``[a, b)`` (volts, array-like).
    n_samples : int
        Length of the trace at ``sample_rate``.
    sample_rate : float
        Input rate in Hz; it must be an integer multiple of the working rate (10 kHz
        for the 1 kHz default).
    preset, start_time, **overrides
        As for ``detect_movements``.
    block_s : float, default 120
        Block length in seconds of trace (memory ~ 15 x 8 bytes x rate x
        (block_s + 2 hilbert_margin_s)).
    hilbert_margin_s : float, default 30
        Trace on each side of a block the envelope is computed with; the analytic
        signal's kernel decays as 1/k, 30 s leaves envelope errors ~1e-7 of the
        threshold.

    Returns
    -------
    LeverMovements

    Raises
    ------
    NwbMotorValueError
        As ``detect_movements``; also when the rate is not an integer multiple of the
        working rate.

    Examples
    --------
    >>> from nwbmotor.methods import detect_movements
    >>> from nwbmotor.testing import synthesize_lever_trace
    >>> trace, truth = synthesize_lever_trace(60.0, n_movements=8, seed=1)
    >>> moves = detect_movements_blockwise(lambda a, b: trace[a:b], trace.size, 10_000.0, block_s=10.0)
    >>> bool(np.array_equal(moves.onset_times, detect_movements(trace, 10_000.0).onset_times))
    True
    """
    params = movement_parameters(preset, **overrides)
    try:
        rate = float(sample_rate)
        n_in = int(n_samples)
    except (TypeError, ValueError):
        raise NwbMotorTypeError(
            f"movement detection: sample_rate and n_samples must be numbers, got {sample_rate!r}, {n_samples!r}"
        ) from None
    if not (math.isfinite(rate) and rate > 0):
        raise NwbMotorValueError(f"movement detection: sample_rate must be a positive number of Hz, got {sample_rate!r}")
    if not (block_s > 0 and hilbert_margin_s > 0):
        raise NwbMotorValueError(
            f"movement detection: block_s and hilbert_margin_s must be > 0, got {block_s!r}, {hilbert_margin_s!r}"
        )
    _check_length(n_in, rate)
    trace = _WorkingTrace(read, n_in, rate, params)
    params["n_nan_interpolated"] = trace.n_nan
    wr = trace.wr
    w = _FarField.width  # blocks and margins in whole chunks of the far field
    block = max(1, int(round(block_s * wr / w))) * w
    margin = max(1, int(round(hilbert_margin_s * wr / w))) * w

    try:
        return _detect(trace, block, margin, start_time, preset, params)
    finally:
        trace.close()


def _detect(
    trace: _WorkingTrace, block: int, margin: int, start_time: float, preset: str, params: dict[str, Any]
) -> LeverMovements:
    n, n_in, rate = trace.n, trace.n_in, trace.rate
    w = _FarField.width
    # pass 0: resample, filter, velocity -> temporary file; velocity moments for the
    # envelope's far field (None: the trace fits in one window)
    far = _FarField(n, trace.nfft) if block + 2 * margin + 2 * w < trace.nfft else None
    trace.compute(block, far)

    # pass 1: threshold runs -> epochs
    merger = _EpochMerger(n, params)
    threshold = _threshold(params)
    for a in range(0, n, block):
        b = min(n, a + block)
        env = trace.envelope(a, b, margin, far)
        starts, stops = _runs(env > threshold)
        merger.add(starts + a, stops + a)
    epochs = merger.epochs()
    starts, stops = _kept_epochs(epochs, n, params)

    # passes 2-3: noise over the inactive samples (all samples when fewer than 10)
    n_inactive = n - int(np.sum(epochs[:, 1] - epochs[:, 0]))
    use_epochs = epochs if n_inactive >= 10 else epochs[:0]

    def residuals():
        for a in range(0, n, block):
            b = min(n, a + block)
            raw, smooth = trace.raw_smooth(a, b)
            r = raw - smooth
            yield r[~_mask(use_epochs, b - a, a)]

    if params["noise_estimator"] == "p99":
        noise = _percentile99_two_pass(residuals)
    else:
        noise = _std_two_pass(residuals)

    # pass 4: refinement on windows around the epochs
    onsets, offsets, peaks = _refine_blockwise(trace, starts, stops, noise, params, block)
    return _result(onsets, offsets, peaks, n, n_in, rate, start_time, noise, preset, params)


class _WorkingTrace:
    """Any range of the working-rate trace (raw, smoothed, velocity, envelope) from ``read``."""

    def __init__(self, read: Callable[[int, int], Any], n_in: int, rate: float, params: dict[str, Any]) -> None:
        self.read, self.n_in, self.rate, self.params = read, n_in, rate, params
        self.wr = float(params["working_rate_hz"])
        ratio = Fraction(rate / self.wr).limit_denominator(1000)
        if ratio.denominator != 1 or abs(float(ratio) - rate / self.wr) > 1e-9 * rate / self.wr:
            raise NwbMotorValueError(
                f"movement detection: block-wise detection needs a sample rate that is an integer multiple of the "
                f"working rate ({self.wr:g} Hz); got {rate:g} Hz"
            )
        self.down = int(ratio.numerator)
        self.n = -(-n_in // self.down)
        self.pad = 0 if self.down == 1 else (_RESAMPLE_HALF + 2) * self.down
        self.sos = _lowpass_sos(params)
        self.filter_margin = _filter_margin(self.sos)
        self.k = int(params["velocity_smoothing_samples"])
        from scipy import fft

        self.nfft = fft.next_fast_len(self.n, real=True)
        self.nan_margin = _max_nan_run(rate, params) + 1
        self.n_nan = self._scan_nan()
        self.spill = _Spill(self.n, 3)
        self._kernel: NDArray[np.float64] | None = None

    # ---- input, NaN
    def _read(self, a: int, b: int) -> NDArray[np.float64]:
        try:
            x = np.asarray(self.read(a, b), dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise NwbMotorTypeError(f"movement detection: lever must be an array of numbers ({exc})") from None
        if x.shape != (b - a,):
            raise NwbMotorValueError(
                f"movement detection: read({a}, {b}) returned shape {x.shape}; expected ({b - a},)"
            )
        return x

    def _scan_nan(self) -> int:
        """Count NaN/inf samples and check the NaN rules, reading the input once."""
        n_bad, first, longest, run, last_bad = 0, -1, 0, 0, False
        first_bad = False
        step = 1 << 20
        for a in range(0, self.n_in, step):
            bad = ~np.isfinite(self._read(a, min(self.n_in, a + step)))
            if not bad.any():
                run, last_bad = 0, False
                continue
            if first < 0:
                first = a + int(np.argmax(bad))
                first_bad = a == 0 and bool(bad[0])
            n_bad += int(bad.sum())
            starts, stops = _runs(bad)
            lengths = stops - starts
            if starts[0] == 0:
                lengths[0] += run
            longest = max(longest, int(lengths.max()))
            run = int(lengths[-1]) if stops[-1] == bad.size else 0
            last_bad = bool(bad[-1])
        problem = _nan_problem(n_bad, first, longest, first_bad or last_bad, self.n_in, self.rate, self.params)
        if problem:
            raise NwbMotorValueError(problem)
        if n_bad:
            _warn_nan(n_bad, first, stacklevel=5)
        return n_bad

    def _input(self, lo: int, hi: int) -> NDArray[np.float64]:
        """Input samples ``[lo, hi)``, NaN runs interpolated as over the whole trace."""
        if not self.n_nan:
            return self._read(lo, hi)
        elo, ehi = max(0, lo - self.nan_margin), min(self.n_in, hi + self.nan_margin)
        x = self._read(elo, ehi)
        bad = ~np.isfinite(x)
        if bad.any():
            x = _interpolate_nan(x, bad)
        return x[lo - elo : hi - elo]

    # ---- working-rate ranges (0 <= a < b <= n)
    def raw(self, a: int, b: int) -> NDArray[np.float64]:
        """Resampled trace ``[a, b)``: ``resample_poly(x, 1, down)`` of the whole input, sliced."""
        down = self.down
        if down == 1:
            return self._input(a, b)
        from scipy.signal import resample_poly

        lo, hi = max(0, a * down - self.pad), min(self.n_in, b * down + self.pad)
        y = resample_poly(self._input(lo, hi), 1, down)
        j0 = (a * down - lo) // down
        return y[j0 : j0 + (b - a)]

    def _smooth_velocity(self, a: int, b: int) -> tuple[NDArray[np.float64], ...]:
        """Raw, low-passed (zero-phase) and velocity trace ``[a, b)``, computed from the input."""
        from scipy.signal import sosfiltfilt

        k, h = self.k, (self.k - 1) // 2
        lo, hi = max(0, a - self.filter_margin), min(self.n, b + self.filter_margin)
        raw = self.raw(lo, hi)
        smooth = sosfiltfilt(self.sos, raw)
        # velocity: first difference (0 at the trace's first sample), then the k-sample
        # moving average over its support [a + h - k + 1, b + h) (zero outside the trace)
        vlo, vhi = a + h - k + 1, b + h
        dlo, dhi = max(0, vlo), min(self.n, vhi)
        seg = smooth[max(0, dlo - 1) - lo : dhi - lo]
        v = np.diff(seg, prepend=seg[0]) if dlo == 0 else np.diff(seg)
        if k > 1:
            ext = np.zeros(vhi - vlo)
            ext[dlo - vlo : dhi - vlo] = v
            v = np.convolve(ext, np.ones(k) / k, mode="valid")
        return raw[a - lo : b - lo], smooth[a - lo : b - lo], v

    def compute(self, block: int, far: _FarField | None) -> None:
        """Pass 0: raw, smoothed and velocity trace into a temporary file; the far-field moments."""
        for a in range(0, self.n, block):
            b = min(self.n, a + block)
            arrays = self._smooth_velocity(a, b)
            self.spill.write(a, arrays)
            if far is not None:
                far.add(a, arrays[2])

    def raw_smooth(self, a: int, b: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Raw and low-passed (zero-phase) trace ``[a, b)`` (after :meth:`compute`)."""
        return self.spill.read(0, a, b), self.spill.read(1, a, b)

    def velocity(self, a: int, b: int) -> NDArray[np.float64]:
        """``_velocity(smooth)`` of the whole trace, samples ``[a, b)`` (after :meth:`compute`)."""
        return self.spill.read(2, a, b)

    def envelope(self, a: int, b: int, margin: int, far: _FarField | None) -> NDArray[np.float64]:
        """``_envelope(velocity)`` of the whole trace, samples ``[a, b)``.

        The whole-trace envelope is ``|v + i (h * v)|`` with ``h`` the discrete Hilbert
        kernel of the FFT length (a circular convolution over the zero-padded trace).
        Here: the exact kernel over a window of ``margin`` around the block (linear FFT
        convolution), plus the rest of the circle from ``far`` (chunk moments).
        """
        w = _FarField.width
        c0, c1 = a - margin, b + margin
        if far is None or c1 - c0 + 2 * w >= self.nfft:  # the window reaches round the circle
            return _envelope(self.velocity(0, self.n))[a:b]
        if c0 < 0 and self.nfft + c0 < self.n:  # wrapped into the data's tail: whole chunks
            c0 = ((self.nfft + c0) // w) * w - self.nfft
        if c1 > self.nfft:  # wrapped into the data's head
            c1 = self.nfft + -(-(c1 - self.nfft) // w) * w
        ext = np.zeros(c1 - c0)
        pos = c0
        while pos < c1:  # the circular trace: [0, n) data, [n, nfft) zeros, period nfft
            base = (pos // self.nfft) * self.nfft
            end = min(c1, base + self.nfft)
            d0, d1 = pos - base, min(end - base, self.n)
            if d1 > d0:
                ext[pos - c0 : pos - c0 + (d1 - d0)] = self.velocity(d0, d1)
            pos = end
        from scipy.signal import fftconvolve

        size = ext.size
        if self._kernel is None or self._kernel.size != 2 * size - 1:  # the same for every interior block
            self._kernel = _hilbert_kernel(np.arange(-(size - 1), size, dtype=np.float64), self.nfft)
        kernel = self._kernel
        near = fftconvolve(ext, kernel, mode="full")[size - 1 + (a - c0) : size - 1 + (b - c0)]
        v = ext[a - c0 : b - c0]
        return np.hypot(v, near + far.evaluate(a, b, c0, c1))

    def close(self) -> None:
        self.spill.close()


class _Spill:
    """Working-rate arrays (raw, smooth, velocity) in a temporary file, read back by range.

    Plain file reads and writes: the page cache holds them, not the process (its
    resident memory stays that of one block).
    """

    def __init__(self, n: int, n_arrays: int) -> None:
        import tempfile

        self.n = n
        self.file = tempfile.TemporaryFile(prefix="nwbmotor-lever-")
        self.file.truncate(8 * n * n_arrays)

    def write(self, a: int, arrays: tuple[NDArray[np.float64], ...]) -> None:
        for k, x in enumerate(arrays):
            self.file.seek(8 * (k * self.n + a))
            self.file.write(np.ascontiguousarray(x, dtype="<f8").tobytes())

    def read(self, k: int, a: int, b: int) -> NDArray[np.float64]:
        self.file.seek(8 * (k * self.n + a))
        out = np.empty(b - a, dtype="<f8")
        self.file.readinto(out.data.cast("B"))
        return out.astype(np.float64, copy=False)

    def close(self) -> None:
        self.file.close()


def _hilbert_g(k: NDArray[np.float64], nfft: int) -> tuple[NDArray[np.float64], ...]:
    """Smooth parts of the kernel, ``h(k) = g1(k) + (-1)^k g2(k)``, and their derivatives."""
    x = np.pi * k / nfft
    if nfft % 2 == 0:  # cot and 1 + cot^2 = 1 / sin^2: one transcendental per lag
        cot = 1.0 / np.tan(x)
        g1 = cot / nfft
        d1 = -(np.pi / nfft**2) * (1.0 + cot * cot)
        return g1, d1, -g1, -d1
    s, c = np.sin(x), np.cos(x)
    g1 = c / (s * nfft)
    d1 = -(np.pi / nfft**2) / (s * s)
    return g1, d1, -1.0 / (s * nfft), (np.pi / nfft**2) * c / (s * s)


def _hilbert_kernel(k: NDArray[np.float64], nfft: int) -> NDArray[np.float64]:
    """The discrete Hilbert kernel of period ``nfft``: ``Im ifft(analytic multiplier)`` at lags ``k``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        g1, _, g2, _ = _hilbert_g(k, nfft)
        out = g1 + np.where(np.remainder(k, 2) == 0, 1.0, -1.0) * g2
    out[np.remainder(k, nfft) == 0] = 0.0
    return out


class _FarField:
    """Chunk moments of the velocity: the envelope's Hilbert sum beyond a block's window.

    For chunks of ``width`` samples: sum, first moment about the chunk centre, and the
    same with the sign ``(-1)^j``. The kernel's smooth parts expanded to first order
    about the chunk centre leave an error ~ width^2 |v| / (12 pi margin^2) (measured:
    ~1e-11 V for 128 samples at 30 s, the threshold being 7e-4 V); evaluated at Chebyshev nodes of the block and
    interpolated (the far field is smooth over the block: error ~1e-14 relative).
    Memory: 4 floats per chunk (1/4 byte per working sample, ~1 MB per hour).
    """

    width = 128
    nodes = 16
    slab = 1024

    def __init__(self, n: int, nfft: int) -> None:
        self.n, self.nfft = n, nfft
        n_chunks = -(-n // self.width)
        self.moments = np.zeros((4, n_chunks))
        self.centres = np.arange(n_chunks) * self.width + (self.width - 1) / 2
        t = np.arange(self.width)
        off = t - (self.width - 1) / 2
        sign = np.where(t % 2 == 0, 1.0, -1.0)  # (-1)^j: the width is even
        self._weights = np.stack([np.ones(self.width), off, sign, off * sign], axis=1)

    def add(self, a: int, v: NDArray[np.float64]) -> None:
        """The velocity of samples ``[a, a + v.size)``, ``a`` a multiple of the width."""
        w = self.width
        n_rows = -(-v.size // w)
        padded = np.zeros(n_rows * w)
        padded[: v.size] = v
        self.moments[:, a // w : a // w + n_rows] = (padded.reshape(n_rows, w) @ self._weights).T

    def evaluate(self, a: int, b: int, c0: int, c1: int) -> NDArray[np.float64]:
        """The Hilbert sum at samples ``[a, b)`` over every chunk outside the circular window ``[c0, c1)``."""
        starts = np.arange(self.moments.shape[1]) * self.width
        far = np.remainder(starts - c0, self.nfft) >= (c1 - c0)
        centres, moments = self.centres[far], self.moments[:, far]
        q = self.nodes
        x = np.cos(np.pi * (np.arange(q) + 0.5) / q)  # Chebyshev points of the first kind
        lo, hi = float(a), float(b - 1)
        points = (lo + hi) / 2 + (hi - lo) / 2 * x
        f1 = np.zeros(q)
        f2 = np.zeros(q)
        for s in range(0, centres.size, self.slab):
            d = points[:, None] - centres[None, s : s + self.slab]
            g1, d1, g2, d2 = _hilbert_g(d, self.nfft)
            m = moments[:, s : s + self.slab]
            f1 += g1 @ m[0] - d1 @ m[1]
            f2 += g2 @ m[2] - d2 @ m[3]
        from numpy.polynomial import chebyshev as C

        coef1 = C.chebfit(x, f1, q - 1)
        coef2 = C.chebfit(x, f2, q - 1)
        i = np.arange(a, b, dtype=np.float64)
        xi = (i - (lo + hi) / 2) / ((hi - lo) / 2) if hi > lo else np.zeros(i.size)
        sign = np.where(np.arange(a, b) % 2 == 0, 1.0, -1.0)
        return C.chebval(xi, coef1) + sign * C.chebval(xi, coef2)


def _filter_margin(sos: NDArray[np.float64]) -> int:
    """Samples after which the low-pass's impulse response has decayed below 1e-18."""
    from scipy.signal import sos2zpk

    _, poles, _ = sos2zpk(sos)
    r = float(np.max(np.abs(poles)))
    padlen = 3 * (2 * len(sos) + 1)
    return int(math.ceil(math.log(1e-18) / math.log(r))) + 2 * padlen if r > 0 else 2 * padlen


def _hist_bins(values: NDArray[np.float64]) -> NDArray[np.int64]:
    """Fixed, monotonic log bins of non-negative values (0 and tiny values: bin 0)."""
    lo, hi = _HIST_DECADES
    n_bins = int((hi - lo) * _HIST_BINS_PER_DECADE) + 2
    with np.errstate(divide="ignore"):
        idx = np.floor((np.log10(values) - lo) * _HIST_BINS_PER_DECADE) + 1
    return np.clip(np.nan_to_num(idx, nan=0.0, neginf=0.0), 0, n_bins - 1).astype(np.int64)


def _percentile99_two_pass(blocks: Callable[[], Any]) -> float:
    """``np.percentile(concatenate(blocks), 99)`` of |values|, exactly, holding two histogram bins."""
    n_bins = int((_HIST_DECADES[1] - _HIST_DECADES[0]) * _HIST_BINS_PER_DECADE) + 2
    counts = np.zeros(n_bins, dtype=np.int64)
    m = 0
    for r in blocks():
        v = np.abs(r)
        counts += np.bincount(_hist_bins(v), minlength=n_bins)
        m += v.size
    # numpy's "linear" method: virtual index (m - 1) q, interpolated between its neighbours
    q = np.float64(99) / 100
    virtual = m * q - q  # numpy: n * q + (1 + q * (-1)) - 1 with alpha = beta = 1
    lower = int(np.floor(virtual))
    upper = min(lower + 1, m - 1)
    gamma = float(virtual - lower)
    cum = np.cumsum(counts)
    bin_lo = int(np.searchsorted(cum, lower, side="right"))
    bin_hi = int(np.searchsorted(cum, upper, side="right"))
    before = int(cum[bin_lo - 1]) if bin_lo > 0 else 0
    picked: list[NDArray[np.float64]] = []
    for r in blocks():
        v = np.abs(r)
        bins = _hist_bins(v)
        picked.append(v[(bins >= bin_lo) & (bins <= bin_hi)])
    values = np.sort(np.concatenate(picked))
    a, b = values[lower - before], values[upper - before]
    diff = b - a
    return float(b - diff * (1 - gamma)) if gamma >= 0.5 else float(a + diff * gamma)


def _std_two_pass(blocks: Callable[[], Any]) -> float:
    """``np.std(concatenate(blocks))``: the mean, then the mean squared deviation."""
    sums, m = [], 0
    for r in blocks():
        sums.append(float(np.sum(r)))
        m += r.size
    mean = math.fsum(sums) / m
    squares = [float(np.sum((r - mean) ** 2)) for r in blocks()]
    return math.sqrt(math.fsum(squares) / m)


def _refine_blockwise(
    trace: _WorkingTrace,
    starts: NDArray[np.int64],
    stops: NDArray[np.int64],
    noise: float,
    params: dict[str, Any],
    block: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Refine the epochs on windows of the trace, nearby epochs sharing one window."""
    window = max(1, int(round(params["reference_window_s"] * trace.wr))) + 1
    n = trace.n
    onsets = np.empty(starts.size, dtype=np.int64)
    offsets = np.empty(starts.size, dtype=np.int64)
    peaks = np.empty(starts.size, dtype=np.float64)
    i = 0
    while i < starts.size:
        j = i + 1  # group epochs while the window stays about a block long
        while j < starts.size and stops[j] - starts[i] <= block:
            j += 1
        lo, hi = max(0, int(starts[i]) - window), min(n, int(stops[j - 1]) + window)
        mlo, mhi = max(0, lo - 2), min(n, hi + 2)  # the 5-sample mean's support
        raw_ext, smooth_ext = trace.raw_smooth(mlo, mhi)
        raw, smooth = raw_ext[lo - mlo : hi - mlo], smooth_ext[lo - mlo : hi - mlo]
        if params["backtrack"]:
            mean5 = _mean5(raw_ext)[lo - mlo : hi - mlo]
        else:
            mean5 = raw
        on, off, peak = _refine_epochs(raw, smooth, mean5, starts[i:j] - lo, stops[i:j] - lo, noise, params)
        onsets[i:j], offsets[i:j], peaks[i:j] = on + lo, off + lo, peak
        i = j
    return onsets, offsets, peaks
