"""Gain modulation as a motor controller (Stroud, Porter, Hennequin & Vogels, 2018).

A fixed E/I rate network, ``tau dx/dt = -x + W f_g(x)``, runs without input from an
initial state ``x0``; its 500 ms transient is read out as a movement
``z(t) = b + sum_{i in E} w_i f_i(x_i(t))``. Each unit's nonlinearity has a gain:

    f_g(x) = r0 tanh(g x / r0)                 for x < 0
             (rmax - r0) tanh(g x / (rmax - r0)) for x >= 0,      r0 = 20, rmax = 100.

A *novel* target is learned by changing the gains only, with a reward-based rule acting
on modulatory groups (:func:`learn_gains`); the weights and the readout stay fixed.

Values are those of the authors' code (``train_neuronal_gains.m``,
``integrate_dynamics.m``, ``initialnet.m``, ``soc_function.m``):

- time grid: ``n_steps`` samples spanning ``[0, duration]`` *inclusive*
  (``linspace(0, 500 ms, 200)``: a step of 500/199 = 2.513 ms), tau = 200 ms;
- integration (:func:`simulate_gain_network`): classical 4th-order Runge-Kutta on that
  grid (``substeps`` per sample), or an adaptive Runge-Kutta 4(5) like the authors'
  ``ode45`` (``method="adaptive"``). On the published network RK4 at the grid is within
  4e-4 of a 1e-11-tolerance solution (halving the step: 2e-5), closer than ``ode45``
  at its default tolerances; forward Euler at the grid is not (R^2 0.89, not 0.99);
- the initial state is the most amplified direction of the linearised network, norm
  ``1.5 sqrt(N)`` (:func:`most_amplified_state`; the published ``initial_cond`` is
  exactly that vector);
- the network (:func:`build_stability_optimized_network`) is a stability-optimised
  circuit (Hennequin, Vogels & Gerstner 2014) built as in the authors' code.

The whole study (readout, learning, primitives, speed) is
:func:`nwbmotor.models.run_gain_modulation` (``_gain_study.py``).
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
    "initial_network",
    "interpolate_gains",
    "learn_gains",
    "make_movement_target",
    "measure_speed",
    "most_amplified_state",
    "movement_error",
    "plan_trials",
    "simulate_gain_network",
    "spectral_abscissa",
    "time_scaled",
]

R0, RMAX = 20.0, 100.0
#: The authors' sample step: 200 samples over [0, 500 ms] inclusive, in seconds.
AUTHORS_DT = 0.5 / 199


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

    The branch follows the sign of ``x`` (as in the authors' code), the gain scales
    the slope.

    Examples
    --------
    >>> np.round(gain_nonlinearity(np.array([-1e3, 0.0, 1e3])), 6).tolist()
    [-20.0, 0.0, 80.0]
    """
    x = np.asarray(x, dtype=float)
    scale = np.where(x < 0, r0, rmax - r0)
    return scale * np.tanh(np.asarray(gains) * x / scale)


def initial_network(
    n_exc: int, n_inh: int, *, rng: np.random.Generator, density: float = 0.1, radius: float = 10.0,
    ei_ratio: float = 3.0,
) -> np.ndarray:
    """The random E/I matrix a stability-optimised circuit starts from (``initialnet.m``).

    Exactly ``round(density N (N - 1))`` off-diagonal entries are non-zero (no
    self-connections); excitatory ones are ``w0 / sqrt(N)`` with
    ``w0 = sqrt(2) radius / sqrt(density (1 - density) (1 + ei_ratio^2))``, inhibitory
    ones ``-ei_ratio`` times that. Its spectral abscissa is about ``radius``.

    Examples
    --------
    >>> w = initial_network(100, 100, rng=np.random.default_rng(0))
    >>> int((w != 0).sum()), round(float(w[w > 0][0]), 5)
    (3980, 1.05409)
    """
    n = n_exc + n_inh
    off = np.flatnonzero(~np.eye(n, dtype=bool))
    chosen = rng.choice(off, int(round(density * n * (n - 1))), replace=False)
    flat = np.zeros(n * n)
    flat[chosen] = np.sqrt(2) * radius / np.sqrt(density * (1 - density) * (1 + ei_ratio**2)) / np.sqrt(n)
    w = flat.reshape(n, n)
    w[:, n_exc:] *= -ei_ratio
    return w


