"""Block-wise lever movement detection equals the whole-trace detection, in constant memory."""

from __future__ import annotations

import tracemalloc
import warnings

import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.methods._movements import _envelope, _resample, _smooth, _velocity, detect_movements, movement_parameters
from nwbmotor.methods._movements_blockwise import (
    _FarField,
    _percentile99_two_pass,
    _std_two_pass,
    _WorkingTrace,
    detect_movements_blockwise,
)
from nwbmotor.testing import synthesize_lever_trace

RATE = 10_000.0
BLOCK_S = 5.12  # 40 chunks of 128 working samples: 47 block boundaries in 240 s
MARGIN_S = 10.0


def _blockwise(trace, **kwargs):
    return detect_movements_blockwise(
        lambda a, b: trace[a:b], trace.size, RATE, block_s=BLOCK_S, hilbert_margin_s=MARGIN_S, **kwargs
    )


def _assert_same(whole, block):
    assert len(block) == len(whole)
    np.testing.assert_array_equal(block.onset_working, whole.onset_working)
    np.testing.assert_array_equal(block.offset_working, whole.offset_working)
    np.testing.assert_array_equal(block.onset_times, whole.onset_times)
    np.testing.assert_array_equal(block.offset_samples, whole.offset_samples)
    np.testing.assert_allclose(block.peak_amplitudes, whole.peak_amplitudes, rtol=1e-12, atol=0)
    assert block.noise == pytest.approx(whole.noise, rel=1e-10, abs=0)
    assert block.parameters == whole.parameters
    np.testing.assert_array_equal(block.active, whole.active)


@pytest.fixture(scope="module")
def boundary_trace():
    """240 s with movements straddling block boundaries, a short gap across one, and movements at both ends."""
    boundaries = np.arange(1, 47) * BLOCK_S
    onsets = [0.0]  # pressed from the first sample: touches the start, dropped by the end rule
    onsets += list(boundaries[2:40:3] - 0.12)  # straddling a boundary
    onsets += [boundaries[41] - 0.3, boundaries[41] + 0.26]  # a gap < max_gap_s across a boundary
    onsets += [236.0]  # cut 0.1 s into this press: still moving at the last sample
    trace, truth = synthesize_lever_trace(239.0, onset_times=onsets, seed=5, margin_s=0.0, partial_fraction=0.0)
    return trace[: int(236.1 * RATE)], truth


