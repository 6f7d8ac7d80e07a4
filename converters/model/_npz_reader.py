"""Generic model outputs: named arrays in an NPZ or HDF5 file, metadata in JSON/YAML beside.

Arrays (NPZ members or HDF5 datasets at the root, or in a ``weights`` group):

- ``rates[trial, time, unit]`` (required), ``outputs[trial, time, out]`` (required),
  ``targets`` (same shape as outputs), ``inputs[trial, time, in]``;
- weights: every 2-D array named ``W_*`` (or in ``weights/``) is a weight matrix
  ``(n_post, n_pre)``; ``W_rec``, ``W_in``, ``W_out`` connect (all, all), (all, input),
  (output, all); others need ``connections: {name: [post, pre]}`` in the metadata;
  ``b_out`` is the output bias; ``x0`` / ``initial_state`` the initial state;
- per-trial arrays ``target_id``, ``target_angle``, ``perturbation``, ``phase``,
  ``go_step``, ``cue_step``; per-unit arrays ``module``, ``cell_type``, ``gain_group``,
  ``gains``.

Metadata (``<stem>.json``, ``<stem>.yaml`` or ``<stem>.yml``, or ``metadata_path``):
``dt`` (s per step, required), ``model``, ``description``, ``seed``, ``tau``,
``nonlinearity``, ``nonlinearity_params``, ``noise_std``, ``phase``, ``module``,
``go_step``/``cue_step`` (same for every trial), ``connections``, ``rate_unit``.
NPZ files are read with ``allow_pickle=False``: object arrays are refused.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError

__all__ = ["read_generic", "find_metadata", "session_from_arrays"]


def find_metadata(path: Path, metadata_path: Path | None) -> dict[str, Any]:
    """The metadata dict of a generic model file (explicit path, or a JSON/YAML beside it)."""
    candidates = [metadata_path] if metadata_path is not None else [
        path.with_suffix(s) for s in (".json", ".yaml", ".yml")
    ]
    for cand in candidates:
        if cand is not None and cand.is_file():
            from nwbmotor._safe_yaml import load_yaml_text, read_text_file, shorten

            text = read_text_file(cand, what="metadata file")
            try:
                if cand.suffix.lower() == ".json":
                    meta = json.loads(text)
                else:
                    meta = load_yaml_text(text, source=str(cand))
            except NwbMotorValueError:
                raise
            except Exception as exc:  # noqa: BLE001 - json parse errors of user files
                raise NwbMotorValueError(
                    f"{cand}: cannot be parsed ({type(exc).__name__}: {shorten(str(exc), 150)})"
                ) from None
            if not isinstance(meta, dict):
                raise NwbMotorValueError(f"{cand}: expected a mapping of metadata keys, got {type(meta).__name__}")
            return meta
    if metadata_path is not None:
        raise NwbMotorValueError(f"{metadata_path}: metadata file not found")
    raise NwbMotorValueError(
        f"{path}: no metadata beside it; expected {path.with_suffix('.json').name} or "
        f"{path.with_suffix('.yaml').name} with at least 'dt' (s per step)"
    )


def _read_arrays(path: Path, fmt: str) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise NwbMotorValueError(f"{path}: no such file")
    if fmt == "npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: np.asarray(z[k]) for k in z.files}
        except ValueError as exc:
            raise NwbMotorValueError(
                f"{path}: holds object arrays ({exc}); expected numeric or string arrays only (pickles are refused)"
            ) from None
        except (OSError, EOFError) as exc:
            raise NwbMotorValueError(f"{path}: cannot be read as NPZ ({exc})") from None
        except Exception as exc:  # noqa: BLE001 - zipfile.BadZipFile and friends
            raise NwbMotorValueError(f"{path}: cannot be read as NPZ ({type(exc).__name__}: {exc})") from None
    import h5py

    if not h5py.is_hdf5(path):
        raise NwbMotorValueError(f"{path}: not an HDF5 file; expected format 'hdf5' named datasets")
    out: dict[str, np.ndarray] = {}
    from nwbmotor._hdf5_guard import check_self_contained

    with h5py.File(path, "r") as f:
        check_self_contained(path, file=f)
        for key, item in f.items():
            if isinstance(item, h5py.Dataset):
                out[key] = item[()]
            elif key == "weights":
                for wkey, w in item.items():
                    if isinstance(w, h5py.Dataset):
                        out[wkey if wkey.startswith(("W_", "b_")) else f"W_{wkey}"] = w[()]
    for key, value in out.items():
        if isinstance(value, np.ndarray) and value.dtype.kind == "S":
            out[key] = value.astype(str)
    return out


def read_generic(path: Path, fmt: str, metadata_path: Path | None = None, **overrides: Any):
    """Read a generic NPZ/HDF5 model file into a :class:`~nwbmotor.models.ModelSession`."""
    arrays = _read_arrays(path, fmt)
    meta = {**find_metadata(path, metadata_path), **{k: v for k, v in overrides.items() if v is not None}}
    return session_from_arrays(path, arrays, meta)


def _need(path: Path, arrays: dict[str, np.ndarray], key: str, ndim: int) -> np.ndarray:
    if key not in arrays:
        raise NwbMotorValueError(f"{path}: array {key!r} expected, got arrays {sorted(arrays)}")
    arr = np.asarray(arrays[key])
    if arr.ndim != ndim:
        raise NwbMotorValueError(f"{path}: array {key!r} expected {ndim} dimensions, got shape {arr.shape}")
    return arr


def session_from_arrays(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]):
    """Build a ModelSession from generic named arrays and metadata; errors name ``path``."""
    from nwbmotor.models import ModelSession, NetworkSnapshot

    if "dt" not in meta:
        raise NwbMotorValueError(f"{path}: metadata 'dt' (s per step) expected, got keys {sorted(meta)}")
    try:
        dt = float(meta["dt"])
    except (TypeError, ValueError):
        raise NwbMotorTypeError(f"{path}: metadata 'dt' expected a number of seconds, got {meta['dt']!r}") from None
    rates = _need(path, arrays, "rates", 3)
    outputs = _need(path, arrays, "outputs", 3)
    n_trials, n_steps, n_units = rates.shape

    def per_trial(key: str, default: Any) -> np.ndarray:
        if key in arrays:
            return np.asarray(arrays[key])
        return np.full(n_trials, default)

    def step_time(key: str) -> np.ndarray:
        if key in arrays:
            return np.asarray(arrays[key], dtype=float) * dt
        value = meta.get(key)
        return np.full(n_trials, np.nan if value is None else float(value) * dt)

    phase = str(meta.get("phase", "trained"))
    weights = {k: v for k, v in arrays.items() if k.startswith("W_") and np.ndim(v) == 2}
    networks = []
    if weights:
        x0 = arrays.get("initial_state", arrays.get("x0"))
        networks.append(
            NetworkSnapshot(
                phase=phase,
                tau=float(meta.get("tau", dt)),
                dt=dt,
                nonlinearity=str(meta.get("nonlinearity", "tanh")),
                nonlinearity_params=dict(meta.get("nonlinearity_params") or {}),
                weights=weights,
                biases={"output": arrays["b_out"]} if "b_out" in arrays else {},
                gains=arrays.get("gains"),
                noise_std=float(meta.get("noise_std", 0.0)),
                initial_state=x0,
                connections={k: tuple(v) for k, v in dict(meta.get("connections") or {}).items()},
            )
        )
    trials = {
        "target_id": per_trial("target_id", 0),
        "target_angle": per_trial("target_angle", np.nan),
        "perturbation": per_trial("perturbation", 0.0),
        "phase": per_trial("phase", phase).astype(str),
        "go_time": step_time("go_step"),
        "cue_time": step_time("cue_step"),
    }
    if networks:
        trials["network"] = np.full(n_trials, phase)
    model = str(meta.get("model", "imported"))
    return ModelSession(
        name=str(meta.get("name", path.stem)),
        description=str(meta.get("description", f"Model outputs imported from {path.name}.")),
        dt=dt,
        model=model,
        seed=meta.get("seed"),
        units={
            "module": per_unit(arrays, "module", n_units, str(meta.get("module", "network"))),
            "cell_type": per_unit(arrays, "cell_type", n_units, "unknown"),
            "gain_group": per_unit(arrays, "gain_group", n_units, -1),
        },
        rates=rates,
        outputs=outputs,
        targets=arrays.get("targets"),
        inputs=arrays.get("inputs"),
        trials=trials,
        networks=networks,
        rate_unit=str(meta.get("rate_unit", "a.u.")),
    )


def per_unit(arrays: dict[str, np.ndarray], key: str, n: int, default: Any) -> np.ndarray:
    return np.asarray(arrays[key]) if key in arrays else np.full(n, default)
