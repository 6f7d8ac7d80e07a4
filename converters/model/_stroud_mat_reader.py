"""Stroud-style MAT-files: a gain-modulated E/I network and its two movement targets.

Variables: ``W_rec`` (N x N; columns 1..N_E excitatory >= 0, the rest inhibitory
<= 0), ``initial_cond`` (N), ``readout`` (1 + N_E: bias, then the weights on the E
units), ``initial_target`` and ``novel_target`` (T samples each); optionally ``gains``
(N, learned for the novel target). MAT v5 (scipy) and v7.3 (HDF5) are read.

The file holds a network, not its activity, so the reader integrates it
(:func:`nwbmotor.models.simulate_gain_network`) for T steps: trials "before" with
gains 1 on the initial and the novel target, and, when ``gains`` is present, "after"
with the learned gains on the novel target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError

__all__ = ["read_stroud_mat", "load_mat"]

REQUIRED = ("W_rec", "initial_cond", "readout", "initial_target", "novel_target")


def load_mat(path: Path) -> dict[str, Any]:
    """Variables of a MAT-file (v5 via scipy, v7.3 via h5py, transposed to MATLAB's shape)."""
    from scipy.io import loadmat

    if not path.is_file():
        raise NwbMotorValueError(f"{path}: no such file")
    try:
        return {k: v for k, v in loadmat(path).items() if not k.startswith("__")}
    except NotImplementedError:  # v7.3: HDF5
        import h5py

        from nwbmotor._hdf5_guard import check_self_contained

        with h5py.File(path, "r") as f:
            check_self_contained(path, file=f)
            return {k: np.asarray(v[()]).T for k, v in f.items() if isinstance(v, h5py.Dataset)}
    except Exception as exc:  # noqa: BLE001 - scipy raises ValueError/TypeError/... on corrupt files
        raise NwbMotorValueError(f"{path}: cannot be read as a MAT-file ({type(exc).__name__}: {exc})") from None


def read_stroud_mat(path: Path, *, tau: float = 0.2, dt: float | None = None, duration: float = 0.5,
                    r0: float = 20.0, rmax: float = 100.0):
    """Read a Stroud-style MAT-file into a :class:`~nwbmotor.models.ModelSession`.

    ``dt`` defaults to ``duration / T``: the targets span the 500 ms movement.
    """
    from nwbmotor.models import ModelSession, NetworkSnapshot, plan_trials, simulate_gain_network

    mat = load_mat(path)
    missing = [k for k in REQUIRED if k not in mat]
    if missing:
        raise NwbMotorValueError(f"{path}: variables {missing} expected (Stroud layout {list(REQUIRED)}), got {sorted(mat)}")
    w = np.asarray(mat["W_rec"], dtype=float)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise NwbMotorValueError(f"{path}: 'W_rec' expected a square N x N matrix, got shape {w.shape}")
    n = w.shape[0]
    x0 = np.asarray(mat["initial_cond"], dtype=float).ravel()
    readout = np.asarray(mat["readout"], dtype=float).ravel()
    n_exc = readout.size - 1
    if x0.size != n:
        raise NwbMotorValueError(f"{path}: 'initial_cond' expected {n} values (N of W_rec), got {x0.size}")
    if not 1 <= n_exc < n:
        raise NwbMotorValueError(
            f"{path}: 'readout' expected 1 + N_E values with 0 < N_E < N = {n}, got {readout.size}"
        )
    if not np.isfinite(w).all():
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(w))[0])
        raise NwbMotorValueError(f"{path}: 'W_rec' expected finite weights, got {w[bad]} at {bad}")
    if (w[:, :n_exc] < 0).any() or (w[:, n_exc:] > 0).any():
        raise NwbMotorValueError(
            f"{path}: 'W_rec' expected columns 1..{n_exc} >= 0 (excitatory) and {n_exc + 1}..{n} <= 0 "
            f"(inhibitory), N_E being len(readout) - 1; got {int((w[:, :n_exc] < 0).sum())} negative E and "
            f"{int((w[:, n_exc:] > 0).sum())} positive I weights"
        )
    targets = {k: np.asarray(mat[k], dtype=float).ravel() for k in ("initial_target", "novel_target")}
    n_steps = targets["initial_target"].size
    if targets["novel_target"].size != n_steps:
        raise NwbMotorValueError(
            f"{path}: 'novel_target' has {targets['novel_target'].size} samples, 'initial_target' {n_steps}; "
            "expected one target length = the number of steps of the simulation"
        )
    dt = duration / n_steps if dt is None else float(dt)
    gains_learned = None
    if "gains" in mat:
        gains_learned = np.asarray(mat["gains"], dtype=float).ravel()
        if gains_learned.size != n:
            raise NwbMotorValueError(f"{path}: 'gains' expected {n} values, got {gains_learned.size}")
    patterns = {"initial": np.ones(n)}
    plan = [("before", "initial", 0, "initial_target"), ("before", "initial", 1, "novel_target")]
    if gains_learned is not None:
        patterns["learned"] = gains_learned
        plan.append(("after", "learned", 1, "novel_target"))
    gains = np.array([patterns[p[1]] for p in plan])
    rates = simulate_gain_network(w, x0, gains, n_steps=n_steps, tau=tau, dt=dt, r0=r0, rmax=rmax)
    outputs = (readout[0] + rates[..., :n_exc] @ readout[1:])[..., None]
    target_arr = np.array([targets[p[3]] for p in plan])[..., None]
    snapshots = [
        NetworkSnapshot(
            phase=name, tau=tau, dt=dt, nonlinearity="gain_tanh_asymmetric",
            nonlinearity_params={"r0": r0, "rmax": rmax},
            weights={"W_rec": w, "readout": readout[None, 1:]}, biases={"output": readout[:1]},
            gains=g, initial_state=x0, connections={"readout": ("output", "network:E")},
        )
        for name, g in patterns.items()
    ]
    return ModelSession(
        name=path.stem,
        description=f"Gain-modulated E/I network ({n_exc} E, {n - n_exc} I) from {path.name}, integrated by nwbmotor.",
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
