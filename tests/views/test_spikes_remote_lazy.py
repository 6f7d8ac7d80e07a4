"""Spike-sorted sessions as activity, sessions opened by URL, and constant-memory views."""

from __future__ import annotations

import pickle
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import nwbmotor
import nwbmotor.analysis as na
from nwbmotor.testing import (
    serve_files,
    write_long_lever_session,
    write_reaching_session,
)


@pytest.fixture(scope="module")
def reaching(tmp_path_factory: pytest.TempPathFactory):
    return write_reaching_session(tmp_path_factory.mktemp("reach") / "sub-C_ses-reach.nwb", n_trials=48, seed=4)


def _binned(truth, width: float, n_bins: int) -> np.ndarray:
    edges = np.arange(n_bins + 1) * width
    return np.stack([np.histogram(t, edges)[0] for t in truth.spike_times], axis=1) / width


def test_units_open_as_binned_activity(reaching) -> None:
    ds = nwbmotor.open_session(reaching.path)
    assert ds.attrs["source"] == "ephys" and ds.attrs["activity_kind"] == "spikes"
    assert ds.activity.dims == ("time", "unit") and ds.activity.attrs["units"] == "spikes/s"
    width = ds.activity.attrs["bin_width"]
    assert width == 0.02
    n_bins = ds.sizes["time"]
    np.testing.assert_allclose(ds["time"].values, (np.arange(n_bins) + 0.5) * width)
    assert n_bins * width >= reaching.stop_time[-1]
    np.testing.assert_array_equal(ds.activity.values, _binned(reaching, width, n_bins))
    np.testing.assert_array_equal(ds["region"].values, reaching.region)
    assert set(ds["quality"].values) == {"good", "mua"}
    for u in (0, len(reaching.spike_times) - 1):
        a, b = int(ds["spike_start"][u]), int(ds["spike_stop"][u])
        np.testing.assert_array_equal(ds["spike_time"].values[a:b], reaching.spike_times[u])


def test_bin_width_is_a_choice(reaching) -> None:
    ds = nwbmotor.open_session(reaching.path, bin_width=0.05)
    np.testing.assert_allclose(ds.activity.values, _binned(reaching, 0.05, ds.sizes["time"]))
    with pytest.raises(nwbmotor.NwbMotorValueError, match="bin_width"):
        nwbmotor.open_session(reaching.path, bin_width=-1.0)


def test_trials_epochs_and_behaviour_in_the_view(reaching) -> None:
    ds = nwbmotor.open_session(reaching.path)
    np.testing.assert_allclose(ds["go_cue_time"].values, reaching.go_cue_time)
    np.testing.assert_allclose(ds["rotation"].values, reaching.rotation)
    np.testing.assert_allclose(ds["target_dir"].values, reaching.target_direction)
    np.testing.assert_allclose(ds["session_epoch_start_time"].values, [e[1] for e in reaching.epochs])
    assert list(ds["channel"].values) == ["cursor_pos_0", "cursor_pos_1", "hand_pos_0", "hand_pos_1"]
    assert float(ds["time_behavior"][1]) == pytest.approx(1 / reaching.hand_rate)
    # the planted reach: at the end of the reach the cursor is 8 cm from the centre, towards the target
    i = 5
    t = reaching.move_onset_time[i] + 0.45
    at = ds.behavior.sel(time_behavior=t, method="nearest").values
    cursor = at[:2]
    assert np.hypot(*cursor) == pytest.approx(8.0, rel=1e-3)
    assert np.arctan2(cursor[1], cursor[0]) == pytest.approx(np.angle(np.exp(1j * reaching.target_direction[i])), abs=1e-6)


def test_model_comparison_metrics_run_on_a_reaching_session(reaching) -> None:
    ds = nwbmotor.open_session(reaching.path)
    aligned = na.trial_align(ds, "go_cue_time", window=(-0.6, 0.6))
    assert aligned.sizes["rel_time"] == 61
    rotation = ds["rotation"].values
    before = aligned.isel(trial=np.flatnonzero(rotation == 0)[:16])
    after = aligned.isel(trial=np.flatnonzero(rotation > 0))
    cov = na.covariance_change(before, after, condition=ds["target_id"])
    act = na.activity_change(before, after, condition=ds["target_id"])
    assert np.isfinite(float(cov)) and np.isfinite(float(act))
    # the same trials against themselves: no change
    assert float(na.covariance_change(before, before, condition=ds["target_id"])) == pytest.approx(0.0, abs=1e-12)


def test_regular_times_are_lazy_and_views_pickle_small(tmp_path: Path) -> None:
    path = write_long_lever_session(tmp_path / "two_hours.nwb", minutes=120)
    tracemalloc.start()
    ds = nwbmotor.open_session(path, activity=None)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert ds.sizes["time_behavior"] == 72_000_000
    assert peak <= 50e6, f"open_session of a 2-hour 10 kHz session peaked at {peak / 1e6:.1f} MB"
    assert len(pickle.dumps(ds)) <= 1_000_000
    assert float(ds["time_behavior"][-1]) == pytest.approx(7199.9999)
    part = ds.sel(time_behavior=slice(60.0, 60.001))
    np.testing.assert_allclose(part["time_behavior"].values, [60.0, 60.0001, 60.0002, 60.0003, 60.0004, 60.0005,
                                                               60.0006, 60.0007, 60.0008, 60.0009, 60.001])
    restored = pickle.loads(pickle.dumps(ds))
    np.testing.assert_array_equal(restored.behavior[:100].values, ds.behavior[:100].values)


def test_open_session_by_url_reads_a_fraction(tmp_path: Path) -> None:
    path = write_long_lever_session(tmp_path / "lever.nwb", minutes=20)
    local = nwbmotor.open_session(path, activity=None)
    size = path.stat().st_size
    with serve_files(tmp_path) as served:
        ds = nwbmotor.open_session(served.url("lever.nwb"), activity=None)
        opened = served.bytes_sent
        n = max(1, ds.sizes["trial"] // 10)
        events = ds["start_time"].isel(trial=slice(0, n))
        aligned = na.trial_align(ds.behavior, events, window=(1.5, 3.0))
        read = served.bytes_sent
        expected = na.trial_align(local.behavior, local["start_time"].isel(trial=slice(0, n)), window=(1.5, 3.0))
        np.testing.assert_array_equal(aligned.values, expected.values)
        assert ds.attrs["source_file"] == served.url("lever.nwb")
        restored = pickle.loads(pickle.dumps(ds))
        np.testing.assert_array_equal(restored.behavior[:5].values, local.behavior[:5].values)
    assert opened < 0.05 * size and read < 0.3 * size, (opened, read, size)


def test_a_url_that_does_not_answer_is_named(tmp_path: Path) -> None:
    with serve_files(tmp_path) as served:
        with pytest.raises(nwbmotor.NwbMotorValueError, match="missing.nwb"):
            nwbmotor.open_session(served.url("missing.nwb"))
