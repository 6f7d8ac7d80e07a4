"""Event detection against planted GCaMP transients."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from nwbmotor import NwbMotorValueError
from nwbmotor.analysis import detect_events
from nwbmotor.methods import events_excitatory, events_inhibitory
from nwbmotor.testing import gcamp_trace, planted_session


def _match(events: np.ndarray, onsets_s: list[np.ndarray], fs: float) -> tuple[int, int, int]:
    """Greedy one-to-one matching of detected runs to planted onsets (onset within the run,
    3 frames of slack before, 1 after)."""
    tp = fp = fn = 0
    for c in range(events.shape[1]):
        on = events[:, c] > 0
        starts = np.flatnonzero(on & ~np.r_[False, on[:-1]])
        ends = np.flatnonzero(on & ~np.r_[on[1:], False])
        planted = np.ceil(np.asarray(onsets_s[c]) * fs).astype(int)
        used = np.zeros(planted.size, bool)
        for s, e in zip(starts, ends):
            hit = np.flatnonzero(~used & (planted >= s - 3) & (planted <= e + 1))
            if hit.size:
                used[hit[0]] = True
                tp += 1
            else:
                fp += 1
        fn += int((~used).sum())
    return tp, fp, fn


@pytest.mark.parametrize("seed", [3, 4])
def test_event_detection_f1_on_planted_transients(seed: int) -> None:
    ds, truth = planted_session(n_cells=60, n_frames=6000, seed=seed, fraction_inhibitory=0.0)
    events = detect_events(ds.activity)
    tp, fp, fn = _match(events.values, truth["event_onsets_s"], 28.0)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert tp > 500
    assert f1 >= 0.9, (precision, recall, f1)
    assert precision >= 0.95


def test_excitatory_event_holds_amplitude_from_start_to_peak() -> None:
    rng = np.random.default_rng(0)
    clean = gcamp_trace(np.array([5.0, 12.0]), np.array([1.0, 0.6]), 560, 28.0)
    raw = clean + rng.normal(0, 0.05, clean.size)
    out = events_excitatory(raw)
    runs = np.flatnonzero(np.diff(np.r_[0, out > 0, 0]))
    assert len(runs) == 4  # two events
    for (a, b), onset, amp in zip(runs.reshape(-1, 2), (140, 336), (1.0, 0.6)):
        assert onset - 3 <= a <= onset + 1
        assert onset + 1 <= b - 1 <= onset + 6  # peak: 2-4 frames after onset (+-1 frame of noise)
        assert np.ptp(out[a:b]) == 0  # one value: the amplitude
        assert abs(out[a] - amp) < 0.2


def test_inhibitory_variant_outputs_raw_dff_on_active_frames() -> None:
    t = np.arange(600)
    raw = np.where((t >= 200) & (t < 320), 0.8, 0.0) + 0.03 * np.sin(1.7 * t)
    out = events_inhibitory(raw)
    active = out != 0
    np.testing.assert_array_equal(out[active], raw[active])
    assert active[220:300].all() and not active[:150].any() and not active[400:].any()


def test_cell_type_chooses_the_algorithm() -> None:
    ds, _ = planted_session(n_cells=4, n_frames=3000, seed=1, fraction_inhibitory=0.0)
    act = ds.activity.assign_coords(
        cell_type=("unit", ["excitatory", "inhibitory", "unknown", "excitatory"])
    )
    ev = detect_events(act)
    exc = ev.values[:, 0][ev.values[:, 0] > 0]
    inh = ev.values[:, 1][ev.values[:, 1] != 0]
    assert np.unique(np.round(exc, 12)).size < exc.size / 2  # runs of one amplitude
    np.testing.assert_array_equal(inh, act.values[:, 1][ev.values[:, 1] != 0])
    forced = detect_events(act, cell_type=xr.DataArray(["inhibitory"] * 4, dims="unit"))
    np.testing.assert_array_equal(forced.values[:, 1], ev.values[:, 1])
    assert not np.array_equal(forced.values[:, 0], ev.values[:, 0])


def test_detect_events_records_parameters_and_flags_nan_units() -> None:
    ds, _ = planted_session(n_cells=3, n_frames=2000, seed=0)
    act = ds.activity.copy()
    act[100, 2] = np.nan
    ev = detect_events(act, preset="nwbmotor", velocity_sd=4.0)
    assert ev.attrs["velocity_sd"] == 4.0 and ev.attrs["loess_frames"] == 30
    assert np.isnan(ev.values[:, 2]).all() and np.isfinite(ev.values[:, :2]).all()
    assert ev.events_valid.values.tolist() == [True, True, False]
    assert "[2]" in ev.attrs["nan_reason"]


def test_detect_events_on_flat_trace_finds_nothing() -> None:
    da = xr.DataArray(
        np.zeros((500, 2)), dims=("time", "unit"), coords={"time": np.arange(500) / 28}
    )
    assert (detect_events(da).values == 0).all()


@pytest.mark.parametrize(
    ("make", "err", "match"),
    [
        (lambda a: a.isel(unit=[]), NwbMotorValueError, "the session has no activity"),
        (lambda a: a.isel(unit=0), NwbMotorValueError, "must have dims \\('time', 'unit'\\)"),
        (lambda a: a.values, TypeError, "must be an xarray.DataArray"),
    ],
)
def test_detect_events_rejects_bad_input(make, err, match: str) -> None:
    ds, _ = planted_session(n_cells=2, n_frames=600, seed=0)
    with pytest.raises(err, match=match):
        detect_events(make(ds.activity))


def test_detect_events_rejects_mismatched_cell_types() -> None:
    ds, _ = planted_session(n_cells=3, n_frames=600, seed=0)
    with pytest.raises(NwbMotorValueError, match="cell_type has 2 entries, activity has 3 units"):
        detect_events(ds.activity, cell_type=np.array(["excitatory", "inhibitory"]))
