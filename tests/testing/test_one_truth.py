"""One planted session, three renderings: the view of the converted files equals the expected view.

(a) raw lab files (Suite2p plane, Ephus channels, Dispatcher file, light), (b) NWB
written by ``nwbmotor.conversion`` from (a), (c) the expected view built from the
truth alone. ``open_session`` of (b) must equal (c): the same variables, dims, coords,
dtypes and attrs, and the same values, exactly for what is planted exactly, within
``VIEW_TOLERANCES`` for what the converters compute.
"""

from __future__ import annotations

import numpy as np
import pytest

import nwbmotor
from nwbmotor.methods import dff_from_fluorescence
from nwbmotor.testing import (
    VIEW_TOLERANCES,
    assert_view_matches,
    convert_lab_files,
    expected_view,
    view_differences,
    write_lab_files,
)

CASES = {
    # frame rate (period in whole lever samples or not), trials, Dispatcher, light
    "25Hz-dispatcher-light": {"frame_rate": 25.0, "n_trials": 8, "dispatcher": True, "opto_fraction": 0.4, "seed": 1},
    "28Hz-dispatcher-boutons": {"frame_rate": 28.0, "n_trials": 6, "dispatcher": True, "opto_fraction": 0.0,
                                "seed": 2, "input_sources": ["motor thalamus", "cortex"] * 4},
    "31.25Hz-rig-only": {"frame_rate": 31.25, "n_trials": 5, "dispatcher": False, "opto_fraction": 0.0, "seed": 3},
    "28Hz-rig-only-light": {"frame_rate": 28.0, "n_trials": 6, "dispatcher": False, "opto_fraction": 0.5, "seed": 2},
}


@pytest.fixture(scope="module", params=sorted(CASES))
def converted(request, tmp_path_factory):
    truth = write_lab_files(tmp_path_factory.mktemp(request.param), n_rois=8, invalid_rois=(5,),
                            **CASES[request.param])
    convert_lab_files(truth)
    return truth


def test_the_view_of_the_converted_files_is_the_expected_view(converted):
    truth = converted
    assert_view_matches(nwbmotor.open_session(truth.path), truth)


def test_a_view_that_differs_from_the_truth_is_caught(converted):
    """The comparison is not vacuous: a planted error in any kind of variable is named."""
    truth = converted
    ds = nwbmotor.open_session(truth.path).load()
    assert view_differences(ds, truth) == []
    tol = VIEW_TOLERANCES
    broken = {
        "fluorescence": ds.assign(fluorescence=ds.fluorescence + np.float32(1.0)),
        "activity": ds.assign(activity=ds.activity + np.float32(10 * tol["dff"])),
        "time": ds.assign_coords(time=ds.time + 1.0),
        "cell_type": ds.assign_coords(cell_type=("unit", np.roll(ds.cell_type.values, 1) if
                                                 len(set(ds.cell_type.values)) > 1 else
                                                 np.full(ds.sizes["unit"], "unknown"))),
        "global_id": ds.assign_coords(global_id=ds.global_id + 1),
        "behavior": ds.assign(behavior=ds.behavior * 1.001),
        "movement_start_time": ds.assign(movement_start_time=ds.movement_start_time + 2 * tol["movement_onset"]),
        "dtype": ds.assign(fluorescence=ds.fluorescence.astype(np.float64)),
        "attrs": ds.assign_attrs(session_id="day99"),
        "extra": ds.assign(extra=ds.fluorescence),
    }
    if truth.dispatcher:
        broken["cue_time"] = ds.assign(cue_time=ds.cue_time + 2 * tol["dispatcher_time"])
        broken["rewarded"] = ds.assign(rewarded=~ds.rewarded)
    if truth.opto:
        broken["epoch_start_time"] = ds.assign(epoch_start_time=ds.epoch_start_time + 0.01)
    for what, view in broken.items():
        found = view_differences(view, truth)
        assert found, what


def test_what_is_planted_is_in_the_expected_view(converted):
    """The expected view is the truth: spot checks against the planted arrays themselves."""
    truth = converted
    ex = expected_view(truth)
    assert ex["activity"].dims == ("time", "unit") and ex["behavior"].dims == ("time_behavior", "channel")
    np.testing.assert_array_equal(ex["time"].values, truth.rig.frame_times)
    np.testing.assert_array_equal(ex["fluorescence"].values, truth.fluorescence)
    np.testing.assert_array_equal(ex["behavior"].values[:, 0], truth.rig.lever)
    np.testing.assert_array_equal(ex["movement_start_time"].values, truth.rig.movement_onsets)
    assert ex["dff_valid"].values.tolist() == [i != 5 for i in range(truth.n_rois)]
    assert ("trial" in ex.dims) == truth.dispatcher
    assert ("epoch" in ex.dims) == truth.opto
    assert ("input_source" in ex.coords) == (truth.input_source is not None)
    if truth.dispatcher:
        np.testing.assert_array_equal(ex["start_time"].values, truth.rig.start_times)
        np.testing.assert_allclose(ex["cue_time"].values, truth.rig.cue_times, atol=1e-9)


def test_planted_transients_show_in_the_converted_dff(converted):
    """The converter's dF/F follows the planted transients (not only itself)."""
    truth = converted
    ds = nwbmotor.open_session(truth.path)
    dff = ds["activity"].values
    for roi in np.flatnonzero(truth.valid & (truth.planted_dff.max(axis=0) > 0.5)):
        r = np.corrcoef(dff[:, roi], truth.planted_dff[:, roi])[0, 1]
        assert r > 0.8, (roi, r)


def test_compute_dff_with_defaults_on_a_converted_suite2p_view(converted):
    truth = converted
    ds = nwbmotor.open_session(truth.path)
    assert ds["fluorescence"].dims == ("time", "unit")
    out = ds.motor.compute_dff()
    assert out.dims == ("time", "unit") and out.sizes == ds["activity"].sizes
    # compute_dff takes the frame rate from the view's time axis (1 / median frame interval); at 25 Hz
    # the 2.5 s pad is 62.5 frames, so float noise of that rate decides its rounding: use the same rate
    fs = 1.0 / np.median(np.diff(ds["time"].values))
    assert out.attrs["frame_rate"] == pytest.approx(truth.frame_rate, rel=1e-4)
    expected, _, valid = dff_from_fluorescence(truth.fluorescence.T.astype(np.float64), fs)
    np.testing.assert_allclose(out.values, expected.T, rtol=0, atol=1e-9)
    assert out["dff_valid"].values.tolist() == valid.tolist()
