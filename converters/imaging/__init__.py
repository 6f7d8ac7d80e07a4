"""Raw two-photon movies: ScanImage TIFF sessions and plain multi-page TIFFs.

Source kinds ``scanimage`` (:class:`ScanImageMovieInterface`) and ``tiff``
(:class:`TiffMovieInterface`). Both write one ``TwoPhotonSeries`` per channel and plane
with the parallel, constant-memory, lossless writer (``shuffle`` + ``gzip`` chunks
compressed on every core and written with direct chunk writes).

The interfaces are imported on first use, so the readers can be imported without
NeuroConv.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["ScanImageMovieInterface", "TiffMovieInterface"]

_EXPORTS = {
    "ScanImageMovieInterface": "nwbmotor.converters.imaging.scanimage_interface",
    "TiffMovieInterface": "nwbmotor.converters.imaging.tiff_interface",
}


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