@pytest.mark.parametrize("preset", ["peters2014", "updated", "nwbmotor"])
def test_blockwise_equals_whole_trace_across_block_boundaries(boundary_trace, preset):
    trace, truth = boundary_trace
    whole = detect_movements(trace, RATE, preset=preset)
    block = _blockwise(trace, preset=preset)
    _assert_same(whole, block)
    # the case is what it claims: movements straddle boundaries; the ends' movements are dropped
    block_len = int(round(BLOCK_S * 1000))
    assert np.sum(block.onset_working // block_len != block.offset_working // block_len) >= 10
    assert whole.onset_times[0] > 1.0 and whole.offset_times[-1] < 235.0  # end movements dropped
    pair = truth.onset_times[-3:-1]  # the two presses 0.56 s apart around the boundary at 215.04 s
    merged = (whole.onset_times <= pair[0] + 0.05) & (whole.offset_times >= pair[1] + 0.2)
    assert merged.sum() == 1 and whole.onset_times[merged][0] < 215.04 < whole.offset_times[merged][0]


def test_blockwise_equals_whole_trace_on_a_long_session():
    trace, truth = synthesize_lever_trace(900.0, seed=11)
    whole = detect_movements(trace, RATE, preset="peters2014")
    block = detect_movements_blockwise(lambda a, b: trace[a:b], trace.size, RATE, block_s=60.0, preset="peters2014")
    assert len(truth) >= 150
    _assert_same(whole, block)


def test_nan_interpolated_across_a_block_boundary_as_on_the_whole_trace(boundary_trace):
    trace = boundary_trace[0].copy()
    for k in (7, 8, 30):  # 10-sample holes centred on block boundaries (input samples)
        edge = int(round(k * BLOCK_S * RATE))
        trace[edge - 5 : edge + 5] = np.nan
    with pytest.warns(UserWarning, match=r"interpolated 30 NaN lever sample"):
        whole = detect_movements(trace, RATE, nan_policy="interpolate")
    with pytest.warns(UserWarning, match=r"interpolated 30 NaN lever sample"):
        block = _blockwise(trace, nan_policy="interpolate")
    assert block.parameters["n_nan_interpolated"] == 30
    _assert_same(whole, block)


def test_nan_errors_match_the_whole_trace_path(boundary_trace):
    trace = boundary_trace[0].copy()
    trace[123_456:123_459] = np.nan
    with pytest.raises(NwbMotorValueError, match=r"3 NaN/inf sample\(s\) of 2361000, the first at index 123456"):
        _blockwise(trace)
    long_run = boundary_trace[0].copy()
    long_run[1_048_000:1_049_000] = np.nan  # a 1000-sample run across the scan's 2**20 step
    with pytest.raises(NwbMotorValueError, match=r"NaN run of 1000 samples \(0.1000 s\)"):
        _blockwise(long_run, nan_policy="interpolate")
    at_end = boundary_trace[0].copy()
    at_end[-2:] = np.nan
    with pytest.raises(NwbMotorValueError, match=r"NaN run at an end of the trace"):
        _blockwise(at_end, nan_policy="interpolate")


def test_rate_that_is_not_a_multiple_of_the_working_rate_is_refused():
    trace, _ = synthesize_lever_trace(20.0, n_movements=2, seed=0, sample_rate=2500.5)
    with pytest.raises(NwbMotorValueError, match=r"integer multiple of the working rate \(1000 Hz\); got 2500.5 Hz"):
        detect_movements_blockwise(lambda a, b: trace[a:b], trace.size, 2500.5)


def test_read_returning_the_wrong_length_is_an_error():
    trace, _ = synthesize_lever_trace(20.0, n_movements=2, seed=0)
    with pytest.raises(NwbMotorValueError, match=r"read\(0, \d+\) returned shape \(\d+,\); expected"):
        detect_movements_blockwise(lambda a, b: trace[a : b - 1], trace.size, RATE)


@pytest.mark.parametrize("n_samples", [3_906_250, 3_600_000])  # FFT length = n (MATLAB hilbert): odd, even
def test_envelope_by_blocks_matches_the_whole_trace_fft(n_samples):
    trace, _ = synthesize_lever_trace(400.0, seed=3)
    trace = trace[:n_samples]
    params = movement_parameters()
    whole = _envelope(_velocity(_smooth(_resample(trace, RATE, 1000.0), params), 5))
    with warnings.catch_warnings():
        working = _WorkingTrace(lambda a, b: trace[a:b], trace.size, RATE, params)
    assert working.nfft == working.n and (working.nfft % 2 == 1) == (n_samples == 3_906_250)
    block, margin = 128 * 50, 128 * 100
    far = _FarField(working.n, working.nfft)
    working.compute(block, far)
    try:
        err = max(
            np.max(np.abs(working.envelope(a, min(working.n, a + block), margin, far) - whole[a : a + block]))
            for a in range(0, working.n, block)
        )
    finally:
        working.close()
    assert err < 1e-9  # volts per sample; the threshold is 7e-4


def test_two_pass_percentile_and_std_are_matlab_s():
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.standard_normal(99_991) * 1e-3, np.zeros(50), np.full(30, 2.5e-3)])
    blocks = lambda: iter(np.array_split(values, 13))  # noqa: E731
    values[::7] *= -1.0
    # MATLAB prctile (numpy's 'hazen') of the signed values; std with n - 1
    assert _percentile99_two_pass(blocks) == pytest.approx(np.percentile(values, 99, method="hazen"), rel=1e-15)
    assert _std_two_pass(blocks) == pytest.approx(np.std(values, ddof=1), rel=1e-12)


def _traced_peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_blockwise_memory_does_not_grow_with_the_trace():
    short, _ = synthesize_lever_trace(150.0, seed=1)
    long, _ = synthesize_lever_trace(600.0, seed=1)
    kwargs = {"block_s": 10.0, "hilbert_margin_s": 10.0}
    peak_short = _traced_peak(lambda: detect_movements_blockwise(lambda a, b: short[a:b], short.size, RATE, **kwargs))
    peak_long = _traced_peak(lambda: detect_movements_blockwise(lambda a, b: long[a:b], long.size, RATE, **kwargs))
    whole_short = _traced_peak(lambda: detect_movements(short, RATE))
    whole_long = _traced_peak(lambda: detect_movements(long, RATE))
    assert whole_long > 3 * whole_short  # the whole-trace path grows with the trace ...
    assert peak_long < 1.15 * peak_short  # ... the block-wise one does not
    assert peak_long < whole_long / 5
