"""The modular network (Feulner et al. 2022): gradients, training, adaptation, the session.

One default-size run (seed 0) is shared by the tests of this module; the checks are the
ones of issue 5: training cuts the reach error to <= 10 % of the untrained error, both
hypotheses cut the rotation error by >= 70 %, covariance changes less under H_input
than under H_local, and ΔW under H_local is low-dimensional.
"""

from __future__ import annotations

import numpy as np
import pytest

from nwbmotor import NwbMotorTypeError, NwbMotorValueError
from nwbmotor import _model_metrics as mm
from nwbmotor.models import ModelSession, resimulate
from nwbmotor.models._bptt import MODULES, init_params, loss_and_grads
from nwbmotor.models._centre_out import CentreOutTask
from nwbmotor.models._modular_rnn import ModularRnnOptions, run_modular_rnn, simulate_snapshot


@pytest.fixture(scope="module")
def session() -> ModelSession:
    return run_modular_rnn(seed=0)


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
def test_training_cuts_reach_error_to_ten_percent(session: ModelSession) -> None:
    untrained, trained = _error(session, "untrained"), _error(session, "trained")
    assert untrained > 0.5
    assert trained <= 0.10 * untrained


@pytest.mark.parametrize("hypothesis", ["input", "local"])
def test_adaptation_cuts_rotation_error(session: ModelSession, hypothesis: str) -> None:
    before = _error(session, "before_adaptation")
    after = _error(session, f"adapted_{hypothesis}")
    assert before > 3 * _error(session, "trained")  # the rotation really hurts
    assert 1.0 - after / before >= 0.70


def test_covariance_changes_less_under_input(session: ModelSession) -> None:
    # seed 0: M1 0.018 vs 0.059, PMd + M1 0.043 vs 0.075. The difference is small (as in
    # the paper) and depends on the seed: over seeds 0-4 the order holds on PMd + M1 for
    # seeds 0 and 2, ties for seed 1 and reverses for seeds 3 and 4.
    for modules in (("M1",), ("PMd", "M1")):
        before = _window_psths(session, "before_adaptation", modules)
        change = {h: mm.covariance_change(before, _window_psths(session, f"adapted_{h}", modules))[0]
                  for h in ("input", "local")}
        assert change["input"] < change["local"], (modules, change)


def test_local_weight_change_is_low_dimensional(session: ModelSession) -> None:
    trained, local = session.snapshot("trained"), session.snapshot("adapted_local")
    n = int(np.sum(session.units["module"] == "M1"))
    for name in ("W_PMd_rec", "W_M1_rec", "W_PMd_to_M1"):
        dw = local.weights[name] - trained.weights[name]
        dim = mm.dw_dimensionality(dw)[0]
        assert dim <= 0.15 * n, (name, dim)
        # robustness: noise of 10 x std(dW) destroys the structure the measure sees
        noisy = mm.dw_dimensionality(mm.with_noise(dw, 10.0, np.random.default_rng(0)))[0]
        assert noisy > 3 * dim


def test_only_the_hypothesis_weights_learn(session: ModelSession) -> None:
    trained = session.snapshot("trained")
    learn = {"input": {"W_upstream_in", "W_upstream_rec"},
             "local": {"W_PMd_in", "W_PMd_rec", "W_upstream_to_PMd", "W_M1_rec", "W_PMd_to_M1"}}
    for hyp, names in learn.items():
        adapted = session.snapshot(f"adapted_{hyp}")
        changed = {k for k in trained.weights if not np.array_equal(trained.weights[k], adapted.weights[k])}
        assert changed == names
        np.testing.assert_array_equal(adapted.biases["output"], trained.biases["output"])


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
    ],
)
def test_bad_options(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        run_modular_rnn(**kwargs)
