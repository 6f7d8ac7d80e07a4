"""The numpy network against the authors' equations written in PyTorch autograd (needs the ``torch`` extra).

The loss of the authors' ``train`` (MSE from the loss start, ``W.norm(2)`` penalties of
every matrix, 0.8 · ``r.pow(2).mean()`` of each module) is written here with torch
tensors; its value and its autograd gradients must equal nwbmotor's hand-written
backpropagation, and one clipped Adam step must move the weights as ``torch.optim.Adam``
after ``clip_grad_norm_`` does.
"""

from __future__ import annotations

import numpy as np
import pytest

from nwbmotor.models._bptt import MODULES, Adam, clip_by_global_norm, init_params, loss_and_grads
from nwbmotor.models._centre_out import CentreOutTask
from nwbmotor.models._modular_rnn import ModularRnnOptions

torch = pytest.importorskip("torch")


def _torch_loss(p: dict, inputs: np.ndarray, targets: np.ndarray, x0: dict, alpha: float, loss_start: int,
                opts: ModularRnnOptions):
    s = torch.tensor(inputs.transpose(1, 0, 2))  # time-major, as the authors'
    xu, xp, xm = (torch.tensor(x0[m]) for m in MODULES)
    ru, rp, rm = xu.tanh(), xp.tanh(), xm.tanh()
    rec_u, rec_p, rec_m = [ru], [rp], [rm]
    for t in range(s.shape[0] - 1):
        xu = xu + alpha * (-xu + ru @ p["upstream_recurrent"].T + s[t] @ p["upstream_input"].T)
        xp = xp + alpha * (-xp + rp @ p["pmd_recurrent"].T + s[t] @ p["pmd_input"].T + ru @ p["upstream_to_pmd"].T)
        xm = xm + alpha * (-xm + rm @ p["m1_recurrent"].T + rp @ p["pmd_to_m1"].T)
        ru, rp, rm = xu.tanh(), xp.tanh(), xm.tanh()
        rec_u.append(ru)
        rec_p.append(rp)
        rec_m.append(rm)
    r_u, r_p, r_m = torch.stack(rec_u), torch.stack(rec_p), torch.stack(rec_m)
    out = r_m @ p["output"].T + p["output_bias"]
    loss = torch.nn.MSELoss(reduction="none")(out[loss_start:], torch.tensor(targets.transpose(1, 0, 2))[loss_start:])
    total = loss.mean()
    for name, c in opts.weight_penalty().items():
        total = total + c * p[name].norm(2)
    for r in (r_u, r_p, r_m):
        total = total + opts.rate_reg * r.pow(2).mean()
    return total


def test_loss_and_gradients_equal_torch_autograd() -> None:
    rng = np.random.default_rng(0)
    opts = ModularRnnOptions(n_units=6)
    task = CentreOutTask(n_steps=60, dt=4.0 / 60)
    params = {k: 4.0 * v for k, v in init_params(6, 3, 2, rng).items()}  # strong enough to be non-linear
    inputs, targets = task.trials(np.array([0, 2, 5]), rotation_deg=30.0)
    x0 = {m: rng.uniform(-0.1, 0.1, (3, 6)) for m in MODULES}
    terms, grads, _ = loss_and_grads(params, inputs, targets, x0, 0.5, loss_start=7,
                                     weight_penalty=opts.weight_penalty(), rate_penalty=opts.rate_penalty())
    tp = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    total = _torch_loss(tp, inputs, targets, x0, 0.5, 7, opts)
    total.backward()
    assert terms["total"] == pytest.approx(float(total.detach()), rel=1e-12)
    for name, g in grads.items():
        np.testing.assert_allclose(g, tp[name].grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)

    # one clipped Adam step, as the authors' clip_grad_norm_(0.2) + Adam(lr=1e-4)
    optimizer = torch.optim.Adam(list(tp.values()), lr=1e-4)
    torch.nn.utils.clip_grad_norm_(list(tp.values()), 0.2)
    optimizer.step()
    clip_by_global_norm(grads, 0.2)
    Adam(1e-4).step(params, grads)
    for name, value in params.items():
        np.testing.assert_allclose(value, tp[name].detach().numpy(), rtol=1e-10, atol=1e-13, err_msg=name)
