"""The modular network of Feulner et al. (2022): train, adapt to a rotation, test.

Three tanh rate modules (upstream → PMd → M1) learn the 8-target centre-out task by
backpropagation through time (:mod:`nwbmotor.models._bptt`, numpy only). The trained
network then adapts to a 30° visuomotor rotation twice, from the same start, with the
output weights frozen: under H_input only the upstream module's weights learn, under
H_local only the PMd and M1 weights. Test trials of every phase, the network snapshots
and the training log come back as a :class:`~nwbmotor.models.ModelSession`.

Sizes
-----
The paper's sizes (``preset="paper"``: 400 units per module, 400 steps of 10 ms,
500 updates of 80 trials, Adam lr 1e-4, the hypotheses split as in the paper's code)
take about 1.5 h here (10.6 s per update). The default preset keeps the task in seconds
(a 4 s trial, target at 1.65 s, go at 2.82 s, τ = 50 ms) on a coarser grid (100 steps
of 40 ms, α = 0.8) and a smaller network (150 units per module), and trains 900 updates
of 16 trials at lr 1e-3, the last 300 at lr 1e-4 so the network settles. Adaptation
uses lr 2e-4, which keeps the paper's ratio of the largest total Adam step to the
initial weight scale, lr·updates·√N: 0.24 here, 0.2 in the paper. About 40 s alone on
two cores.

Hypotheses
----------
By default the upstream → PMd weights learn under H_local: they are synapses onto PMd
neurons, and H_input then leaves every synapse of the motor cortex (PMd, M1) untouched.
The code released with the paper puts them on the upstream side instead
(``upstream_projection="input"``, and the ``paper`` preset).

The covariance comparison is a property of networks, not of one network. Measured at
the default size (``benchmarks/sweep_modular_rnn.py``), the covariance of PMd + M1
changes less under H_input than under H_local in 11 of 12 networks (seeds 0-11; median
1 − r 0.030 vs 0.045 on seeds 0-5), PMd's in 12 of 12; both stay below 0.1, so both
hypotheses keep the covariance, as in the paper. Most of the difference comes from
the plastic upstream → PMd weights: with no rotation at all, 100 single-trial updates
under H_local change the PMd + M1 covariance by 0.04 (H_input: 0.002), and with
``upstream_projection="input"`` the order reverses (PMd + M1 0.036 vs 0.022, 4 of 4
networks).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.methods import _model_metrics as mm
from nwbmotor.models._bptt import (
    CONNECTIONS,
    MODULES,
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
    "ModularRnnOptions",
    "compare_hypotheses",
    "run_modular_rnn",
    "hypotheses",
    "simulate_snapshot",
]

#: Module names as written to the units table.
MODULE_LABELS: dict[str, str] = {"upstream": "upstream", "pmd": "PMd", "m1": "M1"}
#: Internal parameter name -> (weight name in the snapshot).
_WEIGHT_NAMES: dict[str, str] = {
    "upstream_input": "W_upstream_in",
    "upstream_recurrent": "W_upstream_rec",
    "pmd_input": "W_PMd_in",
    "pmd_recurrent": "W_PMd_rec",
    "upstream_to_pmd": "W_upstream_to_PMd",
    "m1_recurrent": "W_M1_rec",
    "pmd_to_m1": "W_PMd_to_M1",
    "output": "W_out",
}
#: Which parameters learn during adaptation (default ``upstream_projection="local"``): a
#: module's weights are its incoming weights, so the upstream → PMd synapses, which end on
#: PMd neurons, are motor-cortical and learn under H_local.
HYPOTHESES: dict[str, tuple[str, ...]] = {
    "input": ("upstream_input", "upstream_recurrent"),
    "local": ("pmd_input", "pmd_recurrent", "upstream_to_pmd", "m1_recurrent", "pmd_to_m1"),
}


def hypotheses(upstream_projection: str = "local") -> dict[str, tuple[str, ...]]:
    """The weights that learn under H_input and H_local.

    Parameters
    ----------
    upstream_projection : {"local", "input"}
        Which hypothesis the upstream → PMd weights learn under. "local" (default): they
        are synapses onto PMd neurons (:data:`HYPOTHESES`). "input": they belong to the
        upstream side, as in the code released with Feulner et al. (2022).

    Examples
    --------
    >>> hypotheses("input")["input"]
    ('upstream_input', 'upstream_recurrent', 'upstream_to_pmd')
    """
    if upstream_projection == "local":
        return dict(HYPOTHESES)
    if upstream_projection == "input":
        return {"input": (*HYPOTHESES["input"], "upstream_to_pmd"),
                "local": tuple(n for n in HYPOTHESES["local"] if n != "upstream_to_pmd")}
    raise NwbMotorValueError(
        f"run_modular_rnn: option 'upstream_projection' expected 'local' or 'input', got {upstream_projection!r}"
    )


@dataclasses.dataclass(frozen=True)
class ModularRnnOptions:
    """Sizes and learning parameters of :func:`run_modular_rnn` (defaults: small preset).

    Parameters
    ----------
    n_units : int
        Units per module.
    n_steps : int
        Euler steps per trial; the trial lasts ``trial_duration`` seconds.
    trial_duration : float
        Seconds per trial (the paper: 400 steps × 10 ms = 4 s).
    tau : float
        Time constant in seconds; α = dt / τ.
    n_updates, batch, lr : int, int, float
        Training: Adam updates, random trials per update, learning rate.
    anneal_fraction : float
        The last fraction of the ``n_updates`` training updates (rounded) run at lr / 10
        with a fresh Adam state, so that the trained network settles before it adapts. (An unsettled network
        keeps drifting under single-trial Adam updates even without a rotation; measured
        at the default size with 900 updates at a constant lr, that drift was a third to
        a half of the covariance change seen under the rotation.)
    n_adapt, adapt_lr : int, float
        Adaptation: single-trial updates and their learning rate.
    adapt_weight_reg : bool
        Keep the weight penalties in the adaptation loss (default False: adaptation
        minimises the task error and the rate penalty; under Adam a weight penalty moves
        every weight by ~lr per update and hides the structure of ΔW).
    rotation : float
        Visuomotor rotation in degrees.
    train_targets : {"discrete", "continuous"}
        Training trials go to the 8 targets, or to targets at uniformly random angles.
    upstream_projection : {"local", "input"}
        Which hypothesis the upstream → PMd weights learn under (see :func:`hypotheses`).
    clip : float
        Gradient-norm clip of every update.
    weight_reg, recurrent_reg, rate_reg : float
        Loss weights of Σ‖W‖² (input, inter-module, output), Σ‖W_rec‖² and mean(r²).
    recurrent_gain : float
        Initial recurrent weights ~ N(0, g²/N).
    init_range : float
        Initial states ~ U(−init_range, init_range).
    blas_threads : int or None
        BLAS threads during the run (1 is fastest for these small matrices on a busy
        machine; None leaves the library's setting).
    """

    n_units: int = 150
    n_steps: int = 100
    trial_duration: float = 4.0
    tau: float = 0.05
    n_updates: int = 900
    anneal_fraction: float = 1 / 3
    batch: int = 16
    lr: float = 1e-3
    n_adapt: int = 100
    adapt_lr: float = 2e-4
    adapt_weight_reg: bool = False
    rotation: float = 30.0
    train_targets: str = "discrete"
    upstream_projection: str = "local"
    clip: float = 0.2
    weight_reg: float = 1e-3
    recurrent_reg: float = 1e-3
    rate_reg: float = 0.8
    recurrent_gain: float = 1.0
    init_range: float = 0.1
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
                     "recurrent_reg", "rate_reg", "recurrent_gain", "init_range"):
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
            n_steps=self.n_steps, dt=self.dt, target_time=1.65 * scale, go_time=2.82 * scale,
            loss_start_time=0.5 * scale, reaction_time=0.1 * scale, reach_duration=0.5 * scale,
        )


#: Named option sets. "paper" is Feulner et al.'s size (about 1.5 h in numpy on two cores).
PRESETS: dict[str, dict[str, Any]] = {
    "default": {},
    "paper": {"n_units": 400, "n_steps": 400, "n_updates": 500, "anneal_fraction": 0.0, "batch": 80, "lr": 1e-4,
              "adapt_lr": 1e-4, "upstream_projection": "input"},
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
    for it in range(n_updates):
        if opts.train_targets == "continuous":
            inputs, targets = task.trials_at(rng.uniform(0.0, 2.0 * np.pi, batch), rotation)
        else:
            inputs, targets = task.trials(rng.integers(0, task.n_targets, batch), rotation)
        x0 = _initial_states(rng, batch, opts)
        terms, grads, _ = loss_and_grads(
            params, inputs, targets, x0, opts.alpha, loss_start=task.loss_start,
            weight_reg=opts.weight_reg if weight_reg else 0.0,
            recurrent_reg=opts.recurrent_reg if weight_reg else 0.0, rate_reg=opts.rate_reg, trainable=trainable,
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
        weights={name: params[key].copy() for key, name in _WEIGHT_NAMES.items()},
        biases={"output": params["output_bias"].copy()},
        noise_std=0.0, initial_state=x0, connections=connections,
    )


def run_modular_rnn(*, seed: int = 0, progress: bool = False, preset: str = "default", **options: Any) -> ModelSession:
    """Train the modular network, adapt it under H_input and H_local, and test every phase.

    Parameters
    ----------
    seed : int
        Seed of every random draw (weights, trials, initial states): same seed, same run.
    progress : bool
        Show a tqdm progress bar of the updates.
    preset : {"default", "paper"}
        Base option set; "paper" is Feulner et al.'s size (about 1.5 h on two cores).
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
    if preset not in PRESETS:
        raise NwbMotorValueError(f"run_modular_rnn: preset expected one of {sorted(PRESETS)}, got {preset!r}")
    known = {f.name for f in dataclasses.fields(ModularRnnOptions)}
    unknown = sorted(set(options) - known)
    if unknown:
        raise NwbMotorValueError(f"run_modular_rnn: unknown option(s) {unknown}; expected among {sorted(known)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise NwbMotorTypeError(f"run_modular_rnn: 'seed' expected an integer, got {seed!r}")
    opts = ModularRnnOptions(**{**PRESETS[preset], **options})
    with _blas_threads(opts.blas_threads):
        return _run(opts, int(seed), progress)


def _run(opts: ModularRnnOptions, seed: int, progress: bool) -> ModelSession:
    rng = np.random.default_rng(seed)
    task = opts.task
    params = init_params(opts.n_units, 3, 2, rng, recurrent_gain=opts.recurrent_gain)
    # test trials: one per target, fixed initial states shared by every phase
    test_ids = np.arange(task.n_targets)
    test_x0 = _initial_states(np.random.default_rng([seed, 1]), task.n_targets, opts)
    x0_flat = np.concatenate([test_x0[m] for m in MODULES], axis=1)

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
        for hyp, names in hypotheses(opts.upstream_projection).items():
            adapted = {k: v.copy() for k, v in snapshots["trained"].items()}
            _train(adapted, opts, np.random.default_rng([seed, 2]), rotation=opts.rotation, trainable=names,
                   n_updates=opts.n_adapt, batch=1, lr=opts.adapt_lr, phase=f"adapt_{hyp}", log=log, progress=bar,
                   weight_reg=opts.adapt_weight_reg)
            snapshots[f"adapted_{hyp}"] = adapted
    finally:
        if bar is not None:
            bar.close()

    # (trial phase, network, rotation) of each block of 8 test trials
    blocks = [("untrained", "untrained", 0.0), ("trained", "trained", 0.0),
              ("before_adaptation", "trained", opts.rotation), ("adapted_input", "adapted_input", opts.rotation),
              ("adapted_local", "adapted_local", opts.rotation)]
    rates, outputs, targets, inputs = [], [], [], []
    trials: dict[str, list[Any]] = {k: [] for k in ("target_id", "target_angle", "perturbation", "phase", "go_time",
                                                    "cue_time", "network")}
    for phase, network, rotation in blocks:
        inp, tgt = task.trials(test_ids, rotation)
        traj = forward(snapshots[network], inp, test_x0, opts.alpha)
        rates.append(np.concatenate([traj.rates[m] for m in MODULES], axis=2))
        outputs.append(traj.outputs)
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
    description = (
        f"Modular network of Feulner et al. (2022): upstream, PMd and M1 tanh modules of {n} units, "
        f"trained by BPTT on the 8-target centre-out task ({opts.n_updates} Adam updates of {opts.batch} "
        f"trials, lr {opts.lr:g}, the last {opts.n_anneal} at lr {opts.lr / 10:g}), then adapted to a "
        f"{opts.rotation:g} degree visuomotor rotation with {opts.n_adapt} single-trial updates "
        f"(lr {opts.adapt_lr:g}, output frozen) under H_input ({learn['input']} learn) and H_local "
        f"({learn['local']} learn). dt = {opts.dt:g} s, tau = {opts.tau:g} s."
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
        output_unit="a.u.",
        input_unit="a.u.",
    )


def compare_hypotheses(session: ModelSession, modules: tuple[str, ...] = ("PMd", "M1"), *,
                       window: float = 0.6) -> dict[str, dict[str, float]]:
    """The science.md B metrics of H_input and H_local for one modular-network session.

    Parameters
    ----------
    session : ModelSession
        A session of :func:`run_modular_rnn` (test trials of phases "before_adaptation",
        "adapted_input", "adapted_local", one per target).
    modules : tuple of str
        Units measured, by module label ("upstream", "PMd", "M1").
    window : float
        Half-width in seconds of the analysis window around the go cue (the paper's
        ± 60 steps of 10 ms).

    Returns
    -------
    dict
        ``{"input": {...}, "local": {...}}``, each with ``error_reduction`` (1 − rotated
        reach error after / before adaptation, from the loss start), ``activity_change``
        (%) and ``covariance_change`` (1 − r) of the per-target PSTHs against
        "before_adaptation".

    Raises
    ------
    NwbMotorValueError
        A session without those phases or modules.

    Examples
    --------
    >>> s = run_modular_rnn(seed=0, n_units=8, n_steps=80, n_updates=2, batch=2, n_adapt=1)
    >>> sorted(compare_hypotheses(s)["input"])
    ['activity_change', 'covariance_change', 'error_reduction']
    """
    units = np.isin(session.units["module"], modules)
    if not units.any():
        raise NwbMotorValueError(
            f"compare_hypotheses: modules expected among {sorted(set(session.units['module'].tolist()))}, "
            f"got {list(modules)}"
        )
    duration = session.n_steps * session.dt
    loss_start = ModularRnnOptions(n_steps=session.n_steps, trial_duration=duration).task.loss_start

    def block(phase: str) -> tuple[np.ndarray, float]:
        m = session.trials["phase"] == phase
        if not m.any():
            raise NwbMotorValueError(f"compare_hypotheses: the session has no test trials of phase {phase!r}")
        order = np.argsort(session.trials["target_id"][m])
        go = int(round(session.trials["go_time"][m][0] / session.dt))
        half = int(round(window / session.dt))
        psth = session.rates[m][order][:, max(0, go - half):go + half + 1][:, :, units]
        error = mm.output_error(session.outputs[m][:, loss_start:], session.targets[m][:, loss_start:])[0]
        return psth, error

    before, error_before = block("before_adaptation")
    result = {}
    for hyp in ("input", "local"):
        after, error_after = block(f"adapted_{hyp}")
        result[hyp] = {
            "error_reduction": 1.0 - error_after / error_before,
            "activity_change": mm.activity_change(before, after)[0],
            "covariance_change": mm.covariance_change(before, after)[0],
        }
    return result
