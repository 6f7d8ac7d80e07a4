"""Movements through the rig converters: xsglog + Dispatcher -> trials' movement columns and MovementsTable."""

from __future__ import annotations

import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwbmotor import write_nwbfile
from nwbmotor.converters.lever._movements_table import trial_column_name
from nwbmotor.testing import assert_valid_nwb, mock_nwbfile, write_rig_session

VARIED = {"press_styles": {"typical": 1.0, "fast": 1.0, "slow": 1.0, "double": 1.0}, "drift_amplitude": 0.02}


@pytest.mark.parametrize(("seed", "lever_options"), [(0, None), (1, None), (2, VARIED)])
def test_rig_session_movement_columns_match_planted_presses(tmp_path, seed, lever_options):
    from nwbmotor.converters.lever.dispatcher_interface import DispatcherTrialsInterface
    from nwbmotor.converters.lever.xsglog_interface import XsglogLeverInterface

    truth = write_rig_session(tmp_path / "rig", n_trials=16, seed=seed, lever_options=lever_options)
    interfaces = {"xsglog": XsglogLeverInterface(truth.folder), "dispatcher": DispatcherTrialsInterface(truth.dispatcher_path)}
    for i in interfaces.values():
        i.link_session(interfaces)
    nwbfile = mock_nwbfile()
    for i in interfaces.values():
        i.add_to_nwbfile(nwbfile, {})
    path = write_nwbfile(nwbfile, tmp_path / "session.nwb")
    assert_valid_nwb(path)

    with NWBHDF5IO(str(path), "r") as io:
        f = io.read()
        movements = f.intervals["movements"]
        onsets = movements["start_time"].data[:]
        # planted movements found within 10 ms (the >= 95 % target is tested on 160+ movements in
        # test_detect_movements; a session of ~18 allows one near miss), nothing spurious
        hits = [np.min(np.abs(onsets - t)) <= 0.010 for t in truth.movement_onsets]
        assert np.mean(hits) >= 0.9
        stops = movements["stop_time"].data[:]
        for a, b in zip(onsets, stops):
            assert np.any((truth.movement_onsets <= b) & (truth.movement_offsets >= a))
        trials = f.trials
        rewarded = truth.rewarded
        press = truth.movement_onsets[truth.press_movement[rewarded]]
        error = np.abs(trials["movement_onset"].data[:][rewarded] - press)
        assert np.mean(error <= 0.010) >= 0.9 and np.all(error <= 0.03)
        assert np.all(np.isnan(trials["movement_onset"].data[:][~rewarded]))
        # cued_rewarded from the planted truth: press after the cue, lever quiet 100 ms before it
        quiet = np.array([
            not np.any((truth.movement_onsets <= c) & (truth.movement_offsets >= c - 0.1)) for c in truth.cue_times
        ])
        expected = rewarded & quiet & (np.where(truth.press_movement >= 0,
                                                truth.movement_onsets[np.maximum(truth.press_movement, 0)], -1) > truth.cue_times)
        np.testing.assert_array_equal(trials["cued_rewarded"].data[:], expected)
        assert movements["rewarded"].data[:].sum() == rewarded.sum()
        np.testing.assert_array_equal(np.sort(movements[trial_column_name()].data[:][movements["rewarded"].data[:]]),
                                      np.flatnonzero(rewarded))
