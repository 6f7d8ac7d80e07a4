"""ScanImage TIFF sessions (ScanImage 4 read by nwbmotor; 3.8 and 2016+ through roiextractors)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import DirectoryPath

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters._ophys import DEFAULT_EXCITATION_LAMBDA, DEFAULT_INDICATOR, DEFAULT_LOCATION
from nwbmotor.converters.imaging._movie_interface import MovieInterfaceBase, MovieStream
from nwbmotor.converters.imaging._si4_reader import (
    detect_scanimage_version,
    find_tiff_files,
    parse_scanimage_header,
    read_scanimage_layout,
)
from nwbmotor.converters.imaging._tiff_reader import scan_tiff

__all__ = ["ScanImageMovieInterface"]


def _channel_label(name: str) -> str:
    """ScanImage 2016+ channel names ('Channel 1') as NWB name parts: PMT 1 Green, PMT 2 Red."""
    m = re.fullmatch(r"\s*Channel\s*(\d+)\s*", name)
    if m:
        return {1: "Green", 2: "Red"}.get(int(m.group(1)), f"Channel{m.group(1)}")
    return re.sub(r"[^0-9A-Za-z]", "", name) or "Channel"


class _ExtractorSource:
    """A roiextractors ImagingExtractor as a frame source (ScanImage 2016+)."""

    def __init__(self, extractor) -> None:
        self._x = extractor
        self.n_frames = int(extractor.get_num_samples())
        self.frame_shape = tuple(int(v) for v in extractor.get_image_shape())
        self.dtype = np.dtype(extractor.get_dtype())

    def read(self, start: int, stop: int) -> np.ndarray:
        return np.asarray(self._x.get_series(start_sample=start, end_sample=stop), dtype=self.dtype).reshape(stop - start, *self.frame_shape)


class ScanImageMovieInterface(MovieInterfaceBase):
    """A ScanImage TIFF session as ``TwoPhotonSeries``, one per channel and plane (source kind ``scanimage``).

    The session's files (all ``*.tif``/``*.tiff`` of ``folder_path``, in natural order:
    ``_2`` before ``_10``) are read in order. ScanImage 4 (``scanimage.SI4.*`` lines in
    every page's ImageDescription) and 3.8 (``state.*`` lines) are read by nwbmotor:
    frame rate (``scanFrameRate``), saved channels (``channelsSave``: 1 = Green,
    2 = Red), fast-z planes (``stackNumSlices``), zoom and per-frame timestamps
    (``frameTimestamps_sec``), with the frame numbers checked to continue from file to
    file. ScanImage 2016+ files are read by roiextractors' ``ScanImageImagingExtractor``.
    Interleaved pages are split into one series per channel and plane.

    Parameters
    ----------
    folder_path : str or PathLike
        Folder of one session's TIFF files.
    file_paths : sequence of str, optional
        The files, in acquisition order, instead of every TIFF in the folder.
    fov_um_at_zoom_1 : (x, y) floats, optional
        Field of view at zoom 1; the recording's FOV is this divided by the zoom read from
        the header. ``field_of_view_um`` (the FOV of this recording) takes precedence.
    indicator : str, default "GCaMP6f"
    excitation_lambda : float, default 925.0
        Laser wavelength in nm.
    location : str, default "MOp"
        Allen CCF acronym of the imaged area.
    field_of_view_um : (x, y) floats, optional
        Field of view of this recording in µm (default 470 × 500 µm for 512 × 512 px,
        scaled to the frame size).
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
    >>> from nwbmotor.testing import write_scanimage_session
    >>> session = write_scanimage_session(tempfile.mkdtemp(), n_frames=20, shape=(32, 32), n_files=2, n_channels=2)
    >>> interface = ScanImageMovieInterface(session.folder)
    >>> [s["name"] for s in interface.get_metadata()["Ophys"]["MicroscopySeries"].values()]
    ['TwoPhotonSeriesGreen', 'TwoPhotonSeriesRed']
    """

    display_name = "ScanImage TIFF session"
    associated_suffixes = (".tif", ".tiff")
    info = "Interface for ScanImage (4, 3.8, 2016+) TIFF sessions."

    def __init__(
        self,
        folder_path: DirectoryPath,
        *,
        file_paths: Sequence[str] | None = None,
        fov_um_at_zoom_1: tuple[float, float] | None = None,
        indicator: str = DEFAULT_INDICATOR,
        excitation_lambda: float = DEFAULT_EXCITATION_LAMBDA,
        location: str = DEFAULT_LOCATION,
        field_of_view_um: tuple[float, float] | None = None,
        device_name: str = "Microscope",
        device_description: str = "Two-photon laser-scanning microscope controlled by ScanImage.",
        chunk_frames: int | None = None,
        compression_level: int = 4,
        workers: int | None = None,
        verbose: bool = False,
    ) -> None:
        folder = Path(folder_path)
        files = find_tiff_files([folder / p if not Path(p).is_absolute() else p for p in file_paths] if file_paths else folder)
        super().__init__(
            folder_path=str(folder),
            file_paths=[str(p) for p in files],
            fov_um_at_zoom_1=fov_um_at_zoom_1,
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
        first = scan_tiff(files[0])
        self.version = detect_scanimage_version(first)
        self._layout = None
        self._stream_list: list[MovieStream]
        if self.version in ("SI4", "SI3"):
            self._layout = read_scanimage_layout(files, version=self.version)
            lay = self._layout
            self.zoom = lay.zoom
            self._stream_list = []
            for z in range(lay.n_planes):
                for c, name in enumerate(lay.channel_names):
                    offset = z / lay.scan_frame_rate
                    ts = lay.timestamps + offset if lay.timestamps is not None else None
                    self._stream_list.append(
                        MovieStream(channel=name, plane=z, source=lay.source(c, z), rate=lay.volume_rate, starting_time=offset, timestamps=ts)
                    )
        elif self.version == "SI2016":
            zoom = parse_scanimage_header(first.first_software).get("SI.hRoiManager.scanZoomFactor")
            self.zoom = float(zoom) if isinstance(zoom, (int, float)) and not isinstance(zoom, bool) and zoom > 0 else None
            self._stream_list = self._roiextractors_streams(files)
        else:
            raise NwbMotorValueError(
                f"{files[0]}: ImageDescription: no ScanImage header (expected 'scanimage.SI4.' lines, 'state.' lines "
                "or a ScanImage 2016+ BigTIFF); for a plain TIFF use the 'tiff' source kind with a sampling_frequency"
            )

    @staticmethod
    def _roiextractors_streams(files: list[Path]) -> list[MovieStream]:
        from roiextractors import ScanImageImagingExtractor

        try:
            channels = ScanImageImagingExtractor.get_available_channel_names(files[0])
            n_planes = ScanImageImagingExtractor.get_available_num_planes(files[0])
        except Exception as exc:  # noqa: BLE001 - roiextractors raises many kinds
            raise NwbMotorValueError(f"{files[0]}: cannot read the ScanImage 2016+ header: {exc}") from None
        streams = []
        for z in range(n_planes):
            for name in channels:
                try:
                    x = ScanImageImagingExtractor(file_paths=[str(p) for p in files], channel_name=name, plane_index=z if n_planes > 1 else None)
                except Exception as exc:  # noqa: BLE001
                    raise NwbMotorValueError(f"{files[0]}: roiextractors cannot read channel {name!r} plane {z}: {exc}") from None
                try:
                    native = x.get_native_timestamps()
                except Exception:  # noqa: BLE001 - no per-frame timestamps in the files
                    native = None
                ts = np.asarray(native, dtype=float) if native is not None else None
                streams.append(
                    MovieStream(channel=_channel_label(str(name)), plane=z, source=_ExtractorSource(x),
                                rate=float(x.get_sampling_frequency()), timestamps=ts)
                )
        return streams

    @property
    def layout(self):
        """The parsed ScanImage 4/3.8 layout (None for 2016+ files)."""
        return self._layout

    def _streams(self) -> list[MovieStream]:
        return self._stream_list

    def _ophys_defaults(self) -> dict[str, Any]:
        sd = self.source_data
        out: dict[str, Any] = {"device_description": sd["device_description"]}
        if sd["fov_um_at_zoom_1"] is not None and self.zoom:
            out["field_of_view_um"] = tuple(float(v) / self.zoom for v in sd["fov_um_at_zoom_1"])
        return out
