"""The modular network (Feulner et al. 2022): gradients, training, adaptation, the session.

One default-size run (seed 0) is shared by the tests of this module; the checks are the
ones of issue 5: training cuts the reach error to <= 10 % of the untrained error, both
hypotheses cut the rotation error by >= 70 %, ΔW under H_local is low-dimensional, and
covariance changes less under H_input than under H_local, a claim about networks that is
checked over six of them (seeds 0-5).
"""

from __future__ import annotations

import doctest
import multiprocessing
import statistics
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from nwbmotor import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.methods import _model_metrics as mm
from nwbmotor.models import (
    ModelSession,
    ModularRnnOptions,
    compare_hypotheses,
    hypotheses,
    resimulate,
    run_modular_rnn,
    simulate_snapshot,
)
from nwbmotor.models._bptt import MODULES, init_params, loss_and_grads
from nwbmotor.models._centre_out import CentreOutTask

SEEDS = range(6)


@pytest.fixture(scope="module")
def population() -> list[ModelSession]:
    """Default-size networks of seeds 0-5, trained two at a time in spawned processes."""
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(run_modular_rnn, seed=seed) for seed in SEEDS]
        return [f.result() for f in futures]


@pytest.fixture(scope="module")
def session(population: list[ModelSession]) -> ModelSession:
    return population[0]


def _error(s: ModelSession, phase: str) -> float:
    m = s.trials["phase"] == phase
    start = ModularRnnOptions(n_steps=s.n_steps).task.loss_start
    return mm.output_error(s.outputs[m][:, start:], s.targets[m][:, start:])[0]


def _window_psths(s: ModelSession, phase: str, modules: tuple[str, ...]) -> np.ndarray:
    """Per-target PSTHs (8, steps, units) in go ± 0.6 s (go ± 60 steps of 10 ms)."""
    m = s.trials["phase"] == phase
    order = np.argsort(s.trials["target_id"][m])
    go = int(round(s.trials["go_time"][m][0] / s.dt))
    half = int(round(0.6 / s.dt))
    units = np.isin(s.units["module"], modules)
    return s.rates[m][order][:, go - half:go + half + 1][:, :, units]


