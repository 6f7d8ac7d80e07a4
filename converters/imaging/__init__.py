"""Raw two-photon movies: ScanImage TIFF sessions and plain multi-page TIFFs.

Source kinds ``scanimage`` (:class:`ScanImageMovieInterface`) and ``tiff``
(:class:`TiffMovieInterface`). Both write one ``TwoPhotonSeries`` per channel and plane
with the parallel, constant-memory, lossless writer (``shuffle`` + ``gzip`` chunks
compressed on every core and written with direct chunk writes).

The interfaces are imported on first use, so the readers can be imported without
NeuroConv.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nwbmotor._lazy import attach

if TYPE_CHECKING:
    from nwbmotor.converters.imaging.scanimage_interface import (
        ScanImageMovieInterface,
    )
    from nwbmotor.converters.imaging.tiff_interface import (
        TiffMovieInterface,
    )

__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "ScanImageMovieInterface": "nwbmotor.converters.imaging.scanimage_interface",
        "TiffMovieInterface": "nwbmotor.converters.imaging.tiff_interface",
    },
)
