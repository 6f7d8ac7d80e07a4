"""The lab's lever-movement presets against the lab's published rule (AP_parseLeverMovement.m).

Small traces whose answer can be worked out by hand for each convention, and a
mask-by-mask transcription of the lab's MATLAB code (written here, independent of the
interval-based implementation) that the presets must match sample for sample.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, filtfilt, hilbert, resample_poly

from nwbmotor.methods import detect_movements, detect_movements_blockwise, movement_parameters
from nwbmotor.methods._movements import (
    PRESETS,
    _EpochMerger,
    _kept_epochs,
    _lab_trim,
    _noise_level,
    _smooth,
    _velocity,
)
from nwbmotor.testing import synthesize_lever_trace

# ----------------------------------------------------------------- hand-computable rules


def test_the_low_pass_is_5_hz_for_every_preset():
    for name in PRESETS:
        assert movement_parameters(name)["lowpass_hz"] == 5.0
    # zero-phase: the 5 Hz Butterworth's -3 dB point applied twice -> gain 1/2 at 5 Hz
    t = np.arange(20_000) / 1000.0
    out = _smooth(np.sin(2 * np.pi * 5.0 * t), movement_parameters("peters2014"))
    assert np.max(np.abs(out[5000:15000])) == pytest.approx(0.5, abs=0.01)
    out10 = _smooth(np.sin(2 * np.pi * 10.0 * t), movement_parameters("peters2014"))
    assert np.max(np.abs(out10[5000:15000])) == pytest.approx(1 / (1 + 2**8), abs=0.002)  # |H(2 fc)|^2


def test_velocity_is_matlab_smooth_of_the_first_difference():
    smooth = np.cumsum(np.arange(12.0))  # first differences 0, 1, 2, ..., 11
    v = _velocity(smooth, 5)
    d = np.r_[0.0, np.arange(1.0, 12.0)]
    # interior: centred 5-sample mean; ends: spans 1 and 3 (MATLAB smooth), not zero padding
    np.testing.assert_allclose(v[2:-2], d[2:-2])
    assert v[0] == 0.0 and v[1] == pytest.approx(1.0) and v[-1] == 11.0 and v[-2] == pytest.approx(10.0)


def test_dilation_is_75_before_and_74_after_and_150_sample_runs_are_dropped():
    params = movement_parameters("peters2014")
    m = _EpochMerger(1000, params)
    m.add(np.array([100]), np.array([101]))  # one active sample
    np.testing.assert_array_equal(m.epochs(), [[25, 175]])  # samples 25..174: 150 samples
    starts, stops = _kept_epochs(m.epochs(), 1000, params)
    assert starts.size == 0  # stop - start (inclusive stop) = 149 < 150: erased
    m = _EpochMerger(1000, params)
    m.add(np.array([100]), np.array([102]))  # two samples: 151 after dilation
    starts, _ = _kept_epochs(m.epochs(), 1000, params)
    np.testing.assert_array_equal(starts, [25])


@pytest.mark.parametrize(("gap", "merged"), [(498, True), (499, False)])
def test_gaps_are_filled_when_start_minus_previous_stop_is_below_500(gap, merged):
    params = movement_parameters("peters2014")
    m = _EpochMerger(5000, params)
    # dilated runs [1000, 1200) and [1200 + gap, ...): inactive gap of `gap` samples
    m.add(np.array([1075, 1275 + gap]), np.array([1126, 1400 + gap]))
    assert (m.epochs().shape[0] == 1) is merged


def test_movements_at_either_end_of_the_trace_are_dropped():
    params = movement_parameters("peters2014")
    epochs = np.array([[0, 400], [1000, 1400], [2000, 3000]])
    starts, stops = _kept_epochs(epochs, 3000, params)
    np.testing.assert_array_equal(np.c_[starts, stops], [[1000, 1400]])


def test_noise_is_matlab_prctile_99_of_the_signed_residual_or_the_sample_std():
    x = np.arange(1.0, 101.0)
    assert _noise_level(x, "p99") == pytest.approx(99.5)  # MATLAB: prctile(1:100, 99) = 99.5
    # signed: large negative excursions do not raise it (|residual| would give 200)
    signed = np.r_[np.zeros(95), np.full(5, -200.0)]
    assert _noise_level(signed, "p99") == 0.0
    assert _noise_level(np.array([1.0, 2.0, 3.0, 4.0]), "std") == pytest.approx(np.sqrt(5 / 3))  # n - 1


@pytest.mark.parametrize(
    ("run", "pattern", "expected"),
    [
        # 3-run: the onset is the last sample of the first run of 3 (k - floor(3/2) trimmed)
        (3, [0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1], 8),
        (3, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2),
        # 10-run: the onset is the run's second sample
        (10, [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 4),
        (10, [1] * 15, 1),
        # no run: nothing trimmed
        (3, [0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 0], 0),
    ],
)
def test_lab_trim_follows_the_centred_run_and_floor_rule(run, pattern, expected):
    a = 50
    c = np.asarray(pattern, dtype=float)
    raw = np.zeros(200)
    raw[a : a + c.size] = 2.0 * c  # |raw - smooth[a]| > noise (1) where the pattern is 1
    smooth = np.zeros(200)
    assert _lab_trim(raw, smooth, a, a + c.size, 1.0, run) == a + expected


# ----------------------------------------------------- the MATLAB code, mask by mask


def _matlab_smooth(x: np.ndarray, span: int) -> np.ndarray:
    out = np.empty_like(x)
    h = (span - 1) // 2
    n = x.size
    for i in range(n):
        w = min(i, n - 1 - i, h)
        out[i] = x[i - w : i + w + 1].mean()
    return out


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.diff(np.r_[0, mask.astype(int), 0])
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1) - 1  # inclusive stops


def _lab_reference(trace: np.ndarray, estimator: str, run: int) -> tuple[np.ndarray, np.ndarray]:
    """AP_parseLeverMovement(_updated).m transcribed on masks, 0-based; returns (onsets, offsets)."""
    x = resample_poly(trace, 1, 10)
    n = x.size
    b, a = butter(4, 5 / 500)
    sm = filtfilt(b, a, x, padtype="odd", padlen=12)
    v = _matlab_smooth(np.r_[0.0, np.diff(sm)], 5)
    act = np.abs(hilbert(v)) > 0.0007
    act = np.convolve(act.astype(int), np.ones(150, dtype=int))[75 : 75 + n] > 0  # conv2 'same'
    st, sp = _runs(act)
    for i in np.flatnonzero(st[1:] - sp[:-1] < 500):
        act[sp[i] : st[i + 1] + 1] = True
    st, sp = _runs(act)
    for i in np.flatnonzero(sp - st < 150):
        act[st[i] : sp[i] + 1] = False
    st, sp = _runs(act)
    if st.size and st[0] == 0:
        act[: sp[0] + 1] = False
    if sp.size and sp[-1] == n - 1:
        act[st[-1] :] = False
    st, sp = _runs(act)
    r = x[~act] - sm[~act]
    noise = np.percentile(r, 99, method="hazen") if estimator == "p99" else np.std(r, ddof=1)
    half = run // 2
    for s, e in zip(st, sp):
        epoch = x[s : e + 1]
        for ref, seq, forward in ((sm[s], epoch, True), (sm[e], epoch[::-1], False)):
            c = (np.abs(seq - ref) > abs((ref + noise) - ref)).astype(int)
            same = np.convolve(c, np.ones(run, dtype=int))[half : half + c.size]  # conv 'same'
            hits = np.flatnonzero(same >= run)
            if not hits.size:
                continue
            k1 = int(hits[0]) + 1  # MATLAB's 1-based find
            if forward:
                act[s : s + k1 - half + 1] = False
            else:
                act[e - k1 + half : e + 1] = False
    st, sp = _runs(act)
    return st, sp


@pytest.fixture(scope="module")
def varied_sessions():
    styles = {"typical": 1.0, "fast": 1.0, "slow": 1.0, "double": 1.0}
    return [
        synthesize_lever_trace(60.0, n_movements=12, seed=seed, press_styles=styles, noise_rms=noise)
        for seed, noise in ((0, 0.0015), (1, 0.003), (2, 0.0007))
    ]


@pytest.mark.parametrize(("preset", "estimator", "run"), [("peters2014", "p99", 3), ("updated", "std", 10)])
def test_presets_match_the_lab_code_sample_for_sample(varied_sessions, preset, estimator, run):
    for trace, _ in varied_sessions:
        onsets, offsets = _lab_reference(trace, estimator, run)
        moves = detect_movements(trace, 10_000.0, preset=preset)
        np.testing.assert_array_equal(moves.onset_working, onsets)
        np.testing.assert_array_equal(moves.offset_working, offsets)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_blockwise_detection_equals_the_whole_trace_for_every_preset(varied_sessions, preset):
    for trace, _ in varied_sessions:
        whole = detect_movements(trace, 10_000.0, preset=preset)
        block = detect_movements_blockwise(lambda a, b: trace[a:b], trace.size, 10_000.0, preset=preset, block_s=7.0)
        np.testing.assert_array_equal(block.onset_working, whole.onset_working)
        np.testing.assert_array_equal(block.offset_working, whole.offset_working)
        assert block.noise == pytest.approx(whole.noise, rel=1e-9)
        np.testing.assert_allclose(block.peak_amplitudes, whole.peak_amplitudes, rtol=1e-9)
