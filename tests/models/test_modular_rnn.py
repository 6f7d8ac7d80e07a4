"""The modular network (Feulner et al. 2022): numerics, the authors' values, the session.

Exact gradients (finite differences), the authors' initialisation, split, penalties and
task, the session layout and its re-simulation. The paper's claims, which are claims
about populations of trained networks, are measured over seeds by
``benchmarks/sweep_modular_rnn.py``.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from nwbmotor import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.models import (
    ModelSession,
    ModularRnnOptions,
    hypotheses,
    resimulate,
    run_modular_rnn,
    simulate_snapshot,
)
from nwbmotor.models._bptt import CONNECTIONS, MODULES, clip_by_global_norm, init_params, loss_and_grads
from nwbmotor.models._centre_out import CentreOutTask
from nwbmotor.models._modular_rnn import PRESETS, adapt_modular_rnn

SMALL = {"n_units": 12, "n_updates": 6, "batch": 4, "n_adapt": 4}


@pytest.fixture(scope="module")
def session() -> ModelSession:
    """A small run of the full pipeline (every option the authors', sizes small)."""
    return run_modular_rnn(seed=0, **SMALL)


# ----------------------------------------------------------------------------- numerics
def test_bptt_gradients_match_finite_differences() -> None:
    rng = np.random.default_rng(0)
    task = CentreOutTask(n_steps=16, dt=0.25)
    params = {k: 3.0 * v for k, v in init_params(4, 3, 2, rng).items()}
    inputs, targets = task.trials(np.array([1, 6]), rotation_deg=30.0)
    x0 = {m: rng.uniform(-0.5, 0.5, (2, 4)) for m in MODULES}
    kwargs = {"loss_start": 2, "weight_penalty": {k: 0.01 * (i + 1) for i, k in enumerate(params) if k != "output_bias"},
              "rate_penalty": {"upstream": 0.3, "pmd": 0.8, "m1": 0.5}}
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


def test_loss_terms_are_the_authors() -> None:
    # MSE from the loss start + c * Frobenius norm (not squared) + b * each module's mean(r^2)
    rng = np.random.default_rng(3)
    task = CentreOutTask(n_steps=40, dt=0.1)
    params = init_params(5, 3, 2, rng)
    inputs, targets = task.trials(np.array([0, 3]))
    x0 = {m: rng.uniform(-0.1, 0.1, (2, 5)) for m in MODULES}
    pen = {"pmd_recurrent": 0.5, "output": 2.0}
    terms, _, traj = loss_and_grads(params, inputs, targets, x0, 0.2, loss_start=5, weight_penalty=pen,
                                    rate_penalty={"m1": 0.8, "pmd": 0.1})
    assert terms["mse"] == pytest.approx(np.mean((traj.outputs[:, 5:] - targets[:, 5:]) ** 2), rel=1e-12)
    assert terms["weights"] == pytest.approx(0.5 * np.sqrt(np.sum(params["pmd_recurrent"] ** 2))
                                             + 2.0 * np.sqrt(np.sum(params["output"] ** 2)), rel=1e-12)
    assert terms["rates"] == pytest.approx(0.8 * np.mean(traj.rates["m1"] ** 2) + 0.1 * np.mean(traj.rates["pmd"] ** 2),
                                           rel=1e-12)


def test_initialisation_is_pytorchs_default() -> None:
    # every nn.RNN weight ~ U(+-1/sqrt(N)) (input weights too), nn.Linear weight and bias ~ U(+-1/sqrt(fan_in))
    n = 400
    params = init_params(n, 3, 2, np.random.default_rng(0))
    bound = 1 / np.sqrt(n)
    for name, value in params.items():
        assert np.all(np.abs(value) <= bound), name
        if value.size > 100:
            assert np.abs(value).max() > 0.99 * bound, name
            assert np.std(value) == pytest.approx(bound / np.sqrt(3), rel=0.05), name
    assert np.all(params["output_bias"] != 0)
    assert init_params(4, 3, 2, np.random.default_rng(0), dtype=np.float32)["pmd_recurrent"].dtype == np.float32


def test_gradient_clip_is_torchs() -> None:
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    assert clip_by_global_norm(grads, 0.2) == pytest.approx(5.0)
    np.testing.assert_allclose(grads["a"], [3.0 * 0.2 / (5.0 + 1e-6), 0.0])
    small = {"a": np.array([0.1])}
    clip_by_global_norm(small, 0.2)
    np.testing.assert_array_equal(small["a"], [0.1])


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


# ----------------------------------------------------------------------------- the authors' values
def test_centre_out_task_is_shaped_like_the_monkey_data() -> None:
    task = CentreOutTask()  # 400 steps of 10 ms
    assert (task.target_step, task.go_step, task.loss_start) == (165, 282, 50)
    np.testing.assert_allclose(np.rad2deg(task.angles), (np.arange(8) - 3) * 45.0)
    inputs, targets = task.trials(np.array([4]), rotation_deg=30.0)  # target 4 at 45 degrees
    np.testing.assert_array_equal(inputs[0, :165, :2], 0.0)
    np.testing.assert_allclose(inputs[0, 165:, :2], np.sqrt(2.0), rtol=1e-12)  # 2 (cos, sin)
    np.testing.assert_array_equal(inputs[0, :, 2], 2.0 * (np.arange(400) < 282))
    np.testing.assert_array_equal(targets[0, :297], 0.0)  # still until go + 150 ms
    # under a 30 degree cursor rotation the hand must end 8 cm away at 45 - 30 = 15 degrees
    np.testing.assert_allclose(targets[0, -1], 8.0 * np.array([np.cos(np.pi / 12), np.sin(np.pi / 12)]), atol=1e-12)
    speed = np.linalg.norm(np.diff(task.trials(np.array([0]))[1][0], axis=0), axis=1) / task.dt
    peak = int(np.argmax(speed))
    assert 297 + 25 <= peak <= 297 + 40  # bell-shaped: one peak mid-reach
    assert np.all(np.diff(speed[297:peak]) >= 0) and np.all(np.diff(speed[peak + 1:362]) <= 0)
    assert speed.max() == pytest.approx(1.875 * 8.0 / 0.65, rel=0.01)


def test_defaults_are_the_authors_and_the_fast_preset_changes_only_sizes() -> None:
    paper = ModularRnnOptions()
    assert (paper.n_units, paper.n_steps, paper.dt, paper.alpha) == (400, 400, 0.01, pytest.approx(0.2))
    assert (paper.n_updates, paper.batch, paper.lr, paper.clip) == (500, 80, 1e-4, 0.2)
    assert (paper.n_adapt, paper.adapt_lr, paper.adapt_weight_reg, paper.anneal_fraction) == (100, 1e-4, True, 0.0)
    assert paper.weight_penalty() == {k: 1e-3 for k in (*CONNECTIONS, "output")}
    assert paper.rate_penalty() == {m: 0.8 for m in MODULES}
    assert (paper.init_range, paper.radius, paper.dtype, paper.upstream_projection) == (0.1, 8.0, "float32", "input")
    assert PRESETS["paper"] == {}
    assert set(PRESETS["default"]) <= {"n_units", "batch", "n_updates", "n_adapt"}


def test_hypotheses_are_the_authors_split() -> None:
    # extrainput: upstream input, recurrent and upstream -> PMd; noupstream: stimulus -> PMd, PMd, PMd -> M1, M1
    assert hypotheses() == {"input": ("upstream_input", "upstream_recurrent", "upstream_to_pmd"),
                            "local": ("pmd_input", "pmd_recurrent", "pmd_to_m1", "m1_recurrent")}
    alt = hypotheses("local")
    assert "upstream_to_pmd" in alt["local"] and "upstream_to_pmd" not in alt["input"]


def test_only_the_hypothesis_weights_learn(session: ModelSession) -> None:
    trained = session.snapshot("trained")
    learn = {"input": {"W_upstream_in", "W_upstream_rec", "W_upstream_to_PMd"},
             "local": {"W_PMd_in", "W_PMd_rec", "W_PMd_to_M1", "W_M1_rec"}}
    for hyp, names in learn.items():
        adapted = session.snapshot(f"adapted_{hyp}")
        changed = {k for k in trained.weights if not np.array_equal(trained.weights[k], adapted.weights[k])}
        assert changed == names
        np.testing.assert_array_equal(adapted.biases["output"], trained.biases["output"])
    untrained = session.snapshot("untrained")
    assert not np.array_equal(untrained.biases["output"], trained.biases["output"])  # the bias learns in training


def test_adaptation_keeps_the_weight_penalties(session: ModelSession) -> None:
    log = session.training_log
    adapt = log["phase"] == "adapt_local"
    assert np.all(log["loss"][adapt] - log["mse"][adapt] > 0)
    assert "weight penalties kept" in session.description
    assert np.all(log["learning_rate"] == 1e-4) and np.all(log["batch_size"][adapt] == 1)


def test_adapt_again_starts_from_the_trained_network(session: ModelSession) -> None:
    again = adapt_modular_rnn(session, rotation=60.0, **SMALL)
    for phase in ("untrained", "trained"):
        for name, w in session.snapshot(phase).weights.items():
            np.testing.assert_array_equal(again.snapshot(phase).weights[name], w)
    assert set(again.trials["perturbation"].tolist()) == {0.0, 60.0}
    assert not np.array_equal(again.snapshot("adapted_local").weights["W_M1_rec"],
                              session.snapshot("adapted_local").weights["W_M1_rec"])
    with pytest.raises(NwbMotorValueError, match="option 'n_units' expected the session's 12, got 64"):
        adapt_modular_rnn(session, rotation=60.0)


# ----------------------------------------------------------------------------- the session
def test_session_layout(session: ModelSession) -> None:
    n = SMALL["n_units"]
    assert session.model == "modular-rnn" and session.seed == 0
    assert session.rates.shape == (40, 400, 3 * n)
    assert list(np.unique(session.units["module"], return_counts=True)[1]) == [n] * 3
    phases = ["untrained", "trained", "before_adaptation", "adapted_input", "adapted_local"]
    assert list(dict.fromkeys(session.trials["phase"])) == phases
    np.testing.assert_array_equal(session.trials["perturbation"], np.repeat([0, 0, 30, 30, 30], 8))
    np.testing.assert_array_equal(session.trials["target_angle"], np.tile((np.arange(8) - 3) * 45.0, 5))
    assert [s.phase for s in session.networks] == ["untrained", "trained", "adapted_input", "adapted_local"]
    log = session.training_log
    assert list(dict.fromkeys(log["phase"])) == ["train", "adapt_input", "adapt_local"]
    assert np.sum(log["phase"] == "train") == SMALL["n_updates"]
    np.testing.assert_array_equal(log["iteration"], np.arange(len(log["iteration"])))
    assert session.output_unit == "cm"


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
    np.testing.assert_allclose(resimulate(session), session.outputs, rtol=0, atol=1e-9)


def test_seed_makes_runs_reproducible() -> None:
    small = {"n_units": 8, "n_updates": 3, "batch": 2, "n_adapt": 2}
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
        ({"n_steps": 40}, NwbMotorValueError, "dt/tau = 2 > 1 makes forward Euler unstable"),
        ({"train_targets": "some"}, NwbMotorValueError, "option 'train_targets' expected"),
        ({"seed": "zero"}, NwbMotorTypeError, "'seed' expected an integer"),
        ({"blas_threads": 0}, NwbMotorValueError, "option 'blas_threads' expected None or an integer >= 1"),
        ({"anneal_fraction": 1.5}, NwbMotorValueError, r"option 'anneal_fraction' expected a number in \[0, 1\], got 1.5"),
        ({"upstream_projection": "both"}, NwbMotorValueError, "option 'upstream_projection' expected 'input' or 'local'"),
        ({"dtype": "float16"}, NwbMotorValueError, "option 'dtype' expected 'float32' or 'float64', got 'float16'"),
    ],
)
def test_bad_options(kwargs: dict, error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        run_modular_rnn(**kwargs)
