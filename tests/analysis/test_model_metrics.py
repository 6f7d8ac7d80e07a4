"""Model-comparison metrics against planted truth, on numpy cores and xarray functions."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import nwbmotor.analysis as na
from nwbmotor import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.methods import _model_metrics as core


def _psth(rng: np.random.Generator, n_cond: int = 8, n_time: int = 30, n_unit: int = 12) -> np.ndarray:
    latent = rng.normal(size=(n_cond, n_time, 3))
    return latent @ rng.normal(size=(3, n_unit)) + 0.1 * rng.normal(size=(n_cond, n_time, n_unit))


def _aligned(data: np.ndarray, target_id: np.ndarray, dt: float = 0.01) -> xr.DataArray:
    n_trial, n_time, n_unit = data.shape
    rel = (np.arange(n_time) - n_time // 2) * dt
    return xr.DataArray(
        data, dims=("trial", "rel_time", "unit"),
        coords={"rel_time": rel, "unit": np.arange(n_unit), "target_id": ("trial", target_id)},
    )


# ----------------------------------------------------------------------------- numpy cores
def test_covariance_change_zero_for_identical_and_scaled_data() -> None:
    rng = np.random.default_rng(0)
    psth = _psth(rng)
    assert core.covariance_change(psth, psth)[0] == pytest.approx(0.0, abs=1e-12)
    assert core.covariance_change(psth, 3.0 * psth + 2.0)[0] == pytest.approx(0.0, abs=1e-12)


def test_covariance_change_positive_when_structure_changes() -> None:
    rng = np.random.default_rng(1)
    before = _psth(rng)
    after = _psth(rng)  # a different latent structure
    expected = 1.0 - np.corrcoef(np.cov(before.reshape(-1, 12).T).ravel(), np.cov(after.reshape(-1, 12).T).ravel())[0, 1]
    actual, reason = core.covariance_change(before, after)
    assert actual == pytest.approx(expected, rel=1e-10)
    assert actual > 0.2 and reason == ""


def test_activity_change_matches_planted_shift() -> None:
    rng = np.random.default_rng(2)
    before = _psth(rng)
    sigma = before.reshape(-1, before.shape[2]).std(axis=0)
    after = before + 0.25 * sigma  # every unit shifts by a quarter of its sigma
    assert core.activity_change(before, after)[0] == pytest.approx(25.0)
    assert core.activity_change(before, before)[0] == 0.0


def test_principal_angles_zero_for_identical_and_ninety_for_orthogonal() -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(size=(200, 3)) @ np.eye(3, 10)  # activity in units 0..2
    b = rng.normal(size=(200, 3)) @ np.eye(3, 10, k=5)  # activity in units 5..7
    np.testing.assert_allclose(core.principal_angles(a, a, 3), 0.0, atol=1e-5)
    np.testing.assert_allclose(core.principal_angles(a, b, 3), 90.0, atol=1e-8)


def test_principal_angles_planted_rotation() -> None:
    rng = np.random.default_rng(4)
    theta = np.deg2rad(20.0)
    basis_b = np.zeros((2, 6))
    basis_b[0, 0] = 1.0
    basis_b[1, 1], basis_b[1, 2] = np.cos(theta), np.sin(theta)  # second axis tilted by 20 degrees
    a = rng.normal(size=(500, 2)) @ np.eye(2, 6)
    b = rng.normal(size=(500, 2)) @ basis_b
    np.testing.assert_allclose(core.principal_angles(a, b, 2), [0.0, 20.0], atol=1e-6)


def test_weight_change_and_dimensionality_planted() -> None:
    rng = np.random.default_rng(5)
    w = rng.normal(size=(20, 20))
    assert core.weight_change(w, 1.1 * w)[0] == pytest.approx(10.0)
    rank1 = np.outer(rng.normal(size=20), rng.normal(size=20))
    assert core.dw_dimensionality(rank1)[0] == pytest.approx(1.0)
    # equal singular values on 4 dims: dimensionality 4
    q, _ = np.linalg.qr(rng.normal(size=(20, 4)))
    assert core.dw_dimensionality(q @ q.T)[0] == pytest.approx(4.0)


def test_dw_noise_robustness_raises_dimensionality() -> None:
    rng = np.random.default_rng(6)
    rank1 = np.outer(rng.normal(size=50), rng.normal(size=50))
    noisy = core.with_noise(rank1, 10.0, np.random.default_rng(0))
    assert np.std(noisy - rank1) == pytest.approx(10.0 * np.std(rank1), rel=0.05)
    assert core.dw_dimensionality(noisy)[0] > 20.0


def test_output_error_matches_hand_computation() -> None:
    target = np.array([[0.0, 0.0], [0.5, 0.0], [1.0, 0.0]])
    output = np.array([[0.1, 0.0], [0.5, 0.2], [0.8, 0.0]])
    expected = (0.1**2 + 0.2**2 + 0.2**2) / (0.5**2 + 1.0**2)
    assert core.output_error(output, target)[0] == pytest.approx(expected)


def test_undefined_values_are_nan_with_reason() -> None:
    flat = np.ones((2, 5, 3))
    value, reason = core.activity_change(flat, flat)
    assert np.isnan(value) and "no unit varies" in reason
    value, reason = core.covariance_change(flat, flat)
    assert np.isnan(value) and "constant" in reason
    value, reason = core.weight_change(np.zeros((2, 2)), np.ones((2, 2)))
    assert np.isnan(value) and "zero" in reason
    value, reason = core.dw_dimensionality(np.zeros((3, 3)))
    assert np.isnan(value) and "no weight change" in reason
    value, reason = core.output_error(np.ones((4, 2)), np.zeros((4, 2)))
    assert np.isnan(value) and "target is zero" in reason


# ----------------------------------------------------------------------------- xarray API
def test_trial_aligned_activity_is_averaged_per_condition() -> None:
    rng = np.random.default_rng(7)
    psth = _psth(rng, n_cond=4, n_time=21, n_unit=6)
    ids = np.repeat(np.arange(4), 3)
    noise = rng.normal(size=(12, 21, 6))
    noise -= noise.reshape(4, 3, 21, 6).mean(axis=1).repeat(3, axis=0)  # zero mean per condition
    trials = _aligned(psth[ids] + noise, ids)
    after = _aligned(psth[ids] * 2.0 + 1.0 + noise, ids)
    result = na.covariance_change(trials, after)
    assert float(result) == pytest.approx(0.0, abs=1e-12)
    assert result.attrs["condition"] == "target_id"
    assert result.attrs["n_conditions"] == 4
    expected = core.activity_change(psth, 2.0 * psth + 1.0)[0]
    assert float(na.activity_change(trials, after)) == pytest.approx(expected)


def test_window_selects_time_and_is_recorded() -> None:
    rng = np.random.default_rng(8)
    psth = _psth(rng, n_cond=2, n_time=21, n_unit=5)
    ids = np.array([0, 1])
    before = _aligned(psth, ids)
    changed = psth.copy()
    changed[:, :16] += 100.0  # change only outside the window (rel_time < 0.06)
    after = _aligned(changed, ids)
    inside = na.activity_change(before, after, window=(0.06, 0.1))
    assert float(inside) == 0.0
    assert inside.attrs["window"] == [0.06, 0.1]
    assert float(na.activity_change(before, after)) > 0.0


def test_condition_may_be_a_dataarray_and_psths_are_accepted() -> None:
    rng = np.random.default_rng(9)
    psth = _psth(rng, n_cond=3, n_time=10, n_unit=4)
    cond = xr.DataArray(np.array([2, 0, 1]), dims="trial")
    aligned = xr.DataArray(psth[[2, 0, 1]], dims=("trial", "time", "unit"))
    as_psth = xr.DataArray(psth, dims=("condition", "time", "unit"), coords={"condition": [0, 1, 2]})
    assert float(na.covariance_change(aligned, as_psth, condition=cond)) == pytest.approx(0.0, abs=1e-12)


def test_principal_angles_xarray_identical_is_zero() -> None:
    rng = np.random.default_rng(10)
    a = xr.DataArray(rng.normal(size=(300, 8)) @ rng.normal(size=(8, 8)), dims=("time", "unit"))
    angles = na.principal_angles(a, a, n_components=4)
    assert angles.dims == ("component",)
    np.testing.assert_allclose(angles.values, 0.0, atol=1e-5)
    assert angles.attrs["n_components"] == 4 and angles.attrs["units"] == "degree"


def test_weight_functions_xarray() -> None:
    rng = np.random.default_rng(11)
    w = xr.DataArray(rng.normal(size=(15, 15)), dims=("unit_post", "unit_pre"))
    dw = xr.DataArray(np.outer(rng.normal(size=15), rng.normal(size=15)), dims=("unit_post", "unit_pre"))
    assert float(na.weight_change(w, w * 0.95)) == pytest.approx(5.0)
    assert float(na.dw_dimensionality(dw)) == pytest.approx(1.0)
    noisy = na.dw_dimensionality(dw, noise_factor=10.0, seed=1)
    assert float(noisy) > 5.0
    assert noisy.attrs["noise_factor"] == 10.0 and noisy.attrs["seed"] == 1


def test_output_error_xarray_and_window() -> None:
    t = np.arange(4) * 0.5
    target = xr.DataArray([[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 0.0]], dims=("time_behavior", "channel"),
                          coords={"time_behavior": t})
    output = target.copy(data=[[0.5, 0.0], [0.0, 1.0], [1.0, 0.0], [2.0, 0.0]])
    assert float(na.output_error(output, target)) == pytest.approx((0.25 + 1.0) / 7.0)
    windowed = na.output_error(output, target, window=(0.5, 1.5))
    assert float(windowed) == pytest.approx(1.0 / 7.0)
    assert windowed.attrs["window"] == [0.5, 1.5]


def test_accessor_forwards_to_metrics() -> None:
    rng = np.random.default_rng(12)
    a = xr.DataArray(_psth(rng), dims=("condition", "time", "unit"))
    assert float(a.motor.covariance_change(a)) == pytest.approx(0.0, abs=1e-12)


# ----------------------------------------------------------------------------- bad input
def _psth_da(data: np.ndarray) -> xr.DataArray:
    return xr.DataArray(data, dims=("condition", "time", "unit"))


@pytest.mark.parametrize("func", [na.activity_change, na.covariance_change])
def test_bad_activity_raises(func) -> None:  # type: ignore[no-untyped-def]
    good = _psth_da(np.random.default_rng(0).normal(size=(2, 5, 3)))
    with pytest.raises(NwbMotorValueError, match="is empty .* no activity"):
        func(good, _psth_da(np.zeros((2, 5, 0))))
    nan = good.copy()
    nan[0, 1, 2] = np.nan
    with pytest.raises(NwbMotorValueError, match="after expected finite values, got 1 NaN"):
        func(good, nan)
    with pytest.raises(NwbMotorValueError, match="mismatched lengths"):
        func(good, good.isel(time=slice(0, 4)))
    with pytest.raises(NwbMotorTypeError, match="expected an xarray.DataArray, got a Dataset"):
        func(good.to_dataset(name="activity"), good)


def test_trials_outside_the_recording_raise_with_their_status() -> None:
    t = np.arange(100) / 10.0
    activity = xr.DataArray(np.random.default_rng(0).normal(size=(100, 3)), dims=("time", "unit"),
                            coords={"time": t})
    aligned = na.trial_align(activity, xr.DataArray([2.0, 9.9], dims="trial"), window=(-0.5, 0.5))
    aligned = aligned.assign_coords(target_id=("trial", [0, 1]))
    with pytest.raises(NwbMotorValueError, match=r"NaN/inf in 1 of 2 trials .*window partly outside the recording"):
        na.covariance_change(aligned, aligned)


def test_missing_condition_coordinate_raises() -> None:
    da = xr.DataArray(np.ones((3, 4, 2)), dims=("trial", "time", "unit"))
    with pytest.raises(NwbMotorValueError, match="no coordinate 'target_id' on dim 'trial'"):
        na.activity_change(da, da)


def test_different_conditions_raise() -> None:
    rng = np.random.default_rng(1)
    a = _aligned(rng.normal(size=(2, 5, 3)), np.array([0, 1]))
    b = _aligned(rng.normal(size=(2, 5, 3)), np.array([0, 2]))
    with pytest.raises(NwbMotorValueError, match=r"same conditions, got \[0, 1\] and \[0, 2\]"):
        na.covariance_change(a, b)


def test_window_without_samples_raises() -> None:
    a = _aligned(np.ones((1, 5, 2)), np.array([0]))
    with pytest.raises(NwbMotorValueError, match=r"no samples in window \(5.0, 6.0\)"):
        na.activity_change(a, a, window=(5.0, 6.0))


def test_principal_angles_bad_input() -> None:
    rng = np.random.default_rng(2)
    a = xr.DataArray(rng.normal(size=(50, 4)), dims=("time", "unit"))
    with pytest.raises(NwbMotorValueError, match=r"n_components expected 1\.\.4"):
        na.principal_angles(a, a, n_components=5)
    with pytest.raises(NwbMotorValueError, match="same number of units, got 4 and 3"):
        na.principal_angles(a, xr.DataArray(rng.normal(size=(50, 3)), dims=("time", "unit")), n_components=2)
    low_rank = xr.DataArray(np.outer(rng.normal(size=50), rng.normal(size=4)), dims=("time", "unit"))
    with pytest.raises(NwbMotorValueError, match="rank < n_components=2"):
        na.principal_angles(low_rank, a, n_components=2)


def test_weight_bad_input() -> None:
    w = xr.DataArray(np.ones((3, 3)), dims=("unit_post", "unit_pre"))
    with pytest.raises(NwbMotorValueError, match="mismatched lengths"):
        na.weight_change(w, xr.DataArray(np.ones((3, 2)), dims=("unit_post", "unit_pre")))
    with pytest.raises(NwbMotorValueError, match="expected a 2-D weight matrix"):
        na.dw_dimensionality(xr.DataArray(np.ones(3), dims="unit_post"))
    bad = w.copy(data=np.array([[1.0, np.inf, 0], [0, 0, 0], [0, 0, 0]]))
    with pytest.raises(NwbMotorValueError, match="dw expected finite values"):
        na.dw_dimensionality(bad)
    with pytest.raises(NwbMotorValueError, match="noise_factor expected a finite number >= 0"):
        na.dw_dimensionality(w, noise_factor=-1.0)


def test_output_error_bad_input_and_nan_reason() -> None:
    y = xr.DataArray(np.ones((5, 2)), dims=("time_behavior", "channel"))
    with pytest.raises(NwbMotorValueError, match="mismatched lengths"):
        na.output_error(y, y.isel(time_behavior=slice(0, 4)))
    with pytest.raises(NwbMotorValueError, match="output expected finite values"):
        na.output_error(y.where(y.time_behavior != 2), y)
    zero = na.output_error(y, 0 * y)
    assert np.isnan(float(zero)) and "target is zero" in zero.attrs["nan_reason"]


def test_zero_variance_gives_nan_with_reason() -> None:
    flat = _psth_da(np.ones((2, 4, 3)))
    result = na.activity_change(flat, flat)
    assert np.isnan(float(result))
    assert "no unit varies" in result.attrs["nan_reason"]
