"""Files nwbmotor did not write: bare pynwb and NeuroConv's Suite2p layouts."""

from __future__ import annotations

import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.testing import assert_valid_nwb
from nwbmotor.views import open_session


@pytest.mark.parametrize("layout", ["suite2p-classic", "suite2p-single-container", "pynwb-timestamps"])
def test_foreign_files_are_valid_nwb(foreign, layout):
    assert_valid_nwb(foreign[layout][0])


@pytest.mark.parametrize(
    ("layout", "activity", "expected"),
    [
        ("suite2p-classic", "auto", "dff"),
        ("suite2p-classic", "fluorescence", "fluorescence"),
        ("suite2p-classic", "deconvolved", "deconvolved"),
        ("suite2p-single-container", "auto", "dff"),
        ("suite2p-single-container", "fluorescence", "fluorescence"),
        ("suite2p-single-container", "deconvolved", "deconvolved"),
        ("pynwb-timestamps", "auto", "fluorescence"),
    ],
)
def test_foreign_traces_are_found_by_kind(foreign, layout, activity, expected):
    path, truth = foreign[layout]
    ds = open_session(path, activity=activity)
    assert ds.attrs["activity_kind"] == expected
    np.testing.assert_array_equal(ds["activity"].values, truth[expected])
    np.testing.assert_allclose(ds["time"].values, truth["timestamps"])
    np.testing.assert_allclose(ds["cue_time"].values, truth["cue_time"])
    assert ds["trial"].size == truth["start_time"].size


@pytest.mark.parametrize("layout", ["suite2p-classic", "pynwb-timestamps"])
def test_foreign_units_have_ids_and_pixel_centroids(foreign, layout):
    path, truth = foreign[layout]
    ds = open_session(path)
    np.testing.assert_array_equal(ds["unit_id"].values, 100 + np.arange(truth["dff"].shape[1]))
    assert set(ds["cell_type"].values) == {"unknown"}
    assert set(ds["global_id"].values) == {-1}
    assert ds["unit_x"].attrs["units"] == "pixels"  # no grid_spacing in these files
    np.testing.assert_allclose(ds["unit_x"].values, truth["centroid_px"][:, 0])
    np.testing.assert_allclose(ds["unit_y"].values, truth["centroid_px"][:, 1])


def test_neuropil_is_never_activity(foreign):
    path, _ = foreign["suite2p-single-container"]
    with pytest.raises(NwbMotorValueError, match=r"no activity; expected 'events' traces, found: .*Deconvolved") as err:
        open_session(path, activity="events")
    assert "Neuropil" not in str(err.value)
