"""What the segmentation interfaces share: cell types, input source, registration hook, metadata."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from neuroconv import BaseDataInterface

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters.segmentation._nwb import read_cell_type_csv

if TYPE_CHECKING:
    from pynwb import NWBFile
    from pynwb.ophys import PlaneSegmentation

__all__ = ["SegmentationInterfaceBase"]

def _movie_frame_shape(movie: Any) -> tuple[int, int] | None:
    try:
        return tuple(int(v) for v in movie._streams()[0].source.frame_shape)[-2:]
    except (AttributeError, IndexError, TypeError):
        pass
    extractor = getattr(movie, "imaging_extractor", None)  # a NeuroConv imaging interface
    for meth in ("get_sample_shape", "get_frame_shape", "get_image_size"):
        f = getattr(extractor, meth, None)
        if callable(f):
            try:
                return tuple(int(v) for v in f())[:2]
            except Exception:  # noqa: BLE001 - a movie that cannot say is not compared
                return None
    return None


class SegmentationInterfaceBase(BaseDataInterface):
    """Base of :class:`Suite2pInterface` and :class:`LabRoisInterface` (not a source kind).

    Subclasses set ``self.image_shape``, ``self.frame_rate`` (and ``self.mean_image``),
    implement :meth:`roi_masks`, :meth:`n_rois` and ``_trace_frames``, call
    ``_init_common`` at the end of ``__init__``, and in ``add_to_nwbfile`` add
    ``_common_columns(metadata)`` to their columns and call ``_after_table`` once the
    ROI table exists.
    A :class:`CellRegistrationInterface` of the same session attaches itself in its
    ``link_session``; the ROI table then gets a ``global_id`` column and the registration
    record is written beside it.
    """

    image_shape: tuple[int, int]
    frame_rate: float | None
    mean_image: np.ndarray | None = None
    _frame_times: np.ndarray | None = None

    def _source_path(self) -> str:
        """The file or folder the ROIs come from, for error messages."""
        return str(self.source_data.get("file_path") or self.source_data.get("folder_path"))

    def _trace_frames(self) -> tuple[str, int] | None:
        """(file, number of frames) of the traces, or None without traces."""
        return None

    def _init_common(
        self,
        *,
        cell_types: str | os.PathLike[str] | None,
        input_source: str | list[str] | None,
        plane_segmentation_name: str,
        imaging_plane_name: str | None,
    ) -> None:
        if isinstance(input_source, (list, tuple)):  # one label per ROI (boutons of several sources)
            if len(input_source) != self.n_rois() or not all(
                    isinstance(v, str) and v.strip() for v in input_source):
                raise NwbMotorValueError(
                    f"{self._source_path()}: input_source as a list needs one non-empty string per ROI "
                    f"({self.n_rois()}), got {len(input_source)} value(s)"
                )
            input_source = list(input_source)
        elif input_source is not None and (
            not isinstance(input_source, str) or not input_source.strip()
        ):
            raise NwbMotorValueError(
                f"input_source must be a non-empty string (e.g. 'motor thalamus') or one per ROI, "
                f"got {input_source!r}"
            )
        if not plane_segmentation_name.startswith("PlaneSegmentation"):
            raise NwbMotorValueError(
                f"plane_segmentation_name {plane_segmentation_name!r} must start with 'PlaneSegmentation' "
                "(e.g. 'PlaneSegmentationPlane1')"
            )
        self.input_source = input_source
        self.plane_segmentation_name = plane_segmentation_name
        self.imaging_plane_name = imaging_plane_name
        self._cell_type_overrides = (
            {} if cell_types is None else read_cell_type_csv(cell_types, self.n_rois())
        )
        self._registration = None

    # ---- what other interfaces of the session may ask
    def n_rois(self) -> int:
        raise NotImplementedError

    def roi_masks(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Pixel indices ``(ypix, xpix)`` of each ROI, 0-based, in the movie's grid."""
        raise NotImplementedError

    #: see :mod:`nwbmotor.converters._session`
    provides = frozenset({"rois"})
    _session_aligned = False

    def link_session(self, interfaces: Mapping[str, BaseDataInterface]) -> None:
        """Check the ROIs against the session's movie (the interface providing ``movie``:
        image size, frame count); take its frame times and imaging plane.

        Traces are then written with the movie's timing (its rate and start, or its
        timestamps when they are irregular) instead of a rate starting at 0 s; with an
        acquisition clock, :func:`nwbmotor.converters.align_session` then puts both on
        the frame pulses.
        """
        from nwbmotor.converters._session import frame_count, provider

        movie = provider(interfaces, "movie", needed_by=self._source_path())
        if movie is None:
            return
        kind = next(k for k, i in interfaces.items() if i is movie)
        frame_shape = _movie_frame_shape(movie)
        if frame_shape is not None and frame_shape != tuple(self.image_shape):
            raise NwbMotorValueError(
                f"{self._source_path()}: the ROIs are on a {self.image_shape[0]} × {self.image_shape[1]} image, "
                f"the session's '{kind}' movie has {frame_shape[0]} × {frame_shape[1]} frames; they must be "
                "the same field (pass the movie's size as image_shape=)"
            )
        traces = self._trace_frames()
        movie_frames = frame_count(movie)
        if traces is not None and movie_frames is not None and traces[1] != int(movie_frames):
            raise NwbMotorValueError(
                f"{traces[0]}: {traces[1]} frames, the session's '{kind}' movie has {int(movie_frames)}; "
                "the traces must come from this movie"
            )
        get_timestamps = getattr(movie, "get_timestamps", None)
        if get_timestamps is not None:
            self._frame_times = np.asarray(get_timestamps(), dtype=np.float64)
        plane_names = getattr(movie, "imaging_plane_names", None)
        if self.imaging_plane_name is None and plane_names is not None:
            self.imaging_plane_name = self._movie_plane(plane_names(), kind)

    # ---- NeuroConv's temporal alignment (one timestamp per frame of the traces)
    def get_num_frames(self) -> int | None:
        """Frames of the traces (None without traces)."""
        traces = self._trace_frames()
        return None if traces is None else int(traces[1])

    def get_original_timestamps(self) -> np.ndarray:
        """Frame times from the frame rate, from 0 s (the traces' own clock)."""
        n = self.get_num_frames() or 0
        if self.frame_rate is None:
            raise NwbMotorValueError(f"{self._source_path()}: no frame rate; pass frame_rate=")
        return np.arange(n, dtype=np.float64) / float(self.frame_rate)

    def get_timestamps(self) -> np.ndarray:
        """Frame times of the traces on the session clock (aligned, else their own clock)."""
        return self._frame_times.copy() if self._frame_times is not None else self.get_original_timestamps()

    def set_aligned_timestamps(self, aligned_timestamps: np.ndarray) -> None:
        """Give the session time of every frame of the traces (strictly increasing, one per frame)."""
        t = np.asarray(aligned_timestamps, dtype=np.float64)
        n = self.get_num_frames()
        if n is not None and t.shape != (n,):
            raise NwbMotorValueError(
                f"{self._source_path()}: set_aligned_timestamps: expected {n} frame times (one per frame), got shape {t.shape}"
            )
        if t.size > 1 and not np.all(np.diff(t) > 0):
            raise NwbMotorValueError(f"{self._source_path()}: set_aligned_timestamps: expected strictly increasing times")
        self._frame_times = t

    def set_aligned_starting_time(self, aligned_starting_time: float) -> None:
        """Shift the traces' times by ``aligned_starting_time`` (s), as NeuroConv does."""
        self.set_aligned_timestamps(self.get_timestamps() + float(aligned_starting_time))

    def _clock_note(self, nwbfile: NWBFile) -> str:
        """A warning (printed, and returned for the description) when the file holds frame
        pulses these traces were never aligned to; else ''."""
        if self._frame_times is not None or "imaging_frame_pulses" not in nwbfile.events:
            return ""
        import warnings

        note = (
            f"{self._source_path()}: the file holds the microscope's frame pulses (events/imaging_frame_pulses) but "
            "these traces were never aligned to them: they start at 0 s on their own clock, NOT the acquisition's. "
            "Use nwbmotor.converters.SessionConverter (or call align_session in temporally_align_data_interfaces)"
        )
        warnings.warn(note, UserWarning, stacklevel=3)
        return " WARNING: " + note

    def _functional_channel_and_plane(self) -> tuple[int, int | None]:
        """Index of the movie channel the ROIs were drawn on, and their plane (None: unknown)."""
        return 0, None

    def _movie_plane(self, names: Mapping[tuple[str, int], str], kind: str) -> str | None:
        """The movie's imaging plane these ROIs lie in (None for a single-plane, single-channel movie)."""
        if len(names) <= 1:
            return None
        channels = list(dict.fromkeys(channel for channel, _ in names))
        planes = sorted({plane for _, plane in names})
        channel_index, plane = self._functional_channel_and_plane()
        listed = ", ".join(names.values())
        if plane is None:
            if len(planes) > 1:
                raise NwbMotorValueError(
                    f"{self._source_path()}: the session's '{kind}' movie has {len(planes)} planes ({listed}); "
                    "pass imaging_plane_name= to say which one the ROIs are on"
                )
            plane = planes[0]
        if not 0 <= channel_index < len(channels) or (channels[channel_index], plane) not in names:
            raise NwbMotorValueError(
                f"{self._source_path()}: the ROIs are on channel {channel_index + 1}, plane {plane}; the session's "
                f"'{kind}' movie has channels {channels} and planes {planes} ({listed}); pass imaging_plane_name="
            )
        return names[(channels[channel_index], plane)]

    def _timing(self) -> dict[str, Any]:
        """Keyword arguments of the traces' timing: the movie's when linked, else the frame rate from 0 s."""
        times = self._frame_times
        if times is not None and times.size >= 2:
            rate = (times[-1] - times[0]) / (times.size - 1)
            grid = times[0] + np.arange(times.size) * rate
            if rate > 0 and np.max(np.abs(times - grid)) < 0.01 / rate:
                return {"rate": float(1.0 / rate), "starting_time": float(times[0])}
            return {"timestamps": times}
        if self.frame_rate is None:
            traces = self._trace_frames()
            raise NwbMotorValueError(
                f"{traces[0] if traces else self._source_path()}: the traces need a frame rate; pass frame_rate= "
                "(frames per second) or convert them in a session with the movie"
            )
        return {"rate": float(self.frame_rate), "starting_time": 0.0}

    def attach_registration(self, registration: Any) -> None:
        """Called by a registration interface of the same session."""
        if self._registration is not None and self._registration is not registration:
            raise NwbMotorValueError(
                "a session can hold only one 'registration' source per ROI table"
            )
        self._registration = registration

    # ---- NeuroConv
    def get_metadata(self):
        """Base metadata only: the imaging plane is the movie's (see :meth:`plane_metadata`).

        Contributing an ``Ophys`` section here would let this interface's defaults
        override what the movie's interface (or the header it read) says, depending on
        the order of the sources.
        """
        return super().get_metadata()

    def plane_metadata(self, metadata: Mapping[str, Any]) -> Mapping[str, Any]:
        """``metadata`` if it describes an imaging plane, else it plus a default one for this image size.

        Either NeuroConv layout is read; the default is added in the dict-based one
        (``Devices``, ``Ophys.ImagingPlanes``), see :mod:`nwbmotor.converters._ophys`.
        """
        from nwbmotor.converters._ophys import normalized_ophys, ophys_metadata

        if normalized_ophys(metadata)["ImagingPlanes"]:
            return metadata
        default = ophys_metadata(image_shape=self.image_shape, imaging_rate=self.frame_rate)
        devices = metadata.get("Devices")
        return {
            **metadata,
            "Devices": {**(devices if isinstance(devices, Mapping) else {}), **default["Devices"]},
            "Ophys": {**(metadata.get("Ophys") or {}), "ImagingPlanes": default["Ophys"]["ImagingPlanes"]},
        }

    def _cell_types(self, default: np.ndarray) -> np.ndarray:
        types = np.asarray(default, dtype=object).copy()
        for roi, kind in self._cell_type_overrides.items():
            types[roi] = kind
        return types

    def _common_columns(self, metadata: Mapping[str, Any]) -> dict[str, Any]:
        columns: dict[str, Any] = {}
        if isinstance(self.input_source, list):
            columns["input_source"] = list(self.input_source)
        elif self.input_source is not None:
            columns["input_source"] = [self.input_source] * self.n_rois()
        if self._registration is not None:
            columns["global_id"] = self._registration.global_ids(self, metadata)
        return columns

    def _after_table(
        self, nwbfile: NWBFile, table: PlaneSegmentation, metadata: Mapping[str, Any]
    ) -> None:
        if self._registration is not None:
            self._registration.add_record(nwbfile, table, self, metadata)
