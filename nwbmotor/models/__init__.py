"""Reference network models: compute only (numpy), no NWB.

Models build a :class:`ModelSession` (units, per-trial rates, outputs, targets, trials,
network snapshots, training log). Their NWB writer and reader are beside the model
converter (:mod:`nwbmotor.converters.model`); ``nwbmotor.simulate`` runs a named model
(:data:`MODELS`) and writes its file; :func:`resimulate` runs a stored session's
networks again.

- ``gain-modulation``: Stroud, Porter, Hennequin & Vogels (2018), see
  :func:`run_gain_modulation`.
- ``modular-rnn``: Feulner et al. (2022), see :func:`run_modular_rnn`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nwbmotor._lazy import attach

if TYPE_CHECKING:
    from nwbmotor.models._gain_modulation import (
        GainLearningResult,
        build_stability_optimized_network,
        combine_gain_patterns,
        fit_readout,
        gain_nonlinearity,
        initial_network,
        interpolate_gains,
        learn_gains,
        make_movement_target,
        measure_speed,
        most_amplified_state,
        movement_error,
        plan_trials,
        simulate_gain_network,
        spectral_abscissa,
        time_scaled,
    )
    from nwbmotor.models._gain_study import (
        PRESETS,
        STROUD_FIELDS,
        run_gain_modulation,
    )
    from nwbmotor.models._modular_rnn import (
        HYPOTHESES,
        MODULE_LABELS,
        WEIGHT_NAMES,
        ModularRnnOptions,
        adapt_modular_rnn,
        hypotheses,
        run_modular_rnn,
        simulate_snapshot,
    )
    from nwbmotor.models._registry import (
        MODELS,
        get_model_runner,
    )
    from nwbmotor.models._resimulate import (
        integrate_session,
        resimulate,
    )
    from nwbmotor.models._session import (
        NONLINEARITIES,
        TRIAL_COLUMNS,
        ModelSession,
        NetworkSnapshot,
        apply_nonlinearity,
        endpoint_indices,
    )

__all__: list[str]
__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "GainLearningResult": "nwbmotor.models._gain_modulation",
        "HYPOTHESES": "nwbmotor.models._modular_rnn",
        "MODELS": "nwbmotor.models._registry",
        "MODULE_LABELS": "nwbmotor.models._modular_rnn",
        "ModelSession": "nwbmotor.models._session",
        "ModularRnnOptions": "nwbmotor.models._modular_rnn",
        "NONLINEARITIES": "nwbmotor.models._session",
        "NetworkSnapshot": "nwbmotor.models._session",
        "PRESETS": "nwbmotor.models._gain_study",
        "TRIAL_COLUMNS": "nwbmotor.models._session",
        "WEIGHT_NAMES": "nwbmotor.models._modular_rnn",
        "adapt_modular_rnn": "nwbmotor.models._modular_rnn",
        "apply_nonlinearity": "nwbmotor.models._session",
        "build_stability_optimized_network": "nwbmotor.models._gain_modulation",
        "combine_gain_patterns": "nwbmotor.models._gain_modulation",
        "endpoint_indices": "nwbmotor.models._session",
        "fit_readout": "nwbmotor.models._gain_modulation",
        "gain_nonlinearity": "nwbmotor.models._gain_modulation",
        "get_model_runner": "nwbmotor.models._registry",
        "hypotheses": "nwbmotor.models._modular_rnn",
        "integrate_session": "nwbmotor.models._resimulate",
        "initial_network": "nwbmotor.models._gain_modulation",
        "interpolate_gains": "nwbmotor.models._gain_modulation",
        "learn_gains": "nwbmotor.models._gain_modulation",
        "make_movement_target": "nwbmotor.models._gain_modulation",
        "measure_speed": "nwbmotor.models._gain_modulation",
        "most_amplified_state": "nwbmotor.models._gain_modulation",
        "movement_error": "nwbmotor.models._gain_modulation",
        "plan_trials": "nwbmotor.models._gain_modulation",
        "resimulate": "nwbmotor.models._resimulate",
        "run_gain_modulation": "nwbmotor.models._gain_study",
        "run_modular_rnn": "nwbmotor.models._modular_rnn",
        "simulate_gain_network": "nwbmotor.models._gain_modulation",
        "simulate_snapshot": "nwbmotor.models._modular_rnn",
        "spectral_abscissa": "nwbmotor.models._gain_modulation",
        "STROUD_FIELDS": "nwbmotor.models._gain_study",
        "time_scaled": "nwbmotor.models._gain_modulation",
    },
)