def _soc_constraints(w: np.ndarray, n_exc: int, ei_ratio: float, inh_density: float) -> np.ndarray:
    """Project inhibitory columns: sign, block means, sparsity, no self-loops (in place)."""
    inh = w[:, n_exc:]
    inh[inh > 0] = 0.0
    mean_ee, mean_ie = w[:n_exc, :n_exc].mean(), w[n_exc:, :n_exc].mean()  # blocks W[post, pre]
    for rows, mean_exc in ((slice(None, n_exc), mean_ee), (slice(n_exc, None), mean_ie)):
        block = w[rows, n_exc:]
        mean_inh = block.mean()
        if mean_inh < 0:
            block *= -ei_ratio * mean_exc / mean_inh
    flat = w[:, n_exc:].ravel()
    order = np.argsort(flat, kind="stable")
    flat[order[int(round(inh_density * flat.size)) - 1:]] = 0.0  # the authors keep round(p n) - 1
    w[:, n_exc:] = flat.reshape(len(w), -1)
    np.fill_diagonal(w, 0.0)
    return w


def _schur_abscissa(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    t, z = scipy.linalg.schur(w, output="real")
    return t, z, float(np.diag(t).max())  # 2x2 blocks of the standard form have the real part on the diagonal


def _smoothed_abscissa_gradient(t: np.ndarray, z: np.ndarray, abscissa: float) -> np.ndarray:
    """Q P / tr(Q P) for ``A = W - s I`` (Hennequin et al. 2014), from the real Schur form of W."""
    from scipy.linalg.lapack import dtrsyl

    n = len(t)
    s = max(1.5 * abscissa, abscissa + 0.2)
    shifted = t - s * np.eye(n)
    rhs = -2.0 * np.eye(n)
    p, p_scale, _ = dtrsyl(shifted, shifted, rhs, trana="N", tranb="T")  # A P + P A' = -2 I
    q, q_scale, _ = dtrsyl(shifted, shifted, rhs, trana="T", tranb="N")  # A' Q + Q A = -2 I
    qp = z @ ((q / q_scale) @ (p / p_scale)) @ z.T
    return qp / np.trace(qp)


def build_stability_optimized_network(
    n_exc: int = 100,
    n_inh: int = 100,
    *,
    rng: np.random.Generator,
    density: float = 0.1,
    radius: float = 10.0,
    ei_ratio: float = 3.0,
    inh_density: float = 0.4,
    target_abscissa: float = 0.15,
    learning_rate: float = 10.0,
    adaptive_rate: bool = True,
    max_iterations: int = 3000,
    progress: Callable[[int], Any] | None = None,
) -> np.ndarray:
    """A stability-optimised circuit (SOC): spectral abscissa at most ``target_abscissa``.

    As in the authors' ``soc_function.m`` (after Hennequin, Vogels & Gerstner 2014):
    from :func:`initial_network`, repeat until the spectral abscissa ``a`` is at most
    ``target_abscissa``:

    1. gradient of the smoothed spectral abscissa at ``s = max(1.5 a, a + 0.2)``:
       ``Q P / tr(Q P)``, with ``A = W - s I``, ``A' Q + Q A = -2 I``, ``A P + P A' = -2 I``;
    2. inhibitory columns only: ``W_I <- W_I - rate * grad_I`` (E weights never move);
    3. constraints: positive inhibitory weights set to 0; the I -> E block rescaled to
       mean ``-ei_ratio`` x mean(E -> E), the I -> I block to ``-ei_ratio`` x
       mean(E -> I); only the ``inh_density`` fraction of strongest inhibitory weights
       kept; self-connections removed.

    The authors use a fixed rate of 10 and no iteration limit; with it, 2,000 steps of a
    N = 200 network end at an abscissa of ~0.153. ``adaptive_rate`` (default) grows the
    rate by 1.1 after a step that lowered the abscissa and halves it (not below
    ``learning_rate``) after one that raised it: the same steps and constraints, reaching
    0.15 in ~350-500 steps (~1 min at N = 200). Each step costs one real Schur
    decomposition (the eigenvalues and both Gramians come from it).

    Parameters
    ----------
    n_exc, n_inh : int
        Numbers of excitatory and inhibitory units (E first).
    rng : numpy.random.Generator
    density : float, default 0.1
        Connection probability of the initial matrix (stays that of the E weights).
    radius : float, default 10.0
        Approximate spectral abscissa of the initial matrix.
    ei_ratio : float, default 3.0
        Mean |I| / E ratio (``gamma``).
    inh_density : float, default 0.4
        Fraction of inhibitory weights kept non-zero.
    target_abscissa : float, default 0.15
    learning_rate : float, default 10.0
    adaptive_rate : bool, default True
    max_iterations : int, default 3000
    progress : callable, optional
        Called with the number of steps done.

    Returns
    -------
    ndarray of shape (n, n)
        ``W[post, pre]``; columns ``:n_exc`` are >= 0, the rest <= 0, zero diagonal.

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
    w = initial_network(n_exc, n_inh, rng=rng, density=density, radius=radius, ei_ratio=ei_ratio)
    rate = float(learning_rate)
    with single_threaded_blas():
        t, z, abscissa = _schur_abscissa(w)
        for step in range(max_iterations):
            if abscissa <= target_abscissa:
                break
            grad = _smoothed_abscissa_gradient(t, z, abscissa)
            w = w.copy()
            w[:, n_exc:] -= rate * grad[:, n_exc:]
            w = _soc_constraints(w, n_exc, ei_ratio, inh_density)
            t, z, new = _schur_abscissa(w)
            if adaptive_rate:
                rate = rate * 1.1 if new < abscissa else max(rate / 2, learning_rate)
            abscissa = new
            if progress is not None:
                progress(step + 1)
        final = spectral_abscissa(w)
    if final > target_abscissa:
        raise NwbMotorValueError(
            f"build_stability_optimized_network: spectral abscissa expected <= {target_abscissa} after "
            f"{max_iterations} steps, got {final:.3f}; raise max_iterations or lower radius"
        )
    return w


def most_amplified_state(w: np.ndarray, norm: float | None = None) -> np.ndarray:
    """The initial state evoking the largest linear transient, of Euclidean norm ``norm``.

    Top eigenvector of the observability Gramian ``Q`` of ``dx/dt = (W - I) x``
    (``(W - I)' Q + Q (W - I) = -I``), sign chosen so its sum is >= 0. ``norm``
    defaults to ``1.5 sqrt(N)``, the norm of the authors' published ``initial_cond``
    (which is this vector up to sign).

    Examples
    --------
    >>> x0 = most_amplified_state(np.zeros((4, 4)))
    >>> float(np.linalg.norm(x0))
    3.0
    """
    n = len(w)
    norm = 1.5 * np.sqrt(n) if norm is None else float(norm)
    a = w - np.eye(n)
    gram = scipy.linalg.solve_continuous_lyapunov(a.T, -np.eye(n))
    _, vecs = np.linalg.eigh((gram + gram.T) / 2)
    x0 = vecs[:, -1]
    x0 = x0 if x0.sum() >= 0 else -x0
    return x0 * (norm / np.linalg.norm(x0))


def simulate_gain_network(
    w: np.ndarray,
    x0: np.ndarray,
    gains: np.ndarray,
    *,
    n_steps: int,
    tau: float = 0.2,
    dt: float = AUTHORS_DT,
    method: str = "rk4",
    substeps: int = 1,
    r0: float = R0,
    rmax: float = RMAX,
) -> np.ndarray:
    """Integrate ``tau dx/dt = -x + W f_g(x)`` from ``x0``; return the rates at the samples.

    Sample ``k`` is at ``k dt`` (sample 0 is ``f_g(x0)``).

    Parameters
    ----------
    w : ndarray of shape (n, n)
    x0 : ndarray of shape (n,)
    gains : ndarray of shape (n,) or (batch, n)
        One gain pattern, or a batch simulated together.
    n_steps : int
        Number of samples.
    tau, dt : float
        Seconds; ``dt`` defaults to the authors' grid (500 ms over 200 samples, inclusive).
    method : {"rk4", "adaptive", "euler"}
        "rk4": classical Runge-Kutta, ``substeps`` steps per sample (default 1: converged
        to ~1e-4 of the output's scale on the published network); "adaptive":
        ``scipy.integrate.solve_ivp`` RK45 (the method of MATLAB's ``ode45``) at rtol 1e-8,
        atol 1e-10, output on the samples; "euler": forward Euler (too coarse at the
        authors' grid, kept for comparison).
    substeps : int, default 1
    r0, rmax : float

    Returns
    -------
    ndarray of shape (n_steps, n) or (batch, n_steps, n)

    Examples
    --------
    >>> r = simulate_gain_network(np.zeros((2, 2)), np.array([1.0, -1.0]), np.ones(2), n_steps=3, dt=0.1)
    >>> r.shape
    (3, 2)
    """
    if method not in ("rk4", "adaptive", "euler"):
        raise NwbMotorValueError(f"simulate_gain_network: method expected 'rk4', 'adaptive' or 'euler', got {method!r}")
    if int(substeps) < 1:
        raise NwbMotorValueError(f"simulate_gain_network: substeps expected >= 1, got {substeps}")
    gains = np.asarray(gains, dtype=float)
    single = gains.ndim == 1
    g = np.atleast_2d(gains)
    x = np.broadcast_to(np.asarray(x0, dtype=float), g.shape).copy()
    wt = np.ascontiguousarray(np.asarray(w, dtype=float).T)
    top = rmax - r0

    def rates(state: np.ndarray) -> np.ndarray:
        scale = np.where(state < 0, r0, top)
        y = g * state
        y /= scale
        np.tanh(y, out=y)
        y *= scale
        return y

    out = np.empty((g.shape[0], n_steps, g.shape[1]))
    if method == "adaptive":
        from scipy.integrate import solve_ivp

        times = np.arange(n_steps) * dt
        for b in range(g.shape[0]):
            gb = g[b]

            def rhs(_t: float, state: np.ndarray, gb: np.ndarray = gb) -> np.ndarray:
                scale = np.where(state < 0, r0, top)
                return (scale * np.tanh(gb * state / scale) @ wt - state) / tau

            sol = solve_ivp(rhs, (0.0, times[-1]), x[b], method="RK45", t_eval=times, rtol=1e-8, atol=1e-10)
            states = sol.y.T
            scale = np.where(states < 0, r0, top)
            out[b] = scale * np.tanh(gb * states / scale)
        return out[0] if single else out
    out[:, 0] = rates(x)
    if method == "euler":
        a = dt / tau / substeps
        for k in range(1, n_steps):
            for _ in range(substeps):
                x += a * (rates(x) @ wt - x)
            out[:, k] = rates(x)
        return out[0] if single else out
    a = dt / tau / substeps
    half = a / 2
    for k in range(1, n_steps):
        for _ in range(substeps):
            k1 = rates(x) @ wt
            k1 -= x
            mid = x + half * k1
            k2 = rates(mid) @ wt
            k2 -= mid
            mid = x + half * k2
            k3 = rates(mid) @ wt
            k3 -= mid
            end = x + a * k3
            k4 = rates(end) @ wt
            k4 -= end
            k2 += k3
            k2 *= 2
            k1 += k2
            k1 += k4
            k1 *= a / 6
            x += k1
        out[:, k] = rates(x)
    return out[0] if single else out


def fit_readout(rates_exc: np.ndarray, target: np.ndarray, *, method: str = "nonnegative",
                ridge: float = 1e3) -> tuple[float, np.ndarray]:
    """Fit ``z = b + rates_exc @ w`` to ``target``.

    ``method="nonnegative"`` (default): least squares with ``w >= 0`` (the bias is
    free), as the authors' published readout is: all 17 of its non-zero weights are
    positive, the other 83 zero, the bias ~0. Such a sparse readout leaves the output
    sensitive to the gains of few units; on the published network a ridge readout of the
    same R^2 learns the novel target ~5x slower. ``method="ridge"``: ridge-regularised
    least squares (``ridge``; the bias is not penalised).

    Returns
    -------
    (float, ndarray of shape (n_exc,))
        Bias ``b`` and weights ``w``.

    Examples
    --------
    >>> r = np.random.default_rng(0).uniform(size=(50, 3))
    >>> b, w = fit_readout(r, 2.0 + r @ np.array([1.0, 0.0, 3.0]))
    >>> round(b, 6), (np.round(w, 6) + 0.0).tolist()
    (2.0, [1.0, 0.0, 3.0])
    >>> b, w = fit_readout(r, 2.0 + r @ np.array([1.0, 0.0, -1.0]), method="ridge", ridge=0.0)
    >>> round(b, 6), (np.round(w, 6) + 0.0).tolist()
    (2.0, [1.0, 0.0, -1.0])
    """
    if method == "nonnegative":
        from scipy.optimize import nnls

        ones = np.ones((len(rates_exc), 1))
        coef, _ = nnls(np.hstack([ones, -ones, rates_exc]), np.asarray(target, dtype=float))
        return float(coef[0] - coef[1]), coef[2:]
    if method != "ridge":
        raise NwbMotorValueError(f"fit_readout: method expected 'nonnegative' or 'ridge', got {method!r}")
    design = np.c_[np.ones(len(rates_exc)), rates_exc]
    penalty = ridge * np.eye(design.shape[1])
    penalty[0, 0] = 0.0
    coef = np.linalg.solve(design.T @ design + penalty, design.T @ target)
    return float(coef[0]), coef[1:]


def movement_error(z: np.ndarray, target: np.ndarray) -> np.ndarray:
    """E = sum_t (z - target)^2 / sum_t (target - mean target)^2, over the last axis.

    ``1 - E`` on the target a readout was fitted to is its R^2.

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


def make_movement_target(rng: np.random.Generator, n_steps: int, *, n_bumps: int = 4) -> np.ndarray:
    """A movement-like target: smooth, zero at start and end, zero mean, unit std.

    A sum of ``n_bumps`` Gaussian bumps under a sin^2 window, its mean removed with the
    window.

    Examples
    --------
    >>> z = make_movement_target(np.random.default_rng(0), 100)
    >>> round(float(z.std()), 6), abs(float(z[0])) < 1e-9
    (1.0, True)
    """
    t = np.linspace(0.0, 1.0, n_steps)
    z = np.zeros(n_steps)
    for _ in range(n_bumps):
        centre, width = rng.uniform(0.2, 0.8), rng.uniform(0.06, 0.12)
        z += rng.normal() * np.exp(-((t - centre) ** 2) / (2 * width**2))
    window = np.sin(np.pi * t) ** 2
    z *= window
    z -= window * z.sum() / window.sum()
    return z / z.std()


def time_scaled(shape: np.ndarray, speed: float) -> np.ndarray:
    """The movement ``shape`` played ``speed`` times faster on the same samples.

    ``out[k] = shape(k speed)`` (linear interpolation); past the movement's end the
    last value is held; a slower movement (``speed < 1``) is cut at the window's end.

    Examples
    --------
    >>> time_scaled(np.array([0.0, 1.0, 2.0, 3.0, 4.0]), 2.0).tolist()
    [0.0, 2.0, 4.0, 4.0, 4.0]
    """
    k = np.arange(len(shape), dtype=float)
    return np.interp(k * speed, k, shape)


def measure_speed(output: np.ndarray, shape: np.ndarray, speeds: np.ndarray | None = None) -> tuple[float, float]:
    """Speed of ``output`` as a time-scaled copy of ``shape``, and the error at that speed.

    Scans ``speeds`` (default 0.4 .. 2.5 in steps of 0.01) for the time scaling of
    ``shape`` (:func:`time_scaled`) closest to ``output`` (lowest :func:`movement_error`).

    Returns
    -------
    (float, float)
        The best speed factor and the movement error there (the shape mismatch).

    Examples
    --------
    >>> shape = np.sin(np.linspace(0, np.pi, 100)) ** 2
    >>> s, e = measure_speed(time_scaled(shape, 1.3), shape)
    >>> round(s, 2), e < 1e-3
    (1.3, True)
    """
    speeds = np.round(np.arange(0.4, 2.5001, 0.01), 10) if speeds is None else np.asarray(speeds, dtype=float)
    candidates = np.array([time_scaled(shape, s) for s in speeds])
    errors = movement_error(output[None, :], candidates)
    best = int(np.argmin(errors))
    return float(speeds[best]), float(errors[best])


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
        Error at every iteration (row 0: all gains 1).
    best_iteration : ndarray of int of shape (batch,)
    """

    best_gains: np.ndarray
    best_error: np.ndarray
    initial_error: np.ndarray
    errors: np.ndarray
    best_iteration: np.ndarray


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
    dt: float = AUTHORS_DT,
    substeps: int = 1,
    n_exc: int | None = None,
    gain_bounds: tuple[float, float] | None = None,
    progress: Callable[[int], Any] | None = None,
) -> GainLearningResult:
    """Learn gain patterns for ``targets`` with the reward-based rule of Stroud et al.

    As in ``train_neuronal_gains.m``, for each target independently (simulated as one
    batch): iteration 1 runs all gains 1 (``E_1``; ``Ebar = E_1``, ``gbar = 1``,
    ``R = 0``); each later iteration

    1. ``g <- g + R (g - gbar) + xi``, ``xi ~ N(0, noise_std^2)`` drawn once per
       modulatory group and shared by its units;
    2. runs the network and measures the error ``E``;
    3. ``R = sign(Ebar - E)`` (+1 when better than the recent average);
    4. ``Ebar <- 0.3 Ebar + 0.7 E``, ``gbar <- 0.3 gbar + 0.7 g``.

    Nothing bounds the gains (the paper's rule); the gains of the lowest error over all
    iterations are kept.

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
        Runs of the network, the first at gains 1 (the authors' count).
    noise_std : float, default 0.001
    filter_old : float, default 0.3
        Weight of the old value in the low-pass filters.
    tau, dt, substeps :
        Integration (:func:`simulate_gain_network`, RK4).
    gain_bounds : (float, float), optional
        Clip the gains to this range after every update (none by default, as in the
        paper).
    progress : callable, optional
        Called with the number of iterations done (at 1, every 50, and at the end).

    Returns
    -------
    GainLearningResult

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> w = build_stability_optimized_network(10, 10, rng=rng, radius=3.0)
    >>> x0 = most_amplified_state(w)
    >>> t0, t1 = make_movement_target(rng, 40), make_movement_target(rng, 40)
    >>> b, wo = fit_readout(simulate_gain_network(w, x0, np.ones(20), n_steps=40)[:, :10], t0)
    >>> res = learn_gains(w, x0, (b, wo), t1[None], np.arange(20), rng=rng, n_iterations=200)
    >>> bool(res.best_error[0] < res.initial_error[0])
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
        rates = simulate_gain_network(w, x0, g, n_steps=n_steps, tau=tau, dt=dt, substeps=substeps)
        return movement_error(bias + rates[:, :, :n_exc] @ weights, targets)

    g = np.ones((batch, n))
    history = np.empty((n_iterations, batch))
    with single_threaded_blas():
        e = errors_of(g)
        history[0] = e
        initial = e.copy()
        e_bar, g_bar = e.copy(), g.copy()
        best_e, best_g, best_it = e.copy(), g.copy(), np.zeros(batch, dtype=int)
        reward = np.zeros((batch, 1))
        if progress is not None:
            progress(1)
        for it in range(1, n_iterations):
            xi = rng.normal(0.0, noise_std, (batch, n_groups))[:, groups]
            g = g + reward * (g - g_bar) + xi
            if gain_bounds is not None:
                g = np.clip(g, gain_bounds[0], gain_bounds[1])
            e = errors_of(g)
            history[it] = e
            better = e < best_e
            best_e[better], best_g[better], best_it[better] = e[better], g[better], it
            reward = np.sign(e_bar - e)[:, None]
            e_bar = filter_old * e_bar + (1 - filter_old) * e
            g_bar = filter_old * g_bar + (1 - filter_old) * g
            if progress is not None and ((it + 1) % 50 == 0 or it + 1 == n_iterations):
                progress(it + 1)
    return GainLearningResult(best_gains=best_g, best_error=best_e, initial_error=initial, errors=history,
                              best_iteration=best_it)


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
