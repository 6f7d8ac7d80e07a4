"""The gain-modulation study of Stroud et al. (2018) as one seeded run -> ModelSession.

The numeric pieces (network construction, integration, readout, gain learning, pattern
combination and interpolation) are in :mod:`nwbmotor.models._gain_modulation`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.models._gain_modulation import (
    R0,
    RMAX,
    build_stability_optimized_network,
    combine_gain_patterns,
    fit_readout,
    interpolate_gains,
    learn_gains,
    make_movement_target,
    measure_speed,
    most_amplified_state,
    movement_error,
    plan_trials,
    simulate_gain_network,
    single_threaded_blas,
    time_scaled,
)

__all__ = ["PRESETS", "STROUD_FIELDS", "run_gain_modulation"]

#: Named option sets of :func:`run_gain_modulation`. "paper" is the published size and
#: length (N = 200, 5,000 iterations, 200 samples per movement); "default" (fast) changes
#: only sizes and lengths: N = 100, 1,500 iterations, 100 samples, so that a run takes
#: under a minute of CPU.
PRESETS: dict[str, dict[str, Any]] = {
    "default": {"n_exc": 50, "n_inh": 50, "n_iterations": 1500, "n_steps": 100},
    "paper": {"n_exc": 100, "n_inh": 100, "n_iterations": 5000, "n_steps": 200},
}

#: The arrays of a Stroud-layout network (see formats.md, "Model outputs").
STROUD_FIELDS = ("W_rec", "initial_cond", "readout", "initial_target", "novel_target")


def run_gain_modulation(
    seed: int = 0,
    *,
    preset: str = "default",
    network: Mapping[str, np.ndarray] | None = None,
    n_exc: int | None = None,
    n_inh: int | None = None,
    n_iterations: int | None = None,
    n_groups: int | None = None,
    n_primitives: int = 2,
    speeds: tuple[float, ...] = (0.8, 0.9, 1.1, 1.25),
    speed_fractions: tuple[float, ...] = (0.5,),
    novel_similarity: float = -0.8,
    gain_bounds: tuple[float, float] | None = None,
    tau: float = 0.2,
    duration: float = 0.5,
    n_steps: int | None = None,
    substeps: int = 1,
    readout_fit: str = "nonnegative",
    noise_std: float = 0.001,
    radius: float = 10.0,
    progress: Callable[[str, int, int], Any] | None = None,
):
    """Run the whole gain-modulation study and return it as a :class:`ModelSession`.

    The network is the given one (``network``: the five arrays of a Stroud-layout file,
    e.g. the authors' ``data.mat`` read by
    :func:`nwbmotor.converters.model.read_stroud_network`) or a stability-optimised
    circuit built by :func:`build_stability_optimized_network` with the published
    statistics, started from its most amplified state (norm 1.5 sqrt(N)) with a readout
    fitted to a synthetic initial movement at gains 1. Then, in one batch, gain patterns
    are learned (:func:`learn_gains`, the paper's rule, unbounded by default) for the
    novel movement, for ``n_primitives`` library movements and for the initial movement
    played at each of ``speeds`` times its speed. From those it assembles the pattern of a
    combined movement (a mix of the library movements, weights summing to 1) from the
    library's patterns (:func:`combine_gain_patterns`) and intermediate speeds
    by interpolating (:func:`interpolate_gains`) between neighbouring rungs of the speed
    ladder (the learned patterns and the initial movement at gains 1, speed 1), whose
    speed it measures (:func:`measure_speed`).

    Why a ladder: near gains of 1 the output is close to linear in the gains, so
    interpolating two patterns cross-fades their outputs. Cross-fading a movement with
    a time-scaled copy of itself is an intermediate speed only while the two speeds are
    close (``z(s t) ~ z(t) + (s - 1) t z'(t)``, linear in ``s``): interpolated
    end to end, patterns at 0.75x and 1.5x switch from one speed to the other instead
    of grading (measured on the paper preset, seed 0: 0.75x up to fraction 0.75, then
    1.55x), while neighbours 0.1x apart grade the speed monotonically.

    Trials (one movement each, ``n_steps`` samples over ``[0, duration]``; ``go_time`` 0
    = movement onset; extra columns ``error`` (E against the trial's target; 1 - E is
    R^2 on the initial trial), ``speed`` (the target's speed),
    ``measured_speed`` and ``shape_error`` (:func:`measure_speed` against the initial
    movement; NaN off the speed trials), ``interpolated`` (a speed trial whose pattern
    was interpolated, not learned)):

    ==========  ========================  ==========================================
    phase       network                   target
    ==========  ========================  ==========================================
    before      initial                   initial (0); novel (1); combination (2 + k)
    after       novel                     novel (1)
    primitive   primitive-<i>             library movement i (2 + i)
    combined    combined                  combination (2 + k)
    speed       speed-<s> (learned),      initial at speed ``s``, or at
                initial (``s`` = 1),      ``a + f (b - a)``; in ladder order
                speed-<a>-<b>-at-<f>
    ==========  ========================  ==========================================

    Parameters
    ----------
    seed : int
        Seeds everything; the same seed gives the same session.
    preset : {"default", "paper"}
        Sizes and lengths (:data:`PRESETS`); an explicit ``n_exc``, ``n_inh``,
        ``n_iterations`` or ``n_steps`` wins.
    network : mapping, optional
        ``W_rec``, ``initial_cond``, ``readout``, ``initial_target``, ``novel_target``;
        the network's size then comes from the file (``n_exc``/``n_inh`` must not be given).
    n_exc, n_inh : int, optional
        Network size of a built network (paper: 100 + 100).
    n_iterations : int, optional
        Gain-learning iterations (paper: 5,000).
    n_groups : int, optional
        Modulatory groups, units assigned at random in equal numbers; default one group
        per unit (neuron-specific). The paper's grouped case is 40.
    n_primitives : int, default 2
        Library movements learned as primitives.
    speeds : tuple of float, default (0.8, 0.9, 1.1, 1.25)
        Speed factors of the initial movement whose gain patterns are learned (positive,
        distinct, not 1: speed 1 is the initial movement at gains 1).
    speed_fractions : tuple of float, default (0.5,)
        Interpolation points (in (0, 1)) between neighbouring rungs of the ladder.
    novel_similarity : float, default -0.8
        Correlation of a built network's novel movement with its initial one (the
        published pair's is -0.81).
    gain_bounds : (float, float), optional
        Clip the gains during learning (none by default: the paper's rule).
    tau, duration, n_steps, substeps :
        200 ms; 500 ms sampled at ``n_steps`` points inclusive (paper: 200, the authors'
        grid; with a network, the file's target length); RK4 steps per sample
        (:func:`simulate_gain_network`).
    readout_fit : {"nonnegative", "ridge"}, default "nonnegative"
        How a built network's readout is fitted (:func:`fit_readout`; the published
        readout is nonnegative and sparse).
    noise_std : float, default 0.001
        Exploration noise of the learning rule.
    radius : float, default 10.0
        Initial spectral abscissa of a built network.
    progress : callable, optional
        ``progress(stage, done, total)``.

    Returns
    -------
    ModelSession

    Examples
    --------
    >>> s = run_gain_modulation(0, n_exc=10, n_inh=10, n_iterations=20, radius=3.0)
    >>> s.model, s.n_units, sorted(set(s.trials["phase"].tolist()))
    ('gain-modulation', 20, ['after', 'before', 'combined', 'primitive', 'speed'])
    """
    from nwbmotor.models._session import ModelSession, NetworkSnapshot

    if preset not in PRESETS:
        raise NwbMotorValueError(f"run_gain_modulation: preset expected one of {sorted(PRESETS)}, got {preset!r}")
    chosen = {**PRESETS[preset], **{k: v for k, v in
                                    {"n_exc": n_exc, "n_inh": n_inh, "n_iterations": n_iterations,
                                     "n_steps": n_steps}.items()
                                    if v is not None}}
    n_iterations, n_steps = int(chosen["n_iterations"]), int(chosen["n_steps"])
    if gain_bounds is not None and (
        not isinstance(gain_bounds, (tuple, list)) or len(gain_bounds) != 2
        or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in gain_bounds)
    ):
        raise NwbMotorValueError(
            f"run_gain_modulation: gain_bounds expected 2 numbers (low <= 1, high >= 1), got {str(gain_bounds)[:100]}"
        )
    if gain_bounds is not None and not 0 <= gain_bounds[0] <= 1 <= gain_bounds[1]:
        raise NwbMotorValueError(f"run_gain_modulation: gain_bounds expected (low <= 1, high >= 1), got {gain_bounds}")
    if not -1 < novel_similarity < 1:
        raise NwbMotorValueError(f"run_gain_modulation: novel_similarity expected in (-1, 1), got {novel_similarity}")
    if n_primitives < 1:
        raise NwbMotorValueError(f"run_gain_modulation: n_primitives expected >= 1, got {n_primitives}")
    ladder = _speed_ladder(speeds)
    if not (isinstance(speed_fractions, (tuple, list)) and speed_fractions
            and all(_is_number(f) and 0 < f < 1 for f in speed_fractions)):
        raise NwbMotorValueError(
            f"run_gain_modulation: speed_fractions expected numbers in (0, 1), got {str(speed_fractions)[:100]}"
        )
    if n_iterations < 1:
        raise NwbMotorValueError(f"run_gain_modulation: n_iterations expected >= 1, got {n_iterations}")
    rng = np.random.default_rng(seed)
    report = progress or (lambda stage, done, total: None)

    if network is not None:
        if n_exc is not None or n_inh is not None:
            raise NwbMotorValueError("run_gain_modulation: n_exc/n_inh expected unset with a network (its size is the file's)")
        missing = [k for k in STROUD_FIELDS if k not in network]
        if missing:
            raise NwbMotorValueError(f"run_gain_modulation: network expected arrays {list(STROUD_FIELDS)}, missing {missing}")
        w = np.asarray(network["W_rec"], dtype=float)
        x0 = np.asarray(network["initial_cond"], dtype=float).ravel()
        readout = np.asarray(network["readout"], dtype=float).ravel()
        initial = np.asarray(network["initial_target"], dtype=float).ravel()
        novel = np.asarray(network["novel_target"], dtype=float).ravel()
        n = len(w)
        n_exc_, n_inh_ = readout.size - 1, n - (readout.size - 1)
        n_steps = initial.size
        bias, weights = float(readout[0]), readout[1:]
        source = "the given network"
    else:
        n_exc_, n_inh_ = int(chosen["n_exc"]), int(chosen["n_inh"])
        n = n_exc_ + n_inh_
        w = build_stability_optimized_network(
            n_exc_, n_inh_, rng=rng, radius=radius, progress=lambda k: report("network", k, 0)
        )
        x0 = most_amplified_state(w)
        source = "a stability-optimised circuit"
    dt = duration / (n_steps - 1)
    n_groups = n if n_groups is None else int(n_groups)
    if not 1 <= n_groups <= n:
        raise NwbMotorValueError(f"run_gain_modulation: n_groups expected 1..{n}, got {n_groups}")
    groups = rng.permutation(np.arange(n) % n_groups)
    ones = np.ones(n)

    def run(gains: np.ndarray) -> np.ndarray:
        with single_threaded_blas():
            return simulate_gain_network(w, x0, gains, n_steps=n_steps, tau=tau, dt=dt, substeps=substeps)

    base_rates = run(ones)
    if network is None:
        initial = make_movement_target(rng, n_steps)
        other = make_movement_target(rng, n_steps)
        other -= initial * (other @ initial) / (initial @ initial)
        novel = novel_similarity * initial + np.sqrt(1 - novel_similarity**2) * other / other.std()
        bias, weights = fit_readout(base_rates[:, :n_exc_], initial, method=readout_fit)
    level, spread = initial.mean(), initial.std()
    primitives = np.array([level + spread * make_movement_target(rng, n_steps) for _ in range(n_primitives)])

    def output(rates: np.ndarray) -> np.ndarray:
        return bias + rates[..., :n_exc_] @ weights

    learned_speeds = [v for v in ladder if v != 1.0]
    learners = ["novel", *(f"primitive-{i}" for i in range(n_primitives)), *(f"speed-{v:g}" for v in learned_speeds)]
    result = learn_gains(
        w, x0, (bias, weights), np.vstack([novel, primitives, *(time_scaled(initial, v) for v in learned_speeds)]),
        groups, rng=rng,
        n_iterations=n_iterations, noise_std=noise_std, tau=tau, dt=dt, substeps=substeps, gain_bounds=gain_bounds,
        progress=lambda k: report("gain learning", k, n_iterations),
    )
    learned = dict(zip(learners, result.best_gains))
    # The new movement is made of the library's: a mix of the primitive movements with weights
    # summing to 1 (drawn about the middle). A linear combination of their deviations rescaled
    # to the initial movement's spread is not in what the library spans: on the authors'
    # network the assembled pattern then cut E only from 2.76 to 2.48, while any mix is played
    # to E 0.01-0.04 (from 1.1-1.4; mixes 1/4, 1/2, 3/4) by the same mix of the gain patterns.
    mix = rng.dirichlet(np.full(n_primitives, 2.0))
    combination = mix @ primitives
    prim_gains = np.array([learned[f"primitive-{i}"] for i in range(n_primitives)])
    combined, _ = combine_gain_patterns(prim_gains, output(run(prim_gains)), output(base_rates), combination)
    rung = {v: ("initial" if v == 1.0 else f"speed-{v:g}") for v in ladder}
    pattern = {"initial": ones, **learned, "combined": combined}
    speed_rows = []  # (network, target speed), in ladder order
    for low, high in zip(ladder[:-1], ladder[1:]):
        speed_rows.append((rung[low], low))
        for f in sorted({float(f) for f in speed_fractions}):
            name = f"speed-{low:g}-{high:g}-at-{f:g}"
            pattern[name] = interpolate_gains(pattern[rung[low]], pattern[rung[high]], f)
            speed_rows.append((name, low + f * (high - low)))
    speed_rows.append((rung[ladder[-1]], ladder[-1]))

    comb_id = 2 + n_primitives
    plan = [  # (phase, network, target id, target, speed)
        ("before", "initial", 0, initial, 1.0),
        ("before", "initial", 1, novel, 1.0),
        ("after", "novel", 1, novel, 1.0),
        *[("primitive", f"primitive-{i}", 2 + i, primitives[i], 1.0) for i in range(n_primitives)],
        ("before", "initial", comb_id, combination, 1.0),
        ("combined", "combined", comb_id, combination, 1.0),
        *[("speed", name, comb_id + 1 + j, time_scaled(initial, s), s)
          for j, (name, s) in enumerate(speed_rows)],
    ]
    rates = run(np.array([pattern[p[1]] for p in plan]))
    outputs = output(rates)[..., None]
    targets = np.array([p[3] for p in plan])[..., None]
    measured = np.full((len(plan), 2), np.nan)
    for i, p in enumerate(plan):
        if p[0] == "speed":
            measured[i] = measure_speed(outputs[i, :, 0], initial)
    cell_type = np.array(["E"] * n_exc_ + ["I"] * n_inh_)
    snapshots = [
        NetworkSnapshot(
            phase=name, tau=tau, dt=dt, nonlinearity="gain_tanh_asymmetric",
            nonlinearity_params={"r0": R0, "rmax": RMAX}, integrator="rk4", substeps=substeps,
            weights={"W_rec": w, "readout": np.asarray(weights)[None, :]}, biases={"output": np.array([bias])},
            gains=gains, gain_groups=groups, initial_state=x0,
            connections={"readout": ("output", "network:E")},
        )
        for name, gains in pattern.items()
    ]
    iterations = np.tile(np.arange(n_iterations), len(learners))
    log = {
        "iteration": iterations,
        "loss": result.errors.T.ravel(),
        "phase": np.repeat(learners, n_iterations),
        "noise_std": np.full(len(iterations), noise_std),
        "n_groups": np.full(len(iterations), n_groups),
    }
    r2 = 1.0 - float(movement_error(outputs[0, :, 0], initial))
    return ModelSession(
        name=f"gain-modulation-seed{seed}",
        description=(
            f"Gain-modulation network (Stroud et al. 2018) from {source}: {n_exc_} E + {n_inh_} I units, "
            f"tau {tau * 1e3:g} ms, RK4 on {n_steps} samples over {duration * 1e3:g} ms; readout R^2 {r2:.4f} on the "
            f"initial movement; gain patterns learned by reward ({n_iterations} iterations, {n_groups} modulatory "
            f"groups, gains {'unbounded' if gain_bounds is None else f'bounded to {gain_bounds}'}) for a novel "
            f"movement, {n_primitives} primitives and the initial movement at "
            f"{', '.join(f'{v:g}x' for v in learned_speeds)} (speeds in between interpolated along the ladder)."
        ),
        dt=dt,
        model="gain-modulation",
        seed=seed,
        units={"module": np.array(["network"] * n), "cell_type": cell_type, "gain_group": groups},
        rates=rates,
        outputs=outputs,
        targets=targets,
        trials={**plan_trials(plan, outputs, targets), "speed": np.array([p[4] for p in plan]),
                "measured_speed": measured[:, 0], "shape_error": measured[:, 1],
                "interpolated": np.array([p[0] == "speed" and p[1] not in rung.values() for p in plan])},
        networks=snapshots,
        training_log=log,
        rate_unit="Hz",
        output_unit="a.u.",
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and np.isfinite(value)


def _speed_ladder(speeds: Any) -> list[float]:
    """The sorted speeds of the ladder: the learned ``speeds`` and 1 (the initial movement)."""
    if not (isinstance(speeds, (tuple, list)) and speeds and all(_is_number(v) and v > 0 for v in speeds)):
        raise NwbMotorValueError(
            f"run_gain_modulation: speeds expected positive numbers (speed factors to learn), got {str(speeds)[:100]}"
        )
    values = [float(v) for v in speeds]
    names = [f"{v:g}" for v in values]  # as the patterns are named (speed-<v:g>)
    if "1" in names or len(set(names)) != len(names):
        raise NwbMotorValueError(
            f"run_gain_modulation: speeds expected distinct and not 1 (speed 1 is the initial movement at gains 1), "
            f"got {list(speeds)}"
        )
    return sorted({1.0, *values})
