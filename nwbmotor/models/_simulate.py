"""Run a named model and write its session to NWB; re-run a stored session.

``simulate("gain-modulation", "out.nwb", seed=0)`` builds the :class:`ModelSession` of
the model and writes it with :func:`nwbmotor.models.write_model_session` (atomic, DANDI
metadata: see :func:`nwbmotor.models.model_metadata`). :func:`resimulate` integrates
the stored networks again from a session (e.g. one read back from a file), so that a
file can be checked to hold everything needed to reproduce its outputs.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.models._session import ModelSession, apply_nonlinearity, endpoint_indices

__all__ = ["MODELS", "integrate_session", "simulate", "resimulate"]

#: Model name -> "module:function" returning a ModelSession (seed first, options by keyword).
MODELS: dict[str, str] = {
    "gain-modulation": "nwbmotor.models._gain_study:run_gain_modulation",
    "modular-rnn": "nwbmotor.models._modular_rnn:run_modular_rnn",
}


def _runner(model: str) -> Callable[..., ModelSession]:
    if model not in MODELS:
        raise NwbMotorValueError(f"simulate: model expected one of {sorted(MODELS)}, got {model!r}")
    module_name, _, func = MODELS[model].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise NwbMotorValueError(f"simulate: model {model!r} is not available in this version of nwbmotor") from None
    return getattr(module, func)


def _tqdm_progress() -> tuple[Callable[[str, int, int], None], Callable[[], None]]:
    from tqdm.auto import tqdm

    state: dict[str, Any] = {"bar": None, "stage": None}

    def update(stage: str, done: int, total: int) -> None:
        if stage != state["stage"]:
            if state["bar"] is not None:
                state["bar"].close()
            state["bar"] = tqdm(total=total or None, desc=stage, unit="step")
            state["stage"] = stage
        bar = state["bar"]
        bar.update(done - bar.n)

    def close() -> None:
        if state["bar"] is not None:
            state["bar"].close()

    return update, close


def simulate(
    model: str,
    output: str | os.PathLike[str],
    *,
    seed: int = 0,
    overwrite: bool = False,
    progress: bool | Callable[[str, int, int], Any] = False,
    species: str = "Mus musculus",
    **model_options: Any,
) -> Path:
    """Simulate a reference model and write the session to an NWB file.

    Parameters
    ----------
    model : {"gain-modulation", "modular-rnn"}
    output : str or PathLike
        The ``.nwb`` file to write (atomically).
    seed : int, default 0
        Seeds the whole run: the same seed gives the same session.
    overwrite : bool, default False
        Replace an existing ``output``; otherwise it is an error, raised before the
        simulation starts.
    progress : bool or callable, default False
        True shows tqdm bars; a callable gets ``(stage, done, total)``.
    species : str, default "Mus musculus"
        Species the simulated network stands for (see ``model_metadata``).
    **model_options
        Keyword options of the model's runner (e.g. ``n_iterations=5000`` for
        ``run_gain_modulation``).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    NwbMotorValueError
        Unknown model or option, or ``output`` exists without ``overwrite``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "gm.nwb"
    >>> simulate("gain-modulation", out, n_exc=10, n_inh=10, n_iterations=10, n_primitives=1, radius=3.0)
    PosixPath('...gm.nwb')
    """
    from nwbmotor.models._nwb import write_model_session

    output = Path(output)
    if output.exists() and not overwrite:
        raise NwbMotorValueError(f"{output}: the output exists; pass overwrite=True (--overwrite) to replace it")
    runner = _runner(model)
    params = inspect.signature(runner).parameters
    accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    unknown = sorted(k for k in model_options if k not in params and not accepts_any)
    if unknown:
        options = sorted(k for k, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY and k != "progress")
        raise NwbMotorValueError(f"simulate: model {model!r} has no option(s) {unknown}; expected among {options}")
    close: Callable[[], None] = lambda: None  # noqa: E731
    declared = params.get("progress")
    if declared is not None and isinstance(declared.default, bool):  # the runner shows its own progress
        model_options["progress"] = bool(progress)
    elif progress is True:
        callback, close = _tqdm_progress()
        model_options["progress"] = callback
    elif callable(progress):
        model_options["progress"] = progress
    if "progress" in model_options and "progress" not in params and not accepts_any:
        del model_options["progress"]
    try:
        session = runner(seed=seed, **model_options)
    finally:
        close()
    return write_model_session(session, output, overwrite=overwrite, species=species)


def resimulate(session: ModelSession) -> np.ndarray:
    """Integrate the session's stored networks again and return the outputs.

    Each trial runs the snapshot named in its ``network`` column, from that
    snapshot's ``initial_state`` (one vector, or the row of the trial's ``target_id``),
    with the stored inputs, by forward Euler at the session's ``dt``:

    ``r_t = f_g(x_t)``; ``y_t = sum W_out r_t + b_out``;
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
        alpha = snap.dt / snap.tau
        for t in range(session.n_steps):
            r = apply_nonlinearity(snap.nonlinearity, x, snap.gains, **snap.nonlinearity_params)
            s_t = None if inputs is None else inputs[:, t]
            y = np.zeros((len(trials), session.n_outputs)) + out_bias
            for w, pre_idx in into_output:
                y += (s_t if pre_idx is None else r[:, pre_idx]) @ w.T
            outputs[trials, t] = y
            rates[trials, t] = r
            drive = np.zeros_like(x) + unit_bias
            for w, pre_idx, post_idx in into_units:
                drive[:, post_idx] += (s_t if pre_idx is None else r[:, pre_idx]) @ w.T
            x = x + alpha * (-x + drive)
    return rates, outputs
