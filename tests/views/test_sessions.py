from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from nwbmotor import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.testing import write_lab_session
from nwbmotor.views import align_units, open_session, open_sessions


@pytest.fixture(scope="module")
def mouse(tmp_path_factory):
    """Two sessions of one mouse sharing cells 10..15 (ROI order differs), one of another mouse."""
    folder = tmp_path_factory.mktemp("tree")
    a = write_lab_session(folder / "sub-AP071" / "a.nwb", subject_id="AP071", session_id="day01", n_rois=6,
                          n_trials=3, global_ids=[10, 11, 12, 13, 14, 15], seed=1)
    b = write_lab_session(folder / "sub-AP071" / "b.nwb", subject_id="AP071", session_id="day02", n_rois=5,
                          n_trials=3, global_ids=[15, 13, 99, 11, 10], seed=2)
    c = write_lab_session(folder / "sub-AP072" / "c.nwb", subject_id="AP072", session_id="day01", n_rois=3,
                          n_trials=3, global_ids=[1, 2, 3], seed=3)
    return folder, a, b, c


def test_open_sessions_builds_subject_session_tree(mouse):
    folder, a, b, c = mouse
    tree = open_sessions(folder)
    assert isinstance(tree, xr.DataTree)
    assert sorted(tree.children) == ["AP071", "AP072"]
    assert sorted(tree["AP071"].children) == ["day01", "day02"]
    assert tree.attrs["n_sessions"] == 3
    np.testing.assert_array_equal(tree["AP071/day02"]["activity"].values, b.dff)
    assert tree["AP072/day01"].dataset.attrs["subject_id"] == "AP072"


def test_align_units_inner_keeps_common_cells_in_one_order(mouse):
    _, a, b, _ = mouse
    da, db = align_units([open_session(a.path), open_session(b.path)], join="inner")
    expected = [10, 11, 13, 15]
    assert da.unit.values.tolist() == db.unit.values.tolist() == expected
    # same cell, same position: values follow their ROI
    np.testing.assert_array_equal(db["activity"].sel(unit=13).values, b.dff[:, 1])
    np.testing.assert_array_equal(da["activity"].sel(unit=13).values, a.dff[:, 3])


def test_align_units_outer_fills_missing_cells_with_nan(mouse):
    _, a, b, _ = mouse
    aligned = align_units({"a": open_session(a.path), "b": open_session(b.path)}, join="outer")
    assert aligned["a"].unit.values.tolist() == [10, 11, 12, 13, 14, 15, 99]
    assert np.isnan(aligned["a"]["activity"].sel(unit=99).values).all()
    assert np.isnan(aligned["b"]["activity"].sel(unit=12).values).all()
    np.testing.assert_array_equal(aligned["b"]["activity"].sel(unit=99).values, b.dff[:, 2])


def test_open_sessions_with_alignment(mouse):
    _, a, b, _ = mouse
    tree = open_sessions([a.path, b.path], align="inner")
    assert tree["AP071/day01"]["unit"].values.tolist() == [10, 11, 13, 15]


def test_alignment_errors(mouse):
    _, a, _, c = mouse
    with pytest.raises(NwbMotorValueError, match=r"no global_id is common to all 2 sessions; use join='outer'"):
        align_units([open_session(a.path), open_session(c.path)])
    dup = open_session(a.path).assign_coords(global_id=("unit", [1, 1, 2, 3, 4, 5]))
    with pytest.raises(NwbMotorValueError, match=r"global_id \[1\] appear more than once"):
        align_units([dup, open_session(a.path)])
    with pytest.raises(NwbMotorValueError, match=r"join='left'; expected 'inner' or 'outer'"):
        align_units([dup], join="left")
    with pytest.raises(NwbMotorTypeError, match=r"expected a DataTree, mapping or sequence of Datasets, got int"):
        align_units(3)


def test_duplicate_sessions_are_an_error(mouse, tmp_path):
    _, a, _, _ = mouse
    import shutil

    copy = tmp_path / "copy.nwb"
    shutil.copy(a.path, copy)
    with pytest.raises(NwbMotorValueError, match=r"copy\.nwb: subject/session 'AP071/day01' is also that of"):
        open_sessions([a.path, copy])


def test_empty_folder(tmp_path):
    with pytest.raises(NwbMotorValueError, match=r"folder holds no \*\.nwb file"):
        open_sessions(tmp_path)


def test_lab_sessions_plant_change_across_days(tmp_path):
    from nwbmotor.testing import write_lab_sessions

    plan = [{"fraction_movement_related": 0.2}, {"fraction_movement_related": 0.5}]
    truths = write_lab_sessions(tmp_path, n_sessions=2, n_rois=10, n_trials=3, per_session=plan)
    assert [int(t.movement_related.sum()) for t in truths] == [2, 5]
    tree = open_sessions(tmp_path)
    assert sorted(tree["AP071"].children) == ["day01", "day02"]
    np.testing.assert_array_equal(tree["AP071/day02"]["global_id"].values, np.arange(10))
    with pytest.raises(NwbMotorValueError, match=r"per_session has 1 entries, expected n_sessions=2"):
        write_lab_sessions(tmp_path / "x", n_sessions=2, per_session=plan[:1])
