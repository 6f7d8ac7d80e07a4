"""The ``.motor`` accessor on Dataset and DataArray: it only forwards.

``ds.motor.trial_align("movement_onset")`` is ``nwbmotor.analysis.trial_align(ds,
"movement_onset")``: every name in ``nwbmotor.analysis.__all__`` is a method that calls
the module-level function of that name with the object as first argument, so a new
analysis needs no line here. The functions are the documented, typed API; see their
docstrings. The accessor's ``__init__`` only stores the object.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import xarray as xr

import nwbmotor.analysis as _analysis

__all__ = ["MotorAccessor"]


def _forward(name: str) -> Callable[..., Any]:
    def method(self: MotorAccessor, *args: Any, **kwargs: Any) -> Any:
        func = getattr(importlib.import_module("nwbmotor.analysis"), name)
        return func(self._obj, *args, **kwargs)

    method.__name__ = name
    method.__qualname__ = f"MotorAccessor.{name}"
    method.__doc__ = f"``nwbmotor.analysis.{name}(obj, *args, **kwargs)``; see that function."
    return method


class MotorAccessor:
    """``obj.motor.<analysis>(...)`` calls ``nwbmotor.analysis.<analysis>(obj, ...)``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> import nwbmotor
    >>> da = xr.DataArray(np.zeros((50, 2)), dims=("time", "unit"), coords={"time": np.arange(50) / 10})
    >>> da.motor.trial_align([1.0, 2.0], window=(0, 0.5)).sizes["rel_time"]
    6
    """

    def __init__(self, obj: xr.Dataset | xr.DataArray) -> None:
        self._obj = obj

    def __dir__(self) -> list[str]:
        return sorted({*object.__dir__(self), *_analysis.__all__})


for _name in _analysis.__all__:
    setattr(MotorAccessor, _name, _forward(_name))

xr.register_dataset_accessor("motor")(MotorAccessor)
xr.register_dataarray_accessor("motor")(MotorAccessor)
