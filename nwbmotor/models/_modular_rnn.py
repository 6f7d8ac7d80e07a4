"""The modular network of Feulner et al. (2022): train, adapt to a rotation, test.

Three tanh rate modules (upstream → PMd → M1) learn the 8-target centre-out task by
backpropagation through time (:mod:`nwbmotor.models._bptt`, numpy only). The trained
network then adapts to a 30° visuomotor rotation twice, from the same start, with the
output weights frozen, under the two hypotheses of the paper. Test trials of every
phase, the network snapshots and the training log come back as a
:class:`~nwbmotor.models.ModelSession`.

What is the authors' (``babaf/motor-adaptation-local-vs-input``: ``toolbox_pytorch.py``,
``run_initial.py``, ``run_perturbation.py``), in every preset
------------------------------------------------------------------------------------
- Dynamics: forward Euler, α = dt/τ = 10 ms / 50 ms = 0.2, 400 steps per trial,
  initial states x ~ U(−0.1, 0.1) drawn anew for every batch, no noise.
- Initialisation: PyTorch's defaults for the authors' ``nn.RNN`` / ``nn.Linear``
  modules, every weight and the output bias ~ U(±1/√N).
- Loss: mean squared error from step 50 + 1e-3 · ‖W‖_F for every weight matrix (input,
  recurrent, inter-module and output; norms, not squared) + 0.8 · mean(r²) of each
  module. Adam (lr 1e-4, PyTorch's betas and eps), gradient-norm clip 0.2.
- Adaptation: 100 single-trial updates at the same learning rate and loss (penalties
  kept), a fresh Adam, output weights and bias frozen. H_input (the authors'
  ``extrainput``): the upstream module's input and recurrent weights and the upstream →
  PMd projection learn. H_local (``noupstream``): stimulus → PMd, PMd recurrent,
  PMd → M1 and M1 recurrent learn.
- Task (:mod:`nwbmotor.models._centre_out`): shaped like the authors' monkey data
  (8 targets 45° apart, 8 cm reaches with a bell-shaped speed profile, target input of
  amplitude 2, hold signal 2 until go); float32 arithmetic as the authors'.

Presets: sizes and lengths only
-------------------------------
``preset="paper"`` is the authors' run: 400 units per module, 500 updates of 80
trials. ``preset="default"`` (the fast one) changes **only sizes**: 64 units per
module and batches of 16 trials; every length (500 training updates, 100 adaptation
updates, 400 steps) and every other value above is the paper's. The paper preset costs ~10-20 s per training update on two
cores (``benchmarks/bench_modular_rnn.py --paper-update``).

What the faithful model shows (fast preset)
-------------------------------------------
Measured over seeds 0-9 (``benchmarks/sweep_modular_rnn.py``; seed medians [min, max], 30°
rotation, PMd + M1): both hypotheses adapt (rotation error cut by 0.46 [0.35, 0.57]
under H_input, 0.53 [0.41, 0.60] under H_local) with small (median |ΔW/W| 1.7 % and
2.6 %), low-dimensional weight changes, and both keep the covariance (1 − r 0.036
[0.021, 0.063] and 0.018 [0.016, 0.027]). But H_input changes activity (16.7 % vs
9.2 %) and covariance *more* than H_local in every seed, the reverse of the paper's
figure 4; the gap widens with the rotation (activity, H_local − H_input: −1.4 % at 10°,
−7.4 % at 30°, −18.8 % at 60°), so the paper's prediction that the two hypotheses
diverge with the size of the perturbation holds in magnitude, with the opposite sign.

Departures from the authors' code
---------------------------------
- The task is synthetic: the authors train on 2,238 recorded reaches (7-10 cm, each
  with its own path and timing) and test on held-out ones; here every trial to a target
  is the same minimum-jerk reach, and the test set is one trial per target from fixed
  initial states.
- The series record r_t = tanh(x_t) from t = 0 (the authors record the rates after each
  update): the same dynamics, read one step earlier.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.models._bptt import (
    CONNECTIONS,
    MODULES,
    RECURRENT,
    Adam,
    clip_by_global_norm,
    forward,
    init_params,
    loss_and_grads,
)
from nwbmotor.models._centre_out import CentreOutTask
from nwbmotor.models._session import ModelSession, NetworkSnapshot

__all__ = [
    "HYPOTHESES",
    "MODULE_LABELS",
    "PRESETS",
    "WEIGHT_NAMES",
    "ModularRnnOptions",
    "adapt_modular_rnn",
    "run_modular_rnn",
    "hypotheses",
    "simulate_snapshot",
]

#: Module names as written to the units table.
MODULE_LABELS: dict[str, str] = {"upstream": "upstream", "pmd": "PMd", "m1": "M1"}
#: Internal parameter name -> weight name in the snapshot.
WEIGHT_NAMES: dict[str, str] = {
    "upstream_input": "W_upstream_in",
    "upstream_recurrent": "W_upstream_rec",
    "pmd_input": "W_PMd_in",
    "pmd_recurrent": "W_PMd_rec",
    "upstream_to_pmd": "W_upstream_to_PMd",
    "m1_recurrent": "W_M1_rec",
    "pmd_to_m1": "W_PMd_to_M1",
    "output": "W_out",
}
_WEIGHT_NAMES = WEIGHT_NAMES
#: Which parameters learn during adaptation, as in the authors' ``run_perturbation.py``:
#: ``extrainput`` (H_input) and ``noupstream`` (H_local).
HYPOTHESES: dict[str, tuple[str, ...]] = {
    "input": ("upstream_input", "upstream_recurrent", "upstream_to_pmd"),
    "local": ("pmd_input", "pmd_recurrent", "pmd_to_m1", "m1_recurrent"),
}


def hypotheses(upstream_projection: str = "input") -> dict[str, tuple[str, ...]]:
    """The weights that learn under H_input and H_local.

    Parameters
    ----------
    upstream_projection : {"input", "local"}
        Which hypothesis the upstream → PMd weights learn under. "input" (default): the
        authors' split (:data:`HYPOTHESES`). "local": they count as synapses onto PMd
        and learn under H_local instead, so that H_input leaves every synapse of PMd
        and M1 untouched (not the paper's model).

    Examples
    --------
    >>> hypotheses()["input"]
    ('upstream_input', 'upstream_recurrent', 'upstream_to_pmd')
    >>> hypotheses("local")["input"]
    ('upstream_input', 'upstream_recurrent')
    """
    if upstream_projection == "input":
        return dict(HYPOTHESES)
    if upstream_projection == "local":
        return {"input": tuple(n for n in HYPOTHESES["input"] if n != "upstream_to_pmd"),
                "local": (*HYPOTHESES["local"], "upstream_to_pmd")}
    raise NwbMotorValueError(
        f"run_modular_rnn: option 'upstream_projection' expected 'input' or 'local', got {upstream_projection!r}"
    )


@dataclasses.dataclass(frozen=True)
class ModularRnnOptions:
    """Sizes and learning parameters of :func:`run_modular_rnn` (defaults: the authors').

    Every default is the value of the authors' code (the ``paper`` preset); the fast
    ``default`` preset of :func:`run_modular_rnn` changes only ``n_units``, ``batch``
    and ``n_updates``.

    Parameters
    ----------
    n_units : int
        Units per module (the authors: 400).
    n_steps : int
        Euler steps per trial; the trial lasts ``trial_duration`` seconds (400 × 10 ms).
    trial_duration : float
        Seconds per trial; the task's times scale with it.
    tau : float
        Time constant in seconds; α = dt / τ (0.2).
    n_updates, batch, lr : int, int, float
        Training: Adam updates (500), random trials per update (80), learning rate (1e-4).
    anneal_fraction : float
        The last fraction of the training updates run at lr / 10 with a fresh Adam
        state (the authors: 0, none).
    n_adapt, adapt_lr : int, float
        Adaptation: single-trial updates (100) and their learning rate (1e-4).
    adapt_weight_reg : bool
        Keep the weight penalties in the adaptation loss (the authors: True).
    rotation : float
        Visuomotor rotation in degrees (30).
    train_targets : {"discrete", "continuous"}
        Training trials go to the 8 targets, or to targets at uniformly random angles.
    upstream_projection : {"input", "local"}
        Which hypothesis the upstream → PMd weights learn under (see :func:`hypotheses`).
    clip : float
        Gradient-norm clip of every update (0.2).
    weight_reg, recurrent_reg, rate_reg : float
        Coefficients of ‖W‖_F of every input, inter-module and output weight matrix
        (1e-3), of ‖W_rec‖_F of every recurrent matrix (1e-3), and of each module's
        mean(r²) (0.8).
    init_range : float
        Initial states ~ U(−init_range, init_range) (0.1).
    radius : float
        Reach distance in cm (8).
    dtype : {"float32", "float64"}
        Arithmetic of the network (the authors: float32).
    blas_threads : int or None
        BLAS threads during the run (1 is fastest for these small matrices on a busy
        machine; None leaves the library's setting).
    """

    n_units: int = 400
    n_steps: int = 400
    trial_duration: float = 4.0
    tau: float = 0.05
    n_updates: int = 500
    anneal_fraction: float = 0.0
    batch: int = 80
    lr: float = 1e-4
    n_adapt: int = 100
    adapt_lr: float = 1e-4
    adapt_weight_reg: bool = True
    rotation: float = 30.0
    train_targets: str = "discrete"
    upstream_projection: str = "input"
    clip: float = 0.2
    weight_reg: float = 1e-3
    recurrent_reg: float = 1e-3
    rate_reg: float = 0.8
    init_range: float = 0.1
    radius: float = 8.0
    dtype: str = "float32"
    blas_threads: int | None = 1

    def __post_init__(self) -> None:
        for name in ("n_units", "n_steps", "n_updates", "batch", "n_adapt"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise NwbMotorTypeError(f"run_modular_rnn: option {name!r} expected an integer, got {value!r}")
            low = 0 if name in ("n_updates", "n_adapt") else 1
            if value < low:
                raise NwbMotorValueError(f"run_modular_rnn: option {name!r} expected an integer >= {low}, got {value}")
        for name in ("trial_duration", "tau", "lr", "anneal_fraction", "adapt_lr", "clip", "rotation", "weight_reg",
                     "recurrent_reg", "rate_reg", "init_range", "radius"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise NwbMotorTypeError(f"run_modular_rnn: option {name!r} expected a number, got {value!r}")
            if not np.isfinite(value) or (name != "rotation" and value < 0):
                raise NwbMotorValueError(f"run_modular_rnn: option {name!r} expected a finite number >= 0, got {value}")
        if self.train_targets not in ("discrete", "continuous"):
            raise NwbMotorValueError(
                f"run_modular_rnn: option 'train_targets' expected 'discrete' (the 8 targets) or 'continuous' "
                f"(any angle), got {self.train_targets!r}"
            )
        if self.dtype not in ("float32", "float64"):
            raise NwbMotorValueError(f"run_modular_rnn: option 'dtype' expected 'float32' or 'float64', got {self.dtype!r}")
        if not 0.0 <= self.anneal_fraction <= 1.0:
            raise NwbMotorValueError(
                f"run_modular_rnn: option 'anneal_fraction' expected a number in [0, 1], got {self.anneal_fraction}"
            )
        hypotheses(self.upstream_projection)
        if not isinstance(self.adapt_weight_reg, bool):
            raise NwbMotorTypeError(
                f"run_modular_rnn: option 'adapt_weight_reg' expected True or False, got {self.adapt_weight_reg!r}"
            )
        if self.blas_threads is not None and (isinstance(self.blas_threads, bool)
                                              or not isinstance(self.blas_threads, (int, np.integer))
                                              or self.blas_threads < 1):
            raise NwbMotorValueError(
                f"run_modular_rnn: option 'blas_threads' expected None or an integer >= 1, got {self.blas_threads!r}"
            )
        if self.tau == 0 or self.trial_duration == 0:
            raise NwbMotorValueError("run_modular_rnn: options 'tau' and 'trial_duration' expected > 0, got 0")
        task = self.task
        if self.alpha > 1.0:
            raise NwbMotorValueError(
                f"run_modular_rnn: dt/tau = {self.alpha:.3g} > 1 makes forward Euler unstable; expected "
                f"n_steps >= trial_duration / tau = {self.trial_duration / self.tau:.0f}, got n_steps={self.n_steps}"
            )
        if not 0 < task.loss_start < task.target_step < task.go_step < self.n_steps:
            raise NwbMotorValueError(
                f"run_modular_rnn: n_steps={self.n_steps} is too coarse for the task timing (loss start, target, "
                f"go at steps {task.loss_start}, {task.target_step}, {task.go_step}); expected n_steps >= 10"
            )

    @property
    def n_anneal(self) -> int:
        """Training updates run at lr / 10 (the last ones)."""
        return int(round(self.n_updates * self.anneal_fraction))

    @property
    def dt(self) -> float:
        return self.trial_duration / self.n_steps

    @property
    def alpha(self) -> float:
        return self.dt / self.tau

    @property
    def task(self) -> CentreOutTask:
        scale = self.trial_duration / 4.0
        return CentreOutTask(
            n_steps=self.n_steps, dt=self.dt, radius=self.radius, target_time=1.65 * scale, go_time=2.82 * scale,
            loss_start_time=0.5 * scale, reaction_time=0.15 * scale, reach_duration=0.65 * scale,
        )

    def weight_penalty(self) -> dict[str, float]:
        """Coefficient of ‖W‖_F of every weight matrix (the authors' alpha1, alpha2, gamma1, gamma2)."""
        return {name: (self.recurrent_reg if name in RECURRENT else self.weight_reg) for name in (*CONNECTIONS, "output")}

    def rate_penalty(self) -> dict[str, float]:
        """Coefficient of mean(r²) of every module (the authors' beta1, beta2)."""
        return {m: self.rate_reg for m in MODULES}


#: Named option sets on top of the :class:`ModularRnnOptions` defaults (the authors'
#: values). "default", the fast preset, changes only sizes: 64 units per module and
#: batches of 16 trials (the authors: 400 and 80); every length (500 training updates,
#: 100 adaptation updates, 400 steps per trial) and every other value is the authors'.
PRESETS: dict[str, dict[str, Any]] = {
    "default": {"n_units": 64, "batch": 16},
    "paper": {},
}


@contextlib.contextmanager
def _blas_threads(n: int | None) -> Iterator[None]:
    if n is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: only a speed setting
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield


def _initial_states(rng: np.random.Generator, n_trials: int, opts: ModularRnnOptions) -> dict[str, np.ndarray]:
    return {m: rng.uniform(-opts.init_range, opts.init_range, (n_trials, opts.n_units)) for m in MODULES}


def _train(params: dict[str, np.ndarray], opts: ModularRnnOptions, rng: np.random.Generator, *, rotation: float,
           trainable: tuple[str, ...], n_updates: int, batch: int, lr: float, phase: str,
           log: dict[str, list[Any]], progress: Any, weight_reg: bool = True) -> None:
    task = opts.task
    adam = Adam(lr)
    weight_penalty = opts.weight_penalty() if weight_reg else {}
    rate_penalty = opts.rate_penalty()
    for _ in range(n_updates):
        if opts.train_targets == "continuous":
            inputs, targets = task.trials_at(rng.uniform(0.0, 2.0 * np.pi, batch), rotation)
        else:
            inputs, targets = task.trials(rng.integers(0, task.n_targets, batch), rotation)
        x0 = _initial_states(rng, batch, opts)
        terms, grads, _ = loss_and_grads(
            params, inputs, targets, x0, opts.alpha, loss_start=task.loss_start,
            weight_penalty=weight_penalty, rate_penalty=rate_penalty, trainable=trainable,
        )
        norm = clip_by_global_norm(grads, opts.clip)
        adam.step(params, grads)
        log["iteration"].append(len(log["iteration"]))
        log["phase"].append(phase)
        log["loss"].append(terms["total"])
        log["mse"].append(terms["mse"])
        log["grad_norm"].append(norm)
        log["learning_rate"].append(lr)
        log["batch_size"].append(batch)
        log["rotation"].append(rotation)
        if progress is not None:
            progress.update(1)
            progress.set_postfix(phase=phase, mse=f"{terms['mse']:.4f}", refresh=False)


def simulate_snapshot(snapshot: NetworkSnapshot, inputs: np.ndarray, initial_states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Re-run a modular-network snapshot on given inputs.

    Parameters
    ----------
    snapshot : NetworkSnapshot
        A snapshot written by :func:`run_modular_rnn` (weights named ``W_upstream_in``, ...).
    inputs : ndarray of shape (n_trials, n_steps, 3)
    initial_states : ndarray of shape (n_trials, 3 * n_units)
        Initial x of every unit, modules in the order upstream, PMd, M1.

    Returns
    -------
    rates : ndarray of shape (n_trials, n_steps, 3 * n_units)
    outputs : ndarray of shape (n_trials, n_steps, 2)

    Examples
    --------
    >>> s = run_modular_rnn(n_units=8, n_steps=80, n_updates=2, batch=2, n_adapt=1)
    >>> m = s.trials["network"] == "trained"
    >>> snap = s.snapshot("trained")
    >>> rates, outputs = simulate_snapshot(snap, s.inputs[m], snap.initial_state[s.trials["target_id"][m]])
    >>> bool(np.allclose(outputs, s.outputs[m]))
    True
    """
    params = {key: snapshot.weights[name] for key, name in _WEIGHT_NAMES.items()}
    params["output_bias"] = snapshot.biases["output"]
    n_units = params["upstream_recurrent"].shape[0]
    x0 = {m: initial_states[:, i * n_units:(i + 1) * n_units] for i, m in enumerate(MODULES)}
    traj = forward(params, np.asarray(inputs, dtype=float), x0, snapshot.dt / snapshot.tau)
    rates = np.concatenate([traj.rates[m] for m in MODULES], axis=2)
    return rates, traj.outputs


def _snapshot(phase: str, params: dict[str, np.ndarray], opts: ModularRnnOptions, x0: np.ndarray) -> NetworkSnapshot:
    connections: dict[str, tuple[str, str]] = {}
    for key, name in _WEIGHT_NAMES.items():
        if key == "output":
            connections[name] = ("output", MODULE_LABELS["m1"])
        else:
            post, pre = CONNECTIONS[key]
            connections[name] = (MODULE_LABELS[post], "input" if pre == "input" else MODULE_LABELS[pre])
    return NetworkSnapshot(
        phase=phase, tau=opts.tau, dt=opts.dt, nonlinearity="tanh",
        weights={name: params[key].astype(float) for key, name in _WEIGHT_NAMES.items()},
        biases={"output": params["output_bias"].astype(float)},
        noise_std=0.0, initial_state=x0, connections=connections,
    )


def _options(preset: str, options: dict[str, Any]) -> ModularRnnOptions:
    if preset not in PRESETS:
        raise NwbMotorValueError(f"run_modular_rnn: preset expected one of {sorted(PRESETS)}, got {preset!r}")
    known = {f.name for f in dataclasses.fields(ModularRnnOptions)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise NwbMotorValueError(f"run_modular_rnn: unknown option(s) {unknown}; expected among {sorted(known)}")
    return ModularRnnOptions(**{**PRESETS[preset], **options})


def run_modular_rnn(*, seed: int = 0, progress: bool = False, preset: str = "default", **options: Any) -> ModelSession:
    """Train the modular network, adapt it under H_input and H_local, and test every phase.

    Parameters
    ----------
    seed : int
        Seed of every random draw (weights, trials, initial states): same seed, same run.
    progress : bool
        Show a tqdm progress bar of the updates.
    preset : {"default", "paper"}
        Base option set: "paper" is the authors' run (400 units per module, 500 updates of
        80 trials; hours on two cores); "default" differs from it only in sizes and
        sizes (64 units per module, batches of 16 trials; about a minute).
    **options
        Any field of :class:`ModularRnnOptions`, overriding the preset.

    Returns
    -------
    ModelSession
        Units (upstream, PMd, M1 modules), 40 test trials (8 targets × phases
        "untrained", "trained" without rotation; "before_adaptation", "adapted_input",
        "adapted_local" under the rotation), network snapshots "untrained", "trained",
        "adapted_input", "adapted_local", and the training log (iteration, loss, mse,
        phase "train" / "adapt_input" / "adapt_local", learning parameters).
        Angles (``target_angle``, ``perturbation``) are in degrees.

    Raises
    ------
    NwbMotorValueError, NwbMotorTypeError
        Unknown preset or option, or an option out of range.

    Examples
    --------
    >>> s = run_modular_rnn(seed=0, n_units=16, n_steps=80, n_updates=5, batch=4, n_adapt=2)
    >>> sorted(set(s.trials["phase"].tolist()))
    ['adapted_input', 'adapted_local', 'before_adaptation', 'trained', 'untrained']
    >>> s.rates.shape
    (40, 80, 48)
    """
    opts = _options(preset, options)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise NwbMotorTypeError(f"run_modular_rnn: 'seed' expected an integer, got {seed!r}")
    with _blas_threads(opts.blas_threads):
        return _run(opts, int(seed), progress)


def _run(opts: ModularRnnOptions, seed: int, progress: bool) -> ModelSession:
    rng = np.random.default_rng(seed)
    params = init_params(opts.n_units, 3, 2, rng, dtype=np.dtype(opts.dtype).type)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=opts.n_updates + 2 * opts.n_adapt, desc="modular-rnn", unit="update")
    log: dict[str, list[Any]] = {k: [] for k in ("iteration", "phase", "loss", "mse", "grad_norm", "learning_rate",
                                                 "batch_size", "rotation")}
    try:
        snapshots = {"untrained": {k: v.copy() for k, v in params.items()}}
        everything = tuple(params)
        for n_updates, lr in ((opts.n_updates - opts.n_anneal, opts.lr), (opts.n_anneal, opts.lr / 10)):
            _train(params, opts, rng, rotation=0.0, trainable=everything, n_updates=n_updates, batch=opts.batch,
                   lr=lr, phase="train", log=log, progress=bar)
        snapshots["trained"] = {k: v.copy() for k, v in params.items()}
        return _adapt_and_test(opts, seed, snapshots, log, bar)
    finally:
        if bar is not None:
            bar.close()


def adapt_modular_rnn(session: ModelSession, *, seed: int | None = None, preset: str = "default",
                      **options: Any) -> ModelSession:
    """Adapt the trained network of a :func:`run_modular_rnn` session again, e.g. to another rotation.

    The "untrained" and "trained" snapshots and the training part of the log are kept;
    both hypotheses adapt from the trained weights with the given options, and every
    test trial is run again.

    Parameters
    ----------
    session : ModelSession
        A session of :func:`run_modular_rnn` (snapshots "untrained" and "trained").
    seed : int, optional
        Seed of the adaptation trials (default: the session's seed).
    preset : {"default", "paper"}
        Base option set, as in :func:`run_modular_rnn`; the sizes must be the session's.
    **options
        Fields of :class:`ModularRnnOptions`, e.g. ``rotation=60``.

    Returns
    -------
    ModelSession

    Examples
    --------
    >>> s = run_modular_rnn(n_units=8, n_steps=80, n_updates=2, batch=2, n_adapt=1)
    >>> t = adapt_modular_rnn(s, rotation=60, n_units=8, n_steps=80, n_updates=2, batch=2, n_adapt=1)
    >>> sorted(set(t.trials["perturbation"].tolist()))
    [0.0, 60.0]
    """
    opts = _options(preset, options)
    seed = session.seed if seed is None else seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise NwbMotorTypeError(f"adapt_modular_rnn: 'seed' expected an integer, got {seed!r}")
    dtype = np.dtype(opts.dtype).type
    snapshots = {}
    for phase in ("untrained", "trained"):
        snap = session.snapshot(phase)
        params = {key: np.asarray(snap.weights[name], dtype=dtype) for key, name in WEIGHT_NAMES.items()}
        params["output_bias"] = np.asarray(snap.biases["output"], dtype=dtype)
        if params["upstream_recurrent"].shape[0] != opts.n_units:
            raise NwbMotorValueError(
                f"adapt_modular_rnn: option 'n_units' expected the session's {params['upstream_recurrent'].shape[0]}, "
                f"got {opts.n_units}"
            )
        snapshots[phase] = params
    if session.training_log is None:
        raise NwbMotorValueError(f"adapt_modular_rnn: session {session.name!r} expected a training log, got none")
    train = session.training_log["phase"] == "train"
    log = {k: list(np.asarray(v)[train]) for k, v in session.training_log.items()}
    with _blas_threads(opts.blas_threads):
        return _adapt_and_test(opts, int(seed), snapshots, log, None)


def _adapt_and_test(opts: ModularRnnOptions, seed: int, snapshots: dict[str, dict[str, np.ndarray]],
                    log: dict[str, list[Any]], bar: Any) -> ModelSession:
    task = opts.task
    # test trials: one per target, fixed initial states shared by every phase
    test_ids = np.arange(task.n_targets)
    test_x0 = _initial_states(np.random.default_rng([seed, 1]), task.n_targets, opts)
    x0_flat = np.concatenate([test_x0[m] for m in MODULES], axis=1)
    for hyp, names in hypotheses(opts.upstream_projection).items():
        adapted = {k: v.copy() for k, v in snapshots["trained"].items()}
        _train(adapted, opts, np.random.default_rng([seed, 2]), rotation=opts.rotation, trainable=names,
               n_updates=opts.n_adapt, batch=1, lr=opts.adapt_lr, phase=f"adapt_{hyp}", log=log, progress=bar,
               weight_reg=opts.adapt_weight_reg)
        snapshots[f"adapted_{hyp}"] = adapted

    # (trial phase, network, rotation) of each block of 8 test trials
    blocks = [("untrained", "untrained", 0.0), ("trained", "trained", 0.0),
              ("before_adaptation", "trained", opts.rotation), ("adapted_input", "adapted_input", opts.rotation),
              ("adapted_local", "adapted_local", opts.rotation)]
    rates, outputs, targets, inputs = [], [], [], []
    trials: dict[str, list[Any]] = {k: [] for k in ("target_id", "target_angle", "perturbation", "phase", "go_time",
                                                    "cue_time", "network")}
    # the stored trials are run in float64 from the stored (float64) weights, so that the
    # snapshots re-run them exactly whatever the training arithmetic
    as_float = {name: {k: v.astype(float) for k, v in p.items()} for name, p in snapshots.items()}
    for phase, network, rotation in blocks:
        inp, tgt = task.trials(test_ids, rotation)
        traj = forward(as_float[network], inp, test_x0, opts.alpha)
        rates.append(np.concatenate([traj.rates[m] for m in MODULES], axis=2).astype(float))
        outputs.append(traj.outputs.astype(float))
        targets.append(tgt)
        inputs.append(inp)
        trials["target_id"].extend(test_ids.tolist())
        trials["target_angle"].extend(np.rad2deg(task.angles).tolist())
        trials["perturbation"].extend([rotation] * task.n_targets)
        trials["phase"].extend([phase] * task.n_targets)
        trials["go_time"].extend([task.go_step * opts.dt] * task.n_targets)
        trials["cue_time"].extend([task.target_step * opts.dt] * task.n_targets)
        trials["network"].extend([network] * task.n_targets)

    n = opts.n_units
    units = {
        "module": np.repeat([MODULE_LABELS[m] for m in MODULES], n),
        "cell_type": np.full(3 * n, "unknown"),
        "gain_group": np.full(3 * n, -1, dtype=np.int64),
    }
    learn = {h: ", ".join(_WEIGHT_NAMES[k] for k in keys) for h, keys in hypotheses(opts.upstream_projection).items()}
    anneal = f", the last {opts.n_anneal} at lr {opts.lr / 10:g}" if opts.n_anneal else ""
    description = (
        f"Modular network of Feulner et al. (2022): upstream, PMd and M1 tanh modules of {n} units, "
        f"trained by BPTT on the 8-target centre-out task ({opts.n_updates} Adam updates of {opts.batch} "
        f"trials, lr {opts.lr:g}{anneal}; loss MSE + {opts.weight_reg:g} |W| + {opts.recurrent_reg:g} |W_rec| + "
        f"{opts.rate_reg:g} mean(r^2) per module), then adapted to a {opts.rotation:g} degree visuomotor rotation "
        f"with {opts.n_adapt} single-trial updates (lr {opts.adapt_lr:g}, output frozen, weight penalties "
        f"{'kept' if opts.adapt_weight_reg else 'dropped'}) under H_input ({learn['input']} learn) and H_local "
        f"({learn['local']} learn). dt = {opts.dt:g} s, tau = {opts.tau:g} s, reaches of {opts.radius:g} cm."
    )
    return ModelSession(
        name=f"modular-rnn-seed{seed}",
        description=description,
        dt=opts.dt,
        model="modular-rnn",
        seed=seed,
        units=units,
        rates=np.concatenate(rates),
        outputs=np.concatenate(outputs),
        targets=np.concatenate(targets),
        inputs=np.concatenate(inputs),
        trials={k: np.asarray(v) for k, v in trials.items()},
        networks=[_snapshot(phase, p, opts, x0_flat) for phase, p in snapshots.items()],
        training_log={k: np.asarray(v) for k, v in log.items()},
        rate_unit="a.u.",
        output_unit="cm",
        input_unit="a.u.",
    )


