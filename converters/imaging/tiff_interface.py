"""Plain multi-page TIFF movies (one frame per page, rate given by the user)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import FilePath

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters._ophys import DEFAULT_EXCITATION_LAMBDA, DEFAULT_INDICATOR, DEFAULT_LOCATION
from nwbmotor.converters.imaging._movie_interface import MovieInterfaceBase, MovieStream
from nwbmotor.converters.imaging._tiff_reader import TiffFrameSource, scan_tiff

__all__ = ["TiffMovieInterface"]


class TiffMovieInterface(MovieInterfaceBase):
    """A plain multi-page TIFF movie as one ``TwoPhotonSeries`` (source kind ``tiff``).

    Every page is one frame; all pages must have the same shape and dtype. The frame
    rate is not stored in a plain TIFF, so it is a required argument. Written with the
    parallel lossless writer (shuffle + gzip on every core, constant memory).

    Parameters
    ----------
    file_path : str or PathLike
        The TIFF file.
    sampling_frequency : float
        Frames per second.
    starting_time : float, default 0.0
        Time of the first frame in the session clock, in seconds.
    indicator : str, default "GCaMP6f"
    excitation_lambda : float, default 925.0
        Laser wavelength in nm.
    location : str, default "MOp"
        Allen CCF acronym of the imaged area.
    field_of_view_um : (x, y) floats, optional
        Field of view in µm (default 470 × 500 µm for 512 × 512 px, scaled to the frame
        size). Metadata passed to ``add_to_nwbfile`` overrides all optical values.
    device_name : str, default "Microscope"
    device_description : str
    chunk_frames : int, optional
        Frames per HDF5 chunk (default about 2 MiB per chunk).
    compression_level : int, default 4
        gzip level.
    workers : int, optional
        Compression threads (default: one per core).
    verbose : bool, default False

    Examples
    --------
    >>> import tempfile
    >>> from nwbmotor.testing import SyntheticMovie, write_tiff_movie
    >>> path = write_tiff_movie(Path(tempfile.mkdtemp()) / "movie.tif", SyntheticMovie(n_frames=8, shape=(32, 32)))
    >>> interface = TiffMovieInterface(path, sampling_frequency=30.0)
    >>> interface.get_metadata()["Ophys"]["ImagingPlanes"]["ImagingPlane"]["imaging_rate"]
    30.0
    """

    display_name = "Multi-page TIFF movie"
    associated_suffixes = (".tif", ".tiff")
    info = "Interface for plain multi-page TIFF two-photon movies."

    def __init__(
        self,
        file_path: FilePath,
        *,
        sampling_frequency: float,
        starting_time: float = 0.0,
        indicator: str = DEFAULT_INDICATOR,
        excitation_lambda: float = DEFAULT_EXCITATION_LAMBDA,
        location: str = DEFAULT_LOCATION,
        field_of_view_um: tuple[float, float] | None = None,
        device_name: str = "Microscope",
        device_description: str = "Two-photon laser-scanning microscope.",
        chunk_frames: int | None = None,
        compression_level: int = 4,
        workers: int | None = None,
        verbose: bool = False,
    ) -> None:
        path = Path(file_path)
        try:
            rate = float(sampling_frequency)
        except (TypeError, ValueError):
            raise NwbMotorValueError(f"{path}: sampling_frequency is {sampling_frequency!r}; expected frames per second (> 0)") from None
        if not rate > 0 or rate == float("inf"):
            raise NwbMotorValueError(f"{path}: sampling_frequency is {sampling_frequency!r}; expected frames per second (> 0)")
        super().__init__(
            file_path=str(path),
            sampling_frequency=rate,
            starting_time=float(starting_time),
            indicator=indicator,
            excitation_lambda=excitation_lambda,
            location=location,
            field_of_view_um=field_of_view_um,
            device_name=device_name,
            device_description=device_description,
            chunk_frames=chunk_frames,
            compression_level=compression_level,
            workers=workers,
            verbose=verbose,
        )
        self._source = TiffFrameSource([scan_tiff(path)])

    def _streams(self) -> list[MovieStream]:
        sd: dict[str, Any] = self.source_data
        return [MovieStream(channel="Green", plane=0, source=self._source, rate=sd["sampling_frequency"], starting_time=sd["starting_time"])]
