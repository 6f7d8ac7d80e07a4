"""Generators of realistic test data, public so that users can test their pipelines too.

Every generator writes files in the exact layout of the lab's formats (see the
project's formats documentation) or builds in-memory objects, and returns the truth it
planted beside the files, so that readers and analyses are tested against known
answers. Nothing here is needed at run time by the rest of nwbmotor.

Names are imported on first use, so ``import nwbmotor.testing`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> private module that defines it. Keep sorted within each group.
_EXPORTS: dict[str, str] = {
    # checks
    "assert_valid_nwb": "nwbmotor._inspect",
    "mock_metadata": "nwbmotor.testing._nwbfile",
    "mock_nwbfile": "nwbmotor.testing._nwbfile",
    # imaging movies (nwbmotor/testing/_imaging.py)
    "ScanImageSession": "nwbmotor.testing._imaging",
    "SyntheticMovie": "nwbmotor.testing._imaging",
    "si4_header": "nwbmotor.testing._imaging",
    "write_scanimage_session": "nwbmotor.testing._imaging",
    "write_tiff_movie": "nwbmotor.testing._imaging",
    "write_tiff_pages": "nwbmotor.testing._imaging",
    # segmentation, cell labels, registration, spines (nwbmotor/testing/_segmentation.py)
    # behaviour rig: Ephus, Dispatcher, bitcodes, frames, opto (nwbmotor/testing/_rig.py)
    "LeverTruth": "nwbmotor.testing._lever",
    "synthesize_lever_trace": "nwbmotor.testing._lever",
    # network models (nwbmotor/testing/_models.py)
    # whole sessions as NWB files, for the views and analyses (nwbmotor/testing/_sessions.py)
}

__all__ = sorted(_EXPORTS)


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
