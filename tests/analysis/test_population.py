"""Planted learning across 14 sessions is recovered in direction and size."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from scipy import stats

from nwbmotor.analysis import (
    activity_timing,
    behavior_timing,
    classify_movement_related,
    detect_events,
    fraction_movement_related,
    lever_correlation,
    population_similarity,
    sequence_reproducibility,
    spatiotemporal_correlation,
)
from nwbmotor.testing import planted_learning

EARLY, LATE = slice(0, 4), slice(9, 14)


def _truth_events(ds: xr.Dataset, truth: dict) -> xr.DataArray:
    """Event matrix of the planted transients: amplitude on onset .. onset + 3 frames."""
    fs = ds.attrs["frame_rate"]
    ev = np.zeros(ds.activity.shape)
    for c, (on, amp) in enumerate(zip(truth["event_onsets_s"], truth["event_amplitudes"])):
        for f, a in zip(np.ceil(np.asarray(on) * fs).astype(int), amp):
            ev[f : f + 4, c] = a
    return ds.activity.copy(data=ev)


@pytest.fixture(scope="module")
def learning() -> dict:
    sessions, truth = planted_learning(14, n_cells=60, n_frames=6000, seed=0)
    out: dict = {
        "truth": truth,
        "sessions": sessions,
        "classified": [],
        "st": [],
        "st_truth": [],
        "jitter": [],
        "seq": [],
        "lever": [],
        "rt": [],
    }
    for ds, tr in zip(sessions, truth["sessions"]):
        ds["events"] = detect_events(ds.activity)
        cls = classify_movement_related(ds, n_shuffles=1000)
        out["classified"].append(cls)
        mr = cls.movement_related
        st = spatiotemporal_correlation(ds, units=mr)
        out["st"].append(float(st.median_correlation))
        out["st_lever_r"] = float(st.activity_lever_r)
        out["st_truth"].append(
            float(
                spatiotemporal_correlation(
                    ds, _truth_events(ds, tr), units=tr["movement_related"], relate_lever=False
                ).median_correlation
            )
        )
        out["jitter"].append(float(activity_timing(ds, units=mr).median_latency_std))
        out["seq"].append(float(sequence_reproducibility(ds, units=mr).median_correlation))
        out["lever"].append(float(lever_correlation(ds).median_correlation))
        out["rt"].append(float(behavior_timing(ds).median_reaction_time))
    return out


def test_fraction_movement_related_expands_then_refines(learning: dict) -> None:
    exc = learning["sessions"][0].cell_type.values == "excitatory"
    expected = learning["truth"]["movement_related"][:, exc].mean(axis=1)
    actual = fraction_movement_related(learning["classified"]).values
    np.testing.assert_allclose(actual, expected, atol=0.08)
    peak = int(np.argmax(actual))
    assert 1 <= peak <= 5  # expands over the first sessions ...
    assert actual[peak] - actual[-1] > 0.15  # ... then refines
    assert actual[peak] - actual[0] > 0.15


def test_spatiotemporal_correlation_rises_as_planted(learning: dict) -> None:
    actual, expected = np.array(learning["st"]), np.array(learning["st_truth"])
    assert stats.spearmanr(np.arange(14), actual)[0] > 0.9
    rise = actual[LATE].mean() - actual[EARLY].mean()
    planted_rise = expected[LATE].mean() - expected[EARLY].mean()
    assert planted_rise > 0.15
    assert 0.6 < rise / planted_rise < 1.4


def test_timing_jitter_falls_with_planted_jitter(learning: dict) -> None:
    actual = np.array(learning["jitter"])
    planted = learning["truth"]["timing_jitter_s"]
    assert stats.spearmanr(planted, actual)[0] > 0.9
    # size: early and late jitter within 40 % of the planted sd
    assert abs(actual[EARLY].mean() / planted[EARLY].mean() - 1) < 0.4
    assert abs(actual[LATE].mean() / planted[LATE].mean() - 1) < 0.4


def test_sequences_and_lever_become_reproducible(learning: dict) -> None:
    seq, lever = np.array(learning["seq"]), np.array(learning["lever"])
    assert seq[LATE].mean() - seq[EARLY].mean() > 0.3
    assert lever[LATE].mean() > lever[EARLY].mean() + 0.05
    assert stats.spearmanr(np.arange(14), lever)[0] > 0.6
    assert np.isfinite(learning["st_lever_r"])


def test_reaction_time_shortens_as_planted(learning: dict) -> None:
    rt = np.array(learning["rt"])
    planted = learning["truth"]["reaction_median_s"]
    np.testing.assert_allclose(rt, planted, atol=0.25)


def test_population_similarity_higher_late_than_early(learning: dict) -> None:
    res = population_similarity(learning["sessions"])
    assert res.similarity.shape == (14, 14)
    np.testing.assert_allclose(np.diag(res.similarity.values), 1.0)
    assert float(res.late_similarity) > float(res.early_similarity) + 0.2
    assert float(res.early_late_similarity) < float(res.late_similarity)
    assert res.attrs["early"] == [1, 4] and res.attrs["late"] == [10, 14]
    # the planted core population is the most active in late sessions
    frac = res.activity_fraction.isel(session=-1)
    core = learning["truth"]["core"]
    gid = learning["sessions"][0].global_id.values
    in_core = np.isin(frac.global_id.values, gid[core])
    assert in_core.sum() == core.sum()  # the core is excitatory; inhibitory cells are left out
    assert frac.values[in_core].mean() > frac.values[~in_core].mean() + 0.4
