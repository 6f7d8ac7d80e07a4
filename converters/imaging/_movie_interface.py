"""What the movie interfaces share: streams of frames -> TwoPhotonSeries, written in parallel.

HDF5 (default)
    Each ``TwoPhotonSeries.data`` is a :class:`ParallelMovieDataIO`: an hdmf ``H5DataIO``
    without data, carrying the final shape, dtype, chunk shape and the standard
    ``shuffle`` + ``gzip`` filters. hdmf creates that empty dataset while it writes the
    file and hands it back through ``H5DataIO.dataset`` (its documented way to fill an
    empty dataset later); :class:`ParallelMovieDataIO` fills it right then with the
    parallel direct-chunk writer, so every writer of the NWBFile (nwbmotor's
    ``write_nwbfile``, NeuroConv's ``run_conversion``, a bare ``NWBHDF5IO.write``) gets a
    complete file. ``finalize_nwbfile`` is the safety net of nwbmotor's pipeline: it fills
    a dataset that was not filled during the write, and checks that every one was.
Zarr
    ``add_to_nwbfile(..., backend="zarr")`` wraps an iterator over the frames in a
    ``ZarrDataIO`` (shuffle + zlib), written chunk by chunk by hdmf-zarr.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from hdmf.backends.hdf5.h5_utils import H5DataIO
from hdmf.data_utils import AbstractDataChunkIterator, DataChunk
from neuroconv import BaseDataInterface
from neuroconv.utils import DeepDict, dict_deep_update

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters._ophys import (
    DEFAULT_EXCITATION_LAMBDA,
    DEFAULT_INDICATOR,
    DEFAULT_LOCATION,
    ensure_imaging_plane,
    imaging_plane_name,
    normalized_ophys,
    ophys_metadata,
    two_photon_series_name,
)
from nwbmotor.converters.imaging._chunk_writer import DEFAULT_LEVEL, chunk_frames_for, n_workers, write_frames_direct

__all__ = ["FrameSource", "MovieStream", "ParallelMovieDataIO", "MovieInterfaceBase"]


class FrameSource(Protocol):
    """A movie read in order: ``n_frames`` frames of ``frame_shape`` and ``dtype``."""

    n_frames: int
    frame_shape: tuple[int, int]
    dtype: np.dtype

    def read(self, start: int, stop: int) -> np.ndarray: ...


class _Head:
    """The first ``n`` frames of a source (stub conversions)."""

    def __init__(self, source: FrameSource, n: int) -> None:
        self._s, self.n_frames = source, min(n, source.n_frames)
        self.frame_shape, self.dtype = source.frame_shape, source.dtype

    def read(self, start: int, stop: int) -> np.ndarray:
        if stop > self.n_frames:
            raise IndexError(f"frames {start}:{stop} outside 0:{self.n_frames}")
        return self._s.read(start, stop)


def _blocks(source: FrameSource, block: int) -> Iterator[np.ndarray]:
    for start in range(0, source.n_frames, block):
        yield source.read(start, min(start + block, source.n_frames))


@dataclasses.dataclass
class MovieStream:
    """One channel and plane of a recording, and its clock."""

    channel: str
    plane: int
    source: FrameSource
    rate: float
    starting_time: float = 0.0
    timestamps: np.ndarray | None = None


class _FrameChunkIterator(AbstractDataChunkIterator):
    """hdmf chunk iterator over a frame source (Zarr, or any backend without direct writes)."""

    def __init__(self, source: FrameSource, chunk_frames: int) -> None:
        self.source, self.chunk_frames, self._pos = source, chunk_frames, 0

    def __iter__(self):
        return self

    def __next__(self) -> DataChunk:
        if self._pos >= self.source.n_frames:
            raise StopIteration
        stop = min(self._pos + self.chunk_frames, self.source.n_frames)
        chunk = DataChunk(data=self.source.read(self._pos, stop), selection=(slice(self._pos, stop), slice(None), slice(None)))
        self._pos = stop
        return chunk

    def recommended_chunk_shape(self) -> tuple[int, ...]:
        return (self.chunk_frames, *self.source.frame_shape)

    def recommended_data_shape(self) -> tuple[int, ...]:
        return (self.source.n_frames, *self.source.frame_shape)

    @property
    def dtype(self) -> np.dtype:
        return self.source.dtype

    @property
    def maxshape(self) -> tuple[int, ...]:
        return (self.source.n_frames, *self.source.frame_shape)


class ParallelMovieDataIO(H5DataIO, AbstractDataChunkIterator):
    """An empty HDF5 dataset spec that fills itself with the parallel writer when hdmf creates it.

    hdmf's HDF5 writer sees an ``H5DataIO`` without data: it creates the empty dataset
    and sets :attr:`dataset`, which fills it. Any other writer (hdmf-zarr) sees an
    ``AbstractDataChunkIterator`` and writes the frames chunk by chunk, so the same
    in-memory NWBFile is written completely by either backend.

    Parameters
    ----------
    source : FrameSource
    chunk_frames : int
        Frames per chunk (chunks span whole frames).
    level : int, default 4
        gzip level.
    workers : int, optional
        Compression threads (default: one per core).
    """

    def __init__(self, source: FrameSource, *, chunk_frames: int, level: int = DEFAULT_LEVEL, workers: int | None = None) -> None:
        shape = (source.n_frames, *source.frame_shape)
        super().__init__(
            shape=shape,
            dtype=source.dtype,
            chunks=(chunk_frames, *source.frame_shape),
            compression="gzip",
            compression_opts=level,
            shuffle=True,
        )
        self.source = source
        self.chunk_frames = chunk_frames
        self.level = level
        self.workers = workers
        self.filled = False
        self.dataset_name: str | None = None
        self._iterator = _FrameChunkIterator(source, chunk_frames)

    # -- AbstractDataChunkIterator (backends without direct chunk writes)
    def __iter__(self):
        return self

    def __next__(self) -> DataChunk:
        return next(self._iterator)

    def recommended_chunk_shape(self) -> tuple[int, ...]:
        return self._iterator.recommended_chunk_shape()

    def recommended_data_shape(self) -> tuple[int, ...]:
        return self._iterator.recommended_data_shape()

    @property
    def maxshape(self) -> tuple[int, ...]:
        return self._iterator.maxshape

    @property
    def dataset(self):  # noqa: D102 - see H5DataIO.dataset
        return H5DataIO.dataset.fget(self)

    @dataset.setter
    def dataset(self, dset) -> None:
        H5DataIO.dataset.fset(self, dset)
        self.dataset_name = dset.name
        self.fill(dset)

    def fill(self, dset) -> None:
        """Write every frame of the source into ``dset`` (an empty dataset made from this spec)."""
        from tqdm.auto import tqdm

        with tqdm(total=self.source.n_frames, unit="frame", desc=f"writing {dset.name}", disable=None, leave=False) as bar:
            write_frames_direct(
                dset,
                _blocks(self.source, self.chunk_frames),
                level=self.level,
                shuffle=True,
                workers=self.workers,
                progress=bar.update,
            )
        self.filled = True


def _regular(timestamps: np.ndarray, rate: float) -> bool:
    """True when timestamps are ``t0 + k / rate`` within 1 % of a frame period."""
    if len(timestamps) < 2:
        return True
    grid = timestamps[0] + np.arange(len(timestamps)) / rate
    return bool(np.max(np.abs(timestamps - grid)) < 0.01 / rate)


class MovieInterfaceBase(BaseDataInterface):
    """Base of the movie interfaces: optical metadata and the parallel TwoPhotonSeries writer.

    Subclasses implement ``_streams()`` (one :class:`MovieStream` per channel and plane)
    and may override ``_ophys_defaults()`` (values read from the files, e.g. zoom).
    """

    keywords = ("ophys", "two-photon", "calcium imaging", "movie")

    def __init__(
        self,
        *,
        indicator: str = DEFAULT_INDICATOR,
        excitation_lambda: float = DEFAULT_EXCITATION_LAMBDA,
        location: str = DEFAULT_LOCATION,
        field_of_view_um: tuple[float, float] | None = None,
        device_name: str = "Microscope",
        device_description: str = "Two-photon laser-scanning microscope.",
        chunk_frames: int | None = None,
        compression_level: int = DEFAULT_LEVEL,
        workers: int | None = None,
        verbose: bool = False,
        **source_data: Any,
    ) -> None:
        if not 1 <= int(compression_level) <= 9:
            raise NwbMotorValueError(f"compression_level must be 1..9 (gzip); got {compression_level}")
        if chunk_frames is not None and chunk_frames < 1:
            raise NwbMotorValueError(f"chunk_frames must be >= 1; got {chunk_frames}")
        n_workers(workers)  # validates
        super().__init__(
            verbose=verbose,
            indicator=indicator,
            excitation_lambda=excitation_lambda,
            location=location,
            field_of_view_um=field_of_view_um,
            device_name=device_name,
            device_description=device_description,
            chunk_frames=chunk_frames,
            compression_level=compression_level,
            workers=workers,
            **source_data,
        )
        self._dataios: list[ParallelMovieDataIO] = []

    # -- to implement
    def _streams(self) -> list[MovieStream]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _ophys_defaults(self) -> dict[str, Any]:
        return {}

    # -- what other interfaces of the session ask (see nwbmotor.converters._session)
    provides = frozenset({"movie"})

    @property
    def n_frames(self) -> int:
        """Frames of each ``TwoPhotonSeries`` (volumes, for a multi-plane recording)."""
        return int(self._streams()[0].source.n_frames)

    def get_num_frames(self) -> int:
        """Same as :attr:`n_frames` (the roiextractors spelling)."""
        return self.n_frames

    def set_aligned_timestamps(self, aligned_timestamps: np.ndarray) -> None:
        """Put the movie on the session clock: the start time of every frame, in seconds.

        Called by the acquisition interface of the same session with the microscope's
        frame pulses. ``aligned_timestamps`` holds one time per frame (volume), or one
        per plane of each volume (the pulses of a fast-z recording), in which case each
        plane gets its own.
        """
        times = np.asarray(aligned_timestamps, dtype=np.float64)
        streams = self._streams()
        n = int(streams[0].source.n_frames)
        planes = sorted({s.plane for s in streams})
        if times.size == n:
            per_plane = {z: times for z in planes}
        elif times.size == n * len(planes):
            per_plane = {z: times[i :: len(planes)] for i, z in enumerate(planes)}
        else:
            raise NwbMotorValueError(
                f"{self.source_data.get('folder_path') or self.source_data.get('file_path')}: frame times: expected "
                f"{n} (one per frame) or {n * len(planes)} (one per plane and volume), got {times.size}"
            )
        if times.size > 1 and not np.all(np.diff(times) > 0):
            raise NwbMotorValueError("frame times: expected strictly increasing times")
        for stream in streams:
            stream.timestamps = per_plane[stream.plane]
            stream.starting_time = float(per_plane[stream.plane][0])

    def imaging_plane_names(self) -> dict[tuple[str, int], str]:
        """Name of the ``ImagingPlane`` of each (channel, plane) this movie writes, in stream order."""
        streams = self._streams()
        n_channels = len(dict.fromkeys(s.channel for s in streams))
        n_planes = len({s.plane for s in streams})
        return {
            (s.channel, s.plane): imaging_plane_name(s.channel, s.plane, n_channels=n_channels, n_planes=n_planes)
            for s in streams
        }

    def get_timestamps(self) -> np.ndarray:
        """Start time of each frame of the first channel and plane, in seconds."""
        stream = self._streams()[0]
        if stream.timestamps is not None:
            return np.asarray(stream.timestamps[: stream.source.n_frames], dtype=np.float64)
        return stream.starting_time + np.arange(stream.source.n_frames) / stream.rate

    # -- NeuroConv contract
    def get_metadata_schema(self) -> dict:
        schema = super().get_metadata_schema()
        schema["properties"]["Ophys"] = {
            "type": "object",
            "description": (
                "Optical physiology metadata in NeuroConv's dict-based layout (ImagingPlanes, MicroscopySeries "
                "keyed by name; see nwbmotor.converters._ophys)."
            ),
        }
        return schema

    def get_metadata(self) -> DeepDict:
        metadata = super().get_metadata()
        streams = self._streams()
        sd = self.source_data
        channels = list(dict.fromkeys(s.channel for s in streams))
        n_planes = len({s.plane for s in streams})
        first = streams[0]
        kwargs: dict[str, Any] = dict(
            indicator=sd["indicator"],
            excitation_lambda=sd["excitation_lambda"],
            location=sd["location"],
            image_shape=first.source.frame_shape,
            imaging_rate=first.rate,
            channel_names=channels,
            n_planes=n_planes,
            device_name=sd["device_name"],
            device_description=sd["device_description"],
        )
        kwargs.update(self._ophys_defaults())
        if sd["field_of_view_um"] is not None:
            kwargs["field_of_view_um"] = sd["field_of_view_um"]
        return dict_deep_update(metadata, ophys_metadata(**kwargs))

    def add_to_nwbfile(
        self,
        nwbfile,
        metadata: Mapping[str, Any] | None = None,
        *,
        backend: str | None = None,
        stub_test: bool = False,
        stub_frames: int = 100,
    ) -> None:
        """Add one ``TwoPhotonSeries`` per channel and plane to ``nwbfile.acquisition``.

        Parameters
        ----------
        nwbfile : pynwb.NWBFile
        metadata : mapping, optional
            Default :meth:`get_metadata`. Not modified.
        backend : {"hdf5", "zarr"}, optional
            The backend the file will be written with. ``"zarr"`` gets a chunk iterator
            with shuffle + zlib; the default (``"hdf5"``) gets the parallel direct-chunk
            writer, whose data object still writes completely (with hdmf-zarr's default
            codec) if the file goes to Zarr after all.
        stub_test : bool, default False
            Write only the first ``stub_frames`` frames.
        """
        from pynwb.ophys import TwoPhotonSeries

        backend = backend or getattr(self, "_backend_hint", None) or "hdf5"  # hdf5 data also write to zarr
        if backend not in ("hdf5", "zarr"):
            raise NwbMotorValueError(f"backend {backend!r} is not supported; expected 'hdf5' or 'zarr'")
        metadata = copy.deepcopy(dict(metadata) if metadata is not None else self.get_metadata())
        if "Ophys" not in metadata:
            metadata = dict_deep_update(self.get_metadata(), metadata)
        streams = self._streams()
        channels = list(dict.fromkeys(s.channel for s in streams))
        n_planes = len({s.plane for s in streams})
        series_md = {e.get("name", k): e for k, e in normalized_ophys(metadata)["MicroscopySeries"].items()}
        sd = self.source_data
        for stream in streams:
            plane_name = imaging_plane_name(stream.channel, stream.plane, n_channels=len(channels), n_planes=n_planes)
            name = two_photon_series_name(stream.channel, stream.plane, n_channels=len(channels), n_planes=n_planes)
            imaging_plane = ensure_imaging_plane(nwbfile, metadata, name=plane_name)
            source = _Head(stream.source, stub_frames) if stub_test else stream.source
            if source.n_frames == 0:
                raise NwbMotorValueError(f"{name}: the source has no frames")
            chunk_frames = sd["chunk_frames"] or chunk_frames_for(source.frame_shape, source.dtype, source.n_frames)
            chunk_frames = min(chunk_frames, source.n_frames)
            if backend == "hdf5":
                data = ParallelMovieDataIO(source, chunk_frames=chunk_frames, level=sd["compression_level"], workers=sd["workers"])
                self._dataios.append(data)
            else:
                import numcodecs
                from hdmf_zarr.utils import ZarrDataIO

                data = ZarrDataIO(
                    data=_FrameChunkIterator(source, chunk_frames),
                    chunks=(chunk_frames, *source.frame_shape),
                    filters=[numcodecs.Shuffle(elementsize=source.dtype.itemsize)],
                    compressor=numcodecs.Zlib(level=sd["compression_level"]),
                )
            md = dict(series_md.get(name, {}))
            md.pop("imaging_plane_metadata_key", None)
            md.pop("name", None)
            grid = imaging_plane.grid_spacing
            height, width = source.frame_shape
            timing: dict[str, Any]
            ts = stream.timestamps[: source.n_frames] if stream.timestamps is not None else None
            if ts is None or _regular(ts, stream.rate):
                timing = {"rate": float(stream.rate), "starting_time": float(ts[0]) if ts is not None else float(stream.starting_time)}
            else:
                timing = {"timestamps": np.asarray(ts, dtype=np.float64)}
            series = TwoPhotonSeries(
                name=name,
                description=md.pop("description", "Raw two-photon movie."),
                data=data,
                imaging_plane=imaging_plane,
                unit=md.pop("unit", "n.a."),
                # NWB (x, y) order of the stored (frames, height, width) data: rows, then columns
                dimension=[height, width],
                field_of_view=[float(grid[0]) * height, float(grid[1]) * width] if grid is not None else None,
                **timing,
                **md,
            )
            nwbfile.add_acquisition(series)

    def finalize_nwbfile(self, nwbfile_path: str | Path, backend: str) -> None:
        """Fill any movie dataset the write left empty, then check that all are complete.

        Called by ``nwbmotor.write_nwbfile`` after the file is written and closed, before
        it is renamed (see ``nwbmotor.conversion._registry``).
        """
        pending = [d for d in self._dataios if not d.filled]
        self._dataios = []
        if backend != "hdf5" or not pending:
            return
        import h5py

        with h5py.File(nwbfile_path, "r+") as f:
            for dataio in pending:
                name = dataio.dataset_name
                if name is None or name not in f:
                    raise NwbMotorValueError(f"{nwbfile_path}: the movie dataset was not created by the write; cannot fill it")
                dataio.fill(f[name])

    def run_conversion(self, nwbfile_path, nwbfile=None, metadata=None, overwrite=False, backend=None, backend_configuration=None, append_on_disk_nwbfile=False, **conversion_options):  # noqa: D102
        # NeuroConv's run_conversion does not tell add_to_nwbfile the backend: remember it
        self._backend_hint = backend or "hdf5"
        return super().run_conversion(
            nwbfile_path=nwbfile_path,
            nwbfile=nwbfile,
            metadata=metadata,
            overwrite=overwrite,
            backend=backend,
            backend_configuration=backend_configuration,
            append_on_disk_nwbfile=append_on_disk_nwbfile,
            **conversion_options,
        )
