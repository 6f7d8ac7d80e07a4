"""The pure cores: bitcode decoding, clock alignment, frame mapping."""

from __future__ import annotations

import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.converters.lever import (
    align_clocks,
    check_trial_numbers,
    decode_bitcode_edges,
    decode_bitcodes,
    falling_edges,
    rising_edges,
)
from nwbmotor.methods import check_frame_times, frame_report, map_to_frames
from nwbmotor.testing import bitcode_trace

FS = 10_000.0


def _all_codes(pitch: float, jitter: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Every 12-bit trial number 1..4095, one code every 280-350 ms, as one channel."""
    rng = np.random.default_rng(seed)
    numbers = np.arange(1, 4096)
    pieces, starts, t = [], [], 0
    for i, n in enumerate(numbers):
        lead = rng.uniform(0.13, 0.2)  # > 125 ms after the previous code's last edge
        piece = bitcode_trace(int(n), FS, bit_pitch=pitch, jitter=jitter, lead=lead, seed=seed + i)
        starts.append(t + int(np.ceil(lead * FS - 1e-9)))
        pieces.append(piece)
        t += len(piece)
    return np.concatenate(pieces), np.asarray(starts) / FS


@pytest.mark.parametrize("pitch_ms", [10.0, 10.2])
def test_every_trial_number_decodes_with_slow_pitch_and_jitter(pitch_ms: float) -> None:
    trace, expected_times = _all_codes(pitch_ms / 1000, jitter=0.01)
    codes = decode_bitcodes(trace, FS)
    np.testing.assert_array_equal(codes.trial_numbers, np.arange(1, 4096))
    np.testing.assert_allclose(codes.times, expected_times, atol=0.5 / FS)
    assert codes.problems == ()


def test_rising_edges_across_chunk_boundaries() -> None:
    x = np.zeros(1000)
    x[[99, 100, 101, 500, 999]] = 5.0
    x[250:260] = np.nan  # NaN counts as low
    expected = np.array([99, 500, 999])
    np.testing.assert_array_equal(rising_edges(x, 2.0, chunk=100), expected)
    np.testing.assert_array_equal(falling_edges(x, 2.0, chunk=7), np.array([102, 501]))


def test_code_cut_by_end_and_stray_edges_are_reported() -> None:
    edges = np.array([0.0, 0.0102, 0.5, 0.5 + 0.004, 2.0, 2.04])  # stray edge 4 ms after the second sync
    codes = decode_bitcode_edges(edges, end_time=2.05)
    np.testing.assert_array_equal(codes.trial_numbers, [2048, 0])
    np.testing.assert_array_equal(codes.times, [0.0, 0.5])
    assert any("outside its bit windows" in p for p in codes.problems)
    assert any("cut by the end" in p for p in codes.problems)


def test_alignment_recovers_drift_and_maps_events() -> None:
    rng = np.random.default_rng(1)
    d_start = np.cumsum(rng.uniform(6, 12, 50)) + 1000.0
    slope, offset = 1 + 55e-6, -998.2
    s_start = offset + slope * d_start + rng.normal(0, 3e-5, 50)  # sample quantisation
    a = align_clocks(np.arange(1, 51), s_start, np.arange(1, 51), d_start)
    assert a.drift_ppm == pytest.approx(55, abs=2)
    events = d_start[:-1] + rng.uniform(0, 5, 49)
    np.testing.assert_allclose(a.to_session(events), offset + slope * events, atol=1e-4)
    after = d_start[-1] + 100.0  # beyond the last anchor: the fitted slope continues
    assert a.to_session(np.array([after]))[0] == pytest.approx(offset + slope * after, abs=2e-4)


def test_alignment_rejects_a_misdecoded_bitcode() -> None:
    d = np.arange(10) * 10.0
    s = d + 5.0
    s[4] += 0.05  # 50 ms off the fit
    with pytest.raises(NwbMotorValueError, match=r"trial 5's bitcode .* off the clock fit"):
        align_clocks(np.arange(1, 11), s, np.arange(1, 11), d, source="rig")


def test_alignment_needs_common_trials() -> None:
    with pytest.raises(NwbMotorValueError, match="only 0 trial number"):
        align_clocks(np.array([100, 101]), np.array([1.0, 2.0]), np.array([1, 2]), np.array([0.0, 1.0]))


def test_repeated_trial_numbers_are_an_error() -> None:
    with pytest.raises(NwbMotorValueError, match=r"x: channel 'Trial_number': trial 3 is decoded 2 times \(at 20.000 s, 30.000 s\)"):
        check_trial_numbers(np.array([1, 2, 3, 3, 4]), np.array([0.0, 10.0, 20.0, 30.0, 40.0]), source="x")


def test_missing_trial_numbers_are_warnings() -> None:
    warnings = check_trial_numbers(np.array([1, 2, 5, 6]), np.array([0.0, 10.0, 40.0, 50.0]), source="x")
    assert len(warnings) == 1
    assert "trial(s) [3, 4]" in warnings[0]


def test_map_to_frames_is_nearest_frame() -> None:
    frames = np.arange(100) / 28.0 + 0.5
    rng = np.random.default_rng(2)
    k = rng.integers(0, 100, 200)
    events = frames[k] + rng.uniform(-0.49, 0.49, 200) / 28.0
    np.testing.assert_array_equal(map_to_frames(events, frames), k)
    assert map_to_frames(np.array([0.0, 100.0, np.nan]), frames).tolist() == [-1, -1, -1]


def test_non_monotonic_frame_pulses_are_an_error() -> None:
    t = np.array([0.0, 0.1, 0.2, 0.15, 0.3])
    with pytest.raises(NwbMotorValueError, match=r"f: frame pulses are not monotonic: frame 3 at 0.150000 s is not after frame 2"):
        check_frame_times(t, source="f")


def test_frame_report_counts_against_the_movie() -> None:
    t = np.r_[np.arange(50), np.arange(51, 100)] / 28.0  # one pulse missing
    report = frame_report(t, n_movie_frames=100)
    assert report["extra_pulses"] == -1
    assert report["n_long_intervals"] == 1
    assert "1 movie frame(s) without a pulse" in report["text"]
    assert frame_report(t, 97)["extra_pulses"] == 2
