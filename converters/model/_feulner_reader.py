"""Feulner-style dictionaries: a modular (upstream / PMd / M1) RNN and its reaching task.

The dictionary (a ``np.save`` object array, or a plain pickle) holds:

- ``params``: ``output_dim``, ``tsteps``, ``ntrials``, ``input_dim``, ``dt`` (s), and
  optionally ``tau`` (s, default 0.05), ``rotation`` (deg), ``phase``;
- ``target[trial, time, out]`` and ``stimulus[trial, time, in]`` (target x, y from the
  cue on, last channel a hold signal that drops at go);
- ``test_set`` (or ``test``): ``cue_onset``, ``go_onset`` (steps) and ``trial_id``
  (target 0-7, 45 degrees apart; target k at (k − 3) · 45°, as in the authors' monkey
  data: target 3 straight right, 0 at −135°, 7 at 180°);
- ``weights``: ``W_U_rec``, ``W_P_rec``, ``W_M_rec`` (recurrent), ``W_U_in``,
  ``W_P_in`` (input), ``W_UP`` (upstream -> PMd), ``W_PM`` (PMd -> M1), ``W_out``
  (M1 -> output), ``b_out``;
- optionally ``activity`` {``upstream``, ``PMd``, ``M1``} rates ``[trial, time, unit]``
  and ``output``. Without them the network is integrated from x = 0 (tanh units).

Pickles are read only with the restricted unpickler of
``nwbmotor.converters.segmentation._safe_pickle``: plain data (NumPy arrays, dicts,
lists, numbers, strings) or nothing, and nothing is ever executed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError

__all__ = ["CONNECTIONS", "load_feulner", "read_feulner", "session_from_feulner"]

MODULES = {"U": "upstream", "P": "PMd", "M": "M1"}
#: weight name -> (post, pre) endpoints
CONNECTIONS: dict[str, tuple[str, str]] = {
    "W_U_rec": ("upstream", "upstream"),
    "W_P_rec": ("PMd", "PMd"),
    "W_M_rec": ("M1", "M1"),
    "W_U_in": ("upstream", "input"),
    "W_P_in": ("PMd", "input"),
    "W_UP": ("PMd", "upstream"),
    "W_PM": ("M1", "PMd"),
    "W_out": ("output", "M1"),
}


def load_feulner(path: Path) -> dict[str, Any]:
    """Load the dictionary with the restricted unpickler (``.npy`` wrapper or raw pickle)."""
    from nwbmotor.converters.segmentation._safe_pickle import UnsafePickleError, load_npy, restricted_loads

    if not path.is_file():
        raise NwbMotorValueError(f"{path}: no such file")
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
        if magic == b"\x93NUMPY":
            data = load_npy(path)
        else:
            data = restricted_loads(path.read_bytes(), source=str(path))
    except UnsafePickleError as exc:
        text = str(exc).split(" The file is not plain")[0]
        raise UnsafePickleError(
            f"{text} Model dictionaries must hold plain data; save them with np.save/pickle of dicts "
            "of arrays, or use format='npz'."
        ) from None
    if not isinstance(data, dict):
        raise NwbMotorValueError(f"{path}: expected a dictionary (Feulner layout), got {type(data).__name__}")
    return data


def read_feulner(path: Path, *, weights: dict[str, np.ndarray] | None = None):
    """Read a Feulner-style dictionary file into a :class:`~nwbmotor.models.ModelSession`."""
    data = load_feulner(path)
    if weights is not None:
        data = {**data, "weights": weights}
    return session_from_feulner(path, data)


def _get(path: Path, mapping: dict[str, Any], key: str, where: str = "") -> Any:
    if key not in mapping:
        raise NwbMotorValueError(f"{path}: key {where}{key!r} expected (Feulner layout), got keys {sorted(mapping)}")
    return mapping[key]


def session_from_feulner(path: Path, data: dict[str, Any]):
    """Build a ModelSession from a Feulner dictionary; errors name ``path``."""
    from nwbmotor.models import ModelSession, NetworkSnapshot, integrate_session

    params = _get(path, data, "params")
    if not isinstance(params, dict):
        raise NwbMotorValueError(f"{path}: 'params' expected a dictionary, got {type(params).__name__}")
    for key in ("output_dim", "tsteps", "ntrials", "input_dim", "dt"):
        _get(path, params, key, "params.")
    n_trials, n_steps = int(params["ntrials"]), int(params["tsteps"])
    n_out, n_in, dt = int(params["output_dim"]), int(params["input_dim"]), float(params["dt"])
    target = np.asarray(_get(path, data, "target"), dtype=float)
    stimulus = np.asarray(_get(path, data, "stimulus"), dtype=float)
    for name, arr, width, label in (("target", target, n_out, "output_dim"), ("stimulus", stimulus, n_in, "input_dim")):
        expected = (n_trials, n_steps, width)
        if arr.shape != expected:
            raise NwbMotorValueError(
                f"{path}: {name!r} expected shape (ntrials, tsteps, {label}) = {expected} from 'params', got "
                f"{arr.shape}; the target length must equal the number of steps"
            )
    test = data.get("test_set", data.get("test"))
    if not isinstance(test, dict):
        raise NwbMotorValueError(f"{path}: key 'test_set' expected a dict of cue_onset, go_onset, trial_id")
    per_trial = {}
    for key in ("cue_onset", "go_onset", "trial_id"):
        arr = np.asarray(_get(path, test, key, "test_set."))
        if arr.shape != (n_trials,):
            raise NwbMotorValueError(f"{path}: 'test_set.{key}' expected shape ({n_trials},), got {arr.shape}")
        per_trial[key] = arr
    weights_in = _get(path, data, "weights")
    weights = {k: np.asarray(v, dtype=float) for k, v in weights_in.items() if k in CONNECTIONS}
    missing = sorted(set(CONNECTIONS) - set(weights))
    if missing:
        raise NwbMotorValueError(f"{path}: weights {missing} expected, got {sorted(weights_in)}")
    sizes = {}
    for short, module in MODULES.items():
        w = weights[f"W_{short}_rec"]
        sizes[module] = w.shape[0] if w.ndim == 2 else -1
    module_of_unit = np.concatenate([np.full(n, m) for m, n in sizes.items()])
    n_units = len(module_of_unit)
    biases = {"output": np.asarray(weights_in["b_out"], dtype=float).ravel()} if "b_out" in weights_in else {}
    phase = str(params.get("phase", "trained"))
    tau = float(params.get("tau", 0.05))
    snapshot = NetworkSnapshot(
        phase=phase, tau=tau, dt=dt, nonlinearity="tanh", weights=weights, biases=biases,
        initial_state=np.zeros(n_units), connections=dict(CONNECTIONS),
    )
    activity = data.get("activity")
    if activity is not None:
        rates = np.concatenate([np.asarray(_get(path, activity, m, "activity."), dtype=float) for m in sizes], axis=2)
        outputs = np.asarray(data["output"], dtype=float) if "output" in data else None
    else:
        rates, outputs = np.zeros((n_trials, n_steps, n_units)), None
    rotation = float(params.get("rotation", 0.0))
    trials = {
        "target_id": per_trial["trial_id"].astype(int),
        "target_angle": (per_trial["trial_id"].astype(float) - 3.0) * 45.0,
        "perturbation": np.full(n_trials, rotation),
        "phase": np.full(n_trials, phase),
        "go_time": per_trial["go_onset"].astype(float) * dt,
        "cue_time": per_trial["cue_onset"].astype(float) * dt,
        "network": np.full(n_trials, phase),
    }
    session = ModelSession(
        name=path.stem,
        description=f"Modular RNN (upstream, PMd, M1) on centre-out reaching, imported from {path.name}.",
        dt=dt, model="modular-rnn", seed=params.get("seed"),
        units={"module": module_of_unit, "cell_type": np.full(n_units, "unknown"), "gain_group": np.full(n_units, -1)},
        rates=rates,
        outputs=np.zeros((n_trials, n_steps, n_out)) if outputs is None else outputs,
        targets=target, inputs=stimulus, trials=trials, networks=[snapshot],
    )
    if activity is None or outputs is None:
        sim_rates, sim_outputs = integrate_session(session)
        session.rates = session.rates if activity is not None else sim_rates
        session.outputs = sim_outputs
    return session
