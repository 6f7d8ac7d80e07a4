"""The in-memory model session: what every model produces and the NWB writer consumes.

A :class:`ModelSession` holds one simulated session: the units, their rates on every
trial, the network's outputs (and targets, inputs), a trials table, one or more
:class:`NetworkSnapshot` objects (the network's parameters, labelled by phase, e.g.
``"before"`` / ``"after"`` adaptation) and an optional training log. Both reference
models (:mod:`nwbmotor.models._gain_modulation`, ``_modular_rnn``) and the model-output
converters build one; :func:`nwbmotor.models.write_model_session` writes it to NWB and
:func:`nwbmotor.models.read_model_session` reads it back.

Conventions
-----------
- Arrays are per trial: ``rates`` is ``(n_trials, n_steps, n_units)``, ``outputs``
  ``(n_trials, n_steps, n_out)``; every trial has the same number of steps, ``dt``
  seconds each. Trial times (``go_time``, ``cue_time``) are seconds from the trial's
  start, NaN when the trial has none.
- Weight matrices are ``(n_post, n_pre)``: ``post = W @ pre``. Every weight names the
  populations it connects in ``NetworkSnapshot.connections[name] = (post, pre)``. An
  endpoint is ``"input"``, ``"output"``, ``"all"`` (every unit), or a module name of
  the units table, optionally restricted to a cell type with ``":E"`` / ``":I"``
  (``"network:E"`` = the excitatory units of module ``network``). Units of one module
  are in table order. Common names need no entry: ``W_rec`` = (all, all),
  ``W_in`` = (all, input), ``W_out`` = (output, all).
- Biases are keyed by endpoint (``"output"``, ``"M1"``, ``"all"``) and have its size.
- Dynamics (what :func:`nwbmotor.models.resimulate` re-runs): forward Euler at ``dt``,
  ``r_t = f_g(x_t)`` is ``rates[:, t]``, the output ``y_t = W_out r_t + b_out`` is
  ``outputs[:, t]``, then ``x_{t+1} = x_t + dt/tau (-x_t + sum_W W r_t + W_in s_t + b)``
  with ``s_t = inputs[:, t]``; ``x_0`` is the snapshot's ``initial_state``. A snapshot
  with ``integrator="rk4"`` instead advances ``tau dx/dt = -x + sum_W W f_g(x) + W_in s_t
  + b`` by ``substeps`` classical Runge-Kutta steps per sample (input held over the
  sample).
- Validation happens on construction and raises :class:`~nwbmotor.NwbMotorValueError`
  naming the session, the field, the expected and the actual value.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError

__all__ = [
    "ModelSession",
    "NetworkSnapshot",
    "NONLINEARITIES",
    "TRIAL_COLUMNS",
    "apply_nonlinearity",
    "endpoint_indices",
]

#: Required per-trial columns, with their kind: "int", "float" or "str".
TRIAL_COLUMNS: dict[str, str] = {
    "target_id": "int",
    "target_angle": "float",
    "perturbation": "float",
    "phase": "str",
    "go_time": "float",
    "cue_time": "float",
}

#: How a snapshot's network is advanced between samples.
INTEGRATORS = ("euler", "rk4")

_DEFAULT_CONNECTIONS = {"W_rec": ("all", "all"), "W_in": ("all", "input"), "W_out": ("output", "all")}


def _tanh(x: np.ndarray, gains: np.ndarray | None) -> np.ndarray:
    g = 1.0 if gains is None else gains
    return np.tanh(g * x)


def _gain_tanh_asymmetric(x: np.ndarray, gains: np.ndarray | None, r0: float = 20.0, rmax: float = 100.0) -> np.ndarray:
    # Stroud et al. 2018: r0*tanh(g x / r0) below zero, (rmax - r0)*tanh(g x / (rmax - r0)) above.
    g = 1.0 if gains is None else gains
    scale = np.where(x < 0, r0, rmax - r0)  # the branch follows the sign of x, as in the authors' code
    return scale * np.tanh(g * x / scale)


def _relu(x: np.ndarray, gains: np.ndarray | None) -> np.ndarray:
    g = 1.0 if gains is None else gains
    return np.maximum(g * x, 0.0)


def _linear(x: np.ndarray, gains: np.ndarray | None) -> np.ndarray:
    g = 1.0 if gains is None else gains
    return g * x


#: Known nonlinearities: name -> (function(x, gains, **params), allowed parameter names).
NONLINEARITIES: dict[str, tuple[Callable[..., np.ndarray], frozenset[str]]] = {
    "tanh": (_tanh, frozenset()),
    "gain_tanh_asymmetric": (_gain_tanh_asymmetric, frozenset({"r0", "rmax"})),
    "relu": (_relu, frozenset()),
    "linear": (_linear, frozenset()),
}


def apply_nonlinearity(name: str, x: np.ndarray, gains: np.ndarray | None = None, **params: float) -> np.ndarray:
    """Apply the named nonlinearity ``f_g(x)`` elementwise.

    Parameters
    ----------
    name : str
        One of ``NONLINEARITIES`` ("tanh", "gain_tanh_asymmetric", "relu", "linear").
    x : ndarray
        Unit states; the last axis is the unit axis.
    gains : ndarray of shape (n_units,), optional
        Per-unit gains (1 when omitted).
    **params
        The nonlinearity's parameters (``r0``, ``rmax`` for "gain_tanh_asymmetric").

    Examples
    --------
    >>> float(apply_nonlinearity("gain_tanh_asymmetric", np.array([1e6]), r0=20, rmax=100)[0])
    80.0
    """
    _check_nonlinearity("apply_nonlinearity", name, params)
    func, _ = NONLINEARITIES[name]
    return func(np.asarray(x, dtype=float), gains, **params)


def _check_nonlinearity(where: str, name: str, params: Mapping[str, Any]) -> None:
    if name not in NONLINEARITIES:
        raise NwbMotorValueError(
            f"{where}: field 'nonlinearity' expected one of {sorted(NONLINEARITIES)}, got {name!r}"
        )
    allowed = NONLINEARITIES[name][1]
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise NwbMotorValueError(
            f"{where}: field 'nonlinearity_params' of {name!r} expected keys among {sorted(allowed)}, got {unknown}"
        )
    for key, value in params.items():
        if not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(float(value)):
            raise NwbMotorValueError(
                f"{where}: field 'nonlinearity_params[{key!r}]' expected a finite number, got {value!r}"
            )


def _finite_array(where: str, field: str, value: Any, ndim: int | tuple[int, ...]) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise NwbMotorTypeError(f"{where}: field {field!r} expected a numeric array, got {type(value).__name__}") from None
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    if arr.ndim not in ndims:
        raise NwbMotorValueError(
            f"{where}: field {field!r} expected {' or '.join(map(str, ndims))} dimensions, got shape {arr.shape}"
        )
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise NwbMotorValueError(
            f"{where}: field {field!r} expected finite values, got {arr[idx]} at index {idx} "
            f"({int(bad.sum())} non-finite value(s) in all)"
        )
    return arr


@dataclasses.dataclass
class NetworkSnapshot:
    """The parameters of a network at one phase (e.g. before or after learning).

    Parameters
    ----------
    phase : str
        Label, e.g. "before", "after", "initial", "novel-target".
    tau, dt : float
        Time constant and integration step, in seconds.
    nonlinearity : str
        One of :data:`NONLINEARITIES`.
    nonlinearity_params : dict of str to float
        Its parameters (e.g. ``{"r0": 20, "rmax": 100}``).
    weights : dict of str to ndarray of shape (n_post, n_pre)
        Weight matrices, finite.
    biases : dict of str to ndarray of shape (n,)
        Bias vectors keyed by endpoint ("output", a module name, "all").
    gains : ndarray of shape (n_units,), optional
        Per-unit gains.
    gain_groups : ndarray of int of shape (n_units,), optional
        Modulatory group of each unit (-1 for none).
    noise_std : float
        Standard deviation of the private noise on the unit states (0 for none).
    integrator : {"euler", "rk4"}, default "euler"
        How the network is advanced from one sample to the next (see the module docstring).
    substeps : int, default 1
        Integration steps per sample.
    initial_state : ndarray of shape (n_units,) or (n_conditions, n_units), optional
        The state x0 every trial starts from (one row per condition when 2-D).
    connections : dict of str to (str, str)
        ``(post, pre)`` endpoints of each weight matrix (see the module docstring);
        ``W_rec``, ``W_in`` and ``W_out`` default to (all, all), (all, input),
        (output, all).

    Examples
    --------
    >>> snap = NetworkSnapshot("before", tau=0.2, dt=0.001, nonlinearity="tanh",
    ...                        weights={"W_rec": np.zeros((3, 3))})
    >>> snap.connections["W_rec"]
    ('all', 'all')
    """

    phase: str
    tau: float
    dt: float
    nonlinearity: str
    nonlinearity_params: dict[str, float] = dataclasses.field(default_factory=dict)
    weights: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    biases: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    gains: np.ndarray | None = None
    gain_groups: np.ndarray | None = None
    noise_std: float = 0.0
    initial_state: np.ndarray | None = None
    connections: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    integrator: str = "euler"
    substeps: int = 1

    def __post_init__(self) -> None:
        where = f"NetworkSnapshot {self.phase!r}"
        if self.integrator not in INTEGRATORS:
            raise NwbMotorValueError(f"{where}: field 'integrator' expected one of {list(INTEGRATORS)}, got {self.integrator!r}")
        if isinstance(self.substeps, bool) or not isinstance(self.substeps, (int, np.integer)) or self.substeps < 1:
            raise NwbMotorValueError(f"{where}: field 'substeps' expected an integer >= 1, got {self.substeps!r}")
        self.substeps = int(self.substeps)
        if not isinstance(self.phase, str) or not self.phase:
            raise NwbMotorValueError(f"NetworkSnapshot: field 'phase' expected a non-empty string, got {self.phase!r}")
        for field in ("tau", "dt"):
            value = getattr(self, field)
            if not isinstance(value, (int, float, np.integer, np.floating)) or not (float(value) > 0 and math.isfinite(value)):
                raise NwbMotorValueError(f"{where}: field {field!r} expected a positive number of seconds, got {value!r}")
            setattr(self, field, float(value))
        if not isinstance(self.noise_std, (int, float, np.integer, np.floating)) or not float(self.noise_std) >= 0:
            raise NwbMotorValueError(f"{where}: field 'noise_std' expected a number >= 0, got {self.noise_std!r}")
        self.noise_std = float(self.noise_std)
        self.nonlinearity_params = {str(k): float(v) if isinstance(v, (int, float, np.integer, np.floating)) else v
                                    for k, v in dict(self.nonlinearity_params).items()}
        _check_nonlinearity(where, self.nonlinearity, self.nonlinearity_params)
        self.weights = {str(k): _finite_array(where, f"weights[{k!r}]", v, 2) for k, v in dict(self.weights).items()}
        self.biases = {str(k): _finite_array(where, f"biases[{k!r}]", v, 1) for k, v in dict(self.biases).items()}
        if self.gains is not None:
            self.gains = _finite_array(where, "gains", self.gains, 1)
        if self.gain_groups is not None:
            groups = np.asarray(self.gain_groups)
            if groups.ndim != 1 or not np.issubdtype(groups.dtype, np.integer):
                raise NwbMotorValueError(
                    f"{where}: field 'gain_groups' expected a 1-D integer array, got dtype {groups.dtype} shape {groups.shape}"
                )
            self.gain_groups = groups.astype(np.int64)
        if self.initial_state is not None:
            self.initial_state = _finite_array(where, "initial_state", self.initial_state, (1, 2))
        connections = {str(k): (str(v[0]), str(v[1])) for k, v in dict(self.connections).items()}
        for name in self.weights:
            if name not in connections:
                if name not in _DEFAULT_CONNECTIONS:
                    raise NwbMotorValueError(
                        f"{where}: field 'connections' expected a (post, pre) entry for weight {name!r}, got none; "
                        f"add connections[{name!r}] = (post, pre)"
                    )
                connections[name] = _DEFAULT_CONNECTIONS[name]
        extra = sorted(set(connections) - set(self.weights))
        if extra:
            raise NwbMotorValueError(f"{where}: field 'connections' names weights {extra} that are not in 'weights'")
        self.connections = connections


def endpoint_indices(endpoint: str, module: np.ndarray, cell_type: np.ndarray) -> np.ndarray:
    """Unit indices of a unit endpoint ("all", "M1", "network:E", ...).

    Examples
    --------
    >>> endpoint_indices("net:E", np.array(["net"] * 3), np.array(["E", "I", "E"]))
    array([0, 2])
    """
    name, _, ctype = endpoint.partition(":")
    mask = np.ones(len(module), bool) if name == "all" else (np.asarray(module) == name)
    if ctype:
        mask &= np.asarray(cell_type) == ctype
    return np.flatnonzero(mask)


@dataclasses.dataclass
class ModelSession:
    """One simulated session: units, per-trial rates and outputs, trials, networks.

    Parameters
    ----------
    name : str
        Short identifier, used as session id (e.g. "gain-modulation-seed0").
    description : str
        What was simulated, in a sentence or two.
    dt : float
        Seconds per step of the stored series.
    model : str
        Model name, e.g. "gain-modulation", "modular-rnn", or "imported".
    seed : int or None
        Random seed of the run, if any.
    units : dict of str to ndarray
        Per-unit arrays ``module`` (str), ``cell_type`` ("E"/"I"/"unknown") and
        ``gain_group`` (int, -1 for none), all of length n_units.
    rates : ndarray of shape (n_trials, n_steps, n_units)
    outputs : ndarray of shape (n_trials, n_steps, n_out)
    targets : ndarray of shape (n_trials, n_steps, n_out), optional
    inputs : ndarray of shape (n_trials, n_steps, n_in), optional
    trials : dict of str to ndarray
        Per-trial columns: :data:`TRIAL_COLUMNS` (``target_id``, ``target_angle``,
        ``perturbation``, ``phase``, ``go_time``, ``cue_time``) and optional extra
        columns (e.g. ``network``: phase label of the snapshot in ``networks`` that ran
        the trial, "" if none).
    networks : list of NetworkSnapshot
    training_log : dict of str to ndarray, optional
        Equal-length columns; ``iteration`` and ``loss`` required, ``phase`` (str)
        and learning parameters optional.
    rate_unit : str
        Unit of the rates (e.g. "Hz"; "a.u." for tanh rates).
    output_unit : str
        Unit of outputs and targets.
    input_unit : str
        Unit of the inputs.

    Examples
    --------
    >>> import numpy as np
    >>> s = ModelSession(
    ...     name="toy", description="A toy", dt=0.01, model="toy", seed=0,
    ...     units={"module": np.array(["net"] * 2), "cell_type": np.array(["E", "I"]),
    ...            "gain_group": np.array([-1, -1])},
    ...     rates=np.zeros((1, 5, 2)), outputs=np.zeros((1, 5, 1)),
    ...     trials={"target_id": [0], "target_angle": [0.0], "perturbation": [0.0],
    ...             "phase": ["before"], "go_time": [np.nan], "cue_time": [np.nan]},
    ...     networks=[NetworkSnapshot("before", tau=0.05, dt=0.01, nonlinearity="tanh",
    ...                               weights={"W_rec": np.eye(2)})])
    >>> s.n_trials, s.n_steps, s.n_units
    (1, 5, 2)
    """

    name: str
    description: str
    dt: float
    model: str
    seed: int | None
    units: dict[str, np.ndarray]
    rates: np.ndarray
    outputs: np.ndarray
    trials: dict[str, np.ndarray]
    networks: list[NetworkSnapshot] = dataclasses.field(default_factory=list)
    targets: np.ndarray | None = None
    inputs: np.ndarray | None = None
    training_log: dict[str, np.ndarray] | None = None
    rate_unit: str = "a.u."
    output_unit: str = "a.u."
    input_unit: str = "a.u."

    # ------------------------------------------------------------------ derived sizes
    @property
    def n_trials(self) -> int:
        return int(self.rates.shape[0])

    @property
    def n_steps(self) -> int:
        return int(self.rates.shape[1])

    @property
    def n_units(self) -> int:
        return int(self.rates.shape[2])

    @property
    def n_outputs(self) -> int:
        return int(self.outputs.shape[2])

    @property
    def n_inputs(self) -> int:
        return 0 if self.inputs is None else int(self.inputs.shape[2])

    @property
    def trial_duration(self) -> float:
        """Seconds per trial (n_steps * dt)."""
        return self.n_steps * self.dt

    def snapshot(self, phase: str) -> NetworkSnapshot:
        """The network snapshot labelled ``phase``."""
        for snap in self.networks:
            if snap.phase == phase:
                return snap
        raise NwbMotorValueError(
            f"ModelSession {self.name!r}: no network snapshot with phase {phase!r}; "
            f"have {[s.phase for s in self.networks]}"
        )

    # ------------------------------------------------------------------ validation
    def __post_init__(self) -> None:
        where = f"ModelSession {self.name!r}"
        for field in ("name", "description", "model"):
            if not isinstance(getattr(self, field), str) or not getattr(self, field):
                raise NwbMotorValueError(f"{where}: field {field!r} expected a non-empty string, got {getattr(self, field)!r}")
        if not isinstance(self.dt, (int, float, np.integer, np.floating)) or not (float(self.dt) > 0 and math.isfinite(self.dt)):
            raise NwbMotorValueError(f"{where}: field 'dt' expected a positive number of seconds, got {self.dt!r}")
        self.dt = float(self.dt)
        if self.seed is not None:
            self.seed = int(self.seed)

        self.rates = _finite_array(where, "rates", self.rates, 3)
        n_trials, n_steps, n_units = self.rates.shape
        if n_trials == 0 or n_steps == 0 or n_units == 0:
            raise NwbMotorValueError(f"{where}: field 'rates' expected non-empty (n_trials, n_steps, n_units), got {self.rates.shape}")
        self.outputs = _finite_array(where, "outputs", self.outputs, 3)
        self._check_leading(where, "outputs", self.outputs.shape)
        if self.targets is not None:
            self.targets = _finite_array(where, "targets", self.targets, 3)
            if self.targets.shape != self.outputs.shape:
                raise NwbMotorValueError(
                    f"{where}: field 'targets' expected the shape of 'outputs' (n_trials, n_steps, n_out) = "
                    f"{self.outputs.shape}, got {self.targets.shape}"
                )
        if self.inputs is not None:
            self.inputs = _finite_array(where, "inputs", self.inputs, 3)
            self._check_leading(where, "inputs", self.inputs.shape)

        self.units = self._check_units(where, dict(self.units), n_units)
        self.trials = self._check_trials(where, dict(self.trials), n_trials)
        for i, snap in enumerate(self.networks):
            if not isinstance(snap, NetworkSnapshot):
                raise NwbMotorTypeError(f"{where}: field 'networks[{i}]' expected a NetworkSnapshot, got {type(snap).__name__}")
            self._check_snapshot(where, snap)
        phases = [s.phase for s in self.networks]
        if len(set(phases)) != len(phases):
            raise NwbMotorValueError(f"{where}: field 'networks' expected unique phase labels, got {phases}")
        if "network" in self.trials:
            self.trials["network"] = self.trials["network"].astype(str)
            bad = sorted(set(self.trials["network"].tolist()) - set(phases) - {""})
            if bad:
                raise NwbMotorValueError(
                    f"{where}: field 'trials['network']' expected '' or a phase of 'networks' {phases}, got {bad}"
                )
        if self.training_log is not None:
            self.training_log = self._check_log(where, dict(self.training_log))

    def _check_leading(self, where: str, field: str, shape: tuple[int, ...]) -> None:
        expected = self.rates.shape[:2]
        if shape[:2] != expected:
            raise NwbMotorValueError(
                f"{where}: field {field!r} expected (n_trials, n_steps) = {expected} like 'rates', got {shape[:2]} "
                f"(shape {shape}); every trial needs one value per step"
            )

    @staticmethod
    def _check_units(where: str, units: dict[str, Any], n_units: int) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for key in ("module", "cell_type", "gain_group"):
            if key not in units:
                raise NwbMotorValueError(f"{where}: field 'units' expected key {key!r}, got keys {sorted(units)}")
        for key, value in units.items():
            arr = np.asarray(value)
            if arr.shape != (n_units,):
                raise NwbMotorValueError(
                    f"{where}: field 'units[{key!r}]' expected shape ({n_units},) (n_units of 'rates'), got {arr.shape}"
                )
            out[key] = arr
        out["module"] = out["module"].astype(str)
        out["cell_type"] = out["cell_type"].astype(str)
        bad = sorted(set(out["cell_type"].tolist()) - {"E", "I", "unknown"})
        if bad:
            raise NwbMotorValueError(f"{where}: field 'units['cell_type']' expected 'E', 'I' or 'unknown', got {bad}")
        if not np.issubdtype(out["gain_group"].dtype, np.integer):
            raise NwbMotorValueError(
                f"{where}: field 'units['gain_group']' expected integers (-1 for none), got dtype {out['gain_group'].dtype}"
            )
        out["gain_group"] = out["gain_group"].astype(np.int64)
        return out

    @staticmethod
    def _check_trials(where: str, trials: dict[str, Any], n_trials: int) -> dict[str, np.ndarray]:
        missing = [k for k in TRIAL_COLUMNS if k not in trials]
        if missing:
            raise NwbMotorValueError(f"{where}: field 'trials' expected columns {list(TRIAL_COLUMNS)}, missing {missing}")
        out: dict[str, np.ndarray] = {}
        for key, value in trials.items():
            arr = np.asarray(value)
            if arr.shape != (n_trials,):
                raise NwbMotorValueError(
                    f"{where}: field 'trials[{key!r}]' expected shape ({n_trials},) (n_trials of 'rates'), got {arr.shape}"
                )
            kind = TRIAL_COLUMNS.get(key)
            if kind == "int":
                if not (np.issubdtype(arr.dtype, np.integer) or (arr.dtype.kind == "f" and np.all(arr == np.round(arr)))):
                    raise NwbMotorValueError(f"{where}: field 'trials[{key!r}]' expected integers, got {arr[:3]!r}...")
                arr = arr.astype(np.int64)
            elif kind == "float":
                try:
                    arr = arr.astype(float)
                except (TypeError, ValueError):
                    raise NwbMotorValueError(f"{where}: field 'trials[{key!r}]' expected numbers, got dtype {arr.dtype}") from None
            elif kind == "str":
                arr = arr.astype(str)
            out[key] = arr
        return out

    def _check_snapshot(self, where: str, snap: NetworkSnapshot) -> None:
        sw = f"{where}: network {snap.phase!r}"
        n_units = self.n_units
        module, ctype = self.units["module"], self.units["cell_type"]

        def size(endpoint: str) -> int:
            if endpoint == "input":
                return self.n_inputs if self.inputs is not None else -1
            if endpoint == "output":
                return self.n_outputs
            n = len(endpoint_indices(endpoint, module, ctype))
            if n == 0:
                raise NwbMotorValueError(
                    f"{sw}: endpoint {endpoint!r} matches no unit; expected 'all', 'input', 'output' or a module "
                    f"among {sorted(set(module))} (optionally ':E'/':I')"
                )
            return n

        for name, w in snap.weights.items():
            post, pre = snap.connections[name]
            expected = (size(post), size(pre))
            ok = all(e == -1 or e == g for e, g in zip(expected, w.shape))
            if not ok:
                shown = tuple("n_in" if e == -1 else e for e in expected)
                raise NwbMotorValueError(
                    f"{sw}: weight {name!r} connects {pre!r} -> {post!r} so expected shape (n_post, n_pre) = {shown}, "
                    f"got {w.shape}; weight shapes must match the unit counts"
                )
        for name, b in snap.biases.items():
            n = size(name)
            if n != -1 and b.shape != (n,):
                raise NwbMotorValueError(f"{sw}: bias {name!r} expected shape ({n},), got {b.shape}")
        for field in ("gains", "gain_groups"):
            arr = getattr(snap, field)
            if arr is not None and arr.shape != (n_units,):
                raise NwbMotorValueError(f"{sw}: field {field!r} expected shape ({n_units},) (n_units), got {arr.shape}")
        if snap.initial_state is not None and snap.initial_state.shape[-1] != n_units:
            raise NwbMotorValueError(
                f"{sw}: field 'initial_state' expected (n_units,) or (n_conditions, n_units) with n_units = {n_units}, "
                f"got {snap.initial_state.shape}"
            )

    @staticmethod
    def _check_log(where: str, log: dict[str, Any]) -> dict[str, np.ndarray]:
        for key in ("iteration", "loss"):
            if key not in log:
                raise NwbMotorValueError(f"{where}: field 'training_log' expected column {key!r}, got {sorted(log)}")
        out = {k: np.asarray(v) for k, v in log.items()}
        n = len(out["iteration"])
        for k, v in out.items():
            if v.ndim != 1 or len(v) != n:
                raise NwbMotorValueError(
                    f"{where}: field 'training_log[{k!r}]' expected shape ({n},) like 'iteration', got {v.shape}"
                )
            if v.dtype.kind in "US" or v.dtype == object:
                out[k] = v.astype(str)
        out["iteration"] = out["iteration"].astype(np.int64)
        out["loss"] = out["loss"].astype(float)
        return out
