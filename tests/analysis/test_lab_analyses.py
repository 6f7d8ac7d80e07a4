"""The lab's paper defaults and the missing analyses, each against planted truth."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import nwbmotor  # noqa: F401  (registers .motor)
from nwbmotor.analysis import (
    activity_timing,
    bouton_timing,
    classify_movement_related,
    detect_events,
    ei_balance,
    group_axons,
    input_encoding,
    learning_trend,
    new_spine_survival,
    opto_kinematics,
    paired_comparison,
    population_similarity,
    sequence_reproducibility,
    spatiotemporal_correlation,
    spine_turnover,
    template_similarity,
    track_light_driven,
)
from nwbmotor.analysis._population import largest_event_frame
from nwbmotor.testing import planted_boutons, planted_learning, planted_session, planted_spines

# --- paper defaults ---------------------------------------------------------------


@pytest.fixture(scope="module")
def session() -> tuple[xr.Dataset, dict, xr.Dataset]:
    ds, truth = planted_session(n_cells=40, n_frames=6000, seed=3, fraction_movement=0.3, timing_jitter_s=0.03)
    ds["events"] = detect_events(ds.activity)
    cls = classify_movement_related(ds, n_shuffles=1000)
    return ds, truth, cls


@pytest.mark.parametrize("func", [activity_timing, sequence_reproducibility, spatiotemporal_correlation])
def test_default_cells_are_the_movement_related_excitatory_ones(session, func) -> None:
    ds, truth, cls = session
    expected = func(ds, units=cls)
    actual = func(ds)  # default: classify_movement_related with its defaults
    assert "movement-related excitatory" in actual.attrs["units"]
    mr_default = classify_movement_related(ds).movement_related.values
    assert actual.attrs["n_units"] == int(mr_default.sum())
    # 10,000 vs 1,000 shuffles classify these well-separated cells the same
    assert (mr_default == cls.movement_related.values).mean() > 0.95
    key = "median_latency_std" if func is activity_timing else "median_correlation"
    assert float(actual[key]) == pytest.approx(float(expected[key]), abs=0.05)


def test_all_units_is_still_available(session) -> None:
    ds, _, _ = session
    res = activity_timing(ds, units="all")
    assert res.attrs["units"] == "all units" and res.attrs["n_units"] == ds.sizes["unit"]


def test_largest_event_frame_is_the_start_of_the_biggest_event() -> None:
    a = np.zeros((2, 10, 2))
    a[0, 2:4, 0] = 0.5  # small first event
    a[0, 6:8, 0] = 3.0  # largest later: frame 6 of the padded, 5 of the window
    a[1, 1:3, 1] = 1.0
    expected = np.array([[5.0, np.nan], [np.nan, 0.0]])
    np.testing.assert_array_equal(largest_event_frame(a, 1), expected)


def test_sequence_uses_the_largest_event_and_tied_ranks() -> None:
    """Cells fire a small early event then their large event in a fixed order."""
    fs = 28.0
    n_frames, n_cells = 3000, 6
    onsets = np.arange(5.0, 100.0, 5.0)
    ev = np.zeros((n_frames, n_cells))
    rng = np.random.default_rng(0)
    for on in onsets:
        f = int(round(on * fs))
        for c in range(n_cells):
            small = f + int(rng.integers(0, 3))  # random order of small events at onset
            ev[small : small + 2, c] = 0.3
            big = f + 10 + 8 * c  # the planted sequence
            ev[big : big + 3, c] = 2.0
    t = np.arange(n_frames) / fs
    ds = xr.Dataset(
        {
            "activity": (("time", "unit"), ev),
            "rewarded": ("trial", np.ones(onsets.size, bool)),
            "cued_rewarded": ("trial", np.ones(onsets.size, bool)),
            "cue_time": ("trial", onsets - 0.5),
            "movement_onset": ("trial", onsets),
        },
        coords={"time": t},
    )
    largest = sequence_reproducibility(ds, ds.activity, units="all")
    first = sequence_reproducibility(ds, ds.activity, units="all", event="first")
    assert float(largest.median_correlation) == pytest.approx(1.0)
    assert float(first.median_correlation) < 0.6
    assert largest.attrs["event"] == "largest"


def test_population_similarity_rank_sum_finds_the_stabilising_population() -> None:
    sessions, _ = planted_learning(8, n_cells=40, n_frames=3000, seed=1)
    res = population_similarity(sessions, early=(1, 3), late=(6, 8))
    assert float(res.late_similarity) > float(res.early_similarity)
    assert float(res.ranksum_statistic) > 0 and int(res.n_early_pairs) == 3 and int(res.n_late_pairs) == 3
    assert 0 < float(res.ranksum_p_value) <= 1
    assert "rank-sum" in res.attrs["test"]


# --- statistics -------------------------------------------------------------------


def test_learning_trend_reports_mean_sem_and_direction() -> None:
    days = np.array([1, 2, 3, 4] * 3)
    subj = np.repeat(["a", "b", "c"], 4)
    v = 0.1 * days + np.array([0.0, 0.02, -0.02] * 4)
    res = learning_trend(xr.DataArray(v, dims="session", coords={"training_day": ("session", days),
                                                                  "subject_id": ("session", subj)}))
    assert res.attrs["direction"] == "increases" and float(res.slope) == pytest.approx(0.1, abs=0.01)
    np.testing.assert_allclose(res.day_mean.values, [0.1, 0.2, 0.3, 0.4], atol=1e-9)
    assert (res.n_animals.values == 3).all() and np.isfinite(res.day_sem.values).all()
    flat = learning_trend(xr.DataArray(np.r_[v[:4] * 0 + 0.5, v[:4] * 0 + 0.4], dims="session",
                                       coords={"training_day": ("session", days[:8]),
                                               "subject_id": ("session", subj[:8])}))
    assert flat.attrs["direction"] == "no significant trend"


def test_paired_comparison_on_planted_difference() -> None:
    rng = np.random.default_rng(0)
    b = rng.uniform(0.6, 0.9, 10)
    assert paired_comparison(b - 0.3, b).attrs["direction"] == "a < b"
    assert np.isnan(float(paired_comparison([0.5], [0.5]).p_value))


# --- E/I balance ------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ei_balance_recovers_planted_coupling(seed: int) -> None:
    coupled, _ = planted_session(n_cells=40, n_frames=12000, seed=seed, ei_coupling=1.0)
    free, _ = planted_session(n_cells=40, n_frames=12000, seed=seed, ei_coupling=0.0)
    rc, rf = ei_balance(coupled), ei_balance(free)
    assert float(rc.r) > 0.45 and float(rc.p_value) < 0.01
    assert float(rc.r) - float(rf.r) > 0.25
    assert abs(float(rf.r)) < 0.4
    assert rc.attrs["bin_edges"][:3] == [0.0, 0.02, 0.04]
    assert int(rc.n_movements.sum()) + rc.attrs["n_movements_outside_bins"] == rc.sizes["movement_epoch"]


def test_ei_balance_names_the_missing_class() -> None:
    ds, _ = planted_session(n_cells=10, n_frames=2000, seed=0, fraction_inhibitory=0.0)
    with pytest.raises(nwbmotor.NwbMotorValueError, match="0 inhibitory"):
        ei_balance(ds)


# --- template-based activity vs movement -------------------------------------------


def _template_sessions(coupling: float, seed: int) -> list[xr.Dataset]:
    rng = np.random.default_rng(seed)
    cells, latencies = np.arange(20), rng.uniform(0.0, 0.6, 40)
    out = []
    for k in range(4):
        ds, _ = planted_session(n_cells=40, n_frames=10000, seed=100 * seed + k, press_coupling=coupling,
                                movement_cells=cells, latencies_s=latencies, timing_jitter_s=0.03,
                                p_participate=0.95, lever_variability=1.0, spontaneous_rate_hz=0.0,
                                session_id=f"day{k + 1:02d}")
        ds["events"] = detect_events(ds.activity)
        out.append(ds)
    return out


@pytest.mark.parametrize("seed", [0, 1])
def test_template_similarity_tracks_planted_press_coupling(seed: int) -> None:
    coupled = template_similarity(_template_sessions(1.0, seed), early=(1, 1), late=(2, 4))
    free = template_similarity(_template_sessions(0.0, seed), early=(1, 1), late=(2, 4))
    assert float(coupled.overall_coupling_r) > 0.3 and float(coupled.overall_coupling_p) < 0.01
    assert abs(float(free.overall_coupling_r)) < 0.2
    assert coupled.attrs["n_template_sessions"] == 3 and coupled.attrs["template_fraction"] == 0.5
    # template trials are left out of the similarities
    assert int(coupled.n_trials.sum()) + coupled.attrs["n_template_trials"] == coupled.attrs["n_usable_trials"]


# --- spines -----------------------------------------------------------------------


def test_spine_turnover_recovers_planted_gain_and_group_difference() -> None:
    presence, table, truth = planted_spines(n_dendrites=40, n_sessions=6, seed=2)
    res = spine_turnover(table, normalize="previous")
    gain = res.gain_fraction.sel(session=res.session[1:]).mean("session")
    assert float(gain.sel(group="training")) == pytest.approx(truth["p_gain"]["training"], abs=0.03)
    assert float(gain.sel(group="control")) == pytest.approx(truth["p_gain"]["control"], abs=0.03)
    assert float(res.group_p_value) < 0.01 and float(res.group_statistic) > 0
    first = spine_turnover(table)
    np.testing.assert_allclose(first.total_normalized.isel(session=0), 1.0)
    # counts from the presence matrix and the table agree
    surv = new_spine_survival(presence)
    np.testing.assert_allclose(surv.total_normalized.values,
                               (presence.sum("spine") / presence.isel(session=0).sum()).values)


def test_new_spine_survival_matches_planted_rates() -> None:
    presence, _, truth = planted_spines(n_dendrites=200, spines_per_dendrite=20, n_sessions=6, seed=1)
    res = new_spine_survival(presence)
    np.testing.assert_allclose(res.survival.values, truth["survival"], atol=0.05)


# --- input boutons (Ramot) ---------------------------------------------------------


@pytest.fixture(scope="module")
def boutons() -> dict:
    naive, tn = planted_boutons(seed=0)
    expert, te = planted_boutons(seed=10, expert=True)
    return {"naive": naive, "tn": tn, "expert": expert, "te": te}


def test_input_encoding_per_source(boutons) -> None:
    res = input_encoding(boutons["naive"], n_shuffles=1000)
    tn = boutons["tn"]
    for s in ("thalamus", "cortex"):
        expected = tn["movement_related"][tn["source"] == s].mean()
        assert float(res.fraction_movement_related.sel(input=s)) == pytest.approx(expected, abs=0.1)
    assert float(res.p_value) < 0.05


def test_bouton_timing_finds_the_planted_earlier_shift(boutons) -> None:
    res = bouton_timing(boutons["naive"], boutons["expert"], naive_units=boutons["tn"]["movement_related"],
                        expert_units=boutons["te"]["movement_related"], n_shuffles=2000)
    assert float(res.latency_shift.sel(input="thalamus")) == pytest.approx(-0.2, abs=0.06)
    assert float(res.p_earlier.sel(input="thalamus")) < 0.01
    assert abs(float(res.latency_shift.sel(input="cortex"))) < 0.08
    assert float(res.p_earlier.sel(input="cortex")) > 0.05


@pytest.mark.parametrize("seed", [0, 1])
def test_group_axons_recovers_planted_axons(seed: int) -> None:
    ds, truth = planted_boutons(seed=seed)
    res = ds.motor.group_axons()
    same_true = truth["axon"][:, None] == truth["axon"][None, :]
    a = res.axon_id.values
    assert ((a[:, None] == a[None, :]) == same_true).mean() > 0.98
    assert int(res.n_axons.sum()) == pytest.approx(len(set(truth["axon"].tolist())), abs=2)


def test_group_axons_needs_source_labels() -> None:
    ds, _ = planted_session(n_cells=4, n_frames=1000, seed=0)
    with pytest.raises(nwbmotor.NwbMotorValueError, match="input_source"):
        group_axons(ds)


# --- light-driven cells across learning and light kinematics ------------------------


def test_track_light_driven_follows_cells_by_global_id() -> None:
    naive, tn = planted_session(n_cells=40, n_frames=8000, seed=0, n_light_epochs=30,
                                light_driven_cells=np.arange(30, 38))
    mr = np.flatnonzero(planted_session(n_cells=40, n_frames=8000, seed=1)[1]["movement_related"])[:8]
    expert, te = planted_session(n_cells=40, n_frames=8000, seed=1, n_light_epochs=30, light_driven_cells=mr)
    # the expert session lists the cells in another order: identity goes by global_id
    order = np.random.default_rng(0).permutation(40)
    expert = expert.isel(unit=order)
    res = track_light_driven({"naive": naive, "expert": expert},
                             movement_related=[tn["movement_related"], te["movement_related"][order]])
    planted = {"naive": np.isin(np.arange(40), np.arange(30, 38)), "expert": np.isin(np.arange(40), mr)}
    for name, expected in planted.items():
        assert (res.light_driven.sel(session=name).values == expected).mean() >= 0.95
    assert float(res.overlap.sel(session="expert")) >= 0.85  # planted 1.0
    assert float(res.overlap.sel(session="naive")) <= 0.25  # planted: not movement-related
    assert float(res.p_value.sel(session="expert")) < 0.01
    assert float(res.persistence.sel(session="naive", session_b="expert")) <= 0.15  # planted 0


def test_opto_kinematics_paired_test_finds_weaker_presses() -> None:
    ss = {f"s{k}": planted_session(n_cells=2, n_frames=6000, seed=k, opto_fraction=0.4, light_press_scale=0.5)[0]
          for k in range(7)}
    res = opto_kinematics(ss)
    assert res.attrs["direction"]["amplitude"] == "light < no light"
    ratio = res.amplitude.sel(condition="light") / res.amplitude.sel(condition="no_light")
    assert float(ratio.mean()) == pytest.approx(0.5, abs=0.1)
    control = opto_kinematics({f"s{k}": planted_session(n_cells=2, n_frames=6000, seed=k, opto_fraction=0.4)[0]
                               for k in range(7)})
    ratio_c = control.amplitude.sel(condition="light") / control.amplitude.sel(condition="no_light")
    assert float(ratio_c.mean()) == pytest.approx(1.0, abs=0.1)
