"""Re-running a stored model session's networks: the check that a file reproduces its outputs."""

from __future__ import annotations

import numpy as np

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.models._session import ModelSession, apply_nonlinearity, endpoint_indices

__all__ = ["integrate_session", "resimulate"]


def resimulate(session: ModelSession) -> np.ndarray:
    """Integrate the session's stored networks again and return the outputs.

    Each trial runs the snapshot named in its ``network`` column, from that
    snapshot's ``initial_state`` (one vector, or the row of the trial's ``target_id``),
    with the stored inputs, by the snapshot's integrator (forward Euler by default, or
    classical Runge-Kutta, ``substeps`` steps per sample) at the session's ``dt``:

    ``r_t = f_g(x_t)``; ``y_t = sum W_out r_t + b_out``; Euler:
    ``x_{t+1} = x_t + dt/tau (-x_t + sum W r_t + W_in s_t + b)``.

    Parameters
    ----------
    session : ModelSession
        A session whose trials name their network (e.g. from ``read_model_session``).

    Returns
    -------
    ndarray of shape (n_trials, n_steps, n_out)

    Raises
    ------
    NwbMotorValueError
        If a trial names no network, a network is noisy, has no initial state, or its
        ``dt`` differs from the session's.

    Examples
    --------
    >>> from nwbmotor.testing import mock_model_session
    >>> s = mock_model_session()
    >>> bool(np.allclose(resimulate(s), s.outputs))
    True
    """
    return integrate_session(session)[1]


def integrate_session(session: ModelSession) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`resimulate`, returning ``(rates, outputs)``."""
    where = f"resimulate {session.name!r}"
    if "network" not in session.trials:
        raise NwbMotorValueError(f"{where}: trials expected a 'network' column naming each trial's snapshot, got none")
    names = session.trials["network"]
    module, ctype = session.units["module"], session.units["cell_type"]
    outputs = np.empty_like(session.outputs)
    rates = np.empty_like(session.rates)
    for name in dict.fromkeys(names.tolist()):
        if name == "":
            raise NwbMotorValueError(f"{where}: trials {np.flatnonzero(names == '').tolist()} name no network")
        snap = session.snapshot(name)
        if snap.noise_std > 0:
            raise NwbMotorValueError(f"{where}: network {name!r} has noise_std {snap.noise_std}; only noiseless runs repeat")
        if not np.isclose(snap.dt, session.dt):
            raise NwbMotorValueError(f"{where}: network {name!r} has dt {snap.dt}, the series {session.dt}; expected equal")
        if snap.initial_state is None:
            raise NwbMotorValueError(f"{where}: network {name!r} expected an initial_state, got none")
        trials = np.flatnonzero(names == name)
        x = (snap.initial_state[session.trials["target_id"][trials]] if snap.initial_state.ndim == 2
             else np.tile(snap.initial_state, (len(trials), 1)))
        into_units, into_output = [], []
        for wname, w in snap.weights.items():
            post, pre = snap.connections[wname]
            pre_idx = None if pre == "input" else endpoint_indices(pre, module, ctype)
            if post == "output":
                into_output.append((w, pre_idx))
            else:
                into_units.append((w, pre_idx, endpoint_indices(post, module, ctype)))
        unit_bias = np.zeros(session.n_units)
        for endpoint, b in snap.biases.items():
            if endpoint != "output":
                unit_bias[endpoint_indices(endpoint, module, ctype)] += b
        out_bias = snap.biases.get("output", 0.0)
        inputs = None if session.inputs is None else session.inputs[trials]
        alpha = snap.dt / snap.tau / snap.substeps

        def rates_of(state: np.ndarray, snap=snap) -> np.ndarray:
            return apply_nonlinearity(snap.nonlinearity, state, snap.gains, **snap.nonlinearity_params)

        def rate_of_change(state: np.ndarray, s_t: np.ndarray | None, into_units=into_units,
                           unit_bias=unit_bias) -> np.ndarray:
            r = rates_of(state)
            drive = np.zeros_like(state) + unit_bias
            for w, pre_idx, post_idx in into_units:
                drive[:, post_idx] += (s_t if pre_idx is None else r[:, pre_idx]) @ w.T
            return drive - state

        for t in range(session.n_steps):
            r = rates_of(x)
            s_t = None if inputs is None else inputs[:, t]
            y = np.zeros((len(trials), session.n_outputs)) + out_bias
            for w, pre_idx in into_output:
                y += (s_t if pre_idx is None else r[:, pre_idx]) @ w.T
            outputs[trials, t] = y
            rates[trials, t] = r
            for _ in range(snap.substeps):
                if snap.integrator == "rk4":
                    k1 = rate_of_change(x, s_t)
                    k2 = rate_of_change(x + (alpha / 2) * k1, s_t)
                    k3 = rate_of_change(x + (alpha / 2) * k2, s_t)
                    k4 = rate_of_change(x + alpha * k3, s_t)
                    x = x + (alpha / 6) * (k1 + 2 * k2 + 2 * k3 + k4)
                else:
                    x = x + alpha * rate_of_change(x, s_t)
    return rates, outputs
