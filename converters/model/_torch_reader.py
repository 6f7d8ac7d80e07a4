"""PyTorch state dicts of a Feulner-style modular RNN (optional: needs torch).

The state dict is loaded with ``torch.load(path, weights_only=True, map_location="cpu")``
(no code runs), its tensors become NumPy arrays and are matched to the Feulner weight
names by the last dotted component (``rnn.W_UP`` -> ``W_UP``). The task (params,
target, stimulus, test set) comes from a Feulner-style dictionary given as
``task_path``. torch is never imported unless this format is asked for, and a torch
file without torch installed is a clear error.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from nwbmotor._errors import NwbMotorValueError

__all__ = ["torch_available", "load_state_dict"]


def torch_available() -> bool:
    """True if PyTorch can be imported."""
    return importlib.util.find_spec("torch") is not None


def load_state_dict(path: Path) -> dict[str, np.ndarray]:
    """Weights of a PyTorch state dict as NumPy arrays keyed by their last name component."""
    if not torch_available():
        raise NwbMotorValueError(
            f"{path}: format 'torch' needs PyTorch, which is not installed; install torch (CPU build is enough) "
            "or export the state dict to NPZ ({name: tensor.numpy()}) and use format='npz'"
        )
    if not path.is_file():
        raise NwbMotorValueError(f"{path}: no such file")
    import pickle

    import torch

    try:
        state = torch.load(str(path), weights_only=True, map_location="cpu")
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError) as exc:
        raise NwbMotorValueError(
            f"{path}: refused or unreadable as a weights-only PyTorch file ({type(exc).__name__}: {exc})"
        ) from None
    if hasattr(state, "state_dict") and not isinstance(state, dict):
        state = state.state_dict()
    if not isinstance(state, dict):
        raise NwbMotorValueError(f"{path}: expected a state dict (name -> tensor), got {type(state).__name__}")
    return {str(k).rsplit(".", 1)[-1]: np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v)
            for k, v in state.items()}
