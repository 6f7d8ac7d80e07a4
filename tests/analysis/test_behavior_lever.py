"""Behaviour timing and lever reproducibility against planted behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.analysis import behavior_timing, lever_correlation
from nwbmotor.analysis._lever import resample_bins
from nwbmotor.testing import planted_session


def test_behavior_timing_matches_planted_trials() -> None:
    ds, _ = planted_session(n_cells=2, n_frames=12000, seed=3, p_respond=0.7, reaction_median_s=0.5)
    res = behavior_timing(ds)
    rewarded = ds.rewarded.values
    assert float(res.fraction_rewarded) == pytest.approx(rewarded.mean())
    assert 0.5 < float(res.fraction_rewarded) < 0.9
    assert float(res.median_reaction_time) == pytest.approx(0.5, abs=0.1)
    np.testing.assert_allclose(
        res.onset_to_reward.values[rewarded], 0.2
    )  # planted: reward 200 ms after onset
    dur = res.movement_duration.values[rewarded]
    assert ((dur >= 0.6) & (dur <= 1.4)).all()  # planted durations U(0.6, 1.4)
    assert np.isnan(res.reaction_time.values[~rewarded]).all()
    assert res.attrs["n_trials"] == rewarded.size


def test_behavior_timing_without_rewards_is_nan_with_reason() -> None:
    ds, _ = planted_session(n_cells=2, n_frames=3000, seed=0)
    none = ds.assign(rewarded=ds.rewarded & False)
    res = behavior_timing(none)
    assert float(res.fraction_rewarded) == 0.0
    assert np.isnan(float(res.median_reaction_time))
    assert "no rewarded trial" in res.attrs["nan_reason"]


def test_resample_bins_is_the_bin_mean() -> None:
    t = np.arange(0, 0.05, 0.001)
    x = np.arange(50.0)
    np.testing.assert_allclose(resample_bins(t, x, np.array([0.0, 0.01, 0.02])), [4.5, 14.5])
    # bins without samples are interpolated
    np.testing.assert_allclose(
        resample_bins(np.array([0.0, 1.0]), np.array([0.0, 1.0]), np.array([0.2, 0.4, 0.6])),
        [0.3, 0.5],
    )


def test_lever_correlation_tracks_planted_variability() -> None:
    stereotyped, _ = planted_session(n_cells=2, n_frames=6000, seed=1, lever_variability=0.0)
    variable, _ = planted_session(n_cells=2, n_frames=6000, seed=1, lever_variability=1.0)
    a, b = lever_correlation(stereotyped), lever_correlation(variable)
    # planted presses repeat one template press and differ only in duration (0.6-1.4 s)
    # when stereotyped: 0.78-0.87 over seeds 0-7; at variability 1, 0.47-0.66
    assert float(a.median_correlation) > 0.75
    assert float(b.median_correlation) < float(a.median_correlation) - 0.1
    assert a.trace.sizes["rel_time"] == 303  # -0.02 ... +3.0 s in 10 ms bins
    assert a.rel_time.values[0] == pytest.approx(-0.02) and a.rel_time.values[-1] == pytest.approx(
        3.0
    )
    assert a.attrs["window_s"] == [-0.5, 4.0] and a.attrs["bin_s"] == 0.01
    np.testing.assert_array_equal(a.trial.values, np.flatnonzero(stereotyped.cued_rewarded.values))


def test_lever_correlation_of_identical_presses_is_one() -> None:
    ds, _ = planted_session(n_cells=2, n_frames=3000, seed=2, lever_variability=0.0)
    lever = ds.behavior.values[:, 0].copy()
    t = ds.time_behavior.values
    onsets = ds.movement_onset.values[ds.cued_rewarded.values]
    press = np.sin(np.linspace(0, np.pi, 800))
    lever[:] = 0.0
    for o in onsets:
        i = np.searchsorted(t, o)
        lever[i : i + 800] = press
    res = lever_correlation(ds.assign(behavior=(ds.behavior.dims, lever[:, None])))
    np.testing.assert_allclose(res.correlation.values, 1.0, atol=1e-6)


def test_lever_correlation_errors() -> None:
    ds, _ = planted_session(n_cells=2, n_frames=1500, seed=0)
    with pytest.raises(NwbMotorValueError, match="has no variable 'behavior'"):
        lever_correlation(ds.drop_vars("behavior"))
    bad = ds.copy(deep=True)
    bad["behavior"][10, 0] = np.nan
    with pytest.raises(NwbMotorValueError, match="the lever trace has 1 NaN samples"):
        lever_correlation(bad)
    with pytest.raises(NwbMotorValueError, match="trials must be"):
        lever_correlation(ds, trials="all")
