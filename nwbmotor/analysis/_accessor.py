"""The ``.motor`` accessor on Dataset and DataArray: it only forwards.

``ds.motor.trial_align("movement_onset")`` is ``nwbmotor.analysis.trial_align(ds,
"movement_onset")``: every method calls the module-level function of the same name
with the object as first argument. The functions are the documented, typed API; see
their docstrings. The accessor's ``__init__`` only stores the object.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import xarray as xr

__all__ = ["MotorAccessor", "FORWARDED"]

#: Names of the nwbmotor.analysis functions the accessor forwards to.
FORWARDED = (
    "trial_align", "compute_dff", "detect_events", "classify_movement_related", "fraction_movement_related",
    "population_similarity", "activity_timing", "sequence_reproducibility", "spatiotemporal_correlation",
    "lever_correlation", "behavior_timing", "spatial_clustering", "opto_performance", "light_driven_units",
    "activity_change", "covariance_change", "principal_angles", "weight_change", "dw_dimensionality",
    "output_error", "premovement_activity",
)


def _forward(name: str) -> Callable[..., Any]:
    def method(self: MotorAccessor, *args: Any, **kwargs: Any) -> Any:
        func = getattr(importlib.import_module("nwbmotor.analysis"), name)
        return func(self._obj, *args, **kwargs)

    method.__name__ = name
    method.__qualname__ = f"MotorAccessor.{name}"
    method.__doc__ = f"``nwbmotor.analysis.{name}(obj, *args, **kwargs)``; see that function."
    return method


@xr.register_dataarray_accessor("motor")
@xr.register_dataset_accessor("motor")
class MotorAccessor:
    """``obj.motor.<analysis>(...)`` calls ``nwbmotor.analysis.<analysis>(obj, ...)``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> import nwbmotor.analysis
    >>> da = xr.DataArray(np.zeros((50, 2)), dims=("time", "unit"), coords={"time": np.arange(50) / 10})
    >>> da.motor.trial_align([1.0, 2.0], window=(0, 0.5)).sizes["rel_time"]
    6
    """

    def __init__(self, obj: xr.Dataset | xr.DataArray) -> None:
        self._obj = obj

    trial_align = _forward("trial_align")
    compute_dff = _forward("compute_dff")
    detect_events = _forward("detect_events")
    classify_movement_related = _forward("classify_movement_related")
    fraction_movement_related = _forward("fraction_movement_related")
    population_similarity = _forward("population_similarity")
    activity_timing = _forward("activity_timing")
    sequence_reproducibility = _forward("sequence_reproducibility")
    spatiotemporal_correlation = _forward("spatiotemporal_correlation")
    lever_correlation = _forward("lever_correlation")
    behavior_timing = _forward("behavior_timing")
    spatial_clustering = _forward("spatial_clustering")
    opto_performance = _forward("opto_performance")
    light_driven_units = _forward("light_driven_units")
    activity_change = _forward("activity_change")
    covariance_change = _forward("covariance_change")
    principal_angles = _forward("principal_angles")
    weight_change = _forward("weight_change")
    dw_dimensionality = _forward("dw_dimensionality")
    output_error = _forward("output_error")
    premovement_activity = _forward("premovement_activity")
