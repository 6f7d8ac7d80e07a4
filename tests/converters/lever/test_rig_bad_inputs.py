"""Bad rig sessions: a clear error, or a warning that is also recorded in the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwbmotor import NwbMotorValueError, write_nwbfile
from nwbmotor.converters.lever import DispatcherTrialsInterface, XsglogLeverInterface
from nwbmotor.testing import assert_valid_nwb, mock_nwbfile, write_rig_session

PREFIX = "AP0071AAAA0001"
FS = 10_000.0


def _channel(truth, name: str) -> tuple[Path, np.ndarray]:
    p = truth.folder / f"{PREFIX}_{name}.xsglog"
    return p, np.fromfile(p, dtype="<f8")


def _convert(truth, **xsglog_kwargs):
    interfaces = {
        "xsglog": XsglogLeverInterface(truth.folder, **xsglog_kwargs),
        "dispatcher": DispatcherTrialsInterface(truth.dispatcher_path),
    }
    for i in interfaces.values():
        i.link_session(interfaces)
    nwbfile = mock_nwbfile()
    for i in interfaces.values():
        i.add_to_nwbfile(nwbfile, i.get_metadata())
    return nwbfile, interfaces


def _code_span(truth, k: int) -> slice:
    a = int(np.round(truth.start_times[k] * FS))
    return slice(a - 10, a + 1400)


def test_unequal_channel_lengths_are_recorded_in_the_file(tmp_path: Path) -> None:
    truth = write_rig_session(tmp_path / "s", n_trials=5, seed=31)
    p, lever = _channel(truth, "Lever")
    lever[:-2345].tofile(p)  # the Lever file stopped early
    with pytest.warns(UserWarning, match="unequal lengths"):
        nwbfile, _ = _convert(truth)
    path = tmp_path / "out.nwb"
    write_nwbfile(nwbfile, path)
    assert_valid_nwb(path)
    with NWBHDF5IO(path, "r") as io:
        nwb = io.read()
        series = nwb.processing["behavior"]["BehavioralTimeSeries"]["lever"]
        assert "'Lever' %d" % (truth.n_samples - 2345) in series.comments and "padded with NaN" in series.comments
        data = series.data[:]
        np.testing.assert_array_equal(data[: truth.n_samples - 2345], lever[:-2345])
        assert np.isnan(data[-2345:]).all()
        assert "the 2345 NaN samples of padding after them were left out" in nwb.intervals["movements"].description


def test_nan_inside_the_lever_is_an_error_or_recorded(tmp_path: Path) -> None:
    truth = write_rig_session(tmp_path / "s", n_trials=4, seed=32)
    p, lever = _channel(truth, "Lever")
    lever[50_000:50_005] = np.nan
    lever.tofile(p)
    with pytest.raises(NwbMotorValueError, match=r"AP0071AAAA0001_Lever.xsglog: channel 'Lever' has 5 NaN/inf sample\(s\), the first at sample 50000 \(5.0000 s\).*nan_policy"):
        XsglogLeverInterface(truth.folder)
    with pytest.warns(UserWarning, match="interpolated"):
        nwbfile, _ = _convert(truth, movement_options={"nan_policy": "interpolate"})
    series = nwbfile.processing["behavior"]["BehavioralTimeSeries"]["lever"]
    assert "5 NaN/inf sample(s)" in series.comments and "interpolated for movement detection only" in series.comments
    assert np.isnan(np.asarray(series.data[50_000:50_005])).all()  # stored as recorded


def test_missing_trial_number_is_recorded_and_the_trial_still_aligned(tmp_path: Path) -> None:
    truth = write_rig_session(tmp_path / "s", n_trials=8, seed=33)
    p, codes = _channel(truth, "Trial_number")
    codes[_code_span(truth, 3)] = 0.0  # trial 4's bitcode lost
    codes.tofile(p)
    with pytest.warns(UserWarning) as record:
        nwbfile, _ = _convert(truth)
    messages = " ".join(str(w.message) for w in record)
    assert "no bitcode decodes trial(s) [4]" in messages and "have no bitcode in the acquisition ([4])" in messages
    trials = nwbfile.trials.to_dataframe()
    np.testing.assert_array_equal(trials["aligned_by_bitcode"], np.arange(8) != 3)
    assert np.max(np.abs(trials["start_time"] - truth.start_times)) <= 1e-3
    assert "no bitcode decodes trial(s) [4]" in nwbfile.trials.description
    assert "1 Dispatcher trial(s) have no bitcode in the acquisition ([4])" in nwbfile.trials.description


def test_repeated_trial_number_is_an_error(tmp_path: Path) -> None:
    truth = write_rig_session(tmp_path / "s", n_trials=6, seed=34)
    p, codes = _channel(truth, "Trial_number")
    src, dst = _code_span(truth, 1), _code_span(truth, 4)
    codes[dst] = codes[src]  # trial 5 carries trial 2's code
    codes.tofile(p)
    interfaces = {"xsglog": XsglogLeverInterface(truth.folder), "dispatcher": DispatcherTrialsInterface(truth.dispatcher_path)}
    for i in interfaces.values():
        i.link_session(interfaces)
    with pytest.raises(NwbMotorValueError, match=r"channel 'Trial_number': trial 2 is decoded 2 times"):
        interfaces["dispatcher"].trial_columns()


def test_more_dispatcher_trials_than_bitcodes(tmp_path: Path) -> None:
    truth = write_rig_session(tmp_path / "s", n_trials=7, seed=35)
    stop = int(truth.start_times[5] * FS) - 100  # acquisition stopped before trial 6
    for p in truth.acquisition_paths:
        np.fromfile(p, dtype="<f8")[:stop].tofile(p)
    with pytest.warns(UserWarning, match=r"2 Dispatcher trial\(s\) have no bitcode"):
        nwbfile, _ = _convert(truth)
    trials = nwbfile.trials.to_dataframe()
    assert len(trials) == 7
    np.testing.assert_array_equal(trials["aligned_by_bitcode"], [True] * 5 + [False] * 2)
    assert "2 Dispatcher trial(s) have no bitcode in the acquisition ([6, 7])" in nwbfile.trials.description


def test_fewer_dispatcher_trials_than_bitcodes(tmp_path: Path) -> None:
    truth = write_rig_session(tmp_path / "s", n_trials=7, n_dispatcher_trials=5, seed=36)
    with pytest.warns(UserWarning, match=r"2 bitcode\(s\) decode trial numbers the Dispatcher file does not have"):
        nwbfile, _ = _convert(truth)
    trials = nwbfile.trials.to_dataframe()
    assert len(trials) == 5
    np.testing.assert_allclose(trials["cue_time"], truth.cue_times[:5], atol=1e-3)
    assert "([6, 7]; the file has trials 1-5)" in nwbfile.trials.description


def test_dispatcher_from_another_session_is_an_error(tmp_path: Path) -> None:
    a = write_rig_session(tmp_path / "a", n_trials=5, seed=37)
    b = write_rig_session(tmp_path / "b", n_trials=5, seed=38)
    interfaces = {"xsglog": XsglogLeverInterface(a.folder), "dispatcher": DispatcherTrialsInterface(b.dispatcher_path)}
    for i in interfaces.values():
        i.link_session(interfaces)
    with pytest.raises(NwbMotorValueError, match=r"off the clock fit of all trials .* files from different sessions"):
        interfaces["dispatcher"].alignment()


def test_dispatcher_alone_stays_on_its_clock_and_says_so(tmp_path: Path) -> None:
    truth = write_rig_session(tmp_path / "s", n_trials=3, seed=39)
    interface = DispatcherTrialsInterface(truth.dispatcher_path)
    nwbfile = mock_nwbfile()
    interface.add_to_nwbfile(nwbfile, interface.get_metadata())
    assert "NOT aligned to any acquisition" in nwbfile.trials.description
    np.testing.assert_allclose(nwbfile.trials["start_time"].data, truth.dispatcher_start_times - truth.dispatcher_start_times[0])
    assert "movements" not in nwbfile.intervals


def test_dispatcher_with_a_lever_table_cannot_be_aligned(tmp_path: Path) -> None:
    from nwbmotor.converters.lever import LeverTableInterface

    truth = write_rig_session(tmp_path / "s", n_trials=2, seed=40)
    npz = tmp_path / "lever.npz"
    np.savez(npz, lever=np.zeros(20_000), sample_rate=FS)
    interfaces = {"lever_table": LeverTableInterface(npz), "dispatcher": DispatcherTrialsInterface(truth.dispatcher_path)}
    with pytest.raises(NwbMotorValueError, match=r"'lever_table', which has no trial bitcodes"):
        interfaces["dispatcher"].link_session(interfaces)


def test_nan_in_an_xsg_lever_is_an_error_or_recorded(tmp_path: Path) -> None:
    import scipy.io

    from nwbmotor.converters.lever import XsgLeverInterface

    truth = write_rig_session(tmp_path / "s", n_trials=4, kind="xsg", trials_per_file=2, seed=41)
    p = truth.acquisition_paths[1]
    mat = scipy.io.loadmat(p)
    mat["data"]["acquirer"][0, 0]["trace_2"][0, 0][1000:1003] = np.nan
    scipy.io.savemat(p, {k: v for k, v in mat.items() if not k.startswith("__")})
    with pytest.raises(NwbMotorValueError, match=r"AP0071AAAA0002.xsg: data.acquirer.trace_2 \(lever\) has 3 NaN/inf sample\(s\), the first at sample 1000"):
        XsgLeverInterface(truth.folder)
    interface = XsgLeverInterface(truth.folder, movement_options={"nan_policy": "interpolate"})
    assert any("interpolated for movement detection only" in w for w in interface.reader_warnings)
