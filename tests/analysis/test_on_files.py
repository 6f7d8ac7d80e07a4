"""The analyses run unchanged on a session view opened from an NWB file."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import nwbmotor.analysis as an
from nwbmotor import open_session
from nwbmotor.testing import assert_valid_nwb, write_lab_session


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> tuple[xr.Dataset, object]:
    path = tmp_path_factory.mktemp("lab") / "sub-AP071_ses-day01.nwb"
    truth = write_lab_session(path, n_rois=40, n_trials=36, opto_fraction=0.2, seed=1)
    assert_valid_nwb(path)
    return open_session(path), truth


def test_movement_related_cells_of_a_lab_file(lab) -> None:
    ds, truth = lab
    res = an.classify_movement_related(ds, n_shuffles=2000)
    tested = res.tested.values
    expected_tested = (truth.cell_type != "inhibitory") & ~truth.excluded.astype(bool)
    np.testing.assert_array_equal(tested, expected_tested)
    pred, true = res.movement_related.values, truth.movement_related.astype(bool) & tested
    tp = int((pred & true).sum())
    assert true.sum() >= 5
    assert tp / pred.sum() >= 0.9 and tp / true.sum() >= 0.9


def test_session_analyses_of_a_lab_file(lab) -> None:
    ds, truth = lab
    ds = ds.assign(events=an.detect_events(ds.activity))
    timing = an.behavior_timing(ds)
    assert float(timing.fraction_rewarded) == pytest.approx(truth.trials["rewarded"].mean())
    for result, name in (
        (an.activity_timing(ds), "median_latency_std"),
        (an.sequence_reproducibility(ds), "median_correlation"),
        (an.spatiotemporal_correlation(ds), "median_correlation"),
        (an.lever_correlation(ds), "median_correlation"),
    ):
        assert np.isfinite(float(result[name])), (name, result.attrs)
        assert result.attrs["session_id"] == "day01"
    perf = an.opto_performance([ds])
    light = truth.trials["opto"].astype(bool)
    assert float(perf.fraction_rewarded_light[0]) == pytest.approx(
        truth.trials["rewarded"][light].mean()
    )
