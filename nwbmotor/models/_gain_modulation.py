"""Gain modulation as a motor controller (Stroud, Porter, Hennequin & Vogels, 2018).

A fixed E/I rate network, ``tau dx/dt = -x + W f_g(x)``, runs without input from an
initial state ``x0``; its 500 ms transient is read out as a movement
``z(t) = b + sum_{i in E} w_i f_i(x_i(t))``. Each unit's nonlinearity has a gain:

    f_g(x) = r0 tanh(g x / r0)                 for x < 0
             (rmax - r0) tanh(g x / (rmax - r0)) for x >= 0,      r0 = 20, rmax = 100.

The readout is fitted once, by ridge-regularised least squares, to an *initial* target
with all gains 1. A *novel* target is then learned by changing the gains only, with a
reward-based rule acting on modulatory groups (see :func:`learn_gains`).

Network construction (:func:`build_stability_optimized_network`)
    A sparse random E/I matrix (density 0.1, E weights ``w0``, I weights ``-gamma w0``,
    spectral radius ``radius``, no autapses) is made stable by gradient descent on a
    *smoothed spectral abscissa* of ``W``: ``s(W) = T log sum_i exp(Re lambda_i / T)``,
    whose gradient is ``Re(V^-T diag(softmax(Re lambda / T)) V^T)`` (eigenvectors ``V``;
    first-order eigenvalue perturbation). Only the inhibitory columns move (any entry,
    so absent I connections and inhibitory self-connections may appear), clipped to
    stay <= 0 (E >= 0 is never touched), until the true spectral abscissa is below
    ``target_abscissa`` (0.15). This is a cheaper stand-in for Hennequin et al.'s (2014)
    Lyapunov-based smoothed abscissa with the same constraints; on this machine it needs
    ~200 eigendecompositions of a 200 x 200 matrix.

Integration: forward Euler, ``dt`` = 5 ms by default (tau / 40), 500 ms per movement.
The whole study (readout, learning, primitives, speed) is
:func:`nwbmotor.models.run_gain_modulation` (``_gain_study.py``).
The initial state is the most amplified direction of the linearised network (top
eigenvector of its observability Gramian), scaled to ``x0_scale`` at its largest entry.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import scipy.linalg

from nwbmotor._errors import NwbMotorValueError

__all__ = [
    "GainLearningResult",
    "build_stability_optimized_network",
    "combine_gain_patterns",
    "fit_readout",
    "gain_nonlinearity",
    "interpolate_gains",
    "learn_gains",
    "make_movement_target",
    "most_amplified_state",
    "movement_error",
    "plan_trials",
    "simulate_gain_network",
    "spectral_abscissa",
]

R0, RMAX = 20.0, 100.0


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run small dense linear algebra on one BLAS thread.

    On a shared machine, multi-threaded OpenBLAS makes a 200 x 200 eigendecomposition
    ~20x slower than one thread; the models' matrices are small, so one thread wins.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with the project's deps
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def spectral_abscissa(w: np.ndarray) -> float:
    """Largest real part of the eigenvalues of ``w``.

    Examples
    --------
    >>> round(spectral_abscissa(np.array([[0.0, 1.0], [-1.0, -0.5]])), 6)
    -0.25
    """
    return float(np.linalg.eigvals(w).real.max())


def gain_nonlinearity(x: np.ndarray, gains: np.ndarray | float = 1.0, r0: float = R0, rmax: float = RMAX) -> np.ndarray:
    """The asymmetric gain nonlinearity f_g(x) of Stroud et al. (2018).

    Examples
    --------
    >>> np.round(gain_nonlinearity(np.array([-1e3, 0.0, 1e3])), 6).tolist()
    [-20.0, 0.0, 80.0]
    """
    gx = np.asarray(gains) * x
    scale = np.where(gx < 0, r0, rmax - r0)
    return scale * np.tanh(gx / scale)


def build_stability_optimized_network(
    n_exc: int = 100,
    n_inh: int = 100,
    *,
    rng: np.random.Generator,
    density: float = 0.1,
    radius: float = 10.0,
    ei_ratio: float = 3.0,
    target_abscissa: float = 0.15,
    learning_rate: float = 0.2,
    temperature: float = 0.5,
    max_iterations: int = 3000,
    progress: Callable[[int], Any] | None = None,
) -> np.ndarray:
    """A sparse E/I weight matrix whose spectral abscissa is at most ``target_abscissa``.

    Parameters
    ----------
    n_exc, n_inh : int
        Numbers of excitatory and inhibitory units (E first).
    rng : numpy.random.Generator
    density : float
        Connection probability.
    radius : float
        Spectral radius of the initial random matrix (strong, non-normal amplification).
    ei_ratio : float
        Initial |I| / E weight ratio.
    target_abscissa : float
        Stop when the spectral abscissa is at most this.
    learning_rate : float
        Largest change of an inhibitory weight per step.
    temperature : float
        Smoothing of the spectral abscissa (log-sum-exp temperature).
    max_iterations : int
    progress : callable, optional
        Called with the number of steps done.

    Returns
    -------
    ndarray of shape (n, n)
        ``W[post, pre]``; columns ``:n_exc`` are >= 0, the rest <= 0.

    Raises
    ------
    NwbMotorValueError
        If the abscissa does not reach the target within ``max_iterations``.

    Examples
    --------
    >>> w = build_stability_optimized_network(20, 20, rng=np.random.default_rng(0), radius=3.0)
    >>> spectral_abscissa(w) <= 0.15, bool((w[:, :20] >= 0).all()), bool((w[:, 20:] <= 0).all())
    (True, True, True)
    """
    n = n_exc + n_inh
    w0 = radius / np.sqrt(n * density * (1 - density) * (1 + ei_ratio**2) / 2)
    mask = rng.random((n, n)) < density
    np.fill_diagonal(mask, False)
    w = np.zeros((n, n))
    w[:, :n_exc] = w0
    w[:, n_exc:] = -ei_ratio * w0
    w *= mask
    with single_threaded_blas():
        for step in range(max_iterations):
            lam, vecs = np.linalg.eig(w)
            top = lam.real.max()
            if top <= target_abscissa:
                return w
            weights = np.exp((lam.real - top) / temperature)
            weights /= weights.sum()
            try:
                left = np.linalg.inv(vecs)
            except np.linalg.LinAlgError:  # defective matrix (e.g. sparse rows): least-squares left vectors
                left = np.linalg.pinv(vecs)
            grad = np.real(left.T @ (weights[:, None] * vecs.T))
            grad /= np.abs(grad[:, n_exc:]).max() + 1e-300
            w[:, n_exc:] = np.minimum(w[:, n_exc:] - learning_rate * grad[:, n_exc:], 0.0)
            if progress is not None:
                progress(step + 1)
    raise NwbMotorValueError(
        f"build_stability_optimized_network: spectral abscissa expected <= {target_abscissa} after "
        f"{max_iterations} steps, got {spectral_abscissa(w):.3f}; raise max_iterations or lower radius"
    )


def most_amplified_state(w: np.ndarray, scale: float) -> np.ndarray:
    """The initial state evoking the largest linear transient, scaled to ``max |x0| = scale``.

    Top eigenvector of the observability Gramian ``Q`` of ``dx/dt = (W - I) x``
    (``(W - I)^T Q + Q (W - I) = -I``), sign chosen so its mean is positive.

    Examples
    --------
    >>> x0 = most_amplified_state(np.zeros((3, 3)), 2.0)
    >>> float(np.abs(x0).max())
    2.0
    """
    a = w - np.eye(len(w))
    gram = scipy.linalg.solve_continuous_lyapunov(a.T, -np.eye(len(w)))
    _, vecs = np.linalg.eigh((gram + gram.T) / 2)
    x0 = vecs[:, -1]
    x0 = x0 if x0.sum() >= 0 else -x0
    return x0 * (scale / np.abs(x0).max())


def simulate_gain_network(
    w: np.ndarray,
    x0: np.ndarray,
    gains: np.ndarray,
    *,
    n_steps: int,
    tau: float = 0.2,
    dt: float = 0.005,
    r0: float = R0,
    rmax: float = RMAX,
) -> np.ndarray:
    """Integrate ``tau dx/dt = -x + W f_g(x)`` from ``x0``; return the rates.

    Forward Euler: ``r_t = f_g(x_t)``, ``x_{t+1} = x_t + dt/tau (-x_t + W r_t)``.

    Parameters
    ----------
    w : ndarray of shape (n, n)
    x0 : ndarray of shape (n,)
    gains : ndarray of shape (n,) or (batch, n)
        One gain pattern, or a batch simulated together.
    n_steps : int

    Returns
    -------
    ndarray of shape (n_steps, n) or (batch, n_steps, n)

    Examples
    --------
    >>> r = simulate_gain_network(np.zeros((2, 2)), np.array([1.0, -1.0]), np.ones(2), n_steps=3, dt=0.1)
    >>> r.shape
    (3, 2)
    """
    gains = np.asarray(gains, dtype=float)
    single = gains.ndim == 1
    g = np.atleast_2d(gains)
    x = np.broadcast_to(np.asarray(x0, dtype=float), g.shape).copy()
    out = np.empty((g.shape[0], n_steps, g.shape[1]))
    alpha = dt / tau
    wt = np.ascontiguousarray(w.T)
    top = rmax - r0
    for t in range(n_steps):
        gx = g * x
        scale = np.where(gx < 0, r0, top)
        r = scale * np.tanh(gx / scale)
        out[:, t] = r
        x += alpha * (r @ wt - x)
    return out[0] if single else out


def fit_readout(rates_exc: np.ndarray, target: np.ndarray, *, ridge: float = 1e3) -> tuple[float, np.ndarray]:
    """Fit ``z = b + rates_exc @ w`` to ``target`` by ridge-regularised least squares.

    The bias is not penalised.

    Returns
    -------
    (float, ndarray of shape (n_exc,))
        Bias ``b`` and weights ``w``.

    Examples
    --------
    >>> r = np.random.default_rng(0).normal(size=(50, 3))
    >>> b, w = fit_readout(r, 2.0 + r @ np.array([1.0, 0.0, -1.0]), ridge=0.0)
    >>> round(b, 6), (np.round(w, 6) + 0.0).tolist()
    (2.0, [1.0, 0.0, -1.0])
    """
    design = np.c_[np.ones(len(rates_exc)), rates_exc]
    penalty = ridge * np.eye(design.shape[1])
    penalty[0, 0] = 0.0
    coef = np.linalg.solve(design.T @ design + penalty, design.T @ target)
    return float(coef[0]), coef[1:]


def movement_error(z: np.ndarray, target: np.ndarray) -> np.ndarray:
    """E = sum_t (z - target)^2 / sum_t (target - mean target)^2, over the last axis.

    Examples
    --------
    >>> float(movement_error(np.zeros(4), np.array([1.0, -1.0, 1.0, -1.0])))
    1.0
    """
    centred = target - target.mean(axis=-1, keepdims=True)
    return np.sum((z - target) ** 2, axis=-1) / np.sum(centred**2, axis=-1)


def plan_trials(plan: list[tuple], outputs: np.ndarray, targets: np.ndarray) -> dict[str, np.ndarray]:
    """Trial columns of a gain-model session run as ``plan``: one ``(phase, network,
    target id, ...)`` tuple per trial; ``outputs``/``targets`` of shape (trial, time, 1).

    Examples
    --------
    >>> cols = plan_trials([("before", "initial", 0)], np.ones((1, 5, 1)), np.arange(5.0)[None, :, None])
    >>> cols["phase"].tolist(), cols["target_id"].tolist()
    (['before'], [0])
    """
    n_trials = len(plan)
    return {
        "target_id": np.array([p[2] for p in plan]),
        "target_angle": np.full(n_trials, np.nan),
        "perturbation": np.zeros(n_trials),
        "phase": np.array([p[0] for p in plan]),
        "go_time": np.zeros(n_trials),
        "cue_time": np.full(n_trials, np.nan),
        "network": np.array([p[1] for p in plan]),
        "error": movement_error(outputs[..., 0], targets[..., 0]),
    }


def make_movement_target(rng: np.random.Generator, n_steps: int, dt: float, *, n_bumps: int = 4,
                         speed: float = 1.0, shape: np.ndarray | None = None) -> np.ndarray:
    """A movement-like target: smooth, zero at start and end, zero mean, unit std.

    A sum of ``n_bumps`` Gaussian bumps under a sin^2 window, its mean removed with the
    window. With ``shape`` (a target made earlier), returns that movement played
    ``speed`` times faster (time-compressed, then at rest).

    Examples
    --------
    >>> z = make_movement_target(np.random.default_rng(0), 100, 0.005)
    >>> round(float(z.std()), 6), abs(float(z[0])) < 1e-9
    (1.0, True)
    """
    duration = n_steps * dt
    t = np.arange(n_steps) * dt
    if shape is not None:
        warped = np.interp(t * speed, t, shape, right=0.0)
        return warped
    z = np.zeros(n_steps)
    for _ in range(n_bumps):
        centre = rng.uniform(0.2, 0.8) * duration
        width = rng.uniform(0.06, 0.12) * duration
        z += rng.normal() * np.exp(-((t - centre) ** 2) / (2 * width**2))
    window = np.sin(np.pi * t / duration) ** 2
    z *= window
    z -= window * z.sum() / window.sum()
    return z / z.std()


@dataclasses.dataclass
class GainLearningResult:
    """Output of :func:`learn_gains` for a batch of targets.

    Attributes
    ----------
    best_gains : ndarray of shape (batch, n)
        Lowest-error gains of each target.
    best_error : ndarray of shape (batch,)
    initial_error : ndarray of shape (batch,)
        Error with all gains 1.
    errors : ndarray of shape (n_iterations, batch)
        Error at every iteration.
    """

    best_gains: np.ndarray
    best_error: np.ndarray
    initial_error: np.ndarray
    errors: np.ndarray


def learn_gains(
    w: np.ndarray,
    x0: np.ndarray,
    readout: tuple[float, np.ndarray],
    targets: np.ndarray,
    groups: np.ndarray,
    *,
    rng: np.random.Generator,
    n_iterations: int = 5000,
    noise_std: float = 0.001,
    filter_old: float = 0.3,
    tau: float = 0.2,
    dt: float = 0.005,
    n_exc: int | None = None,
    gain_bounds: tuple[float, float] | None = None,
    progress: Callable[[int], Any] | None = None,
) -> GainLearningResult:
    """Learn gain patterns for ``targets`` with the reward-based rule of Stroud et al.

    Every iteration, for each target independently (simulated as one batch):

    1. run the network with gains ``g`` and measure the error ``E``;
    2. low-pass filter: ``Ebar <- 0.3 Ebar + 0.7 E``, ``gbar <- 0.3 gbar + 0.7 g``;
    3. ``R = sign(Ebar - E)`` (+1 when better than the recent average);
    4. ``g <- g + R (g - gbar) + xi``, ``xi ~ N(0, noise_std^2)`` drawn once per
       modulatory group and shared by its units.

    The averages are updated before ``R`` is computed (step 2 before 3): with the other
    order the term ``R (g - gbar)`` grows by 1.3x on every rewarded step and the gains
    diverge. The gains with the lowest error are kept.

    Parameters
    ----------
    w, x0 : ndarray
        Network and initial state.
    readout : (float, ndarray of shape (n_exc,))
        Bias and weights on the excitatory rates (units ``:n_exc``).
    targets : ndarray of shape (batch, n_steps)
    groups : ndarray of int of shape (n,)
        Modulatory group of each unit, 0 .. n_groups - 1.
    rng : numpy.random.Generator
    n_iterations : int, default 5000
    noise_std : float, default 0.001
    filter_old : float, default 0.3
        Weight of the old value in the low-pass filters.
    gain_bounds : (float, float), optional
        Clip the gains to this range after every update (none by default, as in the
        paper).
    progress : callable, optional
        Called with the number of iterations done (at 0, every 50, and at the end).

    Returns
    -------
    GainLearningResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> w = build_stability_optimized_network(10, 10, rng=rng, radius=3.0)
    >>> x0 = most_amplified_state(w, 20.0)
    >>> t0 = make_movement_target(rng, 40, 0.005); t1 = make_movement_target(rng, 40, 0.005)
    >>> b, wo = fit_readout(simulate_gain_network(w, x0, np.ones(20), n_steps=40)[:, :10], t0)
    >>> res = learn_gains(w, x0, (b, wo), t1[None], np.arange(20), rng=rng, n_iterations=200)
    >>> bool(res.best_error[0] <= res.initial_error[0])
    True
    """
    n = len(w)
    n_exc = len(readout[1]) if n_exc is None else n_exc
    targets = np.atleast_2d(targets)
    batch, n_steps = targets.shape
    groups = np.asarray(groups)
    n_groups = int(groups.max()) + 1
    bias, weights = readout

    def errors_of(g: np.ndarray) -> np.ndarray:
        rates = simulate_gain_network(w, x0, g, n_steps=n_steps, tau=tau, dt=dt)
        return movement_error(bias + rates[:, :, :n_exc] @ weights, targets)

    g = np.ones((batch, n))
    with single_threaded_blas():
        e = errors_of(g)
        initial = e.copy()
        e_bar, g_bar = e.copy(), g.copy()
        best_e, best_g = e.copy(), g.copy()
        history = np.empty((n_iterations, batch))
        if progress is not None:
            progress(0)
        for it in range(n_iterations):
            e = errors_of(g)
            history[it] = e
            better = e < best_e
            best_e[better], best_g[better] = e[better], g[better]
            e_bar = filter_old * e_bar + (1 - filter_old) * e
            g_bar = filter_old * g_bar + (1 - filter_old) * g
            reward = np.sign(e_bar - e)[:, None]
            xi = rng.normal(0.0, noise_std, (batch, n_groups))[:, groups]
            g = g + reward * (g - g_bar) + xi
            if gain_bounds is not None:
                g = np.clip(g, gain_bounds[0], gain_bounds[1])
            if progress is not None and ((it + 1) % 50 == 0 or it + 1 == n_iterations):
                progress(it + 1)
    return GainLearningResult(best_gains=best_g, best_error=best_e, initial_error=initial, errors=history)


def combine_gain_patterns(
    library_gains: np.ndarray, library_outputs: np.ndarray, baseline_output: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Assemble a gain pattern for a new movement from a library of learned patterns.

    The new movement is written as the baseline movement (gains 1) plus a combination
    of the library's changes, ``target - z_1 ~ sum_k c_k (z_k - z_1)`` (least squares),
    and the same combination is applied to the gains: ``g = 1 + sum_k c_k (g_k - 1)``
    (clipped at 0: a gain is never negative).
    Near gains of 1 the output is close to linear in the gains, so the assembled
    pattern produces approximately the combined movement without new learning.

    Parameters
    ----------
    library_gains : ndarray of shape (k, n)
    library_outputs : ndarray of shape (k, n_steps)
        Output of the network with each pattern.
    baseline_output : ndarray of shape (n_steps,)
        Output with all gains 1.
    target : ndarray of shape (n_steps,)

    Returns
    -------
    (ndarray of shape (n,), ndarray of shape (k,))
        The combined gains and the coefficients ``c``.

    Examples
    --------
    >>> g, c = combine_gain_patterns(np.array([[2.0, 1.0]]), np.array([[1.0, 1.0]]), np.zeros(2), np.full(2, 0.5))
    >>> np.round(g, 6).tolist(), np.round(c, 6).tolist()
    ([1.5, 1.0], [0.5])
    """
    deltas = library_outputs - baseline_output
    coef, *_ = np.linalg.lstsq(deltas.T, target - baseline_output, rcond=None)
    return np.maximum(1.0 + coef @ (library_gains - 1.0), 0.0), coef


def interpolate_gains(slow: np.ndarray, fast: np.ndarray, fraction: float) -> np.ndarray:
    """Gain pattern between two patterns: ``(1 - fraction) slow + fraction fast``.

    Speed control: interpolating between the patterns of one movement at two speeds
    gives intermediate speeds with the movement's shape kept.

    Examples
    --------
    >>> interpolate_gains(np.ones(2), np.full(2, 2.0), 0.25).tolist()
    [1.25, 1.25]
    """
    return (1.0 - fraction) * np.asarray(slow) + fraction * np.asarray(fast)
