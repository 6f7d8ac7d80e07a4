"""dF/F baseline and loess against planted baselines and a brute-force local regression."""

from __future__ import annotations

import numpy as np
import pytest

from nwbmotor import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.analysis import compute_dff
from nwbmotor.methods import dff_from_fluorescence, loess_smooth
from nwbmotor.testing import planted_session


def _brute_loess(y: np.ndarray, span: int, degree: int) -> np.ndarray:
    """Weighted polyfit at every sample, window shifted at the ends (MATLAB's rule)."""
    n = y.size
    window = span | 1
    half = window // 2
    out = np.empty(n)
    for i in range(n):
        lo = min(max(i - half, 0), n - window)
        idx = np.arange(lo, lo + window)
        off = (idx - i).astype(float)
        w = (1 - (np.abs(off) / (np.abs(off).max() + 1)) ** 3) ** 3
        coef = np.polyfit(off, y[idx], degree, w=np.sqrt(w))
        out[i] = coef[-1]
    return out


@pytest.mark.parametrize("degree", [1, 2])
def test_loess_matches_brute_force_local_regression(degree: int) -> None:
    y = np.random.default_rng(1).normal(size=200).cumsum()
    expected = _brute_loess(y, 30, degree)
    actual = loess_smooth(y, 30, degree=degree)
    np.testing.assert_allclose(actual, expected, atol=1e-8)


def test_loess_is_exact_on_polynomials_and_smooths_along_axis() -> None:
    t = np.arange(120.0)
    quad = 0.01 * t**2 - 2 * t + 5
    np.testing.assert_allclose(loess_smooth(quad, 30, degree=2), quad, atol=1e-8)
    stacked = np.stack([quad, 2 * quad])
    np.testing.assert_allclose(loess_smooth(stacked.T, 30, axis=0).T, stacked, atol=1e-8)


def test_loess_rejects_bad_degree() -> None:
    with pytest.raises(NwbMotorValueError, match="degree must be 1 or 2, got 3"):
        loess_smooth(np.zeros(50), 30, degree=3)


def test_dff_recovers_planted_baseline_and_dff() -> None:
    ds, truth = planted_session(n_cells=12, n_frames=6000, seed=4)
    F = ds.fluorescence.values.T
    dff, base, valid = dff_from_fluorescence(F, 28.0)
    assert valid.all()
    rel_err = np.abs(base - truth["baseline"]) / truth["baseline"]
    assert np.median(rel_err) < 0.01
    assert rel_err.max() < 0.05
    planted = ds.activity.values.T
    for c in range(12):
        assert np.corrcoef(dff[c], planted[c])[0, 1] > 0.98
    assert np.median(np.abs(dff - planted)) < 0.02


def test_dff_marks_nan_and_nonpositive_rois_invalid() -> None:
    rng = np.random.default_rng(0)
    F = 100 + rng.normal(0, 1, (3, 3000))
    F[1, 500] = np.nan
    F[2] -= 200  # negative baseline
    dff, base, valid = dff_from_fluorescence(F, 28.0)
    assert valid.tolist() == [True, False, False]
    assert np.isnan(dff[1, 500]) and np.isfinite(dff[1, 501])


def test_dff_marks_mostly_active_roi_invalid() -> None:
    rng = np.random.default_rng(0)
    F = 100 + rng.normal(0, 1, (2, 3000))
    F[1] += 40 * (np.arange(3000) % 90 < 30)  # a transient every 3 s: a third of frames active
    _, _, valid = dff_from_fluorescence(F, 28.0, max_active_fraction=0.2)
    assert valid.tolist() == [True, False]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"preset": "nope"}, "preset must be one of \\['nwbmotor', 'peters2014'\\], got 'nope'"),
        ({"window": 3}, "unknown parameter\\(s\\) \\['window'\\]"),
    ],
)
def test_dff_rejects_bad_parameters(kwargs: dict, match: str) -> None:
    with pytest.raises(NwbMotorValueError, match=match):
        dff_from_fluorescence(np.ones((2, 100)), 28.0, **kwargs)


def test_dff_rejects_bad_shapes_and_rates() -> None:
    with pytest.raises(
        NwbMotorValueError, match="shape \\(n_rois, n_frames\\), got shape \\(100,\\)"
    ):
        dff_from_fluorescence(np.ones(100), 28.0)
    with pytest.raises(NwbMotorValueError, match="frame_rate must be a positive number"):
        dff_from_fluorescence(np.ones((2, 100)), 0.0)
    with pytest.raises(NwbMotorTypeError, match="F must be numeric"):
        dff_from_fluorescence(np.array([["a", "b"]]), 28.0)


def test_compute_dff_keeps_coords_and_records_parameters() -> None:
    ds, truth = planted_session(n_cells=4, n_frames=3000, seed=2)
    ds["fluorescence"][:, 3] = np.nan
    out = compute_dff(ds, pad_s=2.0)
    assert out.dims == ("time", "unit")
    np.testing.assert_array_equal(out["cell_type"].values, ds["cell_type"].values)
    assert out.attrs["pad_s"] == 2.0 and out.attrs["baseline_window_s"] == 60.0
    assert out.attrs["preset"] == "nwbmotor" and out.attrs["loess_frames"] == 30
    assert out.dff_valid.values.tolist() == [True, True, True, False]
    assert "positions [3]" in out.attrs["invalid_reason"]
    assert np.isnan(out.values[:, 3]).all()
    np.testing.assert_allclose(out.values[:, :3], ds.activity.values[:, :3], atol=0.15)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda da: da.isel(unit=[]), "empty .* the session has no activity"),
        (lambda da: da.rename(unit="cell"), "must have dims \\('time', 'unit'\\)"),
        (lambda da: da.assign_coords(time=da.time[::-1].values), "must increase strictly"),
    ],
)
def test_compute_dff_rejects_bad_input(make, match: str) -> None:
    ds, _ = planted_session(n_cells=2, n_frames=600, seed=0)
    with pytest.raises(NwbMotorValueError, match=match):
        compute_dff(make(ds.fluorescence))
