"""Whole rig sessions (generated with planted truth) into NWB files: clocks, frames, trials, lever."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwbmotor import NwbMotorValueError, write_nwbfile
from nwbmotor.converters.lever import (
    DispatcherTrialsInterface,
    LeverTableInterface,
    XsgLeverInterface,
    XsglogLeverInterface,
)
from nwbmotor.methods import map_to_frames
from nwbmotor.testing import assert_valid_nwb, mock_nwbfile, write_rig_session

PREFIX = "AP0071AAAA0001"


def _link(interfaces: dict) -> dict:
    for interface in interfaces.values():
        interface.link_session(interfaces)
    return interfaces


def _build(interfaces: dict):
    nwbfile = mock_nwbfile()
    for interface in interfaces.values():
        interface.add_to_nwbfile(nwbfile, interface.get_metadata())
    return nwbfile


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory):
    """A 10.2 ms bit pitch, 1 % jitter, drifting Dispatcher clock, opto trials, 3 dropped movie frames."""
    folder = tmp_path_factory.mktemp("rig")
    truth = write_rig_session(
        folder, n_trials=14, bit_pitch_ms=10.2, jitter=0.01, drift_ppm=60.0, opto_fraction=0.3,
        movie_frame_difference=-3, first_trial=1, seed=21,
    )
    return truth


@pytest.fixture(scope="module")
def written(session, tmp_path_factory: pytest.TempPathFactory):
    interfaces = _link({
        "xsglog": XsglogLeverInterface(session.folder, volts_to_mm=2.5, n_movie_frames=session.n_movie_frames,
                                       task={"reward_volume": 4.0}),
        "dispatcher": DispatcherTrialsInterface(session.dispatcher_path),
    })
    path = tmp_path_factory.mktemp("nwb") / "session.nwb"
    write_nwbfile(_build(interfaces), path)
    return path, interfaces


def test_file_passes_inspection(written) -> None:
    assert_valid_nwb(written[0])


def test_every_trial_decoded_and_aligned_within_1ms(session, written) -> None:
    path, interfaces = written
    codes = interfaces["xsglog"].bitcodes()
    np.testing.assert_array_equal(codes.trial_numbers, session.trial_numbers)
    with NWBHDF5IO(path, "r") as io:
        trials = io.read().trials.to_dataframe()
    np.testing.assert_array_equal(trials["trial_number"], session.trial_numbers)
    assert trials["aligned_by_bitcode"].all()
    for column, truth in (("start_time", session.start_times), ("cue_time", session.cue_times),
                          ("reward_time", session.reward_times), ("stop_time", session.stop_times)):
        actual = trials[column].to_numpy()
        np.testing.assert_array_equal(np.isnan(actual), np.isnan(truth))
        assert np.nanmax(np.abs(actual - truth)) <= 1e-3, column
    np.testing.assert_array_equal(trials["rewarded"], session.rewarded)
    np.testing.assert_array_equal(trials["catch"], session.catch)
    np.testing.assert_array_equal(trials["opto"], session.opto)
    alignment = interfaces["dispatcher"].alignment()
    assert alignment.drift_ppm == pytest.approx(session.drift_ppm, abs=3.0)


def test_drift_and_offsets_are_recorded(session, written) -> None:
    with NWBHDF5IO(written[0], "r") as io:
        trials = io.read().trials
        description = trials.description
        offsets = trials["dispatcher_offset"].data[:]
    drift = float(re.search(r"fitted drift ([+-][0-9.]+) ppm", description).group(1))
    assert drift == pytest.approx(session.drift_ppm, abs=3.0)
    expected = session.start_times - session.dispatcher_start_times
    np.testing.assert_allclose(offsets, expected, atol=2e-4)


def test_event_to_frame_mapping_is_exact(session, written) -> None:
    path, interfaces = written
    frames = interfaces["xsglog"].frame_times()
    np.testing.assert_array_equal(frames, session.frame_times)  # sample-exact frame starts
    with NWBHDF5IO(path, "r") as io:
        trials = io.read().trials.to_dataframe()
    for name, truth in (("cue", session.cue_times), ("reward", session.reward_times)):
        expected = map_to_frames(truth, session.frame_times)
        # an event within the alignment error (0.2 ms) of a frame midpoint may round either way
        mid = np.abs(((truth - session.frame_times[0]) * 28.0) % 1.0 - 0.5) < 0.2e-3 * 28.0
        np.testing.assert_array_equal(trials[f"{name}_frame"].to_numpy()[~mid], expected[~mid])
        assert mid.sum() == 0
    np.testing.assert_array_equal(trials["reward_frame"].to_numpy() == -1, ~session.rewarded)


def test_frame_report_against_movie_is_in_the_file(session, written) -> None:
    with NWBHDF5IO(written[0], "r") as io:
        nwb = io.read()
        table = nwb.events["imaging_frame_pulses"]
        assert len(table) == len(session.frame_times)
        assert f"the movie has {session.n_movie_frames} frames: 3 extra pulse(s)" in table.description
        np.testing.assert_array_equal(table["timestamp"].data[:], session.frame_times)


def test_lever_round_trip_is_exact_in_volts_with_conversion(session, written) -> None:
    expected = np.fromfile(session.folder / f"{PREFIX}_Lever.xsglog", dtype="<f8")
    with NWBHDF5IO(written[0], "r") as io:
        nwb = io.read()
        lever = nwb.processing["behavior"]["BehavioralTimeSeries"]["lever"]
        np.testing.assert_array_equal(lever.data[:], expected)
        assert lever.rate == 10_000.0 and lever.starting_time == 0.0
        assert lever.unit == "m" and lever.conversion == pytest.approx(0.0025)
        task = nwb.lab_meta_data["lever_press_task"]
        assert task.lever_sample_rate == 10_000.0 and task.volts_to_mm == 2.5
        assert task.protocol == "@lever2p" and task.reward_volume == 4.0 and task.response_window == 3.0


def test_ttl_channels_as_events(session, written) -> None:
    with NWBHDF5IO(written[0], "r") as io:
        nwb = io.read()
        codes = nwb.events["trial_bitcodes"]
        np.testing.assert_array_equal(codes["trial_number"].data[:], session.trial_numbers)
        np.testing.assert_allclose(codes["timestamp"].data[:], session.start_times, atol=1e-9)
        opto = nwb.events["opto_ttl"]
        np.testing.assert_allclose(opto["timestamp"].data[:], session.opto_pulse_times, atol=1e-9)
        np.testing.assert_allclose(opto["duration"].data[:], 0.01, atol=1.5e-4)
        assert "lever_touch" in nwb.events


def test_movements_follow_the_trials(session, written) -> None:
    with NWBHDF5IO(written[0], "r") as io:
        nwb = io.read()
        movements = nwb.intervals["movements"]
        trials = nwb.trials.to_dataframe()
        assert "resample_poly(x, 1, 10)" in movements.description
        assert len(movements) >= len(session.movement_onsets) - 2
    onset = trials["movement_onset"].to_numpy()
    np.testing.assert_array_equal(np.isfinite(onset), session.rewarded)
    planted = session.movement_onsets[session.press_movement[session.rewarded]]
    assert np.max(np.abs(onset[session.rewarded] - planted)) < 0.02


def test_blockwise_resampling_gives_the_detector_s_own_movements(session, written) -> None:
    from nwbmotor.methods import detect_movements

    lever = np.fromfile(session.folder / f"{PREFIX}_Lever.xsglog", dtype="<f8")
    expected = detect_movements(lever, 10_000.0)  # the whole 10 kHz trace in memory
    with NWBHDF5IO(written[0], "r") as io:
        movements = io.read().intervals["movements"]
        np.testing.assert_array_equal(movements["start_time"].data[:], expected.onset_times)
        np.testing.assert_array_equal(movements["stop_time"].data[:], expected.offset_times)


def test_spec_conversion_of_a_rig_session(session, tmp_path: Path) -> None:
    import nwbmotor

    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "metadata:\n  lab: Motor learning lab\n  institution: UCSD\n  experimenter: ['Peters, Andrew']\n"
        "subjects:\n  - subject_id: AP071\n    species: Mus musculus\n    sex: F\n    age: P60D\n    sessions:\n"
        "      - session_id: day01\n        session_start_time: 2014-03-01T10:00:00-08:00\n"
        "        session_description: lever-press training day 1\n        sources:\n"
        f"          dispatcher: {{file_path: '{session.dispatcher_path}'}}\n"
        f"          xsglog: {{folder_path: '{session.folder}', volts_to_mm: 2.5}}\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = nwbmotor.convert(spec, output_dir=tmp_path / "nwb", progress=False)
    assert result.ok, result.summary()
    path = tmp_path / "nwb" / "sub-AP071" / "sub-AP071_ses-day01.nwb"
    assert_valid_nwb(path)
    with NWBHDF5IO(path, "r") as io:
        nwb = io.read()
        assert len(nwb.trials) == len(session.trial_numbers)
        assert "movement_onset" in nwb.trials.colnames and len(nwb.intervals["movements"]) > 0


def test_opto_helper_sees_states_and_ttl_in_session_time(session, written) -> None:
    _, interfaces = written
    states = interfaces["dispatcher"].trial_states()
    on = np.array([st["opto_on"][0] if st["opto_on"].shape[0] else [np.nan, np.nan] for st in states])
    np.testing.assert_allclose(on, session.opto_on, atol=1e-3)
    rising, falling = interfaces["xsglog"].ttl_pulses("Opto")
    np.testing.assert_array_equal(rising, session.opto_pulse_times)
    assert len(falling) == len(rising)


def test_existing_output_is_not_overwritten(written) -> None:
    path, _ = written
    before = path.stat().st_mtime_ns
    with pytest.raises(NwbMotorValueError, match="the output exists; pass overwrite=True"):
        write_nwbfile(mock_nwbfile(), path)
    assert path.stat().st_mtime_ns == before


def test_xsg_session_files_placed_by_bitcodes(tmp_path: Path) -> None:
    truth = write_rig_session(tmp_path / "s", n_trials=8, kind="xsg", trials_per_file=3, seed=5)
    interfaces = _link({"xsg": XsgLeverInterface(truth.folder), "dispatcher": DispatcherTrialsInterface(truth.dispatcher_path)})
    np.testing.assert_allclose(interfaces["xsg"].file_start_times(), truth.file_start_times, atol=2e-4)
    cols = interfaces["dispatcher"].trial_columns()
    for column, expected in (("start_time", truth.start_times), ("cue_time", truth.cue_times), ("reward_time", truth.reward_times)):
        assert np.nanmax(np.abs(cols[column][0] - expected)) <= 1e-3
    nwbfile = _build(interfaces)
    lever = nwbfile.processing["behavior"]["BehavioralTimeSeries"]["lever"]
    assert len(lever.timestamps) == truth.n_samples
    onset = nwbfile.trials["movement_onset"].data[:]
    np.testing.assert_array_equal(np.isfinite(onset), truth.rewarded)
    planted = truth.movement_onsets[truth.press_movement[truth.rewarded]]
    assert np.max(np.abs(onset[truth.rewarded] - planted)) < 0.02
    assert "bridged by straight lines" in nwbfile.intervals["movements"].description
    path = tmp_path / "xsg.nwb"
    write_nwbfile(nwbfile, path)
    assert_valid_nwb(path)


def test_xsg_without_dispatcher_says_gaps_are_unknown(tmp_path: Path) -> None:
    truth = write_rig_session(tmp_path / "s", n_trials=4, kind="xsg", trials_per_file=2, seed=6)
    interface = XsgLeverInterface(truth.folder)
    with pytest.warns(UserWarning, match="laid end to end"):
        nwbfile = _build(_link({"xsg": interface}))
    lever = nwbfile.processing["behavior"]["BehavioralTimeSeries"]["lever"]
    assert "gaps between them are unknown" in lever.comments


def test_lever_table_session(tmp_path: Path) -> None:
    truth = write_rig_session(tmp_path / "s", n_trials=4, seed=8)
    lever = np.fromfile(truth.folder / f"{PREFIX}_Lever.xsglog", dtype="<f8")
    npz = tmp_path / "lever.npz"
    np.savez(npz, lever=lever, sample_rate=10_000.0, frame_times=truth.frame_times, start_time=truth.start_times,
             stop_time=truth.stop_times, cue_time=truth.cue_times, reward_time=truth.reward_times)
    nwbfile = _build({"lever_table": LeverTableInterface(npz, n_movie_frames=len(truth.frame_times))})
    trials = nwbfile.trials.to_dataframe()
    np.testing.assert_array_equal(trials["rewarded"], truth.rewarded)
    np.testing.assert_array_equal(trials["cue_frame"], map_to_frames(truth.cue_times, truth.frame_times))
    assert "counts match" in nwbfile.events["imaging_frame_pulses"].description
    path = tmp_path / "table.nwb"
    write_nwbfile(nwbfile, path)
    assert_valid_nwb(path)


def test_ttl_channels_kept_as_recorded(tmp_path: Path) -> None:
    truth = write_rig_session(tmp_path / "s", n_trials=3, movie_frame_difference=2, seed=9)
    interface = XsglogLeverInterface(truth.folder, ttl="raw", n_movie_frames=truth.n_movie_frames)
    nwbfile = _build(_link({"xsglog": interface}))
    assert len(nwbfile.events) == 0
    for name in ("Trial_number", "Frame", "Lever_touch"):
        series = nwbfile.acquisition[name]
        expected = np.fromfile(truth.folder / f"{PREFIX}_{name}.xsglog", dtype="<f8")
        np.testing.assert_array_equal(np.asarray(series.data[0 : len(expected)]), expected)
    assert "2 movie frame(s) without a pulse" in nwbfile.acquisition["Frame"].description
    path = tmp_path / "raw.nwb"
    write_nwbfile(nwbfile, path)
    assert_valid_nwb(path)
