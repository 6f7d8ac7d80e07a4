"""Reference network models and the model-session contract.

Models build a :class:`ModelSession` (units, per-trial rates, outputs, targets, trials,
network snapshots, training log); :func:`write_model_session` stores it in NWB with the
ndx-motor-learning model types and :func:`read_model_session` reads it back;
:func:`simulate` runs a named model and writes its NWB file; :func:`resimulate` runs a
stored session's networks again.

- ``gain-modulation``: Stroud, Porter, Hennequin & Vogels (2018), see
  :func:`run_gain_modulation`.
- ``modular-rnn``: Feulner et al. (2022), see :func:`run_modular_rnn`.
"""

from __future__ import annotations

from nwbmotor.models._gain_modulation import (
    GainLearningResult,
    build_stability_optimized_network,
    combine_gain_patterns,
    fit_readout,
    gain_nonlinearity,
    interpolate_gains,
    learn_gains,
    make_movement_target,
    most_amplified_state,
    movement_error,
    simulate_gain_network,
    spectral_abscissa,
)
from nwbmotor.models._gain_study import run_gain_modulation
from nwbmotor.models._modular_rnn import (
    ModularRnnOptions,
    compare_hypotheses,
    hypotheses,
    run_modular_rnn,
    simulate_snapshot,
)
from nwbmotor.models._nwb import (
    add_model_session,
    model_metadata,
    model_session_to_nwbfile,
    read_model_session,
    write_model_session,
)
from nwbmotor.models._session import (
    NONLINEARITIES,
    TRIAL_COLUMNS,
    ModelSession,
    NetworkSnapshot,
    apply_nonlinearity,
    endpoint_indices,
)
from nwbmotor.models._simulate import MODELS, resimulate, simulate

__all__ = [
    "MODELS",
    "NONLINEARITIES",
    "TRIAL_COLUMNS",
    "GainLearningResult",
    "ModelSession",
    "NetworkSnapshot",
    "add_model_session",
    "apply_nonlinearity",
    "build_stability_optimized_network",
    "combine_gain_patterns",
    "compare_hypotheses",
    "endpoint_indices",
    "fit_readout",
    "gain_nonlinearity",
    "hypotheses",
    "interpolate_gains",
    "learn_gains",
    "make_movement_target",
    "ModularRnnOptions",
    "simulate_snapshot",
    "model_metadata",
    "model_session_to_nwbfile",
    "most_amplified_state",
    "movement_error",
    "read_model_session",
    "resimulate",
    "run_gain_modulation",
    "run_modular_rnn",
    "simulate",
    "simulate_gain_network",
    "spectral_abscissa",
    "write_model_session",
]
