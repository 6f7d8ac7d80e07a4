from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from nwbmotor import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.analysis import trial_align
from nwbmotor.analysis._align import align_frames
from nwbmotor.views import open_session


def _series(n=200, fs=10.0, units=3):
    t = np.arange(n) / fs
    values = np.arange(n * units, dtype=float).reshape(n, units)
    return xr.DataArray(values, dims=("time", "unit"), coords={"time": t, "unit_id": ("unit", np.arange(units))})


def test_windows_hold_the_samples_around_each_event():
    da = _series()
    actual = trial_align(da, xr.DataArray([2.0, 10.04], dims="trial", coords={"trial": [7, 8]}), window=(-0.3, 0.5))
    assert actual.dims == ("trial", "rel_time", "unit")
    np.testing.assert_allclose(actual.rel_time.values, np.arange(-3, 6) / 10.0)
    np.testing.assert_array_equal(actual.sel(trial=7).values, da.values[17:26])
    np.testing.assert_array_equal(actual.sel(trial=8).values, da.values[97:106])  # nearest frame of 10.04 s is 100
    assert actual.attrs["window"] == [-0.3, 0.5] and actual.attrs["method"] == "nearest"
    assert actual.attrs["sampling_rate"] == pytest.approx(10.0)
    assert actual.unit_id.values.tolist() == [0, 1, 2]


def test_linear_interpolates_between_samples():
    da = _series()
    actual = trial_align(da, [2.05], window=(0.0, 0.1), method="linear")
    expected = 0.5 * (da.values[20] + da.values[21])
    np.testing.assert_allclose(actual.isel(trial=0, rel_time=0).values, expected)


def test_events_outside_the_recording_are_nan_with_a_reason():
    da = _series()
    events = xr.DataArray([-5.0, 0.1, 5.0, np.nan, 19.95, 40.0], dims="trial")
    actual = trial_align(da, events, window=(-0.5, 0.5))
    assert actual.align_status.values.tolist() == [
        "event outside the recording", "window partly outside the recording", "ok", "no event time (NaN)",
        "window partly outside the recording", "event outside the recording"]
    assert np.isnan(actual[0]).all() and np.isnan(actual[3]).all() and np.isnan(actual[5]).all()
    partial = actual[1].values
    assert np.isnan(partial[:4]).all() and np.isfinite(partial[4:]).all()  # frames -4..-1 missing, 0.. kept
    np.testing.assert_array_equal(partial[4:], da.values[0:7])
    assert actual.attrs["n_not_ok"] == 5
    assert "2 event(s): event outside the recording" in actual.attrs["nan_reason"]


def test_outside_raise_names_the_trials():
    da = _series()
    events = xr.DataArray([5.0, 30.0], dims="trial", coords={"trial": [10, 11]})
    with pytest.raises(NwbMotorValueError, match=r"1 of 2 events cannot be aligned .*trial 11: event outside the recording"):
        trial_align(da, events, outside="raise")


def test_empty_events_give_an_empty_result_with_a_reason():
    actual = trial_align(_series(), xr.DataArray(np.array([], float), dims="trial"), window=(-0.2, 0.2))
    assert actual.shape == (0, 5, 3)
    assert actual.attrs["nan_reason"] == "no events"


