"""The model metrics on a model session file, through the session view and trial_align.

A small modular-network session is written to NWB; the metrics computed from the lazy
view (activity aligned to go, trials grouped by target) must equal the numpy cores on
the in-memory session the file was written from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import nwbmotor
import nwbmotor.analysis as na
from nwbmotor.converters.model import write_model_session
from nwbmotor.methods import _model_metrics as core
from nwbmotor.models import ModelSession, run_modular_rnn
from nwbmotor.testing import assert_valid_nwb


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelSession, Path]:
    session = run_modular_rnn(seed=2, n_units=10, n_steps=80, n_updates=5, batch=4, n_adapt=3)
    path = write_model_session(session, tmp_path_factory.mktemp("model") / "modular.nwb")
    return session, path


def _phase_psths(session: ModelSession, phase: str, half: int) -> np.ndarray:
    m = session.trials["phase"] == phase
    order = np.argsort(session.trials["target_id"][m])
    go = int(round(session.trials["go_time"][m][0] / session.dt))
    return session.rates[m][order][:, go - half:go + half + 1]


def test_model_file_is_valid(model_file: tuple[ModelSession, Path]) -> None:
    assert_valid_nwb(model_file[1])


def test_metrics_through_the_view_match_the_session(model_file: tuple[ModelSession, Path]) -> None:
    session, path = model_file
    ds = nwbmotor.open_session(path)
    aligned = na.trial_align(ds, "go_time", window=(-0.6, 0.6))
    half = int(round(0.6 / session.dt))
    assert aligned.sizes["rel_time"] == 2 * half + 1
    phase = ds["phase"].values.astype(str)
    before = aligned.isel(trial=np.flatnonzero(phase == "before_adaptation"))
    after = aligned.isel(trial=np.flatnonzero(phase == "adapted_local"))
    expected_b = _phase_psths(session, "before_adaptation", half)
    expected_a = _phase_psths(session, "adapted_local", half)

    cov = na.covariance_change(before, after, condition=ds["target_id"])
    assert float(cov) == pytest.approx(core.covariance_change(expected_b, expected_a)[0], rel=1e-9)
    act = na.activity_change(before, after, condition=ds["target_id"])
    assert float(act) == pytest.approx(core.activity_change(expected_b, expected_a)[0], rel=1e-9)
    assert cov.attrs["n_conditions"] == 8

    angles = na.principal_angles(before, before, n_components=3)
    np.testing.assert_allclose(angles.values, 0.0, atol=1e-4)

    err = na.output_error(ds["behavior"], ds["target"])
    assert float(err) == pytest.approx(core.output_error(session.outputs, session.targets)[0], rel=1e-9)


def test_weights_from_snapshots(model_file: tuple[ModelSession, Path]) -> None:
    session, _ = model_file
    dims = ("unit_post", "unit_pre")
    trained = xr.DataArray(session.snapshot("trained").weights["W_M1_rec"], dims=dims)
    adapted = xr.DataArray(session.snapshot("adapted_local").weights["W_M1_rec"], dims=dims)
    frozen = xr.DataArray(session.snapshot("adapted_input").weights["W_M1_rec"], dims=dims)
    assert float(na.weight_change(trained, frozen)) == 0.0  # H_input leaves M1 alone
    assert float(na.weight_change(trained, adapted)) > 0.0
    dim = float(na.dw_dimensionality(adapted - trained))
    assert 1.0 <= dim <= 10.0
