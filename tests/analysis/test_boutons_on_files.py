"""Bouton analyses on files the converters wrote: axon ROIs from Suite2p and from the lab's ROI files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor import analysis as an
from nwbmotor.testing import assert_valid_nwb, write_lab_files, write_lab_session
from nwbmotor.views import open_session

SOURCES = ("motor thalamus", "cortex")
N_AXONS, PER_AXON = 24, 4
#: labels per ROI: axons alternate between the sources, the boutons of an axon are consecutive
LABELS = np.repeat(np.array(SOURCES * (N_AXONS // 2)), PER_AXON)
#: naive latencies, and the expert's: thalamic axons 250 ms earlier, cortical ones unchanged
NAIVE = {"motor thalamus": 0.35, "cortex": 0.35}
EXPERT = {"motor thalamus": 0.10, "cortex": 0.35}


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    folder = tmp_path_factory.mktemp("boutons")
    common = {"n_rois": N_AXONS * PER_AXON, "duration": 240.0, "input_sources": LABELS.tolist(),
              "boutons_per_axon": PER_AXON, "fraction_movement_related": 0.75,
              "fraction_quiescence_related": 0.0, "fraction_inhibitory": 0.0, "timing_jitter": 0.03,
              "opto_fraction": 0.5, "spontaneous_rate_hz": 0.08}
    naive = write_lab_session(folder / "naive.nwb", segmentation="suite2p", source_latencies=NAIVE,
                              session_id="day01", seed=31, **common)
    expert = write_lab_session(folder / "expert.nwb", segmentation="lab_rois", source_latencies=EXPERT,
                               session_id="day14", seed=32, **common)
    return {"naive": (naive, open_session(naive.path).load()), "expert": (expert, open_session(expert.path).load())}


def test_both_files_carry_the_boutons_of_both_sources(sessions):
    for stage, kind in (("naive", "suite2p"), ("expert", "lab_rois")):
        truth, ds = sessions[stage]
        assert truth.segmentation == kind and (kind in truth.spec_path.read_text())
        assert_valid_nwb(truth.path)
        assert ds.sizes["unit"] == N_AXONS * PER_AXON
        np.testing.assert_array_equal(ds.input_source.values, LABELS)


@pytest.mark.parametrize("stage", ["naive", "expert"])
def test_input_encoding_recovers_the_planted_fraction_per_source(sessions, stage):
    truth, ds = sessions[stage]
    enc = an.input_encoding(ds, n_shuffles=1000)
    assert sorted(enc.input.values.tolist()) == sorted(SOURCES)
    for src in SOURCES:
        expected = truth.movement_related[LABELS == src].mean()
        assert float(enc.fraction_movement_related.sel(input=src)) == pytest.approx(expected, abs=1 / 6 + 1e-9)
    # bouton by bouton: the movement-related axons are found, the others are not
    cls = an.classify_movement_related(ds, n_shuffles=1000, cell_types=("unknown", "excitatory"))
    found = cls.movement_related.values
    assert (found & truth.movement_related).sum() >= 0.85 * truth.movement_related.sum()
    assert (found & ~truth.movement_related).sum() <= 2


@pytest.mark.parametrize("stage", ["naive", "expert"])
def test_group_axons_recovers_the_planted_axons(sessions, stage):
    truth, ds = sessions[stage]
    # boutons of one axon correlate at r >= 0.8 here; movement-locked axons of one source
    # with the same latency reach r ~ 0.55 with each other, above the default 0.5
    groups = an.group_axons(ds, threshold=0.7)
    assert int(groups.n_axons.sum()) == N_AXONS
    found = groups.axon_id.values
    for a in range(N_AXONS):  # one group per planted axon, and nothing else in it
        members = np.flatnonzero(truth.axon == a)
        assert np.unique(found[members]).size == 1
        assert set(np.flatnonzero(found == found[members[0]])) == set(members)


def test_bouton_timing_finds_the_thalamic_shift_and_no_cortical_one(sessions):
    (tn, naive), (te, expert) = sessions["naive"], sessions["expert"]
    res = an.bouton_timing(naive, expert, naive_units=tn.movement_related, expert_units=te.movement_related,
                           n_shuffles=2000)
    shift = res.latency_shift
    assert float(shift.sel(input="motor thalamus")) == pytest.approx(EXPERT["motor thalamus"] - NAIVE["motor thalamus"],
                                                                     abs=0.08)
    assert float(res.p_earlier.sel(input="motor thalamus")) < 0.01
    assert abs(float(shift.sel(input="cortex"))) < 0.08
    assert res.attrs["n_shuffles"] == 2000 and res.attrs["level"] == "bouton"
    # the boutons of an axon share its latency: over axons, the cortical shift is no longer
    # "significant" while the thalamic one stays so
    by_axon = an.bouton_timing(naive, expert, naive_units=tn.movement_related, expert_units=te.movement_related,
                               n_shuffles=2000, level="axon", axon_threshold=0.7)
    n_axons = {src: int(tn.movement_related[LABELS == src].sum() / PER_AXON) for src in SOURCES}
    for src in SOURCES:
        assert int(by_axon.n_naive.sel(input=src)) == n_axons[src]
    assert float(by_axon.latency_shift.sel(input="motor thalamus")) == pytest.approx(-0.25, abs=0.08)
    assert float(by_axon.p_earlier.sel(input="motor thalamus")) < 0.05
    assert float(by_axon.p_value.sel(input="cortex")) > 0.05


def test_lever_kinematics_light_vs_no_light_on_both_files(sessions):
    res = an.opto_kinematics({stage: ds for stage, (_, ds) in sessions.items()})
    for stage, (truth, ds) in sessions.items():
        tr = truth.trials
        used = tr["rewarded"] & np.isfinite(tr["movement_onset"])
        for cond, light in (("light", True), ("no_light", False)):
            sel = used & (tr["opto"] == light)
            # a rewarded trial whose press the detector splits or misses may drop out: at most one
            assert abs(int(res.n_trials.sel(session=stage, condition=cond)) - int(sel.sum())) <= 1
            expected = np.mean(tr["movement_onset"][sel] - tr["cue_time"][sel])
            # the reaction time is from the converter's detected onsets: near the planted mean
            assert float(res.reaction_time.sel(session=stage, condition=cond)) == pytest.approx(expected, abs=0.05)


def test_boutons_of_an_axon_must_share_their_source(tmp_path: Path):
    with pytest.raises(NwbMotorValueError, match=r"axon\(s\) \[0\] .* have different input_sources"):
        write_lab_files(tmp_path, n_rois=4, n_trials=2, boutons_per_axon=2,
                        input_sources=["motor thalamus", "cortex", "cortex", "cortex"])
    with pytest.raises(NwbMotorValueError, match="segmentation must be 'suite2p' or 'lab_rois'"):
        write_lab_files(tmp_path, n_rois=4, n_trials=2, segmentation="caiman")
