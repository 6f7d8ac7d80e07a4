"""The gain-modulation model (Stroud et al. 2018): construction, learning, primitives, files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.converters.model import read_model_session
from nwbmotor.models import (
    build_stability_optimized_network,
    combine_gain_patterns,
    interpolate_gains,
    most_amplified_state,
    movement_error,
    resimulate,
    run_gain_modulation,
    spectral_abscissa,
)
from nwbmotor.testing import assert_valid_nwb
from nwbmotor.workflows import simulate

TINY = {"n_exc": 10, "n_inh": 10, "n_iterations": 20, "n_primitives": 1, "radius": 3.0}


def test_network_is_stable_and_keeps_dale_signs() -> None:
    rng = np.random.default_rng(1)
    w = build_stability_optimized_network(30, 30, rng=rng, radius=6.0)
    assert spectral_abscissa(w) <= 0.15
    assert (w[:, :30] >= 0).all() and (w[:, 30:] <= 0).all()
    # only inhibitory weights are optimised: excitatory ones keep their single initial value
    assert len(np.unique(w[:, :30][w[:, :30] > 0])) == 1
    assert np.all(np.diag(w)[:30] == 0)  # no excitatory autapses


def test_unreachable_abscissa_is_a_clear_error() -> None:
    with pytest.raises(NwbMotorValueError, match=r"spectral abscissa expected <= 0.15 after 2 steps, got"):
        build_stability_optimized_network(30, 30, rng=np.random.default_rng(0), radius=10.0, max_iterations=2)


def test_most_amplified_state_beats_random_states() -> None:
    rng = np.random.default_rng(2)
    w = build_stability_optimized_network(20, 20, rng=rng, radius=5.0)
    a = w - np.eye(40)

    def energy(x0: np.ndarray) -> float:  # integral of |x(t)|^2 for dx/dt = (W - I) x, by Euler
        x, total = x0.copy(), 0.0
        for _ in range(2000):
            total += float(x @ x) * 0.005
            x = x + 0.005 * (a @ x)
        return total

    x0 = most_amplified_state(w, 1.0)
    best = energy(x0 / np.linalg.norm(x0))
    others = [energy(v / np.linalg.norm(v)) for v in rng.normal(size=(20, 40))]
    assert best > max(others)
    assert np.abs(x0).max() == pytest.approx(1.0)


def test_movement_error_planted() -> None:
    target = np.array([1.0, -1.0, 1.0, -1.0])
    assert movement_error(target, target) == 0.0
    assert movement_error(np.zeros(4), target) == pytest.approx(1.0)
    assert movement_error(2 * target, target) == pytest.approx(1.0)


def test_combined_gain_pattern_recovers_a_planted_combination() -> None:
    # outputs linear in the gains: z(g) = base + A (g - 1)
    rng = np.random.default_rng(3)
    a, base = rng.normal(size=(50, 8)), rng.normal(size=50)
    library = 1 + 0.1 * rng.normal(size=(3, 8))
    outputs = base + (library - 1) @ a.T
    coef = np.array([0.5, -0.3, 0.8])
    target = base + a @ (coef @ (library - 1))
    gains, found = combine_gain_patterns(library, outputs, base, target)
    np.testing.assert_allclose(found, coef, atol=1e-10)
    np.testing.assert_allclose(gains, 1 + coef @ (library - 1), atol=1e-10)


def test_interpolated_gains() -> None:
    np.testing.assert_allclose(interpolate_gains(np.ones(3), np.array([2.0, 0.5, 1.0]), 0.5), [1.5, 0.75, 1.0])


def test_same_seed_same_session_other_seed_other() -> None:
    a, b, c = (run_gain_modulation(s, **TINY) for s in (4, 4, 5))
    np.testing.assert_array_equal(a.rates, b.rates)
    np.testing.assert_array_equal(a.snapshot("novel").gains, b.snapshot("novel").gains)
    assert not np.allclose(a.networks[0].weights["W_rec"], c.networks[0].weights["W_rec"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"preset": "huge"}, r"preset expected one of \['default', 'paper'\], got 'huge'"),
        ({"novel_similarity": 1.0}, r"novel_similarity expected in \(-1, 1\), got 1.0"),
        ({"n_groups": 0}, r"n_groups expected 1..20, got 0"),
        ({"gain_bounds": (1.5, 2.0)}, r"gain_bounds expected \(low <= 1, high >= 1\), got \(1.5, 2.0\)"),
    ],
)
def test_bad_options(options: dict, message: str) -> None:
    with pytest.raises(NwbMotorValueError, match=message):
        run_gain_modulation(0, **{**TINY, **options})


def test_gain_bounds_are_enforced() -> None:
    bounded = run_gain_modulation(0, **{**TINY, "n_iterations": 300, "gain_bounds": (0.99, 1.01)})
    free = run_gain_modulation(0, **{**TINY, "n_iterations": 300, "gain_bounds": None})
    gains = bounded.snapshot("novel").gains
    assert gains.min() >= 0.99 and gains.max() <= 1.01
    assert np.ptp(free.snapshot("novel").gains) > np.ptp(gains)


@pytest.fixture(scope="module")
def learned_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # N = 100 and 2,000 iterations keep the test short; the default is N = 200, 5,000.
    out = tmp_path_factory.mktemp("gm") / "gain.nwb"
    # The paper's unbounded rule (gain_bounds=None): staying within [0.5, 2] must emerge, not be imposed.
    return simulate("gain-modulation", out, seed=0, n_exc=50, n_inh=50, n_iterations=2000, n_primitives=1,
                    gain_bounds=None)


def test_gain_learning_halves_the_novel_error_with_gains_near_one(learned_file: Path) -> None:
    session = read_model_session(learned_file)
    trials = session.trials
    novel = trials["target_id"] == 1
    before = trials["error"][novel & (trials["phase"] == "before")][0]
    after = trials["error"][novel & (trials["phase"] == "after")][0]
    assert after <= 0.5 * before
    gains = session.snapshot("novel").gains
    assert 0.5 <= gains.min() and gains.max() <= 2.0
    assert not np.allclose(gains, 1.0)  # the gains did the work: W and the readout are shared
    np.testing.assert_array_equal(session.snapshot("novel").weights["W_rec"], session.snapshot("initial").weights["W_rec"])
    # the log holds the learning curve of every learner
    log = session.training_log
    curve = log["loss"][log["phase"] == "novel"]
    assert len(curve) == 2000 and curve.min() == pytest.approx(after)


def test_primitives_combine_into_a_new_movement(learned_file: Path) -> None:
    session = read_model_session(learned_file)
    trials = session.trials
    combo = trials["target_id"][trials["phase"] == "combined"][0]
    before = trials["error"][(trials["target_id"] == combo) & (trials["phase"] == "before")][0]
    combined = trials["error"][(trials["target_id"] == combo) & (trials["phase"] == "combined")][0]
    assert combined <= 0.5 * before  # assembled from the library, without new learning


def test_interpolated_gains_move_the_movement_between_speeds(learned_file: Path) -> None:
    session = read_model_session(learned_file)
    speed = np.flatnonzero(session.trials["phase"] == "speed")
    assert session.trials["network"][speed].tolist() == ["initial", "speed-0.50", "fast"]
    outputs, targets = session.outputs[speed, :, 0], session.targets[speed, :, 0]
    to_slow = [movement_error(o, targets[0]) for o in outputs]
    to_fast = [movement_error(o, targets[2]) for o in outputs]
    assert to_slow[0] < to_slow[1] < to_slow[2]  # interpolating away from the 1x pattern ...
    assert to_fast[0] > to_fast[1] > to_fast[2]  # ... moves the output towards the fast movement


def test_file_is_valid_and_resimulates_to_the_same_outputs(learned_file: Path) -> None:
    assert_valid_nwb(learned_file)
    session = read_model_session(learned_file)
    assert session.model == "gain-modulation" and session.seed == 0
    assert set(session.trials["phase"].tolist()) == {"before", "after", "primitive", "combined", "speed"}
    np.testing.assert_allclose(resimulate(session), session.outputs, rtol=0, atol=1e-9)


def test_simulate_refuses_existing_output_before_running(learned_file: Path) -> None:
    with pytest.raises(NwbMotorValueError, match="the output exists; pass overwrite=True"):
        simulate("gain-modulation", learned_file, n_iterations=10**9)  # would run for hours if not refused first


def test_simulate_unknown_model_and_option(tmp_path: Path) -> None:
    with pytest.raises(NwbMotorValueError, match=r"model expected one of \['gain-modulation', 'modular-rnn'\], got 'hopfield'"):
        simulate("hopfield", tmp_path / "x.nwb")
    with pytest.raises(NwbMotorValueError, match=r"model 'gain-modulation' has no option\(s\) \['n_neurons'\]"):
        simulate("gain-modulation", tmp_path / "x.nwb", n_neurons=3)
    assert not list(tmp_path.iterdir())
