"""Generators of network-model sessions and of the files modellers save.

Each writer makes a small, realistic file in one of the layouts of the model-output
converters (``formats.md``, "Model outputs") and returns the truth it planted, so the
readers are tested against known values:

- :func:`write_model_npz` / :func:`write_model_hdf5`: generic named arrays + a metadata
  JSON/YAML file beside;
- :func:`write_stroud_mat`: Stroud-style MAT-file (``W_rec``, ``initial_cond``,
  ``readout``, ``initial_target``, ``novel_target``), flat or struct-wrapped;
  :func:`make_stroud_network` makes such a network the authors' way (SOC);
- :func:`write_feulner_pickle`: Feulner-style dictionary saved with ``np.save`` (a
  pickle);
- :func:`write_hostile_pickle`: a pickle that would run code if unpickled naively.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from nwbmotor._io import atomic_output

__all__ = [
    "mock_model_session",
    "write_model_npz",
    "write_model_hdf5",
    "make_stroud_network",
    "write_stroud_mat",
    "write_feulner_pickle",
    "write_hostile_pickle",
]


def mock_model_session(*, n_trials: int = 4, n_steps: int = 50, n_units: int = 6, seed: int = 0):
    """A small, valid :class:`~nwbmotor.models.ModelSession` (tanh network, 2 snapshots).

    Rates come from actually integrating a random tanh network from per-target
    initial states, so re-simulating the stored network reproduces them.

    Examples
    --------
    >>> s = mock_model_session()
    >>> s.rates.shape
    (4, 50, 6)
    """
    from nwbmotor.models import ModelSession, NetworkSnapshot

    rng = np.random.default_rng(seed)
    dt, tau = 0.01, 0.05
    w_rec = rng.normal(0, 1.2 / np.sqrt(n_units), (n_units, n_units))
    w_in = rng.normal(0, 1.0, (n_units, 2))
    w_out = rng.normal(0, 1.0 / np.sqrt(n_units), (2, n_units))
    b_out = rng.normal(0, 0.1, 2)
    target_id = np.arange(n_trials) % 4
    angle = target_id * 90.0
    inputs = np.zeros((n_trials, n_steps, 2))
    inputs[:, 10:, 0] = np.cos(np.deg2rad(angle))[:, None]
    inputs[:, 10:, 1] = np.sin(np.deg2rad(angle))[:, None]
    rates = np.zeros((n_trials, n_steps, n_units))
    x = np.zeros((n_trials, n_units))
    for t in range(n_steps):
        r = np.tanh(x)
        rates[:, t] = r
        x = x + dt / tau * (-x + r @ w_rec.T + inputs[:, t] @ w_in.T)
    outputs = rates @ w_out.T + b_out
    targets = np.zeros_like(outputs)
    targets[:, 30:, 0] = np.cos(np.deg2rad(angle))[:, None]
    targets[:, 30:, 1] = np.sin(np.deg2rad(angle))[:, None]
    half = n_trials // 2
    snap = dict(tau=tau, dt=dt, nonlinearity="tanh", biases={"output": b_out}, initial_state=np.zeros(n_units))
    networks = [
        NetworkSnapshot("before", weights={"W_rec": w_rec, "W_in": w_in, "W_out": w_out}, **snap),  # type: ignore[arg-type]
        NetworkSnapshot("after", weights={"W_rec": w_rec * 1.01, "W_in": w_in, "W_out": w_out}, **snap),  # type: ignore[arg-type]
    ]
    return ModelSession(
        name="mock-model",
        description="A small random tanh network driven by a target input.",
        dt=dt,
        model="mock",
        seed=seed,
        units={
            "module": np.array(["network"] * n_units),
            "cell_type": np.array(["unknown"] * n_units),
            "gain_group": np.full(n_units, -1),
        },
        rates=rates,
        outputs=outputs,
        targets=targets,
        inputs=inputs,
        trials={
            "target_id": target_id,
            "target_angle": angle,
            "perturbation": np.zeros(n_trials),
            "phase": np.array(["before"] * half + ["after"] * (n_trials - half)),
            "go_time": np.full(n_trials, 0.3),
            "cue_time": np.full(n_trials, 0.1),
            "network": np.array(["before"] * half + ["before"] * (n_trials - half)),
        },
        networks=networks,
        training_log={"iteration": np.arange(5), "loss": np.linspace(1, 0.2, 5),
                      "phase": np.array(["training"] * 5), "learning_rate": np.full(5, 1e-4)},
    )


def _generic_arrays(seed: int, n_trials: int, n_steps: int, n_units: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    rates = np.tanh(rng.normal(0, 1, (n_trials, n_steps, n_units)).cumsum(axis=1) * 0.1)
    w_out = rng.normal(0, 0.3, (2, n_units))
    return {
        "rates": rates,
        "inputs": rng.normal(0, 1, (n_trials, n_steps, 3)),
        "outputs": rates @ w_out.T,
        "targets": rng.normal(0, 1, (n_trials, n_steps, 2)),
        "W_rec": rng.normal(0, 1 / np.sqrt(n_units), (n_units, n_units)),
        "W_in": rng.normal(0, 1, (n_units, 3)),
        "W_out": w_out,
        "target_id": np.arange(n_trials) % 8,
    }


def _generic_metadata(n_trials: int) -> dict[str, Any]:
    return {
        "model": "my-rnn",
        "description": "A tanh RNN trained on centre-out reaching.",
        "dt": 0.01,
        "tau": 0.05,
        "nonlinearity": "tanh",
        "seed": 3,
        "go_step": 30,
        "cue_step": 10,
        "phase": "after",
    }


def write_model_npz(
    path: str | os.PathLike[str], *, n_trials: int = 8, n_steps: int = 60, n_units: int = 10, seed: int = 0,
    metadata_format: str = "json", **overrides: Any,
) -> dict[str, Any]:
    """Write a generic model-output ``.npz`` and ``<stem>.json`` (or ``.yaml``) beside it.

    Arrays: ``rates[trial, time, unit]``, ``inputs``, ``outputs``, ``targets``,
    ``W_rec``, ``W_in``, ``W_out``, ``target_id``. ``overrides`` replace arrays (or add
    them; an array for a metadata key, e.g. per-trial ``phase`` or ``go_step``, becomes an
    array); metadata keys: model, description, dt, tau, nonlinearity, seed, go_step,
    cue_step, phase.

    Returns
    -------
    dict
        The arrays and metadata written (``{"arrays": ..., "metadata": ...}``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> truth = write_model_npz(pathlib.Path(tempfile.mkdtemp()) / "run.npz")
    >>> truth["arrays"]["rates"].shape
    (8, 60, 10)
    """
    path = Path(path)
    arrays = _generic_arrays(seed, n_trials, n_steps, n_units)
    metadata = _generic_metadata(n_trials)
    for key, value in overrides.items():
        (metadata if key in metadata and not isinstance(value, np.ndarray) else arrays)[key] = value
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)  # type: ignore[arg-type]
    _write_metadata(path, metadata, metadata_format)
    return {"arrays": arrays, "metadata": metadata}


def write_model_hdf5(
    path: str | os.PathLike[str], *, n_trials: int = 8, n_steps: int = 60, n_units: int = 10, seed: int = 0,
    **overrides: Any,
) -> dict[str, Any]:
    """Like :func:`write_model_npz`, as an HDF5 file of named datasets (metadata as YAML).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> truth = write_model_hdf5(pathlib.Path(tempfile.mkdtemp()) / "run.h5")
    >>> sorted(truth["arrays"])[:2]
    ['W_in', 'W_out']
    """
    import h5py

    path = Path(path)
    arrays = _generic_arrays(seed, n_trials, n_steps, n_units)
    metadata = _generic_metadata(n_trials)
    for key, value in overrides.items():
        (metadata if key in metadata and not isinstance(value, np.ndarray) else arrays)[key] = value
    with atomic_output(path) as tmp, h5py.File(tmp, "w") as f:
        for key, value in arrays.items():
            f.create_dataset(key, data=value)
    _write_metadata(path, metadata, "yaml")
    return {"arrays": arrays, "metadata": metadata}


def _write_metadata(path: Path, metadata: dict[str, Any], fmt: str) -> None:
    if fmt == "json":
        target = path.with_suffix(".json")
        text = json.dumps(metadata, indent=2)
    else:
        import yaml

        target = path.with_suffix(".yaml")
        text = yaml.safe_dump(metadata)
    with atomic_output(target) as tmp:
        tmp.write_text(text)


def write_stroud_mat(
    path: str | os.PathLike[str], *, n_exc: int = 20, n_inh: int = 20, n_steps: int = 100, seed: int = 0,
    version: str = "5", layout: str = "flat", arrays: dict[str, np.ndarray] | None = None, **overrides: Any,
) -> dict[str, np.ndarray]:
    """Write a Stroud-style MAT-file (v5, or v7.3 = HDF5) of a small E/I network.

    Variables: ``W_rec`` (N x N; first ``n_exc`` columns >= 0, the rest <= 0),
    ``initial_cond`` (N), ``readout`` (1 + n_exc: bias then weights), ``initial_target``
    and ``novel_target`` (``n_steps`` samples). ``arrays`` (e.g. from
    :func:`make_stroud_network`) replaces the random small network; ``overrides``
    replace variables. ``layout="struct"`` stores them as the fields of one struct
    ``data``, as the authors' published ``data.mat`` does; ``"flat"`` as top-level
    variables. ``version="7.3"`` writes what MATLAB's ``save -v7.3`` writes: an HDF5 file
    behind a 512-byte MAT header, arrays stored transposed (column-major), a struct as a
    group.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> truth = write_stroud_mat(pathlib.Path(tempfile.mkdtemp()) / "net.mat")
    >>> truth["W_rec"].shape
    (40, 40)
    """
    from scipy.io import savemat

    rng = np.random.default_rng(seed)
    n = n_exc + n_inh
    w = rng.random((n, n)) * (rng.random((n, n)) < 0.2)
    w[:, :n_exc] *= 0.5
    w[:, n_exc:] *= -1.0
    np.fill_diagonal(w, 0.0)
    t = np.linspace(0, 1, n_steps)
    variables = {
        "W_rec": w,
        "initial_cond": rng.normal(0, 5, n),
        "readout": np.r_[0.1, rng.normal(0, 0.05, n_exc)],
        "initial_target": np.sin(2 * np.pi * t) * np.sin(np.pi * t),
        "novel_target": np.sin(4 * np.pi * t) * np.sin(np.pi * t),
    }
    if arrays is not None:
        variables = dict(arrays)
    variables.update(overrides)
    if layout not in ("flat", "struct"):
        raise ValueError(f"write_stroud_mat: layout expected 'flat' or 'struct', got {layout!r}")
    if version == "7.3":
        _write_mat73(path, variables, struct="data" if layout == "struct" else None)
        return variables
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        savemat(f, {"data": variables} if layout == "struct" else variables)  # a dict of arrays -> a 1 x 1 struct
    return variables


def make_stroud_network(n_exc: int = 50, n_inh: int = 50, *, seed: int = 0, n_steps: int = 200,
                        novel_similarity: float = -0.8) -> dict[str, np.ndarray]:
    """A Stroud-layout network made like the authors' (planted truth for the readers and the study).

    A stability-optimised circuit (:func:`nwbmotor.models.build_stability_optimized_network`,
    published statistics), its most amplified initial state (norm 1.5 sqrt(N)), a
    movement-like ``initial_target`` and a readout fitted to it at gains 1 (RK4 on the
    authors' grid: ``n_steps`` samples over 500 ms inclusive), and a ``novel_target``
    correlated ``novel_similarity`` with it.

    Examples
    --------
    >>> net = make_stroud_network(10, 10, seed=0, n_steps=50)
    >>> sorted(net), net["readout"].shape
    (['W_rec', 'initial_cond', 'initial_target', 'novel_target', 'readout'], (11,))
    """
    from nwbmotor.models import (
        build_stability_optimized_network,
        fit_readout,
        make_movement_target,
        most_amplified_state,
        simulate_gain_network,
    )

    rng = np.random.default_rng(seed)
    radius = 10.0 if n_exc + n_inh >= 100 else 3.0
    w = build_stability_optimized_network(n_exc, n_inh, rng=rng, radius=radius)
    x0 = most_amplified_state(w)
    initial = make_movement_target(rng, n_steps)
    other = make_movement_target(rng, n_steps)
    other -= initial * (other @ initial) / (initial @ initial)
    novel = novel_similarity * initial + np.sqrt(1 - novel_similarity**2) * other / other.std()
    rates = simulate_gain_network(w, x0, np.ones(n_exc + n_inh), n_steps=n_steps, dt=0.5 / (n_steps - 1))
    bias, weights = fit_readout(rates[:, :n_exc], initial)
    return {"W_rec": w, "initial_cond": x0, "readout": np.r_[bias, weights], "initial_target": initial,
            "novel_target": novel}


def _write_mat73(path: str | os.PathLike[str], variables: dict[str, np.ndarray], struct: str | None = None) -> None:
    import h5py

    with atomic_output(path) as tmp:
        with h5py.File(tmp, "w", userblock_size=512) as f:
            into = f
            if struct is not None:
                into = f.create_group(struct)
                into.attrs["MATLAB_class"] = np.bytes_("struct")
            for key, value in variables.items():
                arr = np.atleast_2d(np.asarray(value, dtype=float))
                if arr.shape[0] == 1 and np.ndim(value) == 1:
                    arr = arr.T  # MATLAB vectors are columns
                into.create_dataset(key, data=arr.T).attrs["MATLAB_class"] = np.bytes_("double")
        text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created by: nwbmotor.testing HDF5 schema 1.00 ."
        header = text.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"
        with open(tmp, "r+b") as f:
            f.write(header)


def write_feulner_pickle(
    path: str | os.PathLike[str], *, n_trials: int = 8, n_steps: int = 80, n_units: int = 12, seed: int = 0,
    **overrides: Any,
) -> dict[str, Any]:
    """Write a Feulner-style dictionary with ``np.save`` (an object array, i.e. a pickle).

    Keys: ``params`` {output_dim, tsteps, ntrials, input_dim, dt}, ``target[trial, time,
    out]``, ``stimulus[trial, time, in]`` (target x, y from the cue; last channel a hold
    signal dropping at go), ``test_set`` {``cue_onset``, ``go_onset``, ``trial_id``},
    per-module weights ``weights`` {``W_U_rec``, ``W_P_rec``, ``W_M_rec``, ``W_U_in``,
    ``W_P_in``, ``W_UP``, ``W_PM``, ``W_out``, ``b_out``}, and ``activity`` {``upstream``,
    ``PMd``, ``M1``} rates ``[trial, time, unit]`` plus ``output``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> truth = write_feulner_pickle(pathlib.Path(tempfile.mkdtemp()) / "sim.npy")
    >>> truth["params"]["tsteps"]
    80
    """
    rng = np.random.default_rng(seed)
    dt = 0.01
    trial_id = np.arange(n_trials) % 8
    angle = np.deg2rad((trial_id - 3) * 45.0)  # the authors' convention: target 3 at 0°, 0 at −135°
    cue = np.full(n_trials, n_steps // 3)
    go = np.full(n_trials, 2 * n_steps // 3)
    stimulus = np.zeros((n_trials, n_steps, 3))
    target = np.zeros((n_trials, n_steps, 2))
    for k in range(n_trials):
        stimulus[k, cue[k]:, 0] = np.cos(angle[k])
        stimulus[k, cue[k]:, 1] = np.sin(angle[k])
        stimulus[k, :go[k], 2] = 1.0
        ramp = np.clip((np.arange(n_steps) - go[k]) / 10.0, 0, 1)
        target[k, :, 0] = ramp * np.cos(angle[k])
        target[k, :, 1] = ramp * np.sin(angle[k])
    mods = ("U", "P", "M")
    weights = {f"W_{m}_rec": rng.normal(0, 1 / np.sqrt(n_units), (n_units, n_units)) for m in mods}
    weights.update({
        "W_U_in": rng.normal(0, 1, (n_units, 3)),
        "W_P_in": rng.normal(0, 1, (n_units, 3)),
        "W_UP": rng.normal(0, 1 / np.sqrt(n_units), (n_units, n_units)),
        "W_PM": rng.normal(0, 1 / np.sqrt(n_units), (n_units, n_units)),
        "W_out": rng.normal(0, 1 / np.sqrt(n_units), (2, n_units)),
        "b_out": rng.normal(0, 0.1, 2),
    })
    activity = {name: np.tanh(rng.normal(0, 0.5, (n_trials, n_steps, n_units))) for name in ("upstream", "PMd", "M1")}
    data: dict[str, Any] = {
        "params": {"output_dim": 2, "tsteps": n_steps, "ntrials": n_trials, "input_dim": 3, "dt": dt},
        "target": target,
        "stimulus": stimulus,
        "test_set": {"cue_onset": cue, "go_onset": go, "trial_id": trial_id},
        "weights": weights,
        "activity": activity,
        "output": activity["M1"] @ weights["W_out"].T + weights["b_out"],
    }
    data.update(overrides)
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        np.save(f, np.array(data, dtype=object), allow_pickle=True)
    return data


class _Exploit:
    """Unpickling this object calls ``marker_path.write_text(...)`` via ``os.system``."""

    def __init__(self, marker_path: str) -> None:
        self.marker_path = marker_path

    def __reduce__(self):
        return (os.system, (f"touch {self.marker_path}",))


def write_hostile_pickle(path: str | os.PathLike[str], marker_path: str | os.PathLike[str]) -> Path:
    """Write a ``.npy``-style pickle that creates ``marker_path`` if naively unpickled.

    The payload calls ``os.system("touch <marker_path>")`` from ``__reduce__``; a safe
    reader refuses it and the marker file never appears.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> p = write_hostile_pickle(d / "evil.npy", d / "pwned")
    >>> p.exists(), (d / "pwned").exists()
    (True, False)
    """
    payload = {"params": {"dt": 0.01}, "target": _Exploit(str(marker_path))}
    with atomic_output(path) as tmp, open(tmp, "wb") as f:
        # A pickle in a .npy wrapper: header for an object array of shape (), then the pickle.
        np.lib.format.write_array_header_1_0(f, {"descr": "|O", "fortran_order": False, "shape": ()})
        pickle.dump(payload, f, protocol=2)
    return Path(path)
