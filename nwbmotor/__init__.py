"""nwbmotor: NWB for motor-learning neuroscience.

Converters package two-photon imaging, lever behaviour, optogenetic epochs and network
model outputs into NWB files that DANDI accepts; session views open any of them as
lazy xarray objects with one vocabulary of dims; the studies' analyses run on those
views unchanged, for real and simulated data alike.

The package's layers, each a folder (see CONTRIBUTING.md):

- :mod:`nwbmotor.methods` — numpy/scipy algorithms (lever movements and trials, dF/F,
  events, the event→frame rule, model metrics);
- :mod:`nwbmotor.conversion` — the conversion spec, metadata, source kinds, ``convert``;
- :mod:`nwbmotor.converters` — one folder per source format (NeuroConv interfaces);
- :mod:`nwbmotor.sharing` — ``inspect`` and ``organize`` (DANDI);
- :mod:`nwbmotor.views` — NWB → xarray; :mod:`nwbmotor.analysis` — xarray → results;
- :mod:`nwbmotor.models` — the reference networks (compute only);
- :mod:`nwbmotor.workflows` — ``analyze``, the report, ``demo``, ``simulate``.

Public names load on first use, so ``import nwbmotor`` (and the CLI) start fast; the
heavy libraries (pynwb, NeuroConv, dask) load only when needed. Importing nwbmotor
registers the ``.motor`` accessor on xarray objects.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import nwbmotor.analysis._accessor  # noqa: F401  (registers .motor on Dataset and DataArray)
from nwbmotor._errors import NwbMotorError, NwbMotorTypeError, NwbMotorValueError
from nwbmotor._lazy import attach

__version__ = "0.1.0"

if TYPE_CHECKING:
    from nwbmotor._io import atomic_output
    from nwbmotor._write import write_nwbfile
    from nwbmotor.analysis import trial_align
    from nwbmotor.conversion import (
        SessionMetadata,
        SubjectMetadata,
        convert,
        load_spec,
        register_source_kind,
    )
    from nwbmotor.converters.model import read_model_session, write_model_session
    from nwbmotor.models import ModelSession, NetworkSnapshot, resimulate, run_modular_rnn
    from nwbmotor.sharing import inspect_file, inspect_paths, organize, validate_dandiset
    from nwbmotor.views import align_units, map_sessions, open_session, open_sessions
    from nwbmotor.workflows import analyze, run_demo, simulate

__all__: list[str]
__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        # front door: safe writes
        "atomic_output": "nwbmotor._io",
        "write_nwbfile": "nwbmotor._write",
        # conversion (nwbmotor/conversion)
        "SessionMetadata": "nwbmotor.conversion",
        "SubjectMetadata": "nwbmotor.conversion",
        "convert": "nwbmotor.conversion",
        "load_spec": "nwbmotor.conversion",
        "register_source_kind": "nwbmotor.conversion",
        # sharing (nwbmotor/sharing)
        "inspect_file": "nwbmotor.sharing",
        "inspect_paths": "nwbmotor.sharing",
        "organize": "nwbmotor.sharing",
        "validate_dandiset": "nwbmotor.sharing",
        # views (nwbmotor/views) and the most used analysis
        "align_units": "nwbmotor.views",
        "map_sessions": "nwbmotor.views",
        "open_session": "nwbmotor.views",
        "open_sessions": "nwbmotor.views",
        "trial_align": "nwbmotor.analysis",
        # models and their files
        "ModelSession": "nwbmotor.models",
        "NetworkSnapshot": "nwbmotor.models",
        "run_modular_rnn": "nwbmotor.models",
        "read_model_session": "nwbmotor.converters.model",
        "write_model_session": "nwbmotor.converters.model",
        # workflows (nwbmotor/workflows)
        "analyze": "nwbmotor.workflows",
        "resimulate": "nwbmotor.models",
        "run_demo": "nwbmotor.workflows",
        "simulate": "nwbmotor.workflows",
    },
    eager=("NwbMotorError", "NwbMotorTypeError", "NwbMotorValueError", "__version__"),
)
