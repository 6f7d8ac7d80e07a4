"""Lever movement detection against planted truth (science.md A)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nwbmotor import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.methods import MOVEMENT_PRESETS as PRESETS
from nwbmotor.methods import detect_movements, movement_parameters
from nwbmotor.testing import synthesize_lever_trace

SEEDS = (0, 1, 2, 3)
TOLERANCE_S = 0.010


def _score(truth, moves) -> tuple[int, int, int, int]:
    """(true movements, onsets found within 10 ms, detections, spurious detections)."""
    on, off = moves.onset_times, moves.offset_times
    hits = 0
    for t in truth.onset_times:
        hits += bool(on.size) and bool(np.min(np.abs(on - t)) <= TOLERANCE_S)
    spurious = sum(
        not np.any((truth.onset_times <= b) & (truth.offset_times >= a)) for a, b in zip(on, off)
    )
    return len(truth), hits, len(on), spurious


STYLES = {"typical": 2.0, "fast": 1.0, "slow": 1.0, "double": 1.0}


@pytest.fixture(scope="module")
def sessions():
    # varied press shapes; every planted press is a movement by the method's criterion
    return [synthesize_lever_trace(200.0, seed=seed, press_styles=STYLES) for seed in SEEDS]


@pytest.mark.parametrize("preset", ["nwbmotor"])
def test_onsets_within_10_ms_of_truth(sessions, preset):
    totals = np.zeros(4, dtype=int)
    for trace, truth in sessions:
        totals += _score(truth, detect_movements(trace, 10_000.0, preset=preset))
    n_true, hits, n_detected, spurious = totals
    assert n_true >= 150
    assert hits / n_true >= 0.97, f"{preset}: {hits}/{n_true} onsets within 10 ms"
    assert spurious / n_detected <= 0.03, f"{preset}: {spurious}/{n_detected} spurious"


@pytest.mark.parametrize("preset", ["peters2014", "updated"])
def test_lab_refinement_is_less_accurate(sessions, preset):
    # the lab's refinement (trim from the epoch's first sample) is what nwbmotor's
    # default improves on; if this ever stops failing, the default is moot
    totals = np.zeros(4, dtype=int)
    for trace, truth in sessions:
        totals += _score(truth, detect_movements(trace, 10_000.0, preset=preset))
    assert totals[1] / totals[0] < 0.9


def test_sub_criterion_touches_are_not_movements(sessions):
    trace, truth = sessions[0]
    moves = detect_movements(trace, 10_000.0)
    assert truth.touch_times.shape[0] >= 5
    for a, b in truth.touch_times:
        assert not np.any((moves.onset_times <= b) & (moves.offset_times >= a))


def test_offsets_follow_onsets_and_lie_near_the_true_offset(sessions):
    trace, truth = sessions[1]
    moves = detect_movements(trace, 10_000.0)
    assert np.all(moves.offset_times > moves.onset_times)
    assert np.all(moves.onset_times[1:] > moves.offset_times[:-1])
    # the last movement of the truth is matched by the last detection; offsets within 0.2 s
    j = np.argmin(np.abs(moves.onset_times - truth.onset_times[-1]))
    assert abs(moves.offset_times[j] - truth.offset_times[-1]) < 0.2


def test_peak_amplitude_matches_planted_press(sessions):
    trace, truth = sessions[2]
    moves = detect_movements(trace, 10_000.0)
    checked = 0
    for onset, offset, amplitude in zip(truth.onset_times, truth.offset_times, truth.amplitudes):
        j = np.argmin(np.abs(moves.onset_times - onset))
        # presses detected whole (a hold long enough is a pause of the lever: two movements)
        if abs(moves.onset_times[j] - onset) < TOLERANCE_S and abs(moves.offset_times[j] - offset) < 0.2:
            assert moves.peak_amplitudes[j] == pytest.approx(amplitude, rel=0.15, abs=0.01)
            checked += 1
    assert checked >= 0.6 * len(truth)


def test_samples_and_times_agree_and_start_time_shifts(sessions):
    trace, _ = sessions[0]
    moves = detect_movements(trace, 10_000.0)
    shifted = detect_movements(trace, 10_000.0, start_time=100.0)
    np.testing.assert_allclose(moves.onset_samples / 10_000.0, moves.onset_times, atol=1e-9)
    np.testing.assert_allclose(shifted.onset_times, moves.onset_times + 100.0)
    np.testing.assert_array_equal(shifted.onset_samples, moves.onset_samples)
    active_times = moves.active_times()
    assert active_times.size == moves.active.size
    assert moves.active[np.searchsorted(active_times, moves.onset_times[0] + 0.0005)]
    assert not moves.active[np.searchsorted(active_times, moves.onset_times[0] - 0.002)]


@pytest.mark.parametrize("rate", [1000.0, 2500.0])
def test_other_sample_rates_give_the_same_onsets(rate):
    trace, truth = synthesize_lever_trace(60.0, sample_rate=rate, n_movements=10, seed=5)
    moves = detect_movements(trace, rate)
    n_true, hits, _, spurious = _score(truth, moves)
    assert hits >= 9 and spurious == 0
    assert moves.onset_samples.max() < trace.size


def test_movements_touching_either_end_are_dropped():
    trace, truth = synthesize_lever_trace(30.0, n_movements=6, seed=3)
    first_mid = int((truth.onset_times[0] + 0.05) * 10_000)
    last_mid = int((truth.onset_times[-1] + 0.05) * 10_000)
    cut = trace[first_mid:last_mid]
    moves = detect_movements(cut, 10_000.0, start_time=first_mid / 10_000)
    assert len(moves) == 4
    np.testing.assert_allclose(moves.onset_times, truth.onset_times[1:-1], atol=TOLERANCE_S)


def test_parameters_recorded_and_json():
    trace, _ = synthesize_lever_trace(20.0, n_movements=3, seed=0)
    moves = detect_movements(trace, 10_000.0, preset="updated", max_gap_s=0.4)
    recorded = json.loads(moves.parameters_json())
    assert recorded["preset"] == "updated"
    assert recorded["noise_estimator"] == "std" and recorded["consecutive_samples"] == 10
    assert recorded["max_gap_s"] == 0.4
    assert recorded["velocity_threshold_v_per_ms"] == 0.0007
    assert recorded["n_nan_interpolated"] == 0
    assert set(PRESETS["peters2014"]) <= set(recorded)


def test_presets_differ_only_in_noise_and_run_length():
    a, b = dict(PRESETS["peters2014"]), dict(PRESETS["updated"])
    assert {k for k in a if a[k] != b[k]} == {"noise_estimator", "consecutive_samples"}
    assert (a["noise_estimator"], a["consecutive_samples"]) == ("p99", 3)
    assert (b["noise_estimator"], b["consecutive_samples"]) == ("std", 10)
    assert a["refinement"] == b["refinement"] == "lab"
    c = dict(PRESETS["nwbmotor"])
    assert {k for k in b if b[k] != c[k]} == {"refinement"}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"preset": "peters2015"}, NwbMotorValueError, r"unknown preset 'peters2015'.*'updated'"),
        ({"velocity_treshold": 1.0}, NwbMotorValueError, r"unknown parameter\(s\) \['velocity_treshold'\]"),
        ({"consecutive_samples": 2.5}, NwbMotorTypeError, r"'consecutive_samples' must be an integer"),
        ({"lowpass_hz": 600.0}, NwbMotorValueError, r"'lowpass_hz' must be below the Nyquist"),
        ({"noise_estimator": "mad"}, NwbMotorValueError, r"'noise_estimator' must be one of"),
        ({"refinement": "backtrack"}, NwbMotorValueError, r"'refinement' must be one of \('lab', 'onset_fit'\)"),
        ({"refinement": True}, NwbMotorTypeError, r"'refinement' must be a string"),
        ({"max_gap_s": -1.0}, NwbMotorValueError, r"'max_gap_s' must be a number >= 0"),
    ],
)
def test_bad_parameters(kwargs, error, match):
    with pytest.raises(error, match=match):
        movement_parameters(**kwargs)


def test_nan_in_lever_is_a_clear_error():
    trace, _ = synthesize_lever_trace(20.0, n_movements=3, seed=0)
    trace[12_345:12_348] = np.nan
    trace[50_000] = np.nan
    with pytest.raises(NwbMotorValueError, match=r"4 NaN/inf sample\(s\) of 200000, the first at index 12345"):
        detect_movements(trace, 10_000.0)


def test_nan_interpolation_is_explicit_warned_and_recorded():
    trace, truth = synthesize_lever_trace(20.0, n_movements=3, seed=0)
    clean = detect_movements(trace, 10_000.0)
    holed = trace.copy()
    holed[int(truth.onset_times[1] * 10_000) + 300 : int(truth.onset_times[1] * 10_000) + 310] = np.nan
    with pytest.warns(UserWarning, match=r"interpolated 10 NaN lever sample"):
        moves = detect_movements(holed, 10_000.0, nan_policy="interpolate")
    assert moves.parameters["n_nan_interpolated"] == 10
    np.testing.assert_allclose(moves.onset_times, clean.onset_times, atol=0.002)


def test_nan_run_too_long_to_interpolate():
    trace, _ = synthesize_lever_trace(20.0, n_movements=3, seed=0)
    trace[1000:2000] = np.nan
    with pytest.raises(NwbMotorValueError, match=r"NaN run of 1000 samples \(0.1000 s\).*max_nan_gap_s=0.01"):
        detect_movements(trace, 10_000.0, nan_policy="interpolate")


@pytest.mark.parametrize(
    ("lever", "rate", "error", "match"),
    [
        (np.zeros((2, 20_000)), 10_000.0, NwbMotorValueError, r"one-dimensional, got shape \(2, 20000\)"),
        (np.zeros(5_000), 10_000.0, NwbMotorValueError, r"5000 samples \(0.500 s\); at least 1 s"),
        (np.zeros(20_000), -1.0, NwbMotorValueError, r"sample_rate must be a positive number"),
        (np.zeros(20_000), "fast", NwbMotorTypeError, r"sample_rate must be a number, got 'fast'"),
        (["a", "b"], 10_000.0, NwbMotorTypeError, r"lever must be an array of numbers"),
    ],
)
def test_bad_lever_input(lever, rate, error, match):
    with pytest.raises(error, match=match):
        detect_movements(lever, rate)


def test_flat_trace_has_no_movements():
    rng = np.random.default_rng(0)
    # rest at 0 V: the polyphase resampling pads with zeros, so a rest level far from 0
    # puts a step at each end of the trace (in the lab's code too)
    moves = detect_movements(0.0015 * rng.standard_normal(50_000), 10_000.0, preset="peters2014")
    assert len(moves) == 0
    assert not moves.active.any()
    assert moves.noise == pytest.approx(0.0015 / np.sqrt(10) * 2.33, rel=0.25)


def test_updated_preset_noise_is_the_residual_std():
    rng = np.random.default_rng(1)
    flat = 0.0015 * rng.standard_normal(50_000)
    p99 = detect_movements(flat, 10_000.0, preset="peters2014").noise
    std = detect_movements(flat, 10_000.0, preset="updated").noise
    # white noise keeps 1/sqrt(10) of its std through the 1 kHz resampling
    assert std == pytest.approx(0.0015 / np.sqrt(10), rel=0.1)
    assert p99 / std == pytest.approx(2.326, rel=0.05)  # 99th percentile of N(0, 1): signed, not |N|
