"""The studies' analyses: xarray session views in, xarray results out.

Every function takes the session view of :func:`nwbmotor.open_session` (or its
``activity`` DataArray) in the vocabulary of DESIGN.md, uses the defaults of the
studies (science.md), and records every parameter in the result's ``attrs``.
Importing this package registers the ``.motor`` accessor.
"""

from __future__ import annotations

import nwbmotor.analysis._accessor  # noqa: F401  (registers .motor)
from nwbmotor.analysis._align import trial_align
from nwbmotor.analysis._behavior import behavior_timing
from nwbmotor.analysis._dff import compute_dff
from nwbmotor.analysis._events import detect_events
from nwbmotor.analysis._lever import lever_correlation
from nwbmotor.analysis._model_metrics import (
    activity_change,
    covariance_change,
    dw_dimensionality,
    output_error,
    principal_angles,
    weight_change,
)
from nwbmotor.analysis._movement_related import classify_movement_related, fraction_movement_related
from nwbmotor.analysis._opto import light_driven_units, opto_performance
from nwbmotor.analysis._population import (
    activity_timing,
    population_similarity,
    sequence_reproducibility,
    spatiotemporal_correlation,
)
from nwbmotor.analysis._premovement import premovement_activity
from nwbmotor.analysis._spatial import spatial_clustering

__all__ = [
    # model-comparison metrics (nwbmotor/analysis/_model_metrics.py)
    "activity_change",
    "covariance_change",
    "dw_dimensionality",
    "output_error",
    "principal_angles",
    "weight_change",
    # the studies' analyses (science.md A and C)
    "activity_timing",
    "behavior_timing",
    "classify_movement_related",
    "compute_dff",
    "detect_events",
    "fraction_movement_related",
    "light_driven_units",
    "lever_correlation",
    "opto_performance",
    "population_similarity",
    "premovement_activity",
    "sequence_reproducibility",
    "spatial_clustering",
    "spatiotemporal_correlation",
    "trial_align",
]
