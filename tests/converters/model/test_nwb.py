"""Model sessions in NWB: the documented layout, an exact round trip, re-simulation."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.converters.model import read_model_session, write_model_session
from nwbmotor.models import resimulate
from nwbmotor.testing import assert_valid_nwb, mock_model_session, mock_nwbfile


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    session = mock_model_session(n_trials=4, n_steps=50, n_units=6)
    path = write_model_session(session, tmp_path_factory.mktemp("nwb") / "model.nwb")
    return path, session


def test_written_file_is_valid(written) -> None:
    path, _ = written
    report = assert_valid_nwb(path)
    assert report.ok


def test_layout_is_the_documented_one(written) -> None:
    path, session = written
    with h5py.File(path, "r") as f:
        model = f["processing/model"]
        assert {"units", "rates", "outputs", "targets", "inputs", "networks", "training_log"} <= set(model)
        assert model["units"].attrs["neurodata_type"] == "ModelUnitsTable"
        assert model["rates"].attrs["neurodata_type"] == "ModelRateSeries"
        assert model["rates/data"].shape == (4 * 50, 6)  # trials end to end on one time axis
        assert model["rates/units"].attrs["neurodata_type"] == "DynamicTableRegion"
        assert model["networks"].attrs["model"] == "mock"
        before = model["networks/before"]
        assert before.attrs["neurodata_type"] == "RecurrentNetwork"
        assert before.attrs["nonlinearity"] == "tanh"
        assert (before["W_out"].attrs["post"], before["W_out"].attrs["pre"]) == ("output", "all")
        assert before["bias_output"].attrs["endpoint"] == "output"
        trials = f["intervals/trials"]
        np.testing.assert_allclose(trials["start_time"][:], np.arange(4) * 0.5)
        np.testing.assert_allclose(trials["go_time"][:], np.arange(4) * 0.5 + 0.3)  # absolute session time
        assert [v.decode() for v in trials["phase"][:]] == ["before", "before", "after", "after"]


def test_round_trip_is_exact(written) -> None:
    path, expected = written
    actual = read_model_session(path)
    for name in ("rates", "outputs", "targets", "inputs"):
        np.testing.assert_array_equal(getattr(actual, name), getattr(expected, name))
    assert (actual.name, actual.model, actual.seed, actual.dt) == (expected.name, expected.model, expected.seed, expected.dt)
    for key in ("module", "cell_type", "gain_group"):
        np.testing.assert_array_equal(actual.units[key], expected.units[key])
    for key, values in expected.trials.items():
        if key in ("go_time", "cue_time"):
            np.testing.assert_allclose(actual.trials[key], values, atol=1e-12)
        else:
            np.testing.assert_array_equal(actual.trials[key], values)
    assert [n.phase for n in actual.networks] == ["before", "after"]
    for a, e in zip(actual.networks, expected.networks):
        assert a.connections == e.connections
        assert (a.tau, a.dt, a.nonlinearity, a.noise_std) == (e.tau, e.dt, e.nonlinearity, e.noise_std)
        for key in e.weights:
            np.testing.assert_array_equal(a.weights[key], e.weights[key])
        np.testing.assert_array_equal(a.biases["output"], e.biases["output"])
        np.testing.assert_array_equal(a.initial_state, e.initial_state)
    for key, values in expected.training_log.items():
        np.testing.assert_array_equal(actual.training_log[key], values)


def test_resimulated_from_file_gives_the_same_outputs(written) -> None:
    path, expected = written
    np.testing.assert_allclose(resimulate(read_model_session(path)), expected.outputs, rtol=0, atol=1e-12)


def test_resimulate_uses_the_named_network(written) -> None:
    # the "after" network has other weights: naming it changes the outputs
    path, expected = written
    session = read_model_session(path)
    session.trials["network"] = np.array(["after"] * session.n_trials)
    assert not np.allclose(resimulate(session), expected.outputs)


def test_no_overwrite_without_flag(written) -> None:
    path, session = written
    before = path.stat().st_mtime_ns
    with pytest.raises(NwbMotorValueError, match="the output exists; pass overwrite=True"):
        write_model_session(session, path)
    assert path.stat().st_mtime_ns == before


def test_reading_a_file_without_model_is_an_error(tmp_path: Path) -> None:
    from nwbmotor import write_nwbfile

    path = write_nwbfile(mock_nwbfile(), tmp_path / "lab.nwb")
    with pytest.raises(NwbMotorValueError, match=r"lab.nwb: expected a processing module 'model'"):
        read_model_session(path)


def test_modular_rnn_file_resimulates_to_the_same_outputs(tmp_path: Path) -> None:
    # the same contract holds for the other reference model (a tiny run of it)
    from nwbmotor.workflows import simulate

    path = simulate("modular-rnn", tmp_path / "mr.nwb", seed=0, n_units=16, n_steps=80, n_updates=5, batch=4, n_adapt=2)
    assert_valid_nwb(path)
    session = read_model_session(path)
    assert session.units["module"].tolist() == ["upstream"] * 16 + ["PMd"] * 16 + ["M1"] * 16
    np.testing.assert_allclose(resimulate(session), session.outputs, rtol=0, atol=1e-9)
