"""Forward pass, exact backpropagation through time and Adam for the modular network.

Three rate modules (upstream, PMd, M1) with r = tanh(x), integrated by forward Euler
with α = dt/τ, as in the code of Feulner et al. (2022)::

    x_U ← x_U + α(−x_U + W_U,rec r_U + W_U,in s)
    x_P ← x_P + α(−x_P + W_P,rec r_P + W_P,in s + W_UP r_U)
    x_M ← x_M + α(−x_M + W_M,rec r_M + W_PM r_P);   y = W_out r_M + b

At step t the rates r_t = tanh(x_t) give the output y_t and, with the input s_t, drive
x_{t+1}. Parameters are a dict of named arrays, weights stored (post, pre). The three
modules are integrated as one state vector with a block weight matrix, so every step
costs a few array operations whatever the number of modules. Gradients are computed by
hand (no autodiff library) and are exact; ``tests/models`` checks them against
finite differences.

Loss (the authors' ``train``)::

    mean((y − target)², steps ≥ loss_start) + Σ_W c_W ‖W‖_F + Σ_module b_m mean(r_m²)

with Frobenius norms (not squared) of each weight matrix and each module's own mean
squared rate over every step, trial and unit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "MODULES",
    "CONNECTIONS",
    "RECURRENT",
    "OUTPUT",
    "Adam",
    "Trajectory",
    "clip_by_global_norm",
    "forward",
    "init_params",
    "loss_and_grads",
]

MODULES: tuple[str, ...] = ("upstream", "pmd", "m1")
# weight name -> (post module, pre source); "input" is the task input s
CONNECTIONS: dict[str, tuple[str, str]] = {
    "upstream_input": ("upstream", "input"),
    "upstream_recurrent": ("upstream", "upstream"),
    "pmd_input": ("pmd", "input"),
    "pmd_recurrent": ("pmd", "pmd"),
    "upstream_to_pmd": ("pmd", "upstream"),
    "m1_recurrent": ("m1", "m1"),
    "pmd_to_m1": ("m1", "pmd"),
}
RECURRENT: tuple[str, ...] = ("upstream_recurrent", "pmd_recurrent", "m1_recurrent")
OUTPUT: tuple[str, ...] = ("output", "output_bias")


def init_params(n_units: int, n_inputs: int, n_outputs: int, rng: np.random.Generator,
                dtype: type = np.float64) -> dict[str, np.ndarray]:
    """Initial parameters as PyTorch initialises the authors' modules.

    The authors hold each module's input and recurrent weights in an ``nn.RNN`` and the
    upstream → PMd and output weights in ``nn.Linear`` layers, all left at PyTorch's
    default initialisation: every ``nn.RNN`` weight ~ U(±1/√N) with N the size of the
    module it drives (input weights too, not 1/√n_inputs), every ``nn.Linear`` weight
    and bias ~ U(±1/√fan_in). So all weights here, and the output bias, are
    U(±1/√N) with N = ``n_units``.
    """
    bound = 1.0 / np.sqrt(n_units)
    params: dict[str, np.ndarray] = {}
    for name, (_post, pre) in CONNECTIONS.items():
        n_pre = n_inputs if pre == "input" else n_units
        params[name] = rng.uniform(-bound, bound, size=(n_units, n_pre))
    params["output"] = rng.uniform(-bound, bound, size=(n_outputs, n_units))
    params["output_bias"] = rng.uniform(-bound, bound, size=n_outputs)
    return {k: v.astype(dtype) for k, v in params.items()}


@dataclass
class Trajectory:
    """Rates of each module (n_trials, n_steps, n_units) and outputs (n_trials, n_steps, n_out)."""

    rates: dict[str, np.ndarray]
    outputs: np.ndarray
    inputs: np.ndarray = field(repr=False)


def _stack(params: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, int]:
    """Block matrices (post, pre) of the unit-to-unit and input-to-unit weights."""
    n = params["upstream_recurrent"].shape[0]
    n_in = params["upstream_input"].shape[1]
    index = {m: i for i, m in enumerate(MODULES)}
    dtype = params["upstream_recurrent"].dtype
    w = np.zeros((3 * n, 3 * n), dtype)
    w_in = np.zeros((3 * n, n_in), dtype)
    for name, (post, pre) in CONNECTIONS.items():
        rows = slice(index[post] * n, (index[post] + 1) * n)
        if pre == "input":
            w_in[rows] = params[name]
        else:
            w[rows, index[pre] * n:(index[pre] + 1) * n] = params[name]
    return w, w_in, n


def _x0(x0: dict[str, np.ndarray]) -> np.ndarray:
    return np.concatenate([np.asarray(x0[m], dtype=float) for m in MODULES], axis=1)


def _run(w: np.ndarray, w_in: np.ndarray, inputs: np.ndarray, x0: np.ndarray, alpha: float) -> np.ndarray:
    """Rates of all units, time-major (n_steps, n_trials, 3N)."""
    n_trials, n_steps, _ = inputs.shape
    dtype = w.dtype
    drive_in = (alpha * (inputs.transpose(1, 0, 2) @ w_in.T)).astype(dtype, copy=False)  # (T, B, 3N)
    wt = np.ascontiguousarray(alpha * w.T, dtype=dtype)
    keep = dtype.type(1.0 - alpha)
    x = np.array(x0, dtype=dtype)
    rates = np.empty((n_steps, n_trials, x.shape[1]), dtype)
    tmp = np.empty_like(x)
    for t in range(n_steps):
        np.tanh(x, out=rates[t])
        if t == n_steps - 1:
            break
        np.matmul(rates[t], wt, out=tmp)
        tmp += drive_in[t]
        x *= keep
        x += tmp
    return rates


def forward(params: dict[str, np.ndarray], inputs: np.ndarray, x0: dict[str, np.ndarray],
            alpha: float) -> Trajectory:
    """Run the network on a batch of trials.

    Parameters
    ----------
    params : dict of ndarray
        Weights (post, pre) named as in ``CONNECTIONS`` plus ``output``, ``output_bias``.
    inputs : ndarray of shape (n_trials, n_steps, n_inputs)
    x0 : dict of ndarray of shape (n_trials, n_units)
        Initial state of each module.
    alpha : float
        dt / τ.

    Returns
    -------
    Trajectory
        Rates per module and outputs, arrays of shape (n_trials, n_steps, ...).
    """
    w, w_in, n = _stack(params)
    r = _run(w, w_in, np.asarray(inputs, dtype=float), _x0(x0), alpha)
    rates = {m: r[:, :, i * n:(i + 1) * n].transpose(1, 0, 2) for i, m in enumerate(MODULES)}
    outputs = rates["m1"] @ params["output"].T + params["output_bias"]
    return Trajectory(rates=rates, outputs=outputs, inputs=inputs)


def loss_and_grads(
    params: dict[str, np.ndarray],
    inputs: np.ndarray,
    targets: np.ndarray,
    x0: dict[str, np.ndarray],
    alpha: float,
    *,
    loss_start: int,
    weight_penalty: dict[str, float] | None = None,
    rate_penalty: dict[str, float] | None = None,
    trainable: tuple[str, ...] | None = None,
) -> tuple[dict[str, float], dict[str, np.ndarray], Trajectory]:
    """Loss terms and exact gradients of the total loss.

    loss = mean((y − target)², steps ≥ loss_start, trials, outputs)
         + Σ_W weight_penalty[W] · ‖W‖_F + Σ_m rate_penalty[m] · mean(r_m²)

    Parameters
    ----------
    weight_penalty : dict, optional
        Weight name (as in ``params``) -> coefficient of its Frobenius norm.
    rate_penalty : dict, optional
        Module name (``MODULES``) -> coefficient of its mean squared rate.
    trainable : tuple of str, optional
        Names whose gradients are returned (all parameters if None).

    Returns
    -------
    terms : dict
        ``mse``, ``weights``, ``rates``, ``total``.
    grads : dict of ndarray
    trajectory : Trajectory
    """
    weight_penalty = dict(weight_penalty or {})
    rate_penalty = dict(rate_penalty or {})
    names = tuple(params) if trainable is None else trainable
    inputs = np.asarray(inputs, dtype=float)
    n_trials, n_steps, _ = inputs.shape
    w, w_in, n = _stack(params)
    r = _run(w, w_in, inputs, _x0(x0), alpha)  # (T, B, 3N)
    rm = r[:, :, 2 * n:]
    outputs_tm = rm @ params["output"].T + params["output_bias"]  # (T, B, out)
    err = outputs_tm - targets.transpose(1, 0, 2)
    err[:loss_start] = 0.0
    n_err = n_trials * (n_steps - loss_start) * targets.shape[2]
    mse = float(np.sum(err**2) / n_err)
    norms = {k: float(np.linalg.norm(params[k])) for k in weight_penalty}
    reg_w = sum(c * norms[k] for k, c in weight_penalty.items())
    n_rates = n_steps * n_trials * n  # elements per module
    coef = np.zeros(3 * n, r.dtype)
    for i, m in enumerate(MODULES):
        coef[i * n:(i + 1) * n] = rate_penalty.get(m, 0.0)
    reg_r = 0.0
    for i, m in enumerate(MODULES):
        if rate_penalty.get(m, 0.0):
            block = r[:, :, i * n:(i + 1) * n]
            reg_r += rate_penalty[m] * float(np.vdot(block, block)) / n_rates
    terms = {"mse": mse, "weights": reg_w, "rates": reg_r, "total": mse + reg_w + reg_r}

    dy = (2.0 / n_err) * err  # (T, B, out)
    # direct[t] = ∂L/∂r_t not through the dynamics; slope[t] = α · tanh'(x_t)
    direct = r.dtype.type(2.0 / n_rates) * coef * r
    direct[:, :, 2 * n:] += dy @ params["output"]
    slope = r.dtype.type(alpha) * (1 - r**2)
    # h[t] = ∂L/∂(drive at step t) = α · ∂L/∂x_{t+1}; zero at the last step
    h_all = np.zeros_like(r)
    h = np.zeros_like(r[0])
    dr = np.empty_like(r[0])
    keep = r.dtype.type(1.0 - alpha)
    for t in range(n_steps - 1, 0, -1):
        h_all[t] = h
        np.matmul(h, w, out=dr)
        dr += direct[t]
        dr *= slope[t]
        h *= keep
        h += dr
    h_all[0] = h

    grads: dict[str, np.ndarray] = {}
    index = {m: i for i, m in enumerate(MODULES)}
    h_flat = h_all[:-1].reshape(-1, 3 * n)  # h[t] multiplies the sources of step t; h[T-1] = 0
    r_flat = r[:-1].reshape(-1, 3 * n)
    s_flat = inputs.transpose(1, 0, 2)[:-1].reshape(-1, inputs.shape[2]).astype(r.dtype)
    for name in names:
        if name == "output":
            grads[name] = dy.reshape(-1, dy.shape[2]).T @ rm.reshape(-1, n)
        elif name == "output_bias":
            grads[name] = dy.sum(axis=(0, 1)).astype(r.dtype)
            continue
        else:
            post, pre = CONNECTIONS[name]
            hp = h_flat[:, index[post] * n:(index[post] + 1) * n]
            src = s_flat if pre == "input" else r_flat[:, index[pre] * n:(index[pre] + 1) * n]
            grads[name] = hp.T @ src
        c = weight_penalty.get(name, 0.0)
        if c and norms[name] > 0:
            grads[name] += r.dtype.type(c / norms[name]) * params[name]
    rates = {m: r[:, :, i * n:(i + 1) * n].transpose(1, 0, 2) for i, m in enumerate(MODULES)}
    traj = Trajectory(rates=rates, outputs=outputs_tm.transpose(1, 0, 2), inputs=inputs)
    return terms, grads, traj


def clip_by_global_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale ``grads`` in place so their joint L2 norm is at most ``max_norm``; return the norm before.

    As ``torch.nn.utils.clip_grad_norm_``: the scale is ``max_norm / (norm + 1e-6)``
    when the norm exceeds ``max_norm``.
    """
    norm = float(np.sqrt(sum(float(np.sum(v**2)) for v in grads.values())))
    if norm > max_norm > 0:
        scale = max_norm / (norm + 1e-6)
        for v in grads.values():
            v *= scale
    return norm


class Adam:
    """Adam (Kingma & Ba) on a dict of arrays, updated in place (PyTorch's defaults)."""

    def __init__(self, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        self.t = 0

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        self.t += 1
        c1 = 1.0 - self.beta1**self.t
        c2 = 1.0 - self.beta2**self.t
        for name, grad in grads.items():
            m = self.m.setdefault(name, np.zeros_like(grad))
            v = self.v.setdefault(name, np.zeros_like(grad))
            m *= self.beta1
            m += (1.0 - self.beta1) * grad
            v *= self.beta2
            v += (1.0 - self.beta2) * grad**2
            params[name] -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)
