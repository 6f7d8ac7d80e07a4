"""The MovementsTable and the trials' movement columns, written and read back."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwbmotor import NwbMotorValueError, write_nwbfile
from nwbmotor.converters.lever._movements_table import add_movements_to_nwbfile, trial_column_name
from nwbmotor.methods import detect_movements
from nwbmotor.testing import assert_valid_nwb, mock_nwbfile, synthesize_lever_trace

ONSETS = np.arange(4.0, 60.0, 5.0)


@pytest.fixture(scope="module")
def session():
    return synthesize_lever_trace(64.0, onset_times=ONSETS, seed=11, partial_fraction=0.25)


def _trials(nwbfile, truth, offset=0.0):
    """Trials in session time, the lever starting ``offset`` s into the session."""
    cue = truth.onset_times - 0.25 + offset
    for c in cue:
        nwbfile.add_trial(start_time=c - 1.0, stop_time=c + 3.9)
    nwbfile.trials.add_column("cue_time", "Cue onset (s).", data=cue)
    nwbfile.trials.add_column("reward_time", "Reward onset (s); NaN when unrewarded.", data=truth.crossing_times + offset)
    return nwbfile.trials


def test_round_trip_with_trials(tmp_path, session):
    trace, truth = session
    nwbfile = mock_nwbfile()
    trials = _trials(nwbfile, truth, offset=0.5)
    moves, tm = add_movements_to_nwbfile(nwbfile, trace, 10_000.0, trials=trials, start_time=0.5, max_gap_s=0.4)
    path = write_nwbfile(nwbfile, tmp_path / "movements.nwb")
    assert_valid_nwb(path)

    with NWBHDF5IO(str(path), "r") as io:
        read = io.read()
        table = read.intervals["movements"]
        assert type(table).__name__ == "MovementsTable"
        np.testing.assert_array_equal(table["start_time"].data[:], moves.onset_times)
        np.testing.assert_array_equal(table["stop_time"].data[:], moves.offset_times)
        np.testing.assert_array_equal(table["peak_amplitude"].data[:], moves.peak_amplitudes)
        np.testing.assert_array_equal(table["rewarded"].data[:], tm.rewarded)
        np.testing.assert_array_equal(table["cued"].data[:], tm.cued)
        np.testing.assert_array_equal(table[trial_column_name()].data[:], tm.trial)
        assert np.all(tm.trial >= 0) and len(read.trials) == len(ONSETS)
        assert table.detection_preset == "nwbmotor"
        params = json.loads(table.detection_parameters)
        assert params["max_gap_s"] == 0.4 and params["consecutive_samples"] == 10
        assert params["noise_estimator"] == "std" and params["refinement"] == "onset_fit"
        assert params["preset"] == "nwbmotor"
        # trials' movement columns
        rewarded = ~np.isnan(truth.crossing_times)
        onset = read.trials["movement_onset"].data[:]
        np.testing.assert_allclose(onset[rewarded], truth.onset_times[rewarded] + 0.5, atol=0.01)
        assert np.all(np.isnan(onset[~rewarded]))
        np.testing.assert_array_equal(read.trials["cued_rewarded"].data[:], rewarded)
        assert np.all(read.trials["movement_offset"].data[:][rewarded] > onset[rewarded])


def test_round_trip_without_trials_and_updated_preset(tmp_path, session):
    trace, truth = session
    nwbfile = mock_nwbfile()
    moves, tm = add_movements_to_nwbfile(
        nwbfile, trace, 10_000.0, preset="updated", notes=["the last 20 NaN samples (padding) were left out"]
    )
    assert tm is None
    path = write_nwbfile(nwbfile, tmp_path / "movements.nwb")
    assert_valid_nwb(path)
    with NWBHDF5IO(str(path), "r") as io:
        table = io.read().intervals["movements"]
        assert len(table) == len(moves) >= len(ONSETS)  # a long hold can split a press in two
        np.testing.assert_array_equal(table["start_time"].data[:], moves.onset_times)
        np.testing.assert_array_equal(table[trial_column_name()].data[:], -1)
        assert not table["rewarded"].data[:].any()
        assert table.detection_preset == "updated"
        params = json.loads(table.detection_parameters)
        assert params["notes"] == ["the last 20 NaN samples (padding) were left out"]
        assert "padding" in table.description


def test_trials_as_arrays_give_the_same_columns(session):
    trace, truth = session
    cue = truth.onset_times - 0.25
    nwbfile = mock_nwbfile()
    _, tm = add_movements_to_nwbfile(
        nwbfile, trace, 10_000.0,
        trials={"start_time": cue - 1, "stop_time": cue + 3.9, "cue_time": cue, "reward_time": truth.crossing_times},
    )
    rewarded = ~np.isnan(truth.crossing_times)
    np.testing.assert_array_equal(tm.cued_rewarded, rewarded)
    assert nwbfile.trials is None  # arrays are read, never written


def test_second_movement_source_is_an_error(session):
    trace, _ = session
    nwbfile = mock_nwbfile()
    add_movements_to_nwbfile(nwbfile, trace, 10_000.0)
    with pytest.raises(NwbMotorValueError, match="already has intervals/movements"):
        add_movements_to_nwbfile(nwbfile, trace, 10_000.0)


def test_trial_columns_present_already_is_an_error(session):
    trace, truth = session
    nwbfile = mock_nwbfile()
    trials = _trials(nwbfile, truth)
    trials.add_column("movement_onset", "given by someone else", data=np.zeros(len(trials)))
    with pytest.raises(NwbMotorValueError, match=r"column\(s\) \['movement_onset'\] exist already"):
        add_movements_to_nwbfile(nwbfile, trace, 10_000.0, trials=trials)


def test_nan_lever_is_an_error_before_anything_is_added(session):
    trace, _ = session
    bad = trace.copy()
    bad[1234] = np.nan
    nwbfile = mock_nwbfile()
    with pytest.raises(NwbMotorValueError, match=r"1 NaN/inf sample\(s\) .* first at index 1234"):
        add_movements_to_nwbfile(nwbfile, bad, 10_000.0)
    assert "movements" not in (nwbfile.intervals or {})


def test_movement_table_matches_core_detection(session):
    trace, _ = session
    nwbfile = mock_nwbfile()
    moves, _ = add_movements_to_nwbfile(nwbfile, trace, 10_000.0, overrides={"consecutive_samples": 5})
    direct = detect_movements(trace, 10_000.0, consecutive_samples=5)
    np.testing.assert_array_equal(moves.onset_times, direct.onset_times)
    assert json.loads(nwbfile.intervals["movements"].detection_parameters)["consecutive_samples"] == 5
