"""Stroud-style MAT-files: a gain-modulated E/I network and its two movement targets.

Arrays: ``W_rec`` (N x N; columns 1..N_E excitatory >= 0, the rest inhibitory
<= 0), ``initial_cond`` (N), ``readout`` (1 + N_E: bias, then the weights on the E
units), ``initial_target`` and ``novel_target`` (T samples each); optionally ``gains``
(N, learned for the novel target). They are either top-level variables (flat) or the
fields of one struct variable, as in the authors' published ``data.mat`` (struct
``data``). MAT v5 (scipy) and v7.3 (HDF5; a struct is a group) are read.

The file holds a network, not its activity, so the reader integrates it
(:func:`nwbmotor.models.simulate_gain_network`, classical Runge-Kutta on the authors'
grid: T samples over 500 ms inclusive) for T samples: trials "before" with gains 1 on the
initial and the novel target, and, when ``gains`` is present, "after" with the learned
gains on the novel target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError

__all__ = ["load_mat", "read_stroud_mat", "read_stroud_network"]

REQUIRED = ("W_rec", "initial_cond", "readout", "initial_target", "novel_target")
OPTIONAL = ("gains",)


def _struct_fields(value: Any) -> dict[str, Any] | None:
    """The fields of a 1 x 1 MATLAB struct as loaded by scipy (a structured array), else None."""
    if isinstance(value, np.ndarray) and value.dtype.names and value.size == 1:
        record = value.reshape(-1)[0]
        return {name: record[name] for name in value.dtype.names}
    return None


def load_mat(path: Path) -> dict[str, Any]:
    """Variables of a MAT-file (v5 via scipy, v7.3 via h5py, transposed to MATLAB's shape).

    A struct variable is a dict of its fields (v5: a 1 x 1 struct; v7.3: an HDF5 group).
    """
    from scipy.io import loadmat

    if not path.is_file():
        raise NwbMotorValueError(f"{path}: no such file")
    try:
        raw = {k: v for k, v in loadmat(path).items() if not k.startswith("__")}
    except NotImplementedError:  # v7.3: HDF5
        import h5py

        from nwbmotor._hdf5_guard import check_self_contained

        def read(item: Any) -> Any:
            if isinstance(item, h5py.Group):
                return {k: read(v) for k, v in item.items() if not k.startswith("#")}
            return np.asarray(item[()]).T

        with h5py.File(path, "r") as f:
            check_self_contained(path, file=f)
            return {k: read(v) for k, v in f.items() if not k.startswith("#")}
    except Exception as exc:  # noqa: BLE001 - scipy raises ValueError/TypeError/... on corrupt files
        raise NwbMotorValueError(f"{path}: cannot be read as a MAT-file ({type(exc).__name__}: {exc})") from None
    out: dict[str, Any] = {}
    for key, value in raw.items():
        fields = _struct_fields(value)
        out[key] = value if fields is None else fields
    return out


def read_stroud_network(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a Stroud-layout MAT-file, flat or struct-wrapped, checked.

    Returns
    -------
    dict of str to ndarray
        ``W_rec`` (N, N), ``initial_cond`` (N,), ``readout`` (1 + N_E,),
        ``initial_target`` and ``novel_target`` (T,), and ``gains`` (N,) when present.

    Raises
    ------
    NwbMotorValueError
        Naming the file and the field, with what was expected and what was found.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbmotor.testing import write_stroud_mat
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "data.mat"
    >>> _ = write_stroud_mat(path, layout="struct")
    >>> read_stroud_network(path)["W_rec"].shape
    (40, 40)
    """
    path = Path(path)
    mat = load_mat(path)
    where = str(path)
    if not all(k in mat for k in REQUIRED):
        structs = [k for k, v in mat.items() if isinstance(v, dict) and all(f in v for f in REQUIRED)]
        if len(structs) == 1:
            where = f"{path}: struct '{structs[0]}'"
            mat = mat[structs[0]]
        else:
            found = {k: sorted(v) if isinstance(v, dict) else "array" for k, v in mat.items()}
            any_struct = [v for v in mat.values() if isinstance(v, dict)]
            within = any_struct[0] if len(any_struct) == 1 and not any(k in mat for k in REQUIRED) else mat
            missing = [k for k in REQUIRED if k not in within]
            raise NwbMotorValueError(
                f"{path}: variables {missing} expected (Stroud layout {list(REQUIRED)}, top-level or the fields of one "
                f"struct), got {found}"
            )
    try:
        arrays = {k: np.asarray(mat[k], dtype=float) for k in (*REQUIRED, *OPTIONAL) if k in mat}
    except (TypeError, ValueError) as exc:
        raise NwbMotorValueError(f"{where}: fields expected numeric arrays, got {exc}") from None
    w = arrays["W_rec"]
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise NwbMotorValueError(f"{where}: 'W_rec' expected a square N x N matrix, got shape {w.shape}")
    n = w.shape[0]
    for key in ("initial_cond", "readout", "initial_target", "novel_target", "gains"):
        if key in arrays:
            arrays[key] = arrays[key].ravel()
    x0, readout = arrays["initial_cond"], arrays["readout"]
    n_exc = readout.size - 1
    if x0.size != n:
        raise NwbMotorValueError(f"{where}: 'initial_cond' expected {n} values (N of W_rec), got {x0.size}")
    if not 1 <= n_exc < n:
        raise NwbMotorValueError(
            f"{where}: 'readout' expected 1 + N_E values with 0 < N_E < N = {n}, got {readout.size}"
        )
    if not np.isfinite(w).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(w))[0])
        raise NwbMotorValueError(f"{where}: 'W_rec' expected finite weights, got {w[bad]} at {bad}")
    if (w[:, :n_exc] < 0).any() or (w[:, n_exc:] > 0).any():
        raise NwbMotorValueError(
            f"{where}: 'W_rec' expected columns 1..{n_exc} >= 0 (excitatory) and {n_exc + 1}..{n} <= 0 "
            f"(inhibitory), N_E being len(readout) - 1; got {int((w[:, :n_exc] < 0).sum())} negative E and "
            f"{int((w[:, n_exc:] > 0).sum())} positive I weights"
        )
    n_steps = arrays["initial_target"].size
    if n_steps < 2:
        raise NwbMotorValueError(f"{where}: 'initial_target' expected >= 2 samples, got {n_steps}")
    if arrays["novel_target"].size != n_steps:
        raise NwbMotorValueError(
            f"{where}: 'novel_target' has {arrays['novel_target'].size} samples, 'initial_target' {n_steps}; "
            "expected one target length = the number of samples of the simulation"
        )
    if "gains" in arrays and arrays["gains"].size != n:
        raise NwbMotorValueError(f"{where}: 'gains' expected {n} values, got {arrays['gains'].size}")
    return arrays


