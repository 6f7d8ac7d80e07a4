"""Optogenetic performance, light-driven units and spatial clustering against planted truth."""

from __future__ import annotations

import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.analysis import (
    classify_movement_related,
    light_driven_units,
    opto_performance,
    spatial_clustering,
)
from nwbmotor.testing import planted_session


def _sessions(p_light: float, seeds: range) -> dict:
    return {
        f"s{s}": planted_session(
            n_cells=1,
            n_frames=8000,
            seed=s,
            opto_fraction=0.3,
            p_respond=0.85,
            p_respond_light=p_light,
        )[0]
        for s in seeds
    }


def test_opto_performance_detects_planted_impairment_not_in_controls() -> None:
    sessions = {
        **_sessions(0.25, range(6)),
        **{f"c{k}": v for k, v in _sessions(0.85, range(10, 16)).items()},
    }
    res = opto_performance(sessions, control=[f"cs{s}" for s in range(10, 16)])
    exp = ~res.control.values
    assert res.p_value < 0.01
    assert res.control_p_value > 0.05
    assert abs(res.fraction_rewarded_light.values[exp].mean() - 0.25) < 0.12
    assert abs(res.fraction_rewarded_no_light.values[exp].mean() - 0.85) < 0.1
    assert (res.n_light + res.n_no_light).values.tolist() == [
        s.sizes["trial"] for s in sessions.values()
    ]


def test_opto_performance_without_light_trials_is_nan_with_reason() -> None:
    ds, _ = planted_session(n_cells=1, n_frames=3000, seed=0)
    res = opto_performance([ds, ds])
    assert np.isnan(float(res.p_value)) and np.isnan(res.fraction_rewarded_light.values).all()
    assert "experimental: 0 sessions with both light and no-light trials" in res.attrs["nan_reason"]
    with pytest.raises(NwbMotorValueError, match="control sessions \\['x'\\] are not among"):
        opto_performance([ds], control=["x"])
    with pytest.raises(NwbMotorValueError, match="has no variable 'opto'"):
        opto_performance([ds.drop_vars("opto")])


def test_light_driven_units_match_planted() -> None:
    ds, truth = planted_session(
        n_cells=40, n_frames=6000, seed=2, n_light_epochs=30, fraction_light_driven=0.25
    )
    res = light_driven_units(ds)
    pred, true = res.light_driven.values, truth["light_driven"]
    tp = (pred & true).sum()
    assert tp / pred.sum() >= 0.9 and tp / true.sum() >= 0.9
    assert (
        res.attrs["window_s"] == 1.0 and res.attrs["alpha"] == 0.01 and res.attrs["n_epochs"] == 30
    )
    assert (res.difference.values[true] > 0).all()


def test_light_driven_overlap_with_movement_related() -> None:
    ds, truth = planted_session(
        n_cells=40, n_frames=6000, seed=2, n_light_epochs=30, fraction_light_driven=0.25
    )
    res = light_driven_units(ds, movement_related=truth["movement_related"])
    driven = res.light_driven.values
    both = int((driven & truth["movement_related"]).sum())
    assert int(res.n_overlap) == both
    assert float(res.fraction_light_driven_movement_related) == pytest.approx(both / driven.sum())
    expected = both / truth["movement_related"].sum()
    assert float(res.fraction_movement_related_light_driven) == pytest.approx(expected)
    none = light_driven_units(ds, movement_related=np.zeros(40, bool))
    assert np.isnan(float(none.fraction_movement_related_light_driven))
    assert "no movement-related units" in none.attrs["nan_reason"]
    with pytest.raises(NwbMotorValueError, match="units mask has 3 entries, the activity has 40"):
        light_driven_units(ds, movement_related=np.zeros(3, bool))


def test_light_driven_units_errors() -> None:
    ds, _ = planted_session(n_cells=3, n_frames=3000, seed=0, n_light_epochs=5)
    with pytest.raises(NwbMotorValueError, match="has no light epochs"):
        light_driven_units(ds.isel(epoch=[]))
    late = ds.assign(epoch_start_time=ds.epoch_start_time + 1e4)
    with pytest.raises(NwbMotorValueError, match="all 5 light epochs fall outside the recording"):
        light_driven_units(late)
    nan = ds.copy(deep=True)
    nan["activity"][5, 1] = np.nan
    res = light_driven_units(nan)
    assert np.isnan(res.p_value.values[1]) and "1 units untested" in res.attrs["nan_reason"]


@pytest.mark.parametrize(("clustered", "expected"), [(True, True), (False, False)])
def test_spatial_clustering_finds_planted_cluster(clustered: bool, expected: bool) -> None:
    ds, truth = planted_session(n_cells=60, n_frames=3000, seed=6, clustered=clustered)
    cls = classify_movement_related(ds, n_shuffles=500)
    res = spatial_clustering(cls, n_shuffles=2000)
    assert bool(res.clustered) is expected
    assert res.attrs["n_shuffles"] == 2000 and res.attrs["interval"] == 0.95
    if expected:
        assert float(res.mean_distance) < 160  # planted within 80 um of one point
        assert float(res.p_value) < 0.01
    else:
        assert float(res.shuffle_low) <= float(res.mean_distance) <= float(res.shuffle_high)


def test_spatial_clustering_needs_two_cells_and_positions() -> None:
    ds, _ = planted_session(n_cells=10, n_frames=3000, seed=0)
    cls = classify_movement_related(ds, n_shuffles=200)
    one = cls.assign(movement_related=cls.movement_related & (np.arange(10) == 0))
    res = spatial_clustering(one, n_shuffles=100)
    assert np.isnan(float(res.mean_distance)) and "need >= 2" in res.attrs["nan_reason"]
    with pytest.raises(NwbMotorValueError, match="no cell positions"):
        spatial_clustering(cls.drop_vars(["unit_x", "unit_y"]))
