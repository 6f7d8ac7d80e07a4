"""The model registry: a model name of ``nwbmotor simulate`` -> the function that runs it.

A new model is one module in ``nwbmotor/models/`` with a ``run_<model>(*, seed, progress,
**options) -> ModelSession`` function, and one line here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.models._session import ModelSession

__all__ = ["MODELS", "get_model_runner"]

#: Model name -> "module:function" returning a ModelSession (seed first, options by keyword).
MODELS: dict[str, str] = {
    "gain-modulation": "nwbmotor.models._gain_study:run_gain_modulation",
    "modular-rnn": "nwbmotor.models._modular_rnn:run_modular_rnn",
}


def get_model_runner(model: str) -> Callable[..., ModelSession]:
    if model not in MODELS:
        raise NwbMotorValueError(f"simulate: model expected one of {sorted(MODELS)}, got {model!r}")
    module_name, _, func = MODELS[model].partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise NwbMotorValueError(f"simulate: model {model!r} is not available in this version of nwbmotor") from None
    return getattr(module, func)
