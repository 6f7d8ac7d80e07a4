"""Source kind ``model``: every format to NWB, against the planted arrays; bad files refused."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nwbmotor import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.conversion import get_interface_class
from nwbmotor.converters.model import ModelOutputInterface, read_model_session, read_stroud_network
from nwbmotor.models import resimulate
from nwbmotor.testing import (
    assert_valid_nwb,
    write_feulner_pickle,
    write_hostile_pickle,
    write_model_hdf5,
    write_model_npz,
    write_stroud_mat,
)


def _convert(interface: ModelOutputInterface, path: Path) -> Path:
    interface.run_conversion(nwbfile_path=path, metadata=interface.get_metadata())
    assert_valid_nwb(path)
    return path


def test_registered_as_source_kind_model() -> None:
    assert get_interface_class("model") is ModelOutputInterface


@pytest.mark.parametrize(("writer", "name", "fmt"), [(write_model_npz, "run.npz", "npz"), (write_model_hdf5, "run.h5", "hdf5")])
def test_generic_arrays_round_trip(writer, name: str, fmt: str, tmp_path: Path) -> None:
    truth = writer(tmp_path / name)
    interface = ModelOutputInterface(tmp_path / name, format=fmt)
    session = read_model_session(_convert(interface, tmp_path / "out.nwb"))
    arrays, meta = truth["arrays"], truth["metadata"]
    for key in ("rates", "outputs", "targets", "inputs"):
        np.testing.assert_array_equal(getattr(session, key), arrays[key])
    net = session.snapshot("after")
    for key in ("W_rec", "W_in", "W_out"):
        np.testing.assert_array_equal(net.weights[key], arrays[key])
    assert (session.model, session.seed, session.dt, net.tau) == ("my-rnn", 3, 0.01, 0.05)
    np.testing.assert_array_equal(session.trials["target_id"], arrays["target_id"])
    np.testing.assert_allclose(session.trials["go_time"], meta["go_step"] * meta["dt"], atol=1e-12)


def test_stroud_mat_network_is_integrated_and_round_trips(tmp_path: Path) -> None:
    truth = write_stroud_mat(tmp_path / "net.mat", n_exc=20, n_inh=20, n_steps=100)
    session = read_model_session(_convert(ModelOutputInterface(tmp_path / "net.mat", format="stroud-mat"), tmp_path / "s.nwb"))
    net = session.snapshot("initial")
    np.testing.assert_array_equal(net.weights["W_rec"], truth["W_rec"])
    np.testing.assert_array_equal(net.weights["readout"][0], truth["readout"][1:])
    np.testing.assert_array_equal(net.biases["output"], truth["readout"][:1])
    np.testing.assert_array_equal(net.initial_state, truth["initial_cond"])
    np.testing.assert_array_equal(session.targets[:, :, 0], [truth["initial_target"], truth["novel_target"]])
    assert session.units["cell_type"].tolist() == ["E"] * 20 + ["I"] * 20
    assert session.dt == pytest.approx(0.5 / 99)  # 500 ms over 100 samples, ends included (the authors' grid)
    # the first rate sample is f(x0): the stored initial condition through the gain nonlinearity
    x0 = truth["initial_cond"]
    np.testing.assert_allclose(session.rates[0, 0], np.where(x0 < 0, 20 * np.tanh(x0 / 20), 80 * np.tanh(x0 / 80)))
    np.testing.assert_allclose(resimulate(session), session.outputs, atol=1e-9)


def test_stroud_mat_with_learned_gains_adds_an_after_trial(tmp_path: Path) -> None:
    gains = np.linspace(0.8, 1.2, 40)
    write_stroud_mat(tmp_path / "net.mat", gains=gains)
    session = ModelOutputInterface(tmp_path / "net.mat", format="stroud-mat").session
    assert session.trials["phase"].tolist() == ["before", "before", "after"]
    np.testing.assert_array_equal(session.snapshot("learned").gains, gains)


def test_feulner_pickle_round_trips(tmp_path: Path) -> None:
    truth = write_feulner_pickle(tmp_path / "sim.npy", n_trials=8, n_steps=80, n_units=12)
    session = read_model_session(_convert(ModelOutputInterface(tmp_path / "sim.npy", format="feulner-pickle"), tmp_path / "f.nwb"))
    assert session.units["module"].tolist() == ["upstream"] * 12 + ["PMd"] * 12 + ["M1"] * 12
    np.testing.assert_array_equal(session.rates[:, :, 24:], truth["activity"]["M1"])
    np.testing.assert_array_equal(session.outputs, truth["output"])
    np.testing.assert_array_equal(session.targets, truth["target"])
    np.testing.assert_array_equal(session.inputs, truth["stimulus"])
    np.testing.assert_array_equal(session.trials["target_angle"], (truth["test_set"]["trial_id"] - 3) * 45.0)
    # the angle is where the file's target trajectory ends
    end = truth["target"][:, -1]
    np.testing.assert_allclose(np.deg2rad(session.trials["target_angle"]),
                               np.unwrap(np.arctan2(end[:, 1], end[:, 0])), atol=1e-12)
    np.testing.assert_allclose(session.trials["go_time"], truth["test_set"]["go_onset"] * 0.01, atol=1e-12)
    net = session.networks[0]
    for key in ("W_UP", "W_PM", "W_out"):
        np.testing.assert_array_equal(net.weights[key], truth["weights"][key])
    assert net.connections["W_UP"] == ("PMd", "upstream")


def test_feulner_pickle_without_activity_is_integrated(tmp_path: Path) -> None:
    truth = write_feulner_pickle(tmp_path / "sim.npy", activity=None)
    del truth["activity"]
    session = ModelOutputInterface(tmp_path / "sim.npy", format="feulner-pickle").session
    w = truth["weights"]
    # the first steps by hand: x0 = 0, r = tanh(x), M1 gets input only through PMd
    assert np.all(session.rates[:, 0] == 0)
    x_u1 = 0.2 * (truth["stimulus"][:, 0] @ w["W_U_in"].T)  # alpha = dt / tau = 0.01 / 0.05
    np.testing.assert_allclose(session.rates[:, 1, :12], np.tanh(x_u1), atol=1e-12)
    np.testing.assert_allclose(session.outputs[:, 0], np.broadcast_to(w["b_out"], (8, 2)), atol=1e-12)


def test_hostile_pickle_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    write_hostile_pickle(tmp_path / "evil.npy", marker)
    with pytest.raises(NwbMotorValueError, match=r"evil.npy: refused to unpickle: the file asks for (posix|nt).system.*nothing was executed"):
        ModelOutputInterface(tmp_path / "evil.npy", format="feulner-pickle")
    assert not marker.exists()
    # the same payload as a bare pickle (no .npy header)
    raw = tmp_path / "evil.pkl"
    raw.write_bytes((tmp_path / "evil.npy").read_bytes().split(b"\n", 1)[1])
    with pytest.raises(NwbMotorValueError, match=r"evil.pkl: refused to unpickle"):
        ModelOutputInterface(raw, format="feulner-pickle")
    assert not marker.exists()


def test_torch_file_without_torch_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import nwbmotor.converters.model._torch_reader as torch_reader

    monkeypatch.setattr(torch_reader, "torch_available", lambda: False)
    (tmp_path / "model.pt").write_bytes(b"PK\x03\x04 not read")
    with pytest.raises(NwbMotorValueError, match=r"model.pt: format 'torch' needs PyTorch, which is not installed"):
        ModelOutputInterface(tmp_path / "model.pt", format="torch")


def _npz_with(tmp_path: Path, **overrides) -> Path:
    write_model_npz(tmp_path / "run.npz", **overrides)
    return tmp_path / "run.npz"


@pytest.mark.parametrize(
    ("make", "fmt", "message"),
    [
        (lambda p: _npz_with(p, W_rec=np.zeros((10, 9))), "npz",
         r"run.npz: .*weight 'W_rec' connects 'all' -> 'all' so expected shape \(n_post, n_pre\) = \(10, 10\), got \(10, 9\)"),
        (lambda p: _npz_with(p, W_in=np.full((10, 3), np.nan)), "npz", r"run.npz: .*\"weights\['W_in'\]\" expected finite values, got nan"),
        (lambda p: _npz_with(p, targets=np.zeros((8, 59, 2))), "npz",
         r"run.npz: .*field 'targets' expected the shape of 'outputs' .* = \(8, 60, 2\), got \(8, 59, 2\)"),
        (lambda p: _npz_with(p, nonlinearity="sigmoid"), "npz",
         r"run.npz: .*field 'nonlinearity' expected one of \[.*\], got 'sigmoid'"),
        (lambda p: write_stroud_mat(p / "n.mat", novel_target=np.zeros(99)) and p / "n.mat", "stroud-mat",
         r"n.mat: 'novel_target' has 99 samples, 'initial_target' 100; expected one target length"),
        (lambda p: write_stroud_mat(p / "n.mat", W_rec=np.full((40, 40), np.inf)) and p / "n.mat", "stroud-mat",
         r"n.mat: 'W_rec' expected finite weights, got inf"),
        (lambda p: write_stroud_mat(p / "n.mat", W_rec=-np.ones((40, 40))) and p / "n.mat", "stroud-mat",
         r"n.mat: 'W_rec' expected columns 1..20 >= 0 \(excitatory\)"),
        (lambda p: write_stroud_mat(p / "n.mat", initial_cond=np.zeros(39)) and p / "n.mat", "stroud-mat",
         r"n.mat: 'initial_cond' expected 40 values \(N of W_rec\), got 39"),
        (lambda p: write_feulner_pickle(p / "f.npy", target=np.zeros((8, 70, 2))) and p / "f.npy", "feulner-pickle",
         r"f.npy: 'target' expected shape \(ntrials, tsteps, output_dim\) = \(8, 80, 2\) from 'params', got \(8, 70, 2\)"),
        (lambda p: write_feulner_pickle(p / "f.npy", weights={"W_U_rec": np.zeros((12, 12))}) and p / "f.npy",
         "feulner-pickle", r"f.npy: weights \['W_M_rec', 'W_PM'.*\] expected"),
        (lambda p: _npz_with(p), "matlab", r"run.npz: format expected one of \['npz', 'hdf5', 'stroud-mat', 'feulner-pickle', 'torch'\], got 'matlab'"),
    ],
)
def test_bad_model_files_are_refused(make, fmt: str, message: str, tmp_path: Path) -> None:
    path = make(tmp_path)
    with pytest.raises(NwbMotorValueError, match=message):
        ModelOutputInterface(path, format=fmt)


def test_non_numeric_dt_is_a_type_error(tmp_path: Path) -> None:
    with pytest.raises(NwbMotorTypeError, match=r"run.npz: metadata 'dt' expected a number of seconds, got 'fast'"):
        ModelOutputInterface(_npz_with(tmp_path, dt="fast"), format="npz")


def test_feulner_weights_inconsistent_with_unit_counts(tmp_path: Path) -> None:
    truth = write_feulner_pickle(tmp_path / "f.npy", n_units=12)
    weights = dict(truth["weights"], W_UP=np.zeros((12, 11)))
    write_feulner_pickle(tmp_path / "g.npy", n_units=12, weights=weights)
    with pytest.raises(NwbMotorValueError, match=r"g.npy: .*weight 'W_UP' connects 'upstream' -> 'PMd' so expected shape \(n_post, n_pre\) = \(12, 12\), got \(12, 11\)"):
        ModelOutputInterface(tmp_path / "g.npy", format="feulner-pickle")


def test_npz_without_metadata_names_the_expected_file(tmp_path: Path) -> None:
    path = _npz_with(tmp_path)
    path.with_suffix(".json").unlink()
    with pytest.raises(NwbMotorValueError, match=r"run.npz: no metadata beside it; expected run.json or run.yaml"):
        ModelOutputInterface(path, format="npz")
    (tmp_path / "meta.json").write_text(json.dumps({"dt": 0.02}))
    assert ModelOutputInterface(path, format="npz", metadata_path=tmp_path / "meta.json").session.dt == 0.02


def test_torch_state_dict_is_loaded_weights_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # torch is optional and not installed here: a stand-in module records how it is called
    import sys
    import types

    import nwbmotor.converters.model._torch_reader as torch_reader

    truth = write_feulner_pickle(tmp_path / "task.npy", n_units=12)
    state = {f"rnn.{k}": 2.0 * v for k, v in truth["weights"].items()}
    calls: dict = {}

    def load(path, *, weights_only=False, map_location=None):
        calls.update(path=path, weights_only=weights_only, map_location=map_location)
        return state

    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(load=load))
    monkeypatch.setattr(torch_reader, "torch_available", lambda: True)
    (tmp_path / "model.pt").write_bytes(b"stand-in")
    with pytest.raises(NwbMotorValueError, match=r"model.pt: format 'torch' holds only weights; pass task_path="):
        ModelOutputInterface(tmp_path / "model.pt", format="torch")
    session = ModelOutputInterface(tmp_path / "model.pt", format="torch", task_path=tmp_path / "task.npy").session
    assert calls["weights_only"] is True and calls["map_location"] == "cpu"
    np.testing.assert_array_equal(session.networks[0].weights["W_PM"], 2.0 * truth["weights"]["W_PM"])
    np.testing.assert_array_equal(session.targets, truth["target"])


def test_model_source_in_a_conversion_spec(tmp_path: Path) -> None:
    import yaml

    from nwbmotor import convert

    truth = write_stroud_mat(tmp_path / "runs" / "net.mat")
    spec = {
        "metadata": {"lab": "Theory lab", "institution": "Somewhere", "keywords": ["network model"],
                     "experiment_description": "A gain-modulated network."},
        "subjects": [{
            "subject_id": "gain-modulation", "species": "Mus musculus", "sex": "U", "age": "P0D",
            "description": "Not an animal: a simulated network.",
            "sessions": [{"session_id": "net", "session_start_time": "2020-01-01T00:00:00+00:00",
                          "session_description": "Stroud-style network file.",
                          "sources": {"model": {"file_path": "runs/net.mat", "format": "stroud-mat"}}}],
        }],
    }
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    result = convert(tmp_path / "spec.yaml", output_dir=tmp_path / "nwb", progress=False)
    assert result.ok, result.summary()
    path = tmp_path / "nwb" / "sub-gain-modulation" / "sub-gain-modulation_ses-net.nwb"
    assert_valid_nwb(path)
    np.testing.assert_array_equal(read_model_session(path).networks[0].weights["W_rec"], truth["W_rec"])


def test_generic_per_trial_and_per_unit_arrays(tmp_path: Path) -> None:
    phases = np.array(["before"] * 4 + ["after"] * 4)
    cell_type = np.array(["E"] * 8 + ["I"] * 2)
    path = _npz_with(tmp_path, phase=phases, cell_type=cell_type, go_step=np.arange(8) + 20)
    session = ModelOutputInterface(path, format="npz").session
    assert session.trials["phase"].tolist() == phases.tolist()
    assert session.units["cell_type"].tolist() == cell_type.tolist()
    np.testing.assert_allclose(session.trials["go_time"], (np.arange(8) + 20) * 0.01)


@pytest.mark.parametrize("version", ["5", "7.3"])
def test_stroud_mat_struct_layout_reads_like_flat(tmp_path: Path, version: str) -> None:
    # the authors' data.mat: the five arrays are the fields of one struct variable 'data'
    truth = write_stroud_mat(tmp_path / "flat.mat", seed=4, version=version)
    write_stroud_mat(tmp_path / "data.mat", seed=4, version=version, layout="struct")
    from scipy.io import loadmat

    if version == "5":
        assert sorted(k for k in loadmat(tmp_path / "data.mat") if not k.startswith("__")) == ["data"]
    arrays = read_stroud_network(tmp_path / "data.mat")
    for key in ("W_rec", "initial_cond", "readout", "initial_target", "novel_target"):
        np.testing.assert_array_equal(arrays[key], np.ravel(truth[key]) if truth[key].ndim == 1 else truth[key])
    flat = ModelOutputInterface(tmp_path / "flat.mat", format="stroud-mat").session
    wrapped = ModelOutputInterface(tmp_path / "data.mat", format="stroud-mat").session
    np.testing.assert_array_equal(wrapped.outputs, flat.outputs)


def test_stroud_mat_struct_missing_a_field_names_it(tmp_path: Path) -> None:
    from scipy.io import savemat

    truth = write_stroud_mat(tmp_path / "flat.mat")
    savemat(tmp_path / "data.mat", {"data": {k: v for k, v in truth.items() if k != "readout"}})
    with pytest.raises(NwbMotorValueError, match=r"data.mat: variables \['readout'\] expected .*got \{'data': \["):
        read_stroud_network(tmp_path / "data.mat")


def test_stroud_mat_v73_reads_like_v5(tmp_path: Path) -> None:
    truth = write_stroud_mat(tmp_path / "v5.mat", seed=3)
    write_stroud_mat(tmp_path / "v73.mat", seed=3, version="7.3")
    v5 = ModelOutputInterface(tmp_path / "v5.mat", format="stroud-mat").session
    v73 = ModelOutputInterface(tmp_path / "v73.mat", format="stroud-mat").session
    np.testing.assert_array_equal(v73.networks[0].weights["W_rec"], truth["W_rec"])
    np.testing.assert_array_equal(v73.outputs, v5.outputs)


def test_corrupt_and_object_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "bad.mat").write_bytes(b"MATLAB 5.0 MAT-file" + b"\x00" * 20)
    with pytest.raises(NwbMotorValueError, match=r"bad.mat: cannot be read as a MAT-file"):
        ModelOutputInterface(tmp_path / "bad.mat", format="stroud-mat")
    np.savez(tmp_path / "obj.npz", rates=np.array([{"a": 1}], dtype=object))
    (tmp_path / "obj.json").write_text(json.dumps({"dt": 0.01}))
    with pytest.raises(NwbMotorValueError, match=r"obj.npz: holds object arrays .*\(pickles are refused\)"):
        ModelOutputInterface(tmp_path / "obj.npz", format="npz")