def read_stroud_mat(path: Path, *, tau: float = 0.2, dt: float | None = None, duration: float = 0.5,
                    r0: float = 20.0, rmax: float = 100.0):
    """Read a Stroud-style MAT-file into a :class:`~nwbmotor.models.ModelSession`.

    ``dt`` defaults to ``duration / (T - 1)``: the T target samples span the 500 ms
    movement, ends included (the authors' ``linspace(0, 500, T)``).
    """
    from nwbmotor.models import ModelSession, NetworkSnapshot, plan_trials, simulate_gain_network

    path = Path(path)
    arrays = read_stroud_network(path)
    w, x0, readout = arrays["W_rec"], arrays["initial_cond"], arrays["readout"]
    n, n_exc = len(w), readout.size - 1
    targets = {k: arrays[k] for k in ("initial_target", "novel_target")}
    n_steps = targets["initial_target"].size
    dt = duration / (n_steps - 1) if dt is None else float(dt)
    patterns = {"initial": np.ones(n)}
    plan = [("before", "initial", 0, "initial_target"), ("before", "initial", 1, "novel_target")]
    if "gains" in arrays:
        patterns["learned"] = arrays["gains"]
        plan.append(("after", "learned", 1, "novel_target"))
    gains = np.array([patterns[p[1]] for p in plan])
    rates = simulate_gain_network(w, x0, gains, n_steps=n_steps, tau=tau, dt=dt, r0=r0, rmax=rmax)
    outputs = (readout[0] + rates[..., :n_exc] @ readout[1:])[..., None]
    target_arr = np.array([targets[p[3]] for p in plan])[..., None]
    snapshots = [
        NetworkSnapshot(
            phase=name, tau=tau, dt=dt, nonlinearity="gain_tanh_asymmetric",
            nonlinearity_params={"r0": r0, "rmax": rmax}, integrator="rk4",
            weights={"W_rec": w, "readout": readout[None, 1:]}, biases={"output": readout[:1]},
            gains=g, initial_state=x0, connections={"readout": ("output", "network:E")},
        )
        for name, g in patterns.items()
    ]
    return ModelSession(
        name=path.stem,
        description=f"Gain-modulated E/I network ({n_exc} E, {n - n_exc} I) from {path.name}, integrated by nwbmotor "
                    f"(RK4, {n_steps} samples of {dt * 1e3:.4g} ms).",
        dt=dt,
        model="gain-modulation",
        seed=None,
        units={"module": np.array(["network"] * n), "cell_type": np.array(["E"] * n_exc + ["I"] * (n - n_exc)),
               "gain_group": np.full(n, -1)},
        rates=rates,
        outputs=outputs,
        targets=target_arr,
        trials=plan_trials(plan, outputs, target_arr),
        networks=snapshots,
        rate_unit="Hz",
    )
