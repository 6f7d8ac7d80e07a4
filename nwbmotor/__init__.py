"""nwbmotor: NWB for motor-learning neuroscience.

Converters package two-photon imaging, lever behaviour, optogenetic epochs and network
model outputs into NWB files that DANDI accepts; session views open any of them as
lazy xarray objects with one vocabulary of dims; the studies' analyses run on those
views unchanged, for real and simulated data alike.

Public names are imported on first use so that ``import nwbmotor`` (and the CLI) start
fast; the heavy libraries (pynwb, neuroconv, dask) load only when needed.
"""

from __future__ import annotations

import importlib
from typing import Any

from nwbmotor._errors import NwbMotorError, NwbMotorTypeError, NwbMotorValueError

__version__ = "0.1.0"

# public name -> private module that defines it
_EXPORTS: dict[str, str] = {
    # foundation
    "atomic_output": "nwbmotor._io",
    "inspect_file": "nwbmotor._inspect",
    "inspect_paths": "nwbmotor._inspect",
    "write_nwbfile": "nwbmotor._write",
    "register_source_kind": "nwbmotor._registry",
    "SubjectMetadata": "nwbmotor._metadata",
    "SessionMetadata": "nwbmotor._metadata",
    "load_spec": "nwbmotor._spec",
    "convert": "nwbmotor._convert",
    # views (nwbmotor/views)
    "open_session": "nwbmotor.views",
    "open_sessions": "nwbmotor.views",
    "align_units": "nwbmotor.views",
    "map_sessions": "nwbmotor.views",
    "trial_align": "nwbmotor.analysis",
    # models (nwbmotor/models)
    "ModelSession": "nwbmotor.models",
    "NetworkSnapshot": "nwbmotor.models",
    "read_model_session": "nwbmotor.models",
    "resimulate": "nwbmotor.models",
    "simulate": "nwbmotor.models",
    "write_model_session": "nwbmotor.models",
    "run_modular_rnn": "nwbmotor.models",
    # end to end (organize, analyze, demo)
    "organize": "nwbmotor._dandi",
    "validate_dandiset": "nwbmotor._dandi",
    "analyze": "nwbmotor._analyze",
    "run_demo": "nwbmotor._demo",
}

__all__ = sorted(["NwbMotorError", "NwbMotorTypeError", "NwbMotorValueError", "__version__", *_EXPORTS])


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
