"""The studies' analyses: xarray session views in, xarray results out.

Every function takes the session view of :func:`nwbmotor.open_session` (or its
``activity`` DataArray) in the vocabulary of DESIGN.md, uses the defaults of the
studies (science.md), and records every parameter in the result's ``attrs``. Every
name of ``__all__`` is also a method of the ``.motor`` accessor, registered when
nwbmotor is imported. The numpy kernels behind them are in :mod:`nwbmotor.methods`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nwbmotor._lazy import attach

if TYPE_CHECKING:
    from nwbmotor.analysis._align import (
        trial_align,
    )
    from nwbmotor.analysis._behavior import (
        behavior_timing,
    )
    from nwbmotor.analysis._dff import (
        compute_dff,
    )
    from nwbmotor.analysis._ei import (
        ei_balance,
    )
    from nwbmotor.analysis._events import (
        detect_events,
    )
    from nwbmotor.analysis._inputs import (
        bouton_timing,
        group_axons,
        input_encoding,
    )
    from nwbmotor.analysis._lever import (
        lever_correlation,
    )
    from nwbmotor.analysis._model_metrics import (
        activity_change,
        covariance_change,
        dw_dimensionality,
        output_error,
        principal_angles,
        weight_change,
    )
    from nwbmotor.analysis._movement_related import (
        classify_movement_related,
        fraction_movement_related,
    )
    from nwbmotor.analysis._opto import (
        light_driven_units,
        opto_performance,
    )
    from nwbmotor.analysis._opto_learning import (
        opto_kinematics,
        track_light_driven,
    )
    from nwbmotor.analysis._population import (
        activity_timing,
        population_similarity,
        sequence_reproducibility,
        spatiotemporal_correlation,
    )
    from nwbmotor.analysis._premovement import (
        premovement_activity,
    )
    from nwbmotor.analysis._spatial import (
        spatial_clustering,
    )
    from nwbmotor.analysis._spines import (
        new_spine_survival,
        spine_turnover,
    )
    from nwbmotor.analysis._stats import (
        learning_trend,
        paired_comparison,
    )
    from nwbmotor.analysis._template import (
        template_similarity,
    )

__all__: list[str]
__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "activity_change": "nwbmotor.analysis._model_metrics",
        "activity_timing": "nwbmotor.analysis._population",
        "behavior_timing": "nwbmotor.analysis._behavior",
        "classify_movement_related": "nwbmotor.analysis._movement_related",
        "compute_dff": "nwbmotor.analysis._dff",
        "covariance_change": "nwbmotor.analysis._model_metrics",
        "detect_events": "nwbmotor.analysis._events",
        "dw_dimensionality": "nwbmotor.analysis._model_metrics",
        "fraction_movement_related": "nwbmotor.analysis._movement_related",
        "lever_correlation": "nwbmotor.analysis._lever",
        "light_driven_units": "nwbmotor.analysis._opto",
        "opto_performance": "nwbmotor.analysis._opto",
        "output_error": "nwbmotor.analysis._model_metrics",
        "population_similarity": "nwbmotor.analysis._population",
        "premovement_activity": "nwbmotor.analysis._premovement",
        "principal_angles": "nwbmotor.analysis._model_metrics",
        "sequence_reproducibility": "nwbmotor.analysis._population",
        "spatial_clustering": "nwbmotor.analysis._spatial",
        "spatiotemporal_correlation": "nwbmotor.analysis._population",
        "trial_align": "nwbmotor.analysis._align",
        "weight_change": "nwbmotor.analysis._model_metrics",
        # Peters 2014: E/I balance, template-based activity vs movement, spine turnover
        "ei_balance": "nwbmotor.analysis._ei",
        "template_similarity": "nwbmotor.analysis._template",
        "spine_turnover": "nwbmotor.analysis._spines",
        "new_spine_survival": "nwbmotor.analysis._spines",
        # Ramot 2025: input boutons by source, light-driven cells across learning, kinematics
        "input_encoding": "nwbmotor.analysis._inputs",
        "bouton_timing": "nwbmotor.analysis._inputs",
        "group_axons": "nwbmotor.analysis._inputs",
        "track_light_driven": "nwbmotor.analysis._opto_learning",
        "opto_kinematics": "nwbmotor.analysis._opto_learning",
        # statistics across sessions and animals
        "learning_trend": "nwbmotor.analysis._stats",
        "paired_comparison": "nwbmotor.analysis._stats",
    },
)

import nwbmotor.analysis._accessor  # noqa: E402,F401  (registers .motor, built from __all__)
