"""Optogenetic metadata and light epochs (ndx-optogenetics), against planted truth."""

from __future__ import annotations

import numpy as np
import pytest
from pynwb import NWBHDF5IO

from nwbmotor import NwbMotorTypeError, NwbMotorValueError, write_nwbfile
from nwbmotor.converters.optogenetics import OptogeneticsInterface, measure_epochs, pulse_trains
from nwbmotor.testing import assert_valid_nwb, mock_nwbfile, write_rig_session


class _States:
    """The part of the Dispatcher interface the optogenetics interface uses: states in session time."""

    provides = frozenset({"trials"})

    def __init__(self, states):
        self._states = states

    def trial_states(self):
        return self._states

    def link_session(self, interfaces):
        pass

    def add_to_nwbfile(self, nwbfile, metadata):
        pass


def _train(start: float, n: int, period: float, width: float) -> tuple[np.ndarray, np.ndarray]:
    r = start + period * np.arange(n)
    return r, r + width


def _build(interfaces):
    """The in-memory NWBFile the session's interfaces make (link, then add)."""
    for i in interfaces.values():
        i.link_session(interfaces)
    nwbfile = mock_nwbfile()
    for i in interfaces.values():
        i.add_to_nwbfile(nwbfile, {})
    return nwbfile


def _write(tmp_path, interfaces, name="opto.nwb"):
    path = write_nwbfile(_build(interfaces), tmp_path / name)
    assert_valid_nwb(path)
    return path


def test_rig_session_light_trials_through_a_conversion_spec(tmp_path):
    from nwbmotor import convert

    truth = write_rig_session(tmp_path / "rig", n_trials=12, opto_fraction=0.3, seed=3,
                              opto_pulse_hz=20.0, opto_pulse_width=0.01, opto_duration=1.0)
    assert 0 < truth.opto.sum() < 12
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"""
subjects:
  - subject_id: AP071
    species: Mus musculus
    sex: F
    age: P60D
    genotype: PV-Cre;Ai32
    sessions:
      - session_id: day03
        session_start_time: 2014-03-03T10:00:00-08:00
        session_description: lever-press training with PV-ChR2 inactivation on a fifth of trials
        sources:
          xsglog: {{folder_path: rig}}
          dispatcher: {{file_path: rig/{truth.dispatcher_path.name}}}
          optogenetics:
            location: MOp
            effector: ChR2
            driver: PV-Cre interneurons
            power_in_mW: 5.0
            light_source: {{name: laser_473nm, manufacturer: CrystaLaser, source_type: laser}}
""")
    (path,) = convert(spec, output_dir=tmp_path / "out").paths
    assert_valid_nwb(path)
    with NWBHDF5IO(str(path), "r") as io:
        f = io.read()
        epochs = f.intervals["optogenetic_epochs"]
        assert type(epochs).__name__ == "OptogeneticEpochsTable"
        expected = truth.opto_on[truth.opto]
        np.testing.assert_allclose(epochs["start_time"].data[:], expected[:, 0], atol=1e-3)
        np.testing.assert_allclose(epochs["stop_time"].data[:], expected[:, 1], atol=1e-3)
        np.testing.assert_allclose(epochs["pulse_length_in_ms"].data[:], 10.0, atol=0.2)
        np.testing.assert_allclose(epochs["period_in_ms"].data[:], 50.0, atol=0.2)
        np.testing.assert_array_equal(epochs["number_pulses_per_pulse_train"].data[:], 20)
        np.testing.assert_array_equal(epochs["power_in_mW"].data[:], 5.0)
        np.testing.assert_array_equal(epochs["wavelength_in_nm"].data[:], 473.0)
        np.testing.assert_array_equal(epochs["dispatcher_trial"].data[:], np.flatnonzero(truth.opto) + 1)
        assert set(epochs["epoch_type"].data[:]) == {"trial"}
        assert epochs["pulses_measured"].data[:].all()
        assert "Warnings" not in epochs.description
        # the trials' opto flag (rig interface) agrees with the epochs
        np.testing.assert_array_equal(f.trials["opto"].data[:], truth.opto)
        meta = f.lab_meta_data["optogenetic_experiment_metadata"]
        site = meta.optogenetic_sites_table
        assert site["location"].data[0] == "MOp"
        effector = meta.optogenetic_effectors.effectors["effector"]
        assert effector.label == "ChR2" and "PV-Cre" in effector.description
        source = site["excitation_source"].data[0]
        assert source.power_in_W == pytest.approx(0.005)
        assert list(source.model.wavelength_range_in_nm) == [473.0, 473.0]


