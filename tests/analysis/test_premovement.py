"""Pre-movement activity: planted leading cells and population divergence are recovered."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from nwbmotor import NwbMotorTypeError, NwbMotorValueError, open_session
from nwbmotor.analysis import classify_movement_related, detect_events, premovement_activity
from nwbmotor.analysis._premovement import departure_frames
from nwbmotor.testing import assert_valid_nwb, planted_session, write_lab_session

FS = 28.0
N_CELLS = 120


def _session(fraction_lead: float, lead_s: float = 0.105, seed: int = 0) -> tuple[xr.Dataset, dict]:
    """Half the cells movement-related; the non-leading ones fire 0.3 s after onset.

    Small timing jitter (10 ms) so that the planted start of each response is sharp;
    spontaneous movements (and their calcium tails) are kept.
    """
    return planted_session(
        n_cells=N_CELLS,
        n_frames=8000,
        frame_rate=FS,
        seed=seed,
        fraction_movement=0.5,
        fraction_lead=fraction_lead,
        lead_s=lead_s,
        timing_jitter_s=0.01,
        latencies_s=np.full(N_CELLS, 0.3),
    )


@pytest.fixture(scope="module")
def lead9() -> tuple[xr.Dataset, dict]:
    return _session(0.09)


@pytest.fixture(scope="module")
def no_lead() -> tuple[xr.Dataset, dict]:
    return _session(0.0)


# --- recovery of planted truth ------------------------------------------------------


@pytest.mark.parametrize("lead_s", [0.105, 0.25])
def test_population_divergence_within_one_frame_of_the_planted_lead(lead_s: float) -> None:
    ds, truth = _session(0.2, lead_s=lead_s)
    res = premovement_activity(ds, units=truth["movement_related"])
    assert abs(float(res.divergence_time) - (-lead_s)) <= 1 / FS
    onset = int(np.flatnonzero(res.rel_time.values == 0)[0])
    departed = res.population_departed.values
    first = int(np.flatnonzero(res.rel_time.values == float(res.divergence_time))[0])
    assert departed[first : onset + 1].all() and not departed[first - 1]
    assert "nan_reason" not in res.attrs


def test_leading_fraction_recovers_the_planted_9_percent(lead9: tuple[xr.Dataset, dict]) -> None:
    ds, truth = lead9
    mov = truth["movement_related"]
    res = premovement_activity(ds, units=mov)
    # every planted leading cell, and no other, is found
    np.testing.assert_array_equal(res.leading.values, truth["lead"])
    frac = float(res.fraction_leading)
    assert frac == pytest.approx(truth["fraction_lead"])
    se = np.sqrt(0.09 * 0.91 / mov.sum())  # binomial sampling of 9 % among the planted cells
    assert abs(frac - 0.09) < 2 * se
    assert res.attrs["n_cells"] == mov.sum() and res.attrs["n_leading"] == truth["lead"].sum()
    # 9 % leading cells are enough for the population to diverge before onset (science.md A)
    assert abs(float(res.divergence_time) + 0.105) <= 1 / FS
    lead_t = res.departure_time.values[truth["lead"]]
    np.testing.assert_array_less(np.abs(lead_t + 0.105), 1 / FS + 1e-9)
    # the others depart after onset, at their planted 0.3 s latency (within 2 frames)
    late_t = res.departure_time.values[mov & ~truth["lead"]]
    assert np.all(np.abs(late_t - 0.3) <= 2 / FS)
    assert np.isnan(res.departure_time.values[~mov]).all() and not res.leading.values[~mov].any()
    assert res.population_mean.dims == ("rel_time",) and res.unit_mean.dims == ("rel_time", "unit")


def test_no_planted_lead_gives_no_leading_cells_and_no_early_divergence(
    no_lead: tuple[xr.Dataset, dict],
) -> None:
    ds, truth = no_lead
    res = premovement_activity(ds, units=truth["movement_related"])
    assert float(res.fraction_leading) == 0.0 and not res.leading.values.any()
    assert float(res.divergence_time) > 0  # the population departs only after onset ...
    assert abs(float(res.divergence_time) - 0.3) <= 2 / FS  # ... at the planted latency
    assert not res.population_departed.sel(rel_time=slice(None, 0)).values.any()


def test_the_same_session_with_and_without_leads_differs_only_there(
    lead9: tuple[xr.Dataset, dict], no_lead: tuple[xr.Dataset, dict]
) -> None:
    (ds, truth), (ds0, truth0) = lead9, no_lead
    xr.testing.assert_identical(ds.movement_onset, ds0.movement_onset)
    np.testing.assert_array_equal(truth["movement_related"], truth0["movement_related"])
    assert truth0["lead"].sum() == 0
    assert truth["lead"].sum() == round(0.09 * truth["movement_related"].sum())
    assert not (truth["lead"] & ~truth["movement_related"]).any()
    np.testing.assert_array_equal(truth["latencies_s"][truth["lead"]], -0.105)


def test_classification_given_or_computed(lead9: tuple[xr.Dataset, dict]) -> None:
    ds, truth = lead9
    cls = classify_movement_related(ds, n_shuffles=2000)
    given = premovement_activity(ds, units=cls)
    np.testing.assert_array_equal(given.movement_related.values, cls.movement_related.values)
    assert given.attrs["units_from"] == "classification given"
    computed = premovement_activity(ds)
    assert computed.attrs["units_from"].startswith("classify_movement_related")
    # the classification finds the leading cells (they fire within the dilated movement)
    mov = computed.movement_related.values
    assert mov[truth["lead"]].all() and not (mov & ~truth["movement_related"]).any()
    np.testing.assert_array_equal(computed.leading.values, truth["lead"])
    se = np.sqrt(0.09 * 0.91 / mov.sum())
    assert abs(float(computed.fraction_leading) - 0.09) < 2 * se


def test_events_instead_of_dff(lead9: tuple[xr.Dataset, dict]) -> None:
    ds, truth = lead9
    res = premovement_activity(ds, detect_events(ds.activity), units=truth["movement_related"])
    np.testing.assert_array_equal(res.leading.values, truth["lead"])
    # an event starts at the last frame below low + sigma before its rise (the lab's
    # rule): up to two frames earlier than dF/F departs
    assert -0.105 - 3 / FS <= float(res.divergence_time) < 0


def test_direction_decrease_finds_a_planted_dip(lead9: tuple[xr.Dataset, dict]) -> None:
    ds, truth = lead9
    flipped = ds.assign(activity=-ds.activity)
    up = premovement_activity(ds, units=truth["movement_related"])
    down = premovement_activity(flipped, units=truth["movement_related"], direction="decrease")
    assert float(down.divergence_time) == float(up.divergence_time)
    np.testing.assert_array_equal(down.leading.values, truth["lead"])
    either = premovement_activity(flipped, units=truth["movement_related"], direction="either")
    assert float(either.divergence_time) == float(up.divergence_time)
    none = premovement_activity(flipped, units=truth["movement_related"])
    assert np.isnan(float(none.divergence_time))
    assert "population mean never stays departed" in none.attrs["nan_reason"]
    assert float(none.fraction_leading) == 0.0


def test_accessor_forwards(lead9: tuple[xr.Dataset, dict]) -> None:
    ds, truth = lead9
    xr.testing.assert_identical(
        ds.motor.premovement_activity(units=truth["movement_related"], k=4.0),
        premovement_activity(ds, units=truth["movement_related"], k=4.0),
    )


def test_quiescence_before_onset_selects_trials(lead9: tuple[xr.Dataset, dict]) -> None:
    ds, truth = lead9
    mov = truth["movement_related"]
    strict = premovement_activity(ds, units=mov)
    loose = premovement_activity(ds, units=mov, quiescence_s=0.0)
    starts, stops = ds.movement_start_time.values, ds.movement_stop_time.values
    onsets = ds.movement_onset.values[strict.trial.values]
    for t in onsets:  # no other movement in the 3 s before any onset used
        assert not np.any((starts < t - 0.5 / FS) & (stops > t - 3.0))
    assert strict.attrs["quiescence_checked"] and not loose.attrs["quiescence_checked"]
    n_cued = int(ds.cued_rewarded.sum())
    assert loose.attrs["n_trials"] == n_cued - loose.attrs["n_trials_outside_recording"]
    dropped = strict.attrs["n_trials_not_quiescent"]
    assert strict.attrs["n_trials"] == loose.attrs["n_trials"] - dropped
    assert strict.attrs["n_trials_not_quiescent"] > 0
    no_table = ds.drop_vars(["movement_start_time", "movement_stop_time"])
    res = premovement_activity(no_table, units=mov)
    assert not res.attrs["quiescence_checked"] and res.attrs["n_trials"] == loose.attrs["n_trials"]
    rewarded = premovement_activity(ds, units=mov, trials="rewarded", quiescence_s=0.0)
    assert rewarded.attrs["n_trials"] >= loose.attrs["n_trials"]


# --- NaN with a reason --------------------------------------------------------------


def test_too_few_trials_gives_nan_with_reason(lead9: tuple[xr.Dataset, dict]) -> None:
    ds, truth = lead9
    res = premovement_activity(ds, units=truth["movement_related"], min_trials=500)
    assert np.isnan(float(res.divergence_time)) and np.isnan(float(res.fraction_leading))
    assert np.isnan(res.departure_time.values).all()
    assert "fewer than min_trials=500" in res.attrs["nan_reason"]


def test_no_movement_related_cells_gives_nan_with_reason(lead9: tuple[xr.Dataset, dict]) -> None:
    ds, _ = lead9
    res = premovement_activity(ds, units=np.zeros(N_CELLS, bool))
    assert np.isnan(float(res.divergence_time)) and np.isnan(float(res.fraction_leading))
    assert "no movement-related cell" in res.attrs["nan_reason"]


def test_nan_trace_is_left_out_with_reason(lead9: tuple[xr.Dataset, dict]) -> None:
    ds, truth = lead9
    bad = ds.copy(deep=True)
    cell = int(np.flatnonzero(truth["lead"])[0])
    first_trial = premovement_activity(ds, units=truth["movement_related"]).trial.values[0]
    onset = float(ds.movement_onset.values[first_trial])
    bad["activity"][int(round(onset * FS)), cell] = np.nan
    res = premovement_activity(bad, units=truth["movement_related"])
    assert np.isnan(res.departure_time.values[cell]) and not res.leading.values[cell]
    assert f"units at positions [{cell}] hold NaN" in res.attrs["nan_reason"]
    assert res.attrs["n_cells"] == truth["movement_related"].sum() - 1
    expected = (truth["lead"].sum() - 1) / res.attrs["n_cells"]
    assert float(res.fraction_leading) == pytest.approx(expected)


# --- errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"window_s": (1.0, -1.0)}, r"start < end, got window_s=\(1.0, -1.0\)"),
        ({"window_s": (0.5, 2.0)}, r"window_s must start before movement onset .*got \(0.5, 2.0\)"),
        ({"window_s": (-1.0, 1.0)}, r"baseline_s \(-2.0, -1.0\) lies outside the aligned window"),
        ({"baseline_s": (-1.0, 0.2)}, r"baseline_s must end before movement onset .*\(-1.0, 0.2\)"),
        ({"baseline_s": (-0.5, -0.01)}, "ends on the onset frame"),
        ({"window_s": "wide"}, "must be \\(start, end\\) in seconds"),
        ({"k": 0.0}, "k must be a positive number"),
        ({"min_frames": 0}, "min_frames must be an integer >= 1, got 0"),
        ({"min_trials": 1}, "min_trials must be an integer >= 2"),
        ({"direction": "up"}, "direction='up'; expected 'increase'"),
        ({"trials": "all"}, "trials='all'; expected 'cued_rewarded' or 'rewarded'"),
        ({"quiescence_s": -1.0}, "quiescence_s must be seconds >= 0, got -1.0"),
        ({"quiescence_s": None}, "quiescence_s must be seconds >= 0, got None"),
        ({"units": np.ones(3, bool)}, "units mask has 3 entries, the activity has 120 units"),
    ],
)
def test_bad_parameters_raise(lead9: tuple[xr.Dataset, dict], kwargs: dict, match: str) -> None:
    ds, truth = lead9
    kwargs = {"units": truth["movement_related"], **kwargs}
    with pytest.raises(NwbMotorValueError, match=match):
        premovement_activity(ds, **kwargs)


def test_bad_activity_raises(lead9: tuple[xr.Dataset, dict]) -> None:
    ds, truth = lead9
    mov = truth["movement_related"]
    dims = r"activity must have dims \('time', 'unit'\), got \('frame', 'unit'\)"
    with pytest.raises(NwbMotorValueError, match=dims):
        premovement_activity(ds, ds.activity.rename(time="frame"), units=mov)
    with pytest.raises(NwbMotorValueError, match="activity has no 'time' coordinate"):
        premovement_activity(ds, ds.activity.drop_vars("time"), units=mov)
    length = "activity has 2000 frames, the session's activity has 8000"
    with pytest.raises(NwbMotorValueError, match=length):
        premovement_activity(ds, ds.activity.isel(time=slice(0, 2000)), units=mov)
    with pytest.raises(NwbMotorValueError, match="is empty .*the session has no activity"):
        premovement_activity(ds.isel(unit=[]), units=[])
    with pytest.raises(NwbMotorTypeError, match="expected the session view"):
        premovement_activity(ds.activity, units=mov)
    with pytest.raises(NwbMotorTypeError, match="must be the result of classify_movement_related"):
        premovement_activity(ds, units=xr.Dataset({"x": ("unit", np.zeros(N_CELLS))}))


def test_no_trials_or_all_outside_the_recording_raise(lead9: tuple[xr.Dataset, dict]) -> None:
    ds, truth = lead9
    mov = truth["movement_related"]
    with pytest.raises(NwbMotorValueError, match="has no cued-rewarded trials with a movement"):
        premovement_activity(ds.isel(trial=[]), units=mov)
    shifted = ds.assign(movement_onset=ds.movement_onset + 1e4, cue_time=ds.cue_time + 1e4)
    with pytest.raises(NwbMotorValueError, match="fall outside the recording"):
        premovement_activity(shifted, units=mov)
    with pytest.raises(NwbMotorValueError, match="has no variable 'movement_onset'"):
        premovement_activity(ds.drop_vars("movement_onset"), units=mov)


# --- the numeric core and the generator ----------------------------------------------


def test_departure_frames_rules() -> None:
    rng = np.random.default_rng(1)
    d = rng.normal(0, 0.05, (30, 20, 3))
    d[:, 3:6, 0] += 1.0  # an excursion that ends before onset (10): ignored
    d[:, 14:, 0] += 1.0  # ... then a departure after onset
    d[:, 8:, 1] += 1.0  # departs before onset and stays
    d[:, 10:11, 2] += 1.0  # one frame only: shorter than min_frames=2
    index, mean, sem, departed = departure_frames(d, onset_index=10, search_start=2)
    assert index[0] == 14 and index[1] == 8 and np.isnan(index[2])
    assert departed[3:6, 0].all() and mean.shape == sem.shape == (20, 3)
    assert departure_frames(d, 10, 2, min_frames=1)[0][2] == 10
    assert departure_frames(d, 10, 9)[0][1] == 9  # not searched before search_start
    assert np.isnan(departure_frames(d[:1], 10, 2)[0]).all()  # one trial: no SEM
    with pytest.raises(NwbMotorValueError, match=r"diff must be \(n_trials, n_rel, n_series\)"):
        departure_frames(d[0], 10, 2)


def test_generator_lead_parameters_are_checked() -> None:
    with pytest.raises(NwbMotorValueError, match="fraction_lead must be in \\[0, 1\\], got 1.5"):
        planted_session(n_cells=10, n_frames=3000, fraction_lead=1.5)
    with pytest.raises(NwbMotorValueError, match="lead_s must be > 0 seconds, got -0.1"):
        planted_session(n_cells=10, n_frames=3000, fraction_lead=0.5, lead_s=-0.1)
    ds, truth = planted_session(n_cells=10, n_frames=3000, movement_cells=[1, 2, 3], lead_cells=[2])
    assert truth["lead"].tolist() == [i == 2 for i in range(10)]
    assert truth["fraction_lead"] == pytest.approx(1 / 3)
    with pytest.raises(NwbMotorValueError, match=r"lead_cells must be movement-related.*got \[5\]"):
        planted_session(n_cells=10, n_frames=3000, movement_cells=[1, 2, 3], lead_cells=[5])


def test_runs_on_a_lazy_view_of_an_nwb_file(tmp_path: Path) -> None:
    path = tmp_path / "sub-AP071_ses-day01.nwb"
    write_lab_session(path, n_rois=30, n_trials=24, seed=2)
    assert_valid_nwb(path)
    ds = open_session(path)
    cls = classify_movement_related(ds, n_shuffles=1000)
    lazy = premovement_activity(ds, units=cls)
    xr.testing.assert_identical(lazy, premovement_activity(ds.load(), units=cls))
    assert lazy.attrs["session_id"] == "day01" and lazy.attrs["n_cells"] > 0
    assert lazy.attrs["n_trials"] + lazy.attrs["n_trials_not_quiescent"] + lazy.attrs[
        "n_trials_outside_recording"
    ] == int(ds.cued_rewarded.sum())
