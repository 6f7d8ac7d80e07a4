"""Every analysis raises a clear error, or returns NaN with a reason, on bad sessions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import xarray as xr

from nwbmotor import NwbMotorValueError
from nwbmotor.analysis import (
    activity_timing,
    behavior_timing,
    classify_movement_related,
    compute_dff,
    detect_events,
    lever_correlation,
    light_driven_units,
    opto_performance,
    population_similarity,
    sequence_reproducibility,
    spatiotemporal_correlation,
)
from nwbmotor.testing import planted_session


@pytest.fixture(scope="module")
def session() -> xr.Dataset:
    ds, _ = planted_session(n_cells=8, n_frames=3000, seed=1, n_light_epochs=6, opto_fraction=0.3)
    return ds


ACTIVITY_FUNCS: dict[str, Callable] = {
    "compute_dff": lambda ds: compute_dff(ds),
    "detect_events": lambda ds: detect_events(ds.activity),
    "classify_movement_related": lambda ds: classify_movement_related(ds, n_shuffles=50),
    "activity_timing": activity_timing,
    "sequence_reproducibility": sequence_reproducibility,
    "spatiotemporal_correlation": spatiotemporal_correlation,
    "population_similarity": lambda ds: population_similarity([ds, ds]),
    "light_driven_units": light_driven_units,
}

TRIAL_FUNCS: dict[str, Callable] = {
    "activity_timing": activity_timing,
    "sequence_reproducibility": sequence_reproducibility,
    "spatiotemporal_correlation": spatiotemporal_correlation,
    "population_similarity": lambda ds: population_similarity([ds, ds]),
    "lever_correlation": lever_correlation,
    "behavior_timing": behavior_timing,
}


@pytest.mark.parametrize("name", sorted(ACTIVITY_FUNCS))
def test_no_activity_raises(session: xr.Dataset, name: str) -> None:
    with pytest.raises(NwbMotorValueError, match="is empty .*the session has no activity"):
        ACTIVITY_FUNCS[name](session.isel(unit=[]))


@pytest.mark.parametrize("name", sorted(TRIAL_FUNCS))
def test_trials_outside_the_recording_raise(session: xr.Dataset, name: str) -> None:
    shifted = session.copy()
    for var in (
        "start_time",
        "stop_time",
        "cue_time",
        "movement_onset",
        "movement_offset",
        "reward_time",
    ):
        shifted[var] = session[var] + 1e4
    with pytest.raises(NwbMotorValueError, match="outside the recording"):
        TRIAL_FUNCS[name](shifted)


@pytest.mark.parametrize("name", sorted(TRIAL_FUNCS) + ["opto_performance"])
def test_empty_trials_raise(session: xr.Dataset, name: str) -> None:
    func = TRIAL_FUNCS.get(name, lambda ds: opto_performance([ds]))
    with pytest.raises(NwbMotorValueError, match="no .*trials|no trials"):
        func(session.isel(trial=[]))


@pytest.mark.parametrize(
    ("name", "variable"),
    [
        ("detect_events", None),
        ("classify_movement_related", "p_value"),
        ("activity_timing", "latency_std"),
        ("light_driven_units", "p_value"),
    ],
)
def test_nan_trace_gives_nan_unit_with_reason(
    session: xr.Dataset, name: str, variable: str | None
) -> None:
    # the lab's rule (AP_caEvents.m): a cell whose trace is all NaN is discarded
    bad = session.copy(deep=True)
    bad["activity"][:, 0] = np.nan
    res = ACTIVITY_FUNCS[name](bad)
    values = res.values[:, 0] if variable is None else res[variable].values[0]
    assert np.isnan(values).all()
    assert "NaN" in res.attrs["nan_reason"]


@pytest.mark.parametrize(
    "name", ["sequence_reproducibility", "spatiotemporal_correlation", "population_similarity"]
)
def test_nan_trace_is_left_out_with_reason(session: xr.Dataset, name: str) -> None:
    bad = session.copy(deep=True)
    bad["activity"][:, 0] = np.nan
    res = ACTIVITY_FUNCS[name](bad)
    clean = ACTIVITY_FUNCS[name](session)
    assert "NaN" in res.attrs["nan_reason"]
    assert "nan_reason" not in clean.attrs or "NaN traces" not in clean.attrs["nan_reason"]


def test_nan_samples_follow_the_preset(session: xr.Dataset) -> None:
    # peters2014 (AP_caEvents.m) sets NaN samples of a cell to 0 and counts them; the
    # nwbmotor preset discards the cell. Either way the result says what happened.
    bad = session.copy(deep=True)
    bad["activity"][100:103, 0] = np.nan
    lab = detect_events(bad.activity)
    assert lab.attrs["nan_samples_set_to_zero"] == 3
    assert bool(lab.events_valid[0]) and np.isfinite(lab.values[:, 0]).all()
    assert "nan_reason" not in lab.attrs
    assert "nan_samples_set_to_zero" not in detect_events(session.activity).attrs
    own = detect_events(bad.activity, preset="nwbmotor")
    assert np.isnan(own.values[:, 0]).all() and not bool(own.events_valid[0])
    assert "positions [0]" in own.attrs["nan_reason"]
    assert np.isfinite(own.values[:, 1:]).all()


def test_compute_dff_nan_roi_is_invalid_with_reason(session: xr.Dataset) -> None:
    bad = session.copy(deep=True)
    bad["fluorescence"][100, 0] = np.nan
    res = compute_dff(bad)
    assert not res.dff_valid.values[0] and "positions [0]" in res.attrs["invalid_reason"]


@pytest.mark.parametrize(
    "name",
    [
        "classify_movement_related",
        "activity_timing",
        "sequence_reproducibility",
        "spatiotemporal_correlation",
    ],
)
def test_mismatched_event_length_raises(session: xr.Dataset, name: str) -> None:
    short = detect_events(session.activity.isel(time=slice(0, 2000)))
    func = {
        "classify_movement_related": lambda ds, ev: classify_movement_related(ds, ev, n_shuffles=10)
    }.get(name, lambda ds, ev: ACTIVITY_FUNCS[name](ds, ev))
    with pytest.raises(
        NwbMotorValueError, match="events have 2000 frames, the session's activity has 3000"
    ):
        func(session, short)


def test_mismatched_unit_mask_raises(session: xr.Dataset) -> None:
    with pytest.raises(
        NwbMotorValueError, match="units mask has 3 entries, the activity has 8 units"
    ):
        activity_timing(session, units=np.ones(3, bool))
