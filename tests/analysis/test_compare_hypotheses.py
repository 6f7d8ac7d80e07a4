"""compare_hypotheses on the session view of a modular-network file equals the metrics on the session.

A small run of the full pipeline is written to NWB; the view carries the network weights
of every snapshot, and every number of the (hypothesis, area) Dataset is recomputed
here from the in-memory session the file was written from.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import nwbmotor
import nwbmotor.analysis as na
from nwbmotor import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.converters.model import write_model_session
from nwbmotor.methods import _model_metrics as core
from nwbmotor.models import ModelSession, run_modular_rnn


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelSession, Path]:
    session = run_modular_rnn(seed=1, n_units=10, n_updates=6, batch=4, n_adapt=6)
    return session, write_model_session(session, tmp_path_factory.mktemp("model") / "modular.nwb")


def _psths(s: ModelSession, phase: str, modules: list[str]) -> np.ndarray:
    m = s.trials["phase"] == phase
    order = np.argsort(s.trials["target_id"][m])
    go = int(round(s.trials["go_time"][m][0] / s.dt))
    units = np.isin(s.units["module"], modules)
    return s.rates[m][order][:, go - 60:go + 60][:, :, units]  # the authors' 120 steps


def _sse(s: ModelSession, phase: str) -> float:
    m = s.trials["phase"] == phase
    return float(np.sum((s.outputs[m][:, 50:] - s.targets[m][:, 50:]) ** 2))


def test_view_carries_the_snapshot_weights(model_file: tuple[ModelSession, Path]) -> None:
    session, path = model_file
    with nwbmotor.open_session(path) as ds:
        assert list(ds["snapshot"].values) == ["untrained", "trained", "adapted_input", "adapted_local"]
        w = ds["weight_W_upstream_to_PMd"]
        assert w.dims == ("snapshot", "W_upstream_to_PMd_post", "W_upstream_to_PMd_pre")
        assert (w.attrs["post"], w.attrs["pre"]) == ("PMd", "upstream")
        for k, snap in enumerate(session.networks):
            np.testing.assert_array_equal(w.isel(snapshot=k).values, snap.weights["W_upstream_to_PMd"])


def test_compare_hypotheses_equals_the_metrics_on_the_session(model_file: tuple[ModelSession, Path]) -> None:
    session, path = model_file
    with nwbmotor.open_session(path) as ds:
        result = na.compare_hypotheses(ds)
        assert isinstance(result, xr.Dataset)
        assert dict(result.sizes) == {"hypothesis": 2, "area": 3}
        assert ds.motor.compare_hypotheses()["covariance_change"].equals(result["covariance_change"])
    trained = session.snapshot("trained")
    before_sse = _sse(session, "before_adaptation")
    for hyp in ("input", "local"):
        adapted = session.snapshot(f"adapted_{hyp}")
        for area, modules in (("PMd", ["PMd"]), ("M1", ["M1"]), ("PMd+M1", ["PMd", "M1"])):
            got = result.sel(hypothesis=hyp, area=area)
            b, a = _psths(session, "before_adaptation", modules), _psths(session, f"adapted_{hyp}", modules)
            assert float(got["activity_change"]) == pytest.approx(core.activity_change(b, a)[0], rel=1e-9)
            assert float(got["covariance_change"]) == pytest.approx(core.covariance_change(b, a)[0], rel=1e-9)
            assert float(got["error_reduction"]) == pytest.approx(1 - _sse(session, f"adapted_{hyp}") / before_sse,
                                                                  rel=1e-9)
            names = [n for n, (post, _) in trained.connections.items() if post in modules
                     and not np.array_equal(trained.weights[n], adapted.weights[n])]
            if not names:  # H_input changes nothing onto M1
                assert (hyp, area) == ("input", "M1")
                assert float(got["weight_change"]) == 0.0 and np.isnan(float(got["dw_dimensionality"]))
                continue
            w0 = np.concatenate([trained.weights[n].ravel() for n in names])
            dw = np.concatenate([(adapted.weights[n] - trained.weights[n]).ravel() for n in names])
            assert float(got["weight_change"]) == pytest.approx(np.median(np.abs(dw / w0)) * 100, rel=1e-9)
            if area == "M1":  # onto M1: [dW_PMd->M1 | dW_M1_rec], post = M1 units
                dw_in = np.concatenate([adapted.weights[n] - trained.weights[n] for n in ("W_PMd_to_M1", "W_M1_rec")],
                                       axis=1)
                assert float(got["dw_dimensionality"]) == pytest.approx(core.dw_dimensionality(dw_in)[0], rel=1e-9)


def test_compare_hypotheses_bad_input(model_file: tuple[ModelSession, Path]) -> None:
    _, path = model_file
    with nwbmotor.open_session(path) as ds:
        with pytest.raises(NwbMotorValueError, match=r"area 'V1' expected modules among \['M1', 'PMd', 'upstream'\], got \['V1'\]"):
            na.compare_hypotheses(ds, areas=("V1",))
        with pytest.raises(NwbMotorValueError, match=r"no trials of phase 'adapted_both'"):
            na.compare_hypotheses(ds, hypotheses=("both",))
        with pytest.raises(NwbMotorValueError, match=r"has no network weights"):
            na.compare_hypotheses(ds.drop_vars([v for v in ds.data_vars if str(v).startswith("weight_")]))
        with pytest.raises(NwbMotorTypeError, match=r"ds expected the session view \(xarray.Dataset\), got DataArray"):
            na.compare_hypotheses(ds["activity"])


def test_docstring_example_runs() -> None:
    import doctest

    from nwbmotor.analysis import _hypotheses

    result = doctest.testmod(_hypotheses)
    assert result.attempted >= 5 and result.failed == 0