def test_opto_ttl_without_dispatcher_opto_state_is_warned_and_recorded(tmp_path):
    states = [{"cue": np.array([[t, t + 0.1]]), "opto_on": np.zeros((0, 2))} for t in (1.0, 6.0, 11.0)]
    r1, f1 = _train(6.1, 10, 0.05, 0.01)
    opto = OptogeneticsInterface(pulse_rising_times=r1, pulse_falling_times=f1)
    with pytest.warns(UserWarning, match=r"the Opto TTL has 10 pulse\(s\) but the Dispatcher file has no 'opto_on'"):
        path = _write(tmp_path, {"dispatcher": _States(states), "optogenetics": opto})
    with NWBHDF5IO(str(path), "r") as io:
        epochs = io.read().intervals["optogenetic_epochs"]
        assert "no 'opto_on' state" in epochs.description
        np.testing.assert_allclose(epochs["start_time"].data[:], [6.1])
        np.testing.assert_allclose(epochs["stop_time"].data[:], [6.1 + 9 * 0.05 + 0.01])
        assert list(epochs["epoch_type"].data[:]) == ["ttl"]
        assert epochs["number_pulses_per_pulse_train"].data[0] == 10


def test_light_state_without_pulses_and_stray_pulses():
    states = [{"opto_on": np.array([[1.0, 2.0]])}, {"opto_on": np.array([[5.0, 6.0]])}, {"opto_on": np.zeros((0, 2))}]
    r1, f1 = _train(1.0, 20, 0.05, 0.01)
    r2, f2 = _train(9.0, 5, 0.1, 0.005)  # a train outside every state
    opto = OptogeneticsInterface(pulse_rising_times=np.r_[r1, r2], pulse_falling_times=np.r_[f1, f2])
    with pytest.warns(UserWarning) as record:
        nwbfile = _build({"dispatcher": _States(states), "optogenetics": opto})
    messages = " ".join(str(w.message) for w in record)
    assert "1 'opto_on' epoch(s) have no Opto TTL pulse" in messages
    assert "5 Opto TTL pulse(s) in 1 train(s) fall outside" in messages
    epochs = nwbfile.intervals["optogenetic_epochs"]
    assert "fall outside every light state" in epochs.description
    assert list(epochs["epoch_type"].data[:]) == ["trial", "trial", "ttl"]
    np.testing.assert_array_equal(epochs["pulses_measured"].data[:], [True, False, True])
    np.testing.assert_allclose(epochs["pulse_length_in_ms"].data[:], [10.0, 1000.0, 5.0], atol=1e-6)
    np.testing.assert_allclose(epochs["period_in_ms"].data[:][[0, 2]], [50.0, 100.0], atol=1e-6)


def test_identification_session_pulse_trains_in_the_iti(tmp_path):
    states, rising, falling = [], [], []
    for i in range(4):
        t = 10.0 * i
        states.append({"cue": np.array([[t + 1, t + 1.1]]), "iti2": np.array([[t + 5.0, t + 8.0]])})
        r, f = _train(t + 5.5, 10, 0.1, 0.005)  # 10 Hz, 5 ms pulses in the ITI
        rising.append(r)
        falling.append(f)
    opto = OptogeneticsInterface(
        location="MOp", effector="ChR2", driver="motor-thalamus axons",
        virus={"construct_name": "AAV1-hSyn-ChR2(H134R)-EYFP", "manufacturer": "Addgene", "titer_in_vg_per_ml": 1e13},
        injection={"volume_in_uL": 0.05, "injection_date": "2014-01-15", "coordinates": {
            "anatomical_target": "VAL", "origin": "bregma", "orientation": "RAS",
            "x_in_mm": -1.0, "y_in_mm": -1.1, "z_in_mm": -3.4}},
        pulse_rising_times=np.concatenate(rising), pulse_falling_times=np.concatenate(falling),
    )
    path = _write(tmp_path, {"dispatcher": _States(states), "optogenetics": opto})
    with NWBHDF5IO(str(path), "r") as io:
        f = io.read()
        epochs = f.intervals["optogenetic_epochs"]
        assert list(epochs["epoch_type"].data[:]) == ["identification"] * 4
        np.testing.assert_allclose(epochs["start_time"].data[:], [5.0, 15.0, 25.0, 35.0])
        np.testing.assert_allclose(epochs["pulse_length_in_ms"].data[:], 5.0, atol=1e-6)
        np.testing.assert_allclose(epochs["period_in_ms"].data[:], 100.0, atol=1e-6)
        np.testing.assert_array_equal(epochs["dispatcher_trial"].data[:], [1, 2, 3, 4])
        meta = f.lab_meta_data["optogenetic_experiment_metadata"]
        injection = meta.optogenetic_virus_injections.viral_vector_injections[
            "AAV1-hSyn-ChR2(H134R)-EYFP injection"]
        assert injection.viral_injection_coordinates.anatomical_target == "VAL"
        assert meta.optogenetic_effectors.effectors["effector"].viral_vector_injection is not None


