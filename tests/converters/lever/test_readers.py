"""Readers of the rig's files, on files written in the exact layouts, ugly parts included."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.io

from nwbmotor import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.converters.lever import (
    DispatcherTrialsInterface,
    LeverTableInterface,
    XsglogLeverInterface,
    find_xsg_files,
    read_dispatcher_file,
    read_xsg_file,
    read_xsglog_folder,
)
from nwbmotor.testing import MatlabClassObject, savemat_with_objects, write_rig_session

PREFIX = "AP0071AAAA0001"


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory):
    return write_rig_session(tmp_path_factory.mktemp("rig"), n_trials=6, opto_fraction=0.5, seed=11)


def _xsglog(folder: Path, lengths: dict[str, int], prefix: str = PREFIX) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for ch, n in lengths.items():
        np.arange(n, dtype="<f8").tofile(folder / f"{prefix}_{ch}.xsglog")


def test_xsglog_channels_read_back_exactly(session) -> None:
    rec = read_xsglog_folder(session.folder)
    assert rec.prefix == PREFIX
    assert set(rec.channels) == {"Lever", "Trial_number", "Frame", "Lever_touch", "Opto"}
    expected = np.fromfile(session.folder / f"{PREFIX}_Lever.xsglog", dtype="<f8")
    np.testing.assert_array_equal(rec.lazy("Lever")[0 : rec.n_samples], expected)
    np.testing.assert_array_equal(rec.read("Lever", 1000, 1010), expected[1000:1010])
    assert rec.notes is not None and "lever2p" in rec.notes


def test_xsglog_mismatched_prefixes_are_an_error(tmp_path: Path) -> None:
    _xsglog(tmp_path, {"Lever": 10, "Trial_number": 10, "Frame": 10})
    _xsglog(tmp_path, {"Lever": 10}, prefix="AP0071AAAA0002")
    with pytest.raises(NwbMotorValueError, match=r"mismatched prefixes: AP0071AAAA0001 \(Frame, Lever, Trial_number\), AP0071AAAA0002 \(Lever\).*pass prefix="):
        read_xsglog_folder(tmp_path)
    assert read_xsglog_folder(tmp_path, prefix=PREFIX).n_samples == 10


def test_xsglog_missing_channel_is_an_error(tmp_path: Path) -> None:
    _xsglog(tmp_path, {"Lever": 10, "Trial_number": 10})
    with pytest.raises(NwbMotorValueError, match=r"channel\(s\) \['Frame'\] missing: no file AP0071AAAA0001_Frame.xsglog"):
        read_xsglog_folder(tmp_path)


def test_xsglog_unequal_lengths_are_padded_with_nan_and_warned(tmp_path: Path) -> None:
    _xsglog(tmp_path, {"Lever": 100, "Trial_number": 97, "Frame": 100})
    rec = read_xsglog_folder(tmp_path)
    assert rec.n_samples == 100
    assert len(rec.warnings) == 1 and "'Trial_number' 97" in rec.warnings[0] and "padded with NaN" in rec.warnings[0]
    tail = rec.read("Trial_number", 95, 100)
    np.testing.assert_array_equal(tail[:2], [95.0, 96.0])
    assert np.isnan(tail[2:]).all()


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("AP0071AAAA0001_Lever.xsglog", b"\0" * 12, "12 bytes is not a whole number of float64 samples"),
        ("lever.xsglog", b"\0" * 8, "file name does not follow"),
    ],
)
def test_xsglog_bad_files(tmp_path: Path, name: str, content: bytes, match: str) -> None:
    _xsglog(tmp_path, {"Trial_number": 1, "Frame": 1})
    (tmp_path / name).write_bytes(content)
    with pytest.raises(NwbMotorValueError, match=match):
        read_xsglog_folder(tmp_path)


def test_xsg_files_in_order_and_fields(tmp_path: Path) -> None:
    truth = write_rig_session(tmp_path / "s", n_trials=6, kind="xsg", trials_per_file=2, seed=2)
    files = find_xsg_files(truth.folder)
    assert [f.name for f in files] == [f"AP0071AAAA{k:04d}.xsg" for k in (1, 2, 3)]
    f = read_xsg_file(files[1])
    assert f.sample_rate == 10_000.0 and f.lever.shape == f.bitcode.shape


def test_xsg_missing_field_names_the_path(tmp_path: Path) -> None:
    p = tmp_path / "AP0071AAAA0001.xsg"
    scipy.io.savemat(p, {"header": {"acquirer": {"acquirer": {"sampleRate": 10000.0}}}, "data": {"acquirer": {"trace_1": np.zeros(3)}}})
    with pytest.raises(NwbMotorValueError, match=r"AP0071AAAA0001.xsg: field data.acquirer.trace_2 is missing"):
        read_xsg_file(p)


def test_dispatcher_file_with_class_objects_is_read_and_objects_skipped(session) -> None:
    # scipy cannot decode the objects: MATLAB MCOS opaque elements come back as raw MatlabOpaque
    raw = scipy.io.loadmat(session.dispatcher_path, squeeze_me=True, struct_as_record=False)
    assert type(raw["saved"].lever2p_sma).__name__ == "MatlabOpaque"
    assert "__function_workspace__" in raw
    d = read_dispatcher_file(session.dispatcher_path)
    assert d.n_trials == 6 and d.protocol == "lever2p"
    assert {"saved.lever2p_sma", "saved_history.lever2p_sma"} <= set(d.skipped)
    assert d.saved["SavingSection_ratname"] == "AP071"
    np.testing.assert_array_equal(d.catch, session.catch)
    np.testing.assert_allclose(d.state_times("bitcode"), session.dispatcher_start_times, atol=1e-9)
    # state_0 is visited twice: the second row starts at the trial's end
    assert all(st["state_0"].shape == (2, 2) for st in d.states)
    np.testing.assert_allclose(d.state_times("state_0", row=1), session.dispatcher_stop_times, atol=1e-9)
    # states that did not occur are empty, whatever their stored shape (0x2 or 0x0)
    opto = np.array([st["opto_on"].shape[0] == 1 for st in d.states])
    np.testing.assert_array_equal(opto, session.opto)


def test_dispatcher_one_trial_and_top_level_object(tmp_path: Path) -> None:
    states = {"bitcode": np.array([[1.0, 1.13]]), "state_0": np.array([[0.0, 1.0], [5.0, 6.0]]), "reward": np.zeros((0, 0))}
    cell = np.empty(1, dtype=object)
    cell[0] = {"states": states, "pokes": {"C": np.zeros((0, 2))}}
    p = tmp_path / "data_@lever2p_AP_AP071_140302a.mat"
    savemat_with_objects(p, {"saved_history": {"ProtocolsSection_parsed_events": cell}, "sma": MatlabClassObject()})
    d = read_dispatcher_file(p)
    assert d.n_trials == 1
    assert d.states[0]["reward"].shape == (0, 2)
    assert d.state_times("state_0", row=1)[0] == 5.0


@pytest.mark.parametrize(
    ("variables", "match"),
    [
        ({"saved": {"x": 1.0}}, r"variable 'saved_history' is missing"),
        ({"saved_history": {"CatchSection_catch_trial": 1.0}}, r"saved_history.ProtocolsSection_parsed_events is missing"),
        (
            {"saved_history": {"ProtocolsSection_parsed_events": {"states": {"bitcode": np.zeros((3, 3))}}}},
            r"parsed_events\{1\}.states.bitcode has shape \(3, 3\); expected an n x 2 array",
        ),
    ],
)
def test_dispatcher_bad_files(tmp_path: Path, variables: dict, match: str) -> None:
    p = tmp_path / "data_@lever2p_AP_AP071_140301a.mat"
    scipy.io.savemat(p, variables)
    with pytest.raises(NwbMotorValueError, match=match):
        read_dispatcher_file(p)


def test_dispatcher_v73_file_names_the_fix(tmp_path: Path) -> None:
    import h5py

    p = tmp_path / "data_@lever2p_AP_AP071_140301a.mat"
    with h5py.File(p, "w", userblock_size=512) as f:
        f["x"] = 1
    with open(p, "r+b") as f:
        f.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64")
    with pytest.raises(NwbMotorValueError, match=r"MATLAB v7.3 \(HDF5\) file; expected MATLAB v5"):
        read_dispatcher_file(p)


def test_dispatcher_catch_list_shorter_than_trials_is_recorded(tmp_path: Path) -> None:
    states = {"bitcode": np.array([[1.0, 1.13]]), "state_0": np.array([[0.0, 1.0], [5.0, 6.0]])}
    cell = np.empty(2, dtype=object)
    cell[:] = [{"states": states}, {"states": {k: v + 10 for k, v in states.items()}}]
    catch = np.empty(1, dtype=object)
    catch[0] = 1.0
    p = tmp_path / "data_@lever2p_AP_AP071_140301a.mat"
    scipy.io.savemat(p, {"saved_history": {"ProtocolsSection_parsed_events": cell, "CatchSection_catch_trial": catch}})
    with pytest.warns(UserWarning, match="has 1 values for 2 trials"):
        d = DispatcherTrialsInterface(p)
    np.testing.assert_array_equal(d.trial_columns()["catch"][0], [True, False])
    assert "has 1 values for 2 trials" in d.describe()
    assert "NOT aligned" in d.describe()


def test_lever_table_csv_and_npz(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    lever = rng.normal(0, 0.01, 5000)
    csv = tmp_path / "lever.csv"
    csv.write_text("time,lever\n" + "\n".join(f"{1.0 + i / 1000:.6f},{float(v)!r}" for i, v in enumerate(lever)))
    trials = tmp_path / "trials.csv"
    trials.write_text("start_time,stop_time,cue_time,reward_time,catch\n1.5,2.5,1.7,,0\n3.0,4.0,3.2,3.4,true\n")
    t = LeverTableInterface(csv, trials_file_path=trials)
    assert t.sample_rate == pytest.approx(1000.0) and t.starting_time == 1.0
    np.testing.assert_array_equal(t.lever()[0], lever)
    cols = t.trial_columns()
    np.testing.assert_array_equal(cols["rewarded"][0], [False, True])
    np.testing.assert_array_equal(cols["catch"][0], [False, True])
    npz = tmp_path / "lever.npz"
    np.savez(npz, lever=lever, sample_rate=1000.0, frame_times=np.array([0.0, 0.1, 0.05]))
    with pytest.raises(NwbMotorValueError, match=r"lever.npz: 'frame_times': frame pulses are not monotonic: frame 2"):
        LeverTableInterface(npz)


@pytest.mark.parametrize(
    ("suffix", "content", "error", "match"),
    [
        (".csv", "time,lever\n0,1\n0.001,x\n", NwbMotorValueError, r"line 3, column 'lever' is 'x'; expected a number"),
        (".csv", "t,v\n0,1\n", NwbMotorValueError, r"no 'lever' column/array"),
        (".txt", "", NwbMotorTypeError, r"unsupported file type '.txt'"),
        (".csv", "time,lever\n0,1\n0.001,2\n0.005,3\n", NwbMotorValueError, r"'time' is not evenly sampled"),
        (".csv", "time,lever\n0,1\n0.001,nan\n0.002,3\n", NwbMotorValueError, r"'lever' has 1 NaN/inf sample\(s\), the first at sample 1"),
    ],
)
def test_lever_table_bad_files(tmp_path: Path, suffix: str, content: str, error: type, match: str) -> None:
    p = tmp_path / f"lever{suffix}"
    p.write_text(content)
    with pytest.raises(error, match=match):
        LeverTableInterface(p)


def test_lever_table_npz_refuses_pickles(tmp_path: Path) -> None:
    p = tmp_path / "lever.npz"
    np.savez(p, lever=np.array([{"a": 1}], dtype=object))
    with pytest.raises(NwbMotorValueError, match="object arrays"):
        LeverTableInterface(p)


def test_xsglog_interface_reports_padding_as_warning(tmp_path: Path) -> None:
    truth = write_rig_session(tmp_path / "s", n_trials=2, seed=4)
    frame = truth.folder / f"{PREFIX}_Frame.xsglog"
    data = np.fromfile(frame, dtype="<f8")
    data[:-500].tofile(frame)
    with pytest.warns(UserWarning, match=r"unequal lengths \(.*'Frame' %d" % (truth.n_samples - 500)):
        interface = XsglogLeverInterface(truth.folder)
    assert any("padded with NaN" in w for w in interface.reader_warnings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(interface.frame_times(), truth.frame_times[truth.frame_times < (truth.n_samples - 500) / 1e4])


def test_savemat_with_objects_roundtrip_of_ordinary_values() -> None:
    b = io.BytesIO()
    savemat_with_objects(b, {"s": {"a": np.arange(3.0), "obj": MatlabClassObject("Foo", 7), "t": "text"}})
    m = scipy.io.loadmat(io.BytesIO(b.getvalue()), squeeze_me=True, struct_as_record=False)
    np.testing.assert_array_equal(m["s"].a, np.arange(3.0))
    assert m["s"].t == "text"
    assert m["s"].obj["s2"][0] == b"Foo" and m["s"].obj["arr"][0][4] == 7
