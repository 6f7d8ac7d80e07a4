"""Forward pass, exact backpropagation through time and Adam for the modular network.

Three rate modules (upstream, PMd, M1) with r = tanh(x), integrated by forward Euler
with α = dt/τ (science.md B)::

    x_U ← x_U + α(−x_U + W_U,rec r_U + W_U,in s)
    x_P ← x_P + α(−x_P + W_P,rec r_P + W_P,in s + W_UP r_U)
    x_M ← x_M + α(−x_M + W_M,rec r_M + W_PM r_P);   y = W_out r_M + b

At step t the rates r_t = tanh(x_t) give the output y_t and drive x_{t+1}. Parameters
are a dict of named arrays, weights stored (post, pre). Gradients are computed by hand
(no autodiff library) and are exact; ``tests/models_modular`` checks them against
finite differences.
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


def init_params(
    n_units: int,
    n_inputs: int,
    n_outputs: int,
    rng: np.random.Generator,
    *,
    recurrent_gain: float = 1.0,
    output_scale: float = 0.1,
) -> dict[str, np.ndarray]:
    """Random initial parameters.

    Recurrent weights ~ N(0, g²/N); input weights ~ N(0, 1/n_inputs); inter-module
    weights ~ N(0, 1/N_pre); output weights ~ N(0, (output_scale)²/N); bias 0.
    """
    params: dict[str, np.ndarray] = {}
    for name, (_post, pre) in CONNECTIONS.items():
        n_pre = n_inputs if pre == "input" else n_units
        scale = recurrent_gain if name in RECURRENT else 1.0
        params[name] = rng.normal(0.0, scale / np.sqrt(n_pre), size=(n_units, n_pre))
    params["output"] = rng.normal(0.0, output_scale / np.sqrt(n_units), size=(n_outputs, n_units))
    params["output_bias"] = np.zeros(n_outputs)
    return params


@dataclass
class Trajectory:
    """Rates of each module (n_trials, n_steps, n_units) and outputs (n_trials, n_steps, n_out)."""

    rates: dict[str, np.ndarray]
    outputs: np.ndarray
    inputs: np.ndarray = field(repr=False)


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
    rates_tm = _forward_time_major(params, inputs, x0, alpha)
    rates = {m: rates_tm[m].transpose(1, 0, 2) for m in MODULES}
    outputs = rates["m1"] @ params["output"].T + params["output_bias"]
    return Trajectory(rates=rates, outputs=outputs, inputs=inputs)


def _forward_time_major(params: dict[str, np.ndarray], inputs: np.ndarray, x0: dict[str, np.ndarray],
                        alpha: float) -> dict[str, np.ndarray]:
    """Rates of each module, time-major arrays of shape (n_steps, n_trials, n_units)."""
    n_trials, n_steps, _ = inputs.shape
    inputs_tm = inputs.transpose(1, 0, 2)
    index = {m: i for i, m in enumerate(MODULES)}
    # drive[t] of each module from the task input, computed for all steps at once
    drive_in: list[np.ndarray | None] = [None] * len(MODULES)
    links: list[tuple[int, int, np.ndarray]] = []  # (post, pre, W.T) between modules
    for name, (post, pre) in CONNECTIONS.items():
        if pre == "input":
            drive_in[index[post]] = inputs_tm @ params[name].T
        else:
            links.append((index[post], index[pre], np.ascontiguousarray(params[name].T)))
    x = [np.array(x0[m], dtype=float) for m in MODULES]
    rates = [np.empty((n_steps, n_trials, x0[m].shape[1])) for m in MODULES]
    keep = 1.0 - alpha
    drive = [np.empty_like(xi) for xi in x]
    tmp = [np.empty_like(xi) for xi in x]
    for t in range(n_steps):
        r = [np.tanh(xi, out=rates[i][t]) for i, xi in enumerate(x)]
        if t == n_steps - 1:
            break
        for i in range(len(MODULES)):
            if drive_in[i] is None:
                drive[i].fill(0.0)
            else:
                drive[i][...] = drive_in[i][t]
        for post, pre, wt in links:
            np.matmul(r[pre], wt, out=tmp[post])
            drive[post] += tmp[post]
        for i in range(len(MODULES)):
            x[i] *= keep
            drive[i] *= alpha
            x[i] += drive[i]
    return dict(zip(MODULES, rates, strict=True))


def loss_and_grads(
    params: dict[str, np.ndarray],
    inputs: np.ndarray,
    targets: np.ndarray,
    x0: dict[str, np.ndarray],
    alpha: float,
    *,
    loss_start: int,
    weight_reg: float = 1e-3,
    recurrent_reg: float = 1e-3,
    rate_reg: float = 0.8,
    trainable: tuple[str, ...] | None = None,
) -> tuple[dict[str, float], dict[str, np.ndarray], Trajectory]:
    """Loss terms and exact gradients of the total loss.

    loss = mean((y − target)², steps ≥ loss_start)
         + weight_reg · Σ ‖W‖² over input, inter-module and output weights
         + recurrent_reg · Σ ‖W_rec‖²  + rate_reg · mean(r²) over every unit, step, trial.

    Returns the loss terms (``mse``, ``weights``, ``rates``, ``total``), the gradients of
    ``total`` for the ``trainable`` names (all parameters if None) and the trajectory.
    """
    names = tuple(params) if trainable is None else trainable
    n_trials, n_steps, _ = inputs.shape
    r_tm = _forward_time_major(params, inputs, x0, alpha)
    outputs_tm = r_tm["m1"] @ params["output"].T + params["output_bias"]  # (T, B, out)
    err = outputs_tm - targets.transpose(1, 0, 2)
    err[:loss_start] = 0.0
    n_err = n_trials * (n_steps - loss_start) * targets.shape[2]
    mse = float(np.sum(err**2) / n_err)
    weight_names = [n for n in params if n not in RECURRENT and n != "output_bias"]
    reg_w = weight_reg * sum(float(np.sum(params[n] ** 2)) for n in weight_names)
    reg_rec = recurrent_reg * sum(float(np.sum(params[n] ** 2)) for n in RECURRENT)
    n_rates = sum(r_tm[m].size for m in MODULES)
    reg_r = rate_reg * sum(float(np.vdot(r_tm[m], r_tm[m])) for m in MODULES) / n_rates
    terms = {"mse": mse, "weights": reg_w + reg_rec, "rates": reg_r, "total": mse + reg_w + reg_rec + reg_r}

    dy = 2.0 * err / n_err  # (T, B, out)
    index = {m: i for i, m in enumerate(MODULES)}
    r = [r_tm[m] for m in MODULES]
    # direct[t] = ∂L/∂r_t not through the dynamics; slope[t] = α · tanh'(x_t)
    direct = [(2.0 * rate_reg / n_rates) * ri for ri in r]
    direct[index["m1"]] += dy @ params["output"]
    slope = [alpha * (1.0 - ri**2) for ri in r]
    links = [(index[post], index[pre], params[name]) for name, (post, pre) in CONNECTIONS.items()
             if pre != "input"]
    # h[t] = ∂L/∂(drive at step t) = α · ∂L/∂x_{t+1}; zero at the last step
    h_all = [np.zeros_like(ri) for ri in r]
    h = [np.zeros_like(ri[0]) for ri in r]
    dr = [np.empty_like(ri[0]) for ri in r]
    tmp = [np.empty_like(ri[0]) for ri in r]
    keep = 1.0 - alpha
    for t in range(n_steps - 1, 0, -1):
        for i in range(len(MODULES)):
            h_all[i][t] = h[i]
            dr[i][...] = direct[i][t]
        for post, pre, w in links:
            np.matmul(h[post], w, out=tmp[pre])
            dr[pre] += tmp[pre]
        for i in range(len(MODULES)):
            dr[i] *= slope[i][t]
            h[i] *= keep
            h[i] += dr[i]
    for i in range(len(MODULES)):
        h_all[i][0] = h[i]

    grads: dict[str, np.ndarray] = {}
    inputs_flat = inputs.transpose(1, 0, 2).reshape(-1, inputs.shape[2])
    for name in names:
        if name == "output":
            rm = r[index["m1"]]
            grads[name] = dy.reshape(-1, dy.shape[2]).T @ rm.reshape(-1, rm.shape[2])
            grads[name] += 2.0 * weight_reg * params[name]
        elif name == "output_bias":
            grads[name] = dy.sum(axis=(0, 1))
        else:
            post, pre = CONNECTIONS[name]
            hp = h_all[index[post]]
            src = inputs_flat if pre == "input" else r[index[pre]].reshape(-1, params[name].shape[1])
            grads[name] = hp.reshape(-1, hp.shape[2]).T @ src
            reg = recurrent_reg if name in RECURRENT else weight_reg
            grads[name] += 2.0 * reg * params[name]
    traj = Trajectory(rates={m: r_tm[m].transpose(1, 0, 2) for m in MODULES},
                      outputs=outputs_tm.transpose(1, 0, 2), inputs=inputs)
    return terms, grads, traj


def clip_by_global_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale ``grads`` in place so their joint L2 norm is at most ``max_norm``; return the norm before."""
    norm = float(np.sqrt(sum(float(np.sum(v**2)) for v in grads.values())))
    if norm > max_norm > 0:
        scale = max_norm / norm
        for v in grads.values():
            v *= scale
    return norm


class Adam:
    """Adam (Kingma & Ba) on a dict of arrays, updated in place."""

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
