"""The in-memory model-session contract: validation of shapes, weights, names."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.models import ModelSession, NetworkSnapshot, apply_nonlinearity, endpoint_indices
from nwbmotor.testing import mock_model_session


def _replace_network(session: ModelSession, **changes) -> dict:
    fields = {f.name: getattr(session, f.name) for f in dataclasses.fields(session)}
    net = session.networks[0]
    snap = {f.name: getattr(net, f.name) for f in dataclasses.fields(net)}
    snap.update(changes)
    snap["weights"] = {**net.weights, **changes.get("weights", {})}
    fields["networks"] = [NetworkSnapshot(**snap)]
    fields["trials"] = {**session.trials, "network": np.full(session.n_trials, "before")}
    return fields


def test_mock_session_sizes() -> None:
    s = mock_model_session(n_trials=3, n_steps=20, n_units=5)
    assert (s.n_trials, s.n_steps, s.n_units, s.n_outputs, s.n_inputs) == (3, 20, 5, 2, 2)
    assert s.trial_duration == pytest.approx(0.2)
    assert s.snapshot("after").phase == "after"


def test_unknown_snapshot_phase_is_named() -> None:
    with pytest.raises(NwbMotorValueError, match=r"no network snapshot with phase 'during'; have \['before', 'after'\]"):
        mock_model_session().snapshot("during")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weights": {"W_rec": np.zeros((6, 5))}},
         r"weight 'W_rec' connects 'all' -> 'all' so expected shape \(n_post, n_pre\) = \(6, 6\), got \(6, 5\)"),
        ({"weights": {"W_out": np.zeros((3, 6))}},
         r"weight 'W_out' connects 'all' -> 'output' so expected shape .* = \(2, 6\), got \(3, 6\)"),
        ({"weights": {"W_rec": np.full((6, 6), np.nan)}}, r"field \"weights\['W_rec'\]\" expected finite values, got nan"),
        ({"weights": {"W_in": np.where(np.eye(6, 2) > 0, np.inf, 0.0)}}, r"expected finite values, got inf at index \(0, 0\)"),
        ({"nonlinearity": "sigmoid"}, r"field 'nonlinearity' expected one of \[.*'tanh'.*\], got 'sigmoid'"),
        ({"nonlinearity": "tanh", "nonlinearity_params": {"r0": 20}},
         r"field 'nonlinearity_params' of 'tanh' expected keys among \[\], got \['r0'\]"),
        ({"weights": {"W_UP": np.zeros((6, 6))}}, r"field 'connections' expected a \(post, pre\) entry for weight 'W_UP'"),
        ({"weights": {"W_x": np.zeros((6, 6))}, "connections": {"W_x": ("M1", "all")}}, r"endpoint 'M1' matches no unit"),
        ({"gains": np.ones(5)}, r"field 'gains' expected shape \(6,\) \(n_units\), got \(5,\)"),
        ({"biases": {"output": np.zeros(3)}}, r"bias 'output' expected shape \(2,\), got \(3,\)"),
        ({"tau": -1.0}, r"field 'tau' expected a positive number of seconds, got -1.0"),
    ],
)
def test_bad_network_is_refused(change: dict, message: str) -> None:
    session = mock_model_session()
    with pytest.raises(NwbMotorValueError, match=message):
        ModelSession(**_replace_network(session, **change))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("targets", np.zeros((4, 49, 2)),
         r"field 'targets' expected the shape of 'outputs' \(n_trials, n_steps, n_out\) = \(4, 50, 2\), got \(4, 49, 2\)"),
        ("outputs", np.zeros((4, 51, 2)), r"field 'outputs' expected \(n_trials, n_steps\) = \(4, 50\) like 'rates', got \(4, 51\)"),
        ("inputs", np.zeros((3, 50, 2)), r"field 'inputs' expected \(n_trials, n_steps\) = \(4, 50\)"),
        ("rates", np.full((4, 50, 6), np.nan), r"field 'rates' expected finite values"),
        ("units", {"module": np.array(["n"] * 6), "cell_type": np.array(["E"] * 5 + ["X"]), "gain_group": np.zeros(6, int)},
         r"field 'units\['cell_type'\]' expected 'E', 'I' or 'unknown', got \['X'\]"),
        ("units", {"module": np.array(["n"] * 5), "cell_type": np.array(["E"] * 5), "gain_group": np.zeros(5, int)},
         r"field 'units\['module'\]' expected shape \(6,\) \(n_units of 'rates'\), got \(5,\)"),
        ("trials", {"target_id": [0, 1, 2, 3]}, r"field 'trials' expected columns .* missing \['target_angle'"),
        ("training_log", {"iteration": np.arange(3)}, r"field 'training_log' expected column 'loss'"),
        ("dt", 0.0, r"field 'dt' expected a positive number of seconds, got 0.0"),
    ],
)
def test_bad_session_is_refused(field: str, value, message: str) -> None:
    session = mock_model_session()
    fields = {f.name: getattr(session, f.name) for f in dataclasses.fields(session)}
    fields[field] = value
    with pytest.raises(NwbMotorValueError, match=message):
        ModelSession(**fields)


def test_trials_must_name_existing_networks() -> None:
    session = mock_model_session()
    fields = {f.name: getattr(session, f.name) for f in dataclasses.fields(session)}
    fields["trials"] = {**session.trials, "network": np.array(["before", "before", "after", "later"])}
    with pytest.raises(NwbMotorValueError, match=r"field 'trials\['network'\]' expected '' or a phase .* got \['later'\]"):
        ModelSession(**fields)


def test_duplicate_phases_are_refused() -> None:
    session = mock_model_session()
    fields = {f.name: getattr(session, f.name) for f in dataclasses.fields(session)}
    fields["networks"] = [session.networks[0], session.networks[0]]
    with pytest.raises(NwbMotorValueError, match=r"expected unique phase labels, got \['before', 'before'\]"):
        ModelSession(**fields)


def test_gain_nonlinearity_planted_values() -> None:
    x = np.array([-1e4, -1.0, 0.0, 1.0, 1e4])
    r = apply_nonlinearity("gain_tanh_asymmetric", x, np.full(5, 2.0), r0=20.0, rmax=100.0)
    # saturates at -r0 and rmax - r0; slope g near 0 on both sides
    np.testing.assert_allclose(r[[0, 4]], [-20.0, 80.0])
    np.testing.assert_allclose(r[[1, 3]], [20 * np.tanh(-2 / 20), 80 * np.tanh(2 / 80)])
    assert r[2] == 0.0


def test_endpoint_indices_select_module_and_type() -> None:
    module = np.array(["U", "U", "P", "P", "P"])
    ctype = np.array(["E", "I", "E", "E", "I"])
    assert endpoint_indices("P", module, ctype).tolist() == [2, 3, 4]
    assert endpoint_indices("P:E", module, ctype).tolist() == [2, 3]
    assert endpoint_indices("all:I", module, ctype).tolist() == [1, 4]
