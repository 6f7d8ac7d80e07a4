"""A PyTorch checkpoint saved as the authors' scripts save it converts (needs the ``torch`` extra).

The module below has the authors' layout (``nn.RNN`` weight holders named ``rnn_l0b``,
``rnn_l0``, ``rnn_l1``, ``nn.Linear`` layers ``rnn0bto0`` and ``output``); its state
dict is saved inside ``{"epoch", "model_state_dict", "optimizer_state_dict"}`` with an
Adam state after one step, and read back through ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nwbmotor import NwbMotorValueError
from nwbmotor.converters.model import ModelOutputInterface
from nwbmotor.testing import write_feulner_pickle

torch = pytest.importorskip("torch")
nn = torch.nn

AUTHOR_LAYOUT = {  # key of the authors' state dict -> Feulner name
    "rnn_l0b.weight_ih_l0": "W_U_in", "rnn_l0b.weight_hh_l0": "W_U_rec", "rnn0bto0.weight": "W_UP",
    "rnn_l0.weight_ih_l0": "W_P_in", "rnn_l0.weight_hh_l0": "W_P_rec", "rnn_l1.weight_ih_l0": "W_PM",
    "rnn_l1.weight_hh_l0": "W_M_rec", "output.weight": "W_out", "output.bias": "b_out",
}


class _AuthorsLayout(nn.Module):
    def __init__(self, n_inputs: int, n_outputs: int, n0: int, n1: int) -> None:
        super().__init__()
        self.rnn_l0b = nn.RNN(n_inputs, n0, num_layers=1, nonlinearity="tanh", bias=False)
        self.rnn0bto0 = nn.Linear(n0, n0, bias=False)
        self.rnn_l0 = nn.RNN(n_inputs, n0, num_layers=1, nonlinearity="tanh", bias=False)
        self.rnn_l1 = nn.RNN(n0, n1, num_layers=1, nonlinearity="tanh", bias=False)
        self.output = nn.Linear(n1, n_outputs)


def _checkpoint(path: Path, weights: dict[str, np.ndarray]) -> _AuthorsLayout:
    model = _AuthorsLayout(3, 2, weights["W_U_rec"].shape[0], weights["W_M_rec"].shape[0])
    state = model.state_dict()
    assert list(state) == list(AUTHOR_LAYOUT)  # the layout the authors' code saves, in its order
    for key, name in AUTHOR_LAYOUT.items():
        state[key] = torch.tensor(weights[name], dtype=torch.float32)
    model.load_state_dict(state, strict=True)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss = sum(p.pow(2).sum() for p in model.parameters())
    loss.backward()
    optimizer.step()
    model.load_state_dict(state, strict=True)  # the saved weights are the planted ones
    torch.save({"epoch": 500, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict()}, str(path))
    return model


def test_authors_checkpoint_converts_through_weights_only_load(tmp_path: Path) -> None:
    truth = write_feulner_pickle(tmp_path / "task.npy", n_units=12)
    path = tmp_path / "model"  # the authors' file name, no extension
    _checkpoint(path, truth["weights"])
    session = ModelOutputInterface(path, format="torch", task_path=tmp_path / "task.npy").session
    snap = session.networks[0]
    for name in ("W_U_in", "W_U_rec", "W_UP", "W_P_in", "W_P_rec", "W_PM", "W_M_rec", "W_out"):
        np.testing.assert_allclose(snap.weights[name], truth["weights"][name], rtol=1e-6, atol=1e-7, err_msg=name)
    np.testing.assert_allclose(snap.biases["output"], truth["weights"]["b_out"], rtol=1e-6, atol=1e-7)
    # the load really is weights-only: a pickled object that is not plain data is refused
    evil = tmp_path / "evil.pt"
    torch.save({"model_state_dict": {"output.bias": torch.zeros(2)}, "extra": _AuthorsLayout(3, 2, 2, 2)}, str(evil))
    with pytest.raises(NwbMotorValueError, match=r"evil.pt: refused or unreadable as a weights-only PyTorch file"):
        ModelOutputInterface(evil, format="torch", task_path=tmp_path / "task.npy")


def test_ambiguous_keys_are_refused(tmp_path: Path) -> None:
    write_feulner_pickle(tmp_path / "task.npy", n_units=12)
    path = tmp_path / "odd.pt"
    torch.save({"a.W_UP": torch.zeros(12, 12), "b.W_UP": torch.zeros(12, 12)}, str(path))
    with pytest.raises(NwbMotorValueError, match=r"odd.pt: keys 'a.W_UP' and 'b.W_UP' both give the weight name 'W_UP'"):
        ModelOutputInterface(path, format="torch", task_path=tmp_path / "task.npy")