# ----------------------------------------------------------------------------- numerics
def test_bptt_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(0)
    task = CentreOutTask(n_steps=16, dt=0.25)
    params = init_params(4, 3, 2, rng, recurrent_gain=1.5, output_scale=1.0)
    inputs, targets = task.trials(np.array([1, 6]), rotation_deg=30.0)
    x0 = {m: rng.uniform(-0.5, 0.5, (2, 4)) for m in MODULES}
    kwargs = {"loss_start": 2, "weight_reg": 1e-2, "recurrent_reg": 2e-2, "rate_reg": 0.8}
    _, grads, _ = loss_and_grads(params, inputs, targets, x0, 0.5, **kwargs)
    eps = 1e-6
    for name, value in params.items():
        numeric = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + eps
            up = loss_and_grads(params, inputs, targets, x0, 0.5, **kwargs)[0]["total"]
            value[idx] = old - eps
            down = loss_and_grads(params, inputs, targets, x0, 0.5, **kwargs)[0]["total"]
            value[idx] = old
            numeric[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(grads[name], numeric, rtol=1e-5, atol=1e-9, err_msg=name)


def test_trainable_subset_returns_only_those_gradients() -> None:
    rng = np.random.default_rng(1)
    task = CentreOutTask(n_steps=12, dt=1 / 3)
    params = init_params(3, 3, 2, rng)
    inputs, targets = task.trials(np.array([0]))
    x0 = {m: np.zeros((1, 3)) for m in MODULES}
    _, all_grads, _ = loss_and_grads(params, inputs, targets, x0, 0.5, loss_start=1)
    _, some, _ = loss_and_grads(params, inputs, targets, x0, 0.5, loss_start=1, trainable=("pmd_recurrent",))
    assert list(some) == ["pmd_recurrent"]
    np.testing.assert_array_equal(some["pmd_recurrent"], all_grads["pmd_recurrent"])


def test_centre_out_task_timing_and_rotation() -> None:
    task = CentreOutTask()  # the paper's 400 steps of 10 ms
    assert (task.target_step, task.go_step, task.loss_start) == (165, 282, 50)
    inputs, targets = task.trials(np.array([2]), rotation_deg=30.0)  # target 2 at 90 degrees
    np.testing.assert_array_equal(inputs[0, :165, :2], 0.0)
    np.testing.assert_allclose(inputs[0, 165:, :2], [[0.0, 1.0]] * 235, atol=1e-12)
    np.testing.assert_array_equal(inputs[0, :, 2], (np.arange(400) < 282).astype(float))
    np.testing.assert_array_equal(targets[0, :292], 0.0)  # still until go + 100 ms reaction
    # under a 30 degree cursor rotation the hand must end at 90 - 30 = 60 degrees
    np.testing.assert_allclose(targets[0, -1], [np.cos(np.pi / 3), np.sin(np.pi / 3)], atol=1e-12)


# ----------------------------------------------------------------------------- the checks
def test_training_cuts_reach_error_to_ten_percent(population: list[ModelSession]) -> None:
    for s in population:
        untrained, trained = _error(s, "untrained"), _error(s, "trained")
        assert untrained > 0.5, s.seed
        assert trained <= 0.10 * untrained, (s.seed, trained, untrained)


@pytest.mark.parametrize("hypothesis", ["input", "local"])
def test_adaptation_cuts_rotation_error(population: list[ModelSession], hypothesis: str) -> None:
    for s in population:
        before = _error(s, "before_adaptation")
        after = _error(s, f"adapted_{hypothesis}")
        assert before > 3 * _error(s, "trained"), s.seed  # the rotation really hurts
        assert 1.0 - after / before >= 0.70, (s.seed, after, before)


@pytest.mark.parametrize("modules", [("PMd", "M1"), ("PMd",)], ids=["PMd+M1", "PMd"])
def test_covariance_changes_less_under_input(population: list[ModelSession], modules: tuple[str, ...]) -> None:
    # Measured (seeds 0-5): PMd + M1 0.030 vs 0.045 (median), smaller under H_input for
    # 5 of 6 networks; PMd 0.017 vs 0.035, 6 of 6. Held-out seeds 6-11: 6 of 6 for both.
    # Both stay small (1 - r < 0.1): adaptation keeps the covariance under either.
    changes = {h: [] for h in ("input", "local")}
    for s in population:
        result = compare_hypotheses(s, modules)
        for h in changes:
            changes[h].append(result[h]["covariance_change"])
    assert statistics.median(changes["input"]) < 0.8 * statistics.median(changes["local"]), changes
    smaller = sum(a < b for a, b in zip(changes["input"], changes["local"], strict=True))
    assert smaller >= 4, changes
    assert max(changes["input"] + changes["local"]) < 0.1, changes


def test_compare_hypotheses_reads_the_session(session: ModelSession) -> None:
    result = compare_hypotheses(session, ("M1",))
    assert result["local"]["error_reduction"] == pytest.approx(
        1.0 - _error(session, "adapted_local") / _error(session, "before_adaptation"), rel=1e-12)
    before = _window_psths(session, "before_adaptation", ("M1",))
    after = _window_psths(session, "adapted_input", ("M1",))
    assert result["input"]["covariance_change"] == pytest.approx(mm.covariance_change(before, after)[0], rel=1e-12)
    with pytest.raises(NwbMotorValueError, match=r"modules expected among \['M1', 'PMd', 'upstream'\], got \['V1'\]"):
        compare_hypotheses(session, ("V1",))


def test_local_weight_change_is_low_dimensional(population: list[ModelSession]) -> None:
    for s in population:
        trained, local = s.snapshot("trained"), s.snapshot("adapted_local")
        n = int(np.sum(s.units["module"] == "M1"))
        for name in ("W_PMd_rec", "W_M1_rec", "W_PMd_to_M1"):
            dw = local.weights[name] - trained.weights[name]
            dim = mm.dw_dimensionality(dw)[0]
            assert dim <= 0.15 * n, (s.seed, name, dim)
            # robustness: noise of 10 x std(dW) destroys the structure the measure sees
            noisy = mm.dw_dimensionality(mm.with_noise(dw, 10.0, np.random.default_rng(0)))[0]
            assert noisy > 3 * dim, (s.seed, name)


def test_only_the_hypothesis_weights_learn(session: ModelSession) -> None:
    trained = session.snapshot("trained")
    learn = {"input": {"W_upstream_in", "W_upstream_rec"},
             "local": {"W_PMd_in", "W_PMd_rec", "W_upstream_to_PMd", "W_M1_rec", "W_PMd_to_M1"}}
    for hyp, names in learn.items():
        adapted = session.snapshot(f"adapted_{hyp}")
        changed = {k for k in trained.weights if not np.array_equal(trained.weights[k], adapted.weights[k])}
        assert changed == names
        np.testing.assert_array_equal(adapted.biases["output"], trained.biases["output"])


def test_upstream_projection_moves_between_hypotheses() -> None:
    paper = hypotheses("input")
    assert "upstream_to_pmd" in paper["input"] and "upstream_to_pmd" not in paper["local"]
    assert "upstream_to_pmd" in hypotheses()["local"]
    s = run_modular_rnn(seed=1, n_units=6, n_steps=80, n_updates=2, batch=2, n_adapt=2, upstream_projection="input")
    trained, adapted = s.snapshot("trained"), s.snapshot("adapted_input")
    changed = {k for k in trained.weights if not np.array_equal(trained.weights[k], adapted.weights[k])}
    assert changed == {"W_upstream_in", "W_upstream_rec", "W_upstream_to_PMd"}


def test_training_anneals_the_learning_rate(session: ModelSession) -> None:
    log = session.training_log
    lr = log["learning_rate"][log["phase"] == "train"]
    opts = ModularRnnOptions()
    np.testing.assert_array_equal(lr, np.repeat([opts.lr, opts.lr / 10], [600, 300]))


# ----------------------------------------------------------------------------- the session
def test_session_layout(session: ModelSession) -> None:
    opts = ModularRnnOptions()
    assert session.model == "modular-rnn" and session.seed == 0
    assert session.rates.shape == (40, opts.n_steps, 3 * opts.n_units)
    assert list(np.unique(session.units["module"], return_counts=True)[1]) == [opts.n_units] * 3
    phases = ["untrained", "trained", "before_adaptation", "adapted_input", "adapted_local"]
    assert list(dict.fromkeys(session.trials["phase"])) == phases
    np.testing.assert_array_equal(session.trials["perturbation"], np.repeat([0, 0, 30, 30, 30], 8))
    np.testing.assert_array_equal(session.trials["target_angle"], np.tile(np.arange(8) * 45.0, 5))
    assert [s.phase for s in session.networks] == ["untrained", "trained", "adapted_input", "adapted_local"]
    log = session.training_log
    assert list(dict.fromkeys(log["phase"])) == ["train", "adapt_input", "adapt_local"]
    assert np.sum(log["phase"] == "train") == opts.n_updates
    assert np.all(log["batch_size"][log["phase"] != "train"] == 1)
    np.testing.assert_array_equal(log["iteration"], np.arange(len(log["iteration"])))


def test_snapshots_resimulate_the_stored_trials(session: ModelSession) -> None:
    for network in ("trained", "adapted_local"):
        m = session.trials["network"] == network
        snap = session.snapshot(network)
        x0 = snap.initial_state[session.trials["target_id"][m]]
        rates, outputs = simulate_snapshot(snap, session.inputs[m], x0)
        np.testing.assert_allclose(rates, session.rates[m], rtol=0, atol=1e-12)
        np.testing.assert_allclose(outputs, session.outputs[m], rtol=0, atol=1e-12)


def test_generic_resimulate_reproduces_the_session(session: ModelSession) -> None:
    # nwbmotor.models.resimulate knows nothing of modules: it follows the snapshots' connections
    np.testing.assert_allclose(resimulate(session), session.outputs, rtol=0, atol=1e-10)


def test_seed_makes_runs_reproducible() -> None:
    small = {"n_units": 12, "n_steps": 80, "n_updates": 4, "batch": 4, "n_adapt": 3}
    a, b = run_modular_rnn(seed=3, **small), run_modular_rnn(seed=3, **small)
    c = run_modular_rnn(seed=4, **small)
    np.testing.assert_array_equal(a.rates, b.rates)
    np.testing.assert_array_equal(a.training_log["loss"], b.training_log["loss"])
    assert a.description == b.description
    for sa, sb in zip(a.networks, b.networks, strict=True):
        for name in sa.weights:
            np.testing.assert_array_equal(sa.weights[name], sb.weights[name])
    assert not np.allclose(a.rates, c.rates)


def test_docstring_examples_run() -> None:
    from nwbmotor.models import _modular_rnn

    result = doctest.testmod(_modular_rnn, extraglobs={"np": np})
    assert result.attempted >= 8 and result.failed == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"n_hidden": 10}, NwbMotorValueError, r"unknown option\(s\) \['n_hidden'\]"),
        ({"preset": "huge"}, NwbMotorValueError, "preset expected one of"),
        ({"n_units": 0}, NwbMotorValueError, "option 'n_units' expected an integer >= 1, got 0"),
        ({"n_units": 2.5}, NwbMotorTypeError, "option 'n_units' expected an integer"),
        ({"lr": float("nan")}, NwbMotorValueError, "option 'lr' expected a finite number"),
        ({"n_steps": 40, "tau": 0.05}, NwbMotorValueError, "dt/tau = 2 > 1 makes forward Euler unstable"),
        ({"train_targets": "some"}, NwbMotorValueError, "option 'train_targets' expected"),
        ({"seed": "zero"}, NwbMotorTypeError, "'seed' expected an integer"),
        ({"blas_threads": 0}, NwbMotorValueError, "option 'blas_threads' expected None or an integer >= 1"),
        ({"anneal_fraction": 1.5}, NwbMotorValueError, r"option 'anneal_fraction' expected a number in \[0, 1\], got 1.5"),
        ({"upstream_projection": "both"}, NwbMotorValueError, "option 'upstream_projection' expected 'local' or 'input'"),
    ],
)
def test_bad_options(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        run_modular_rnn(**kwargs)