def test_nan_traces_are_flagged():
    da = _series()
    da[50:60, 1] = np.nan
    actual = trial_align(da, [5.5, 15.0], window=(-0.5, 0.5))
    assert actual.attrs["units_with_nan"] == [1]
    assert "1 trace(s) hold NaN" in actual.attrs["nan_reason"]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"window": (1.0, -1.0)}, NwbMotorValueError, r"window must be \(start, end\) with start < end"),
        ({"window": "wide"}, NwbMotorValueError, r"window must be \(start, end\) in seconds"),
        ({"method": "cubic"}, NwbMotorValueError, r"method='cubic'; expected 'nearest' or 'linear'"),
        ({"outside": "drop"}, NwbMotorValueError, r"outside='drop'; expected 'nan' or 'raise'"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        trial_align(_series(), [1.0], **kwargs)


def test_bad_inputs():
    da = _series()
    with pytest.raises(NwbMotorValueError, match=r"events must be 1-D"):
        trial_align(da, xr.DataArray(np.ones((2, 2)), dims=("a", "b")))
    with pytest.raises(NwbMotorTypeError, match=r"events must be times in seconds \(numbers\), got dtype <U1"):
        trial_align(da, ["a"])
    with pytest.raises(NwbMotorTypeError, match=r"activity must be an xarray DataArray or Dataset, got ndarray"):
        trial_align(da.values, [1.0])
    with pytest.raises(NwbMotorValueError, match=r"strictly increasing"):
        trial_align(da.assign_coords(time=np.zeros(200)), [1.0])
    with pytest.raises(NwbMotorValueError, match=r"exactly one time dim"):
        trial_align(da.rename(time="t"), [1.0])
    with pytest.raises(NwbMotorValueError, match=r"events dim 'unit' is also a dim of the activity"):
        trial_align(da, xr.DataArray([1.0], dims="unit"))


def test_align_frames_core_handles_irregular_times():
    time = np.array([0.0, 0.1, 0.19, 0.31, 0.4, 0.5])
    rows, _, rel, status = align_frames(time, np.array([0.3]), (-0.1, 0.1))
    assert rows.tolist() == [[2, 3, 4]] and status.tolist() == ["ok"]


def test_lab_session_alignment_matches_the_file(lab):
    import h5py

    ds = open_session(lab.path)
    actual = trial_align(ds, "movement_onset", window=(-1.0, 3.0))
    onset = ds["movement_onset"].values  # the converter's detected onset of each rewarded press
    np.testing.assert_array_equal(np.isfinite(onset), lab.trials["rewarded"])
    assert actual.sizes["trial"] == onset.size and actual.sizes["rel_time"] == 113
    with h5py.File(lab.path) as f:
        dff = f["processing/ophys/DfOverF/RoiResponseSeries/data"][()]
    checked = 0
    for i in np.flatnonzero(np.isfinite(onset)):
        k = int(np.argmin(np.abs(lab.frame_times - onset[i])))  # frame k starts at the k-th frame pulse
        if k - 28 >= 0 and k + 84 < lab.n_frames:
            np.testing.assert_array_equal(actual[i].values, dff[k - 28:k + 85])
            checked += 1
    assert checked >= 3
    np.testing.assert_array_equal(actual.align_status.values == "no event time (NaN)", ~np.isfinite(onset))
    # the accessor only forwards
    xr.testing.assert_identical(ds.motor.trial_align("movement_onset", window=(-1.0, 3.0)), actual)
    # dask-backed views align to the same values
    xr.testing.assert_identical(trial_align(open_session(lab.path, chunks={}), "movement_onset"), actual)


def test_planted_movement_related_cells_respond_after_onset(lab):
    ds = open_session(lab.path)
    aligned = trial_align(ds.activity, ds.movement_start_time, window=(-1.0, 2.0))
    assert aligned.dims == ("movement", "rel_time", "unit")
    mean = aligned.mean("movement", skipna=True)
    after = mean.sel(rel_time=slice(0.0, 2.0)).max("rel_time") - mean.sel(rel_time=slice(-1.0, -0.3)).mean("rel_time")
    mr = lab.movement_related & lab.valid
    others = ~lab.movement_related & ~lab.quiescence_related & (lab.cell_type == "excitatory")
    assert float(after[mr].mean()) > 3 * float(after[others].mean())


def test_same_calls_on_lab_and_model_sessions(lab, model_path):
    for path, event in ((lab.path, "cue_time"), (model_path, "cue_time")):
        ds = open_session(path)
        act = ds.motor.trial_align(event, window=(-0.2, 0.5))
        beh = trial_align(ds, event, window=(-0.2, 0.5), variable="behavior")
        assert act.dims == ("trial", "rel_time", "unit") and act.sizes["trial"] == ds.sizes["trial"]
        assert beh.dims == ("trial", "rel_time", "channel")
        assert (act.align_status == "ok").all()
        assert np.isfinite(beh.values).all()
        assert {"unit_id", "cell_type", "global_id", "source"} <= set(act.coords)


def test_model_alignment_matches_rates(model_path):
    import h5py

    ds = open_session(model_path)
    actual = trial_align(ds, "go_time", window=(-0.1, 0.1))
    with h5py.File(model_path) as f:
        rates = f["processing/model/rates/data"][()]
    go = ds["go_time"].values
    for i in range(go.size):
        k = int(round(go[i] / 0.01))
        np.testing.assert_array_equal(actual[i].values, rates[k - 10:k + 11])


def test_accessor_forwards_every_analysis_on_both_types():
    import nwbmotor.analysis

    da = _series()
    assert len(nwbmotor.analysis.__all__) >= 21
    for name in nwbmotor.analysis.__all__:
        assert callable(getattr(nwbmotor.analysis, name)), name
        assert callable(getattr(da.motor, name)) and callable(getattr(da.to_dataset(name="activity").motor, name))
    xr.testing.assert_identical(da.motor.trial_align([5.0], window=(0.0, 0.3)),
                                trial_align(da, [5.0], window=(0.0, 0.3)))