def test_ttl_only_and_given_epochs(tmp_path):
    r1, f1 = _train(2.0, 20, 0.05, 0.01)
    r2, f2 = _train(20.0, 20, 0.05, 0.01)
    ttl_only = OptogeneticsInterface(pulse_rising_times=np.r_[r1, r2], pulse_falling_times=np.r_[f1, f2])
    epochs, notes = ttl_only.light_epochs()
    np.testing.assert_allclose(epochs.start, [2.0, 20.0])
    assert notes == []
    given = OptogeneticsInterface(
        epoch_start_times=[3.0, 9.0], epoch_stop_times=[4.0, 10.0], pulse_length_ms=10.0, pulse_frequency_hz=20.0,
        light_blocked=True, fiber={"name": "fiber", "numerical_aperture": 0.39, "core_diameter_in_um": 200.0},
    )
    path = _write(tmp_path, {"optogenetics": given})
    with NWBHDF5IO(str(path), "r") as io:
        f = io.read()
        table = f.intervals["optogenetic_epochs"]
        np.testing.assert_array_equal(table["number_pulses_per_pulse_train"].data[:], [20, 20])
        np.testing.assert_array_equal(table["period_in_ms"].data[:], [50.0, 50.0])
        assert not table["pulses_measured"].data[:].any() and table["light_blocked"].data[:].all()
        assert "light was blocked" in table.description
        site = f.lab_meta_data["optogenetic_experiment_metadata"].optogenetic_sites_table
        assert site["optical_fiber"].data[0].model.numerical_aperture == 0.39


def test_metadata_only_without_epochs():
    f = _build({"optogenetics": OptogeneticsInterface(location="MOs")})
    assert "optogenetic_epochs" not in (f.intervals or {})
    assert f.lab_meta_data["optogenetic_experiment_metadata"].optogenetic_sites_table["location"].data[0] == "MOs"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"location": ""}, NwbMotorValueError, r"location must be a non-empty string"),
        ({"power_in_mW": -1.0}, NwbMotorValueError, r"power_in_mW must be a finite number >= 0"),
        ({"wavelength_in_nm": "blue"}, NwbMotorTypeError, r"wavelength_in_nm must be a number, got 'blue'"),
        ({"virus": {"construct": "x"}}, NwbMotorValueError, r"virus has unknown key\(s\) \['construct'\]"),
        ({"virus": {"manufacturer": "x"}}, NwbMotorValueError, r"virus lacks required key\(s\) \['construct_name'\]"),
        ({"injection": {"volume_in_uL": 0.1}}, NwbMotorValueError, r"an injection needs its virus"),
        ({"epoch_start_times": [1.0]}, NwbMotorValueError, r"give both epoch_start_times and epoch_stop_times"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        OptogeneticsInterface(**kwargs)


def test_pulse_helpers():
    r, f = _train(1.0, 5, 0.1, 0.01)
    starts, stops = pulse_trains(np.r_[r, 10.0], np.r_[f, 10.5])
    np.testing.assert_allclose(starts, [1.0, 10.0])
    np.testing.assert_allclose(stops, [1.41, 10.5])
    # a recording starting while the light is on: the first falling edge has no rise
    epochs, used = measure_epochs([0.0], [2.0], r, np.r_[0.5, f])
    assert epochs.n_pulses[0] == 5 and used.all()
    with pytest.raises(NwbMotorValueError, match="must increase strictly"):
        pulse_trains([1.0, 1.0], [1.1, 1.2])
    with pytest.raises(NwbMotorValueError, match="stop >= start"):
        measure_epochs([2.0], [1.0], None, None)
