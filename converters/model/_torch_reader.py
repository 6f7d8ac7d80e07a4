"""PyTorch files of a Feulner-style modular RNN (optional: needs torch, the ``torch`` extra).

The file is loaded with ``torch.load(path, weights_only=True, map_location="cpu")`` (no
code runs). Two layouts are read:

- the checkpoint the authors' scripts write (``run_initial.py``, ``run_perturbation.py``
  of ``babaf/motor-adaptation-local-vs-input``): ``torch.save({"epoch": int,
  "model_state_dict": ..., "optimizer_state_dict": ...}, path)``, or a bare state dict;
- the state dict of their ``RNN`` module, whose keys name torch layers:
  ``rnn_l0b.weight_ih_l0`` (stimulus → upstream), ``rnn_l0b.weight_hh_l0`` (upstream
  recurrent), ``rnn0bto0.weight`` (upstream → PMd), ``rnn_l0.weight_ih_l0`` (stimulus →
  PMd), ``rnn_l0.weight_hh_l0`` (PMd recurrent), ``rnn_l1.weight_ih_l0`` (PMd → M1),
  ``rnn_l1.weight_hh_l0`` (M1 recurrent), ``output.weight``, ``output.bias``; these map
  to the Feulner names (``W_U_in``, ``W_U_rec``, ``W_UP``, ``W_P_in``, ``W_P_rec``,
  ``W_PM``, ``W_M_rec``, ``W_out``, ``b_out``). Any other key is matched by its last
  dotted component (``rnn.W_UP`` -> ``W_UP``), which must then be unique.

The task (params, target, stimulus, test set) comes from a Feulner-style dictionary
given as ``task_path``. torch is never imported unless this format is asked for, and a
torch file without torch installed is a clear error.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError

__all__ = ["AUTHOR_KEYS", "torch_available", "load_state_dict"]

#: Keys of the authors' ``RNN`` state dict -> Feulner weight names.
AUTHOR_KEYS: dict[str, str] = {
    "rnn_l0b.weight_ih_l0": "W_U_in",
    "rnn_l0b.weight_hh_l0": "W_U_rec",
    "rnn0bto0.weight": "W_UP",
    "rnn_l0.weight_ih_l0": "W_P_in",
    "rnn_l0.weight_hh_l0": "W_P_rec",
    "rnn_l1.weight_ih_l0": "W_PM",
    "rnn_l1.weight_hh_l0": "W_M_rec",
    "output.weight": "W_out",
    "output.bias": "b_out",
}


def torch_available() -> bool:
    """True if PyTorch can be imported."""
    return importlib.util.find_spec("torch") is not None


def _array(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu()
        if hasattr(value, "double"):
            value = value.double()
        return np.asarray(value.numpy())
    return np.asarray(value)


def load_state_dict(path: Path) -> dict[str, np.ndarray]:
    """Weights of a PyTorch state dict or checkpoint as NumPy arrays keyed by Feulner weight names.

    Examples
    --------
    >>> sorted(AUTHOR_KEYS.values())[:3]
    ['W_M_rec', 'W_PM', 'W_P_in']
    """
    if not torch_available():
        raise NwbMotorValueError(
            f"{path}: format 'torch' needs PyTorch, which is not installed; install torch (CPU build is enough, "
            "pip install 'nwbmotor[torch]') or export the state dict to NPZ ({name: tensor.numpy()}) and use "
            "format='npz'"
        )
    if not path.is_file():
        raise NwbMotorValueError(f"{path}: no such file")
    import pickle

    import torch

    try:
        state = torch.load(str(path), weights_only=True, map_location="cpu")
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as exc:
        raise NwbMotorValueError(
            f"{path}: refused or unreadable as a weights-only PyTorch file ({type(exc).__name__}: {exc})"
        ) from None
    if hasattr(state, "state_dict") and not isinstance(state, dict):
        state = state.state_dict()
    if isinstance(state, dict) and "model_state_dict" in state:
        state = state["model_state_dict"]
    if not isinstance(state, dict):
        raise NwbMotorValueError(f"{path}: expected a state dict (name -> tensor), got {type(state).__name__}")
    out: dict[str, np.ndarray] = {}
    source: dict[str, str] = {}
    for key, value in state.items():
        key = str(key)
        name = AUTHOR_KEYS.get(key, key.rsplit(".", 1)[-1])
        if name in out:
            raise NwbMotorValueError(
                f"{path}: keys {source[name]!r} and {key!r} both give the weight name {name!r}; expected the "
                f"authors' keys ({sorted(AUTHOR_KEYS)}) or keys whose last component names a weight (W_UP, ...)"
            )
        out[name] = _array(value)
        source[name] = key
    return out
