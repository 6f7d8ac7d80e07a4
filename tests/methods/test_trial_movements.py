"""Trial logic on movements: rewarded movement, cued movement, movement -> trial."""

from __future__ import annotations

import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.methods import assign_movements_to_trials, detect_movements, find_cued_movements, find_rewarded_movements
from nwbmotor.testing import synthesize_lever_trace


def test_rewarded_movement_contains_the_reward():
    onsets, offsets = [1.0, 3.0, 7.0], [2.0, 4.0, 8.0]
    actual = find_rewarded_movements(onsets, offsets, [1.5, np.nan, 4.0, 5.0, 0.5, 7.0])
    np.testing.assert_array_equal(actual, [0, -1, 1, -1, -1, 2])


def test_cued_movement_needs_quiet_lever_before_cue():
    onsets, offsets = [0.5, 1.2, 5.0, 9.0], [0.95, 2.0, 6.0, 9.5]
    # trial 0: the lever was active until 0.95 s, cue at 1.0 s -> not cued
    # trial 1: quiet before cue 4.8 -> movement 2 is cued
    # trial 2: cue at 8.0, stop at 8.5 -> next movement is after the trial
    actual = find_cued_movements(onsets, offsets, [1.0, 4.8, 8.0], [3.0, 7.0, 8.5])
    np.testing.assert_array_equal(actual, [-1, 2, -1])
    # with a 40 ms quiet window the first trial's movement counts
    actual = find_cued_movements(onsets, offsets, [1.0], [3.0], quiet_before_cue_s=0.04)
    np.testing.assert_array_equal(actual, [1])


def test_assign_on_detected_movements_of_a_synthetic_session():
    onsets = np.arange(5.0, 95.0, 6.0)
    trace, truth = synthesize_lever_trace(100.0, onset_times=onsets, seed=7, partial_fraction=0.3)
    moves = detect_movements(trace, 10_000.0)
    cue = truth.onset_times - 0.3
    cue[2] = truth.onset_times[2] + 0.2  # the press started before the cue: not cued
    start, stop = cue - 1.0, cue + 4.0
    reward = truth.crossing_times  # the rig rewards the threshold crossing; NaN for partial presses
    tm = assign_movements_to_trials(
        moves.onset_times, moves.offset_times,
        start_times=start, stop_times=stop, cue_times=cue, reward_times=reward,
    )
    rewarded = ~np.isnan(reward)
    assert 0 < rewarded.sum() < len(onsets)
    np.testing.assert_allclose(tm.movement_onset[rewarded], truth.onset_times[rewarded], atol=0.01)
    assert np.all(np.isnan(tm.movement_onset[~rewarded]))
    assert np.all(tm.movement_offset[rewarded] > reward[rewarded])
    expected_cued = rewarded.copy()
    expected_cued[2] = False
    np.testing.assert_array_equal(tm.cued_rewarded, expected_cued)
    # long holds may split one press into two detected movements: both belong to its trial
    containing = np.searchsorted(truth.onset_times, moves.onset_times + 0.01) - 1
    np.testing.assert_array_equal(tm.trial, containing)
    np.testing.assert_array_equal(np.flatnonzero(tm.rewarded), tm.rewarded_movement[rewarded])
    first_piece = np.searchsorted(moves.onset_times, truth.onset_times - 0.01)
    expected = np.zeros(len(moves), dtype=bool)
    expected[np.delete(first_piece, 2)] = True
    np.testing.assert_array_equal(tm.cued, expected)


def test_movement_outside_any_trial():
    tm = assign_movements_to_trials(
        [0.5, 3.0], [0.9, 3.5], start_times=[2.0], stop_times=[5.0], cue_times=[2.5], reward_times=[3.2]
    )
    np.testing.assert_array_equal(tm.trial, [-1, 0])
    np.testing.assert_array_equal(tm.rewarded, [False, True])
    assert tm.movement_onset[0] == 3.0 and tm.cued_rewarded[0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"stop_times": [1.0]}, r"stop_times has 1 values; start_times has 2"),
        ({"onsets": [2.0, 1.0], "offsets": [2.5, 1.5]}, r"sorted by onset"),
        ({"offsets": [1.0]}, r"onsets \(2\) and offsets \(1\)"),
    ],
)
def test_bad_trial_inputs(kwargs, match):
    args = {
        "onsets": [1.0, 3.0], "offsets": [1.5, 3.5], "start_times": [0.0, 2.0], "stop_times": [2.0, 4.0],
        "cue_times": [0.5, 2.5], "reward_times": [1.2, np.nan],
    }
    args.update(kwargs)
    onsets, offsets = args.pop("onsets"), args.pop("offsets")
    with pytest.raises(NwbMotorValueError, match=match):
        assign_movements_to_trials(onsets, offsets, **args)
