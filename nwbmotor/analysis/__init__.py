"""The studies' analyses: xarray session views in, xarray results out.

Every function takes the session view of :func:`nwbmotor.open_session` (or its
``activity`` DataArray) in the vocabulary of DESIGN.md, uses the defaults of the
studies (science.md), and records every parameter in the result's ``attrs``.
Importing this package registers the ``.motor`` accessor.
"""

from __future__ import annotations

import nwbmotor.analysis._accessor  # noqa: F401  (registers .motor)
from nwbmotor.analysis._align import trial_align
from nwbmotor.analysis._dff import compute_dff
from nwbmotor.analysis._events import detect_events
from nwbmotor.analysis._movement_related import classify_movement_related, fraction_movement_related

__all__ = [
    "classify_movement_related",
    "compute_dff",
    "detect_events",
    "fraction_movement_related",
    "trial_align",
]
