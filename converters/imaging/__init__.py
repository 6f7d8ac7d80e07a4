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
    from nwbmotor.converters.imaging._si4_reader import (
        ScanImageLayout,
        detect_scanimage_version,
        find_tiff_files,
        parse_matlab_value,
        parse_scanimage_header,
        read_scanimage_layout,
    )
    from nwbmotor.converters.imaging._tiff_reader import (
        TiffFrameSource,
        TiffIndex,
        scan_tiff,
    )
    from nwbmotor.converters.imaging.scanimage_interface import (
        ScanImageMovieInterface,
    )
    from nwbmotor.converters.imaging.tiff_interface import (
        TiffMovieInterface,
    )

__all__: list[str]
__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "ScanImageLayout": "nwbmotor.converters.imaging._si4_reader",
        "ScanImageMovieInterface": "nwbmotor.converters.imaging.scanimage_interface",
        "TiffFrameSource": "nwbmotor.converters.imaging._tiff_reader",
        "TiffIndex": "nwbmotor.converters.imaging._tiff_reader",
        "TiffMovieInterface": "nwbmotor.converters.imaging.tiff_interface",
        "detect_scanimage_version": "nwbmotor.converters.imaging._si4_reader",
        "find_tiff_files": "nwbmotor.converters.imaging._si4_reader",
        "parse_matlab_value": "nwbmotor.converters.imaging._si4_reader",
        "parse_scanimage_header": "nwbmotor.converters.imaging._si4_reader",
        "read_scanimage_layout": "nwbmotor.converters.imaging._si4_reader",
        "scan_tiff": "nwbmotor.converters.imaging._tiff_reader",
    },
)
