"""Reference network models and the model-session contract.

Models build a :class:`ModelSession` (units, per-trial rates, outputs, targets, trials,
network snapshots, training log); :func:`write_model_session` stores it in NWB with the
ndx-motor-learning model types and :func:`read_model_session` reads it back;
:func:`simulate` runs a named model and writes its NWB file.

- ``gain-modulation``: Stroud, Porter, Hennequin & Vogels (2018), see
  :func:`run_gain_modulation`.
- ``modular-rnn``: Feulner et al. (2022), see ``nwbmotor.models._modular_rnn``.
"""

from __future__ import annotations

from nwbmotor.models._session import (
    NONLINEARITIES,
    TRIAL_COLUMNS,
    ModelSession,
    NetworkSnapshot,
    apply_nonlinearity,
    endpoint_indices,
)

__all__ = [
    "NONLINEARITIES",
    "TRIAL_COLUMNS",
    "ModelSession",
    "NetworkSnapshot",
    "apply_nonlinearity",
    "endpoint_indices",
]
