"""The restricted unpickler: plain Suite2p content loads, hostile pickles run nothing."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.converters.segmentation import Suite2pInterface, UnsafePickleError, load_npy, restricted_loads
from nwbmotor.testing import write_suite2p_plane


class _SystemCall:
    """Unpickling this runs ``os.system(command)``."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class _Eval:
    def __reduce__(self):
        return (eval, ("__import__('pathlib').Path('never').touch()",))


def _hostile_npy(path: Path, payload: object) -> None:
    """An object .npy whose pickle holds ``payload`` inside a normal-looking stat array."""
    stat = np.empty(2, dtype=object)
    stat[0] = {"ypix": np.arange(3), "xpix": np.arange(3), "lam": np.ones(3)}
    stat[1] = {"ypix": np.arange(3), "xpix": np.arange(3), "lam": payload}
    np.save(path, stat, allow_pickle=True)


def test_suite2p_content_round_trips(tmp_path: Path) -> None:
    truth = write_suite2p_plane(tmp_path / "plane0", n_rois=4, n_frames=50, image_shape=(32, 32))
    stat = load_npy(tmp_path / "plane0" / "stat.npy")
    ops = load_npy(tmp_path / "plane0" / "ops.npy")
    assert stat.dtype == object and len(stat) == 4
    for expected, actual in zip(truth["stat"], stat):
        assert set(actual) == set(expected)
        np.testing.assert_array_equal(actual["ypix"], expected["ypix"])
        np.testing.assert_array_equal(actual["lam"], expected["lam"])
        assert actual["npix"] == expected["npix"] and type(actual["npix"]) is np.int64
    assert ops["fs"] == truth["ops"]["fs"] and ops["date_proc"] is None
    assert ops["filelist"] == truth["ops"]["filelist"] and ops["corrXY"] == truth["ops"]["corrXY"]
    np.testing.assert_array_equal(ops["meanImg"], truth["ops"]["meanImg"])


def test_numeric_npy_is_loaded_without_pickle(tmp_path: Path) -> None:
    expected = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(tmp_path / "F.npy", expected)
    np.testing.assert_array_equal(load_npy(tmp_path / "F.npy"), expected)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_hostile_stat_is_refused_and_runs_nothing(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / f"pwned-{protocol}"
    path = tmp_path / "stat.npy"
    stat = np.empty(1, dtype=object)
    stat[0] = {"ypix": _SystemCall(f"touch {marker}")}
    with open(path, "wb") as fh:
        np.lib.format.write_array_header_1_0(
            fh, {"descr": "|O", "fortran_order": False, "shape": (1,)}
        )
        pickle.dump(stat, fh, protocol=protocol)
    with pytest.raises(
        UnsafePickleError,
        match=r"stat\.npy: refused to unpickle: the file asks for (posix|os)\.system",
    ):
        load_npy(path)
    assert not marker.exists()


def test_hostile_builtin_eval_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _hostile_npy(tmp_path / "stat.npy", _Eval())
    with pytest.raises(UnsafePickleError, match=r"builtins\.eval"):
        load_npy(tmp_path / "stat.npy")
    assert not (tmp_path / "never").exists()


def test_interface_refuses_a_hostile_suite2p_folder(tmp_path: Path) -> None:
    folder = tmp_path / "suite2p" / "plane0"
    write_suite2p_plane(folder, n_rois=3, n_frames=40, image_shape=(32, 32))
    marker = tmp_path / "pwned"
    ops = {"Ly": 32, "Lx": 32, "fs": 30.0, "hook": _SystemCall(f"touch {marker}")}
    np.save(folder / "ops.npy", ops, allow_pickle=True)
    with pytest.raises(
        NwbMotorValueError, match=r"ops\.npy: refused to unpickle.*nothing was executed"
    ):
        Suite2pInterface(folder)
    assert not marker.exists()


def test_truncated_pickle_is_a_clear_error(tmp_path: Path) -> None:
    write_suite2p_plane(tmp_path / "plane0", n_rois=3, n_frames=40, image_shape=(32, 32))
    path = tmp_path / "plane0" / "stat.npy"
    path.write_bytes(path.read_bytes()[:-40])
    with pytest.raises(
        NwbMotorValueError, match=r"stat\.npy: the pickled content is corrupt or truncated"
    ):
        load_npy(path)


def test_not_an_npy_file(tmp_path: Path) -> None:
    (tmp_path / "ops.npy").write_text("hello")
    with pytest.raises(NwbMotorValueError, match=r"ops\.npy: not a valid \.npy file"):
        load_npy(tmp_path / "ops.npy")


def test_restricted_loads_plain_data() -> None:
    value = {"a": [1, 2.5, "x", None, True], "b": (np.float32(1.5), np.arange(3)), "c": {1, 2}}
    out = restricted_loads(pickle.dumps(value))
    assert out["a"] == value["a"] and out["c"] == {1, 2}
    np.testing.assert_array_equal(out["b"][1], np.arange(3))
