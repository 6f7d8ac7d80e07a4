"""What the lever acquisition interfaces (``xsglog``, ``xsg``, ``lever_table``) share.

The session clock is the acquisition clock: t = 0 at the first acquired sample. The
interfaces expose, for the other interfaces of the session (through ``link_session``):

- :meth:`LeverAcquisitionBase.lever` — the lever trace in volts and its sample rate;
- :meth:`LeverAcquisitionBase.bitcodes` — decoded trial bitcodes (session clock);
- :meth:`LeverAcquisitionBase.frame_times` — microscope frame starts (session clock);
- :meth:`LeverAcquisitionBase.channel` / :meth:`LeverAcquisitionBase.ttl_pulses` — any
  channel in volts, and a TTL channel's pulses (the optogenetics interface reads
  ``Opto`` through them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from neuroconv import BaseDataInterface

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters.lever._bitcode import Bitcodes
from nwbmotor.methods import check_frame_times, frame_report

if TYPE_CHECKING:
    from pynwb import NWBFile

__all__ = ["LeverAcquisitionBase", "movie_frame_count"]

FRAME_THRESHOLD = 2.5
TTL_THRESHOLD = 2.0


def movie_frame_count(interface: Any) -> int | None:
    """The frame count of a movie interface (see :func:`nwbmotor.converters._session.frame_count`)."""
    from nwbmotor.converters._session import frame_count

    return frame_count(interface)


class LeverAcquisitionBase(BaseDataInterface):
    """Base of the lever acquisition interfaces (not a source kind itself).

    Subclasses set ``source`` (the path named in messages), ``sample_rate`` and
    ``reader_warnings``, call :meth:`_init_common`, and implement :meth:`lever`,
    :meth:`channel` and ``add_to_nwbfile``; those with bitcodes or frames also
    :meth:`bitcodes` and :meth:`frame_times`.
    """

    source: str
    sample_rate: float
    reader_warnings: list[str]
    volts_to_mm: float | None
    movement_preset: str
    movement_options: dict[str, Any]
    task: dict[str, Any]
    n_movie_frames: int | None

    def _init_common(
        self,
        *,
        volts_to_mm: float | None,
        movement_preset: str,
        movement_options: Mapping[str, Any] | None,
        task: Mapping[str, Any] | None,
        n_movie_frames: int | None,
    ) -> None:
        if volts_to_mm is not None and not (isinstance(volts_to_mm, (int, float)) and volts_to_mm > 0):
            raise NwbMotorValueError(f"{self.source}: volts_to_mm must be a positive number of mm per volt; got {volts_to_mm!r}")
        if n_movie_frames is not None and (not isinstance(n_movie_frames, (int, np.integer)) or n_movie_frames < 0):
            raise NwbMotorValueError(f"{self.source}: n_movie_frames must be a non-negative integer; got {n_movie_frames!r}")
        self.volts_to_mm = None if volts_to_mm is None else float(volts_to_mm)
        self.movement_preset = movement_preset
        self.movement_options = dict(movement_options or {})
        self.task = dict(task or {})
        self.n_movie_frames = None if n_movie_frames is None else int(n_movie_frames)
        self._dispatcher: Any = None
        self._bitcodes: Bitcodes | None = None
        self._frame_times: np.ndarray | None = None

    # ---- what the session's other interfaces may ask
    def lever(self) -> tuple[Any, float]:
        """The lever trace in volts (array-like; ``np.asarray`` it to load) and its sample rate."""
        raise NotImplementedError

    def lever_timestamps(self) -> np.ndarray | None:
        """Per-sample session times when the trace is not evenly sampled from 0 (``.xsg``), else None."""
        return None

    def channel(self, name: str) -> tuple[Any, float]:
        """A recorded channel in volts (array-like, NaN-padded) and its sample rate.

        Raises
        ------
        NwbMotorValueError
            If the recording has no such channel.
        """
        raise NwbMotorValueError(f"{self.source}: no channel {name!r} in this recording")

    def channel_names(self) -> tuple[str, ...]:
        return ()

    def ttl_pulses(self, name: str, threshold: float = TTL_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
        """Rising and falling edge times (session clock, s) of a TTL channel.

        Examples
        --------
        >>> import tempfile
        >>> from nwbmotor.testing import write_rig_session
        >>> from nwbmotor.converters.lever import XsglogLeverInterface
        >>> truth = write_rig_session(tempfile.mkdtemp(), n_trials=2, opto_fraction=1.0)
        >>> rising, falling = XsglogLeverInterface(truth.folder).ttl_pulses("Opto")
        >>> bool(np.allclose(rising, truth.opto_pulse_times))
        True
        """
        rising, falling = self.channel_edges(name, threshold)
        _, rate = self.channel(name)
        return rising / rate, falling / rate

    def channel_edges(self, name: str, threshold: float = TTL_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
        """Rising and falling edge sample indices of a channel (read once, then cached)."""
        from nwbmotor.converters.lever._bitcode import pulse_edges

        cache = self.__dict__.setdefault("_edge_cache", {})
        key = (name, float(threshold))
        if key not in cache:
            data, _ = self.channel(name)
            cache[key] = pulse_edges(data, threshold)
        return cache[key]

    def bitcodes(self) -> Bitcodes:
        """The decoded trial bitcodes, sync times in the session clock."""
        raise NwbMotorValueError(f"{self.source}: this recording has no trial bitcode channel")

    def frame_times(self) -> np.ndarray | None:
        """Microscope frame starts (rising edges of ``Frame`` above 2.5 V), session clock; None without a Frame channel.

        Raises
        ------
        NwbMotorValueError
            If the frame pulses are not strictly increasing.
        """
        return None

    def frame_report(self) -> dict[str, Any] | None:
        """Frame pulses counted against the movie (``n_movie_frames``), see :func:`frame_report`."""
        t = self.frame_times()
        return None if t is None else frame_report(t, self.n_movie_frames)

    #: linked before the other interfaces of the session: the others read its clock
    link_order = -1

    def conversion_notes(self) -> list[str]:
        """What the conversion should show on screen, not only record in the file: the
        reader's warnings, and the frame report when pulses are missing or the counts differ."""
        notes = [str(w) for w in self.reader_warnings]
        try:
            report = self.frame_report()
        except Exception:  # noqa: BLE001 - a bad Frame channel is reported where it is read
            report = None
        if report is not None and (report["n_long_intervals"] or report["extra_pulses"] not in (None, 0)):
            notes.append(f"{self.source}: channel 'Frame': {report['text']}")
        return notes

    @property
    def provides(self) -> frozenset[str]:
        """``clock`` always; ``ttl``, ``bitcodes`` and ``frame_pulses`` when recorded
        (see :mod:`nwbmotor.converters._session`)."""
        caps = {"clock"}
        names = self.channel_names()
        if names:
            caps.add("ttl")
        if self._has_bitcodes():
            caps.add("bitcodes")
        if "Frame" in names or self._has_frame_times():
            caps.add("frame_pulses")
        return frozenset(caps)

    def _has_bitcodes(self) -> bool:
        return type(self).bitcodes is not LeverAcquisitionBase.bitcodes

    def _has_frame_times(self) -> bool:
        return False

    def link_session(self, interfaces: Mapping[str, Any]) -> None:
        """Find the session's trials (movements then wait for them) and the movie's
        frame count (when ``n_movie_frames`` was not given), by what the other
        interfaces provide. Putting the movie and traces on the frame pulses is
        :func:`nwbmotor.converters.align_session`'s job.
        """
        from nwbmotor.converters._session import frame_count, provider

        self._dispatcher = provider(interfaces, "trials", needed_by=self.source)
        movie = provider(interfaces, "movie", needed_by=self.source)
        if movie is None:
            movie = provider(interfaces, "rois", needed_by=self.source)
        if movie is not None and self.n_movie_frames is None:
            self.n_movie_frames = frame_count(movie)

    _session_aligned = False
    _clock_record: str | None = None

    def record_session_clock(self, report: Any) -> None:
        """Called by :func:`align_session`: what was aligned and the warnings, for the file."""
        self._clock_record = report.text()

    def _clock_comments(self, nwbfile: NWBFile) -> list[str]:
        """The session clock record, or a warning when the session was never aligned (once per file)."""
        cache = self.__dict__.setdefault("_clock_comment_cache", {})
        if id(nwbfile) not in cache:
            cache.clear()
            cache[id(nwbfile)] = self._clock_comments_now(nwbfile)
        return cache[id(nwbfile)]

    def _clock_comments_now(self, nwbfile: NWBFile) -> list[str]:
        if self._clock_record is not None:
            return [self._clock_record]
        if self._session_aligned:
            return []
        others = []
        if nwbfile.trials is not None:
            others.append("a trials table")
        if "ophys" in nwbfile.processing or any(
            getattr(v, "neurodata_type", "") in ("TwoPhotonSeries", "OnePhotonSeries") for v in nwbfile.acquisition.values()
        ):
            others.append("imaging")
        if not others:
            return []
        text = (
            f"{self.source}: the file already holds {' and '.join(others)} written before this acquisition, and "
            "nwbmotor.converters.align_session was never run: they are NOT on the acquisition clock. Use "
            "nwbmotor.converters.SessionConverter (or call align_session in temporally_align_data_interfaces)"
        )
        import warnings as _w

        _w.warn(text, UserWarning, stacklevel=3)
        return [text]

    # ---- NWB
    def task_parameters(self) -> dict[str, Any]:
        params = {"lever_sample_rate": self.sample_rate, "volts_to_mm": self.volts_to_mm}
        if self._dispatcher is not None:
            params.update(self._dispatcher.task_parameters(include_acquisition=False))
        params.update(self.task)
        return params

    def _detection_source(self) -> tuple[Any, int, list[str]]:
        """What movement detection reads: ``(read(start, stop), n_samples, notes)``.

        Trailing NaN (padding of a short channel) is left out and noted.
        """
        data, _ = self.lever()
        x = np.asarray(data[0 : len(data)], dtype=np.float64)
        notes: list[str] = []
        finite = np.isfinite(x)
        n = len(x)
        if not finite.all():
            last = int(np.flatnonzero(finite)[-1]) + 1 if finite.any() else 0
            if last < n:
                notes.append(
                    f"movement detection ran on the first {last} samples; the {n - last} NaN samples "
                    "after them (padding) were left out"
                )
                n = last
        return (lambda a, b: x[a:b]), n, notes

    def _frame_table(self, nwbfile: NWBFile) -> None:
        from nwbmotor.converters.lever._nwb import add_ttl_events

        t = self.frame_times()
        if t is None:
            return
        _, rate = self.channel("Frame")
        falling = self.channel_edges("Frame", FRAME_THRESHOLD)[1] / rate
        report = self.frame_report()
        add_ttl_events(
            nwbfile,
            "imaging_frame_pulses",
            t,
            falling,
            description=(
                "Microscope frame starts: rising edges of the acquisition channel 'Frame' above 2.5 V, "
                f"session clock. Behaviour events map to the nearest frame. Frame report: {report['text']}"
                + "".join(f" {c}" for c in self._clock_comments(nwbfile))
            ),
            source_description="Acquisition channel 'Frame' thresholded at 2.5 V",
            resolution=1.0 / rate,
        )

    def _check_frames(self, times: np.ndarray) -> np.ndarray:
        return check_frame_times(times, source=f"{self.source}: channel 'Frame'")

    def add_movements(self, nwbfile: NWBFile, *, trials: Any = None) -> Any:
        """Detect lever movements and write the ``MovementsTable`` (and, with ``trials``,
        the trials' movement columns), through the movements module.

        When the sample rate is an integer multiple of the detector's working rate
        (10 kHz -> 1 kHz), detection runs block by block on the lever read from the
        files (``detect_movements_blockwise``: the same movements as on the whole
        trace, constant memory); the note in the table says so. Otherwise the trace
        is loaded and detected whole.
        """
        from nwbmotor.converters.lever._movements_table import write_movements
        from nwbmotor.methods import detect_movements, detect_movements_blockwise, movement_parameters

        working = float(movement_parameters(self.movement_preset, **self.movement_options)["working_rate_hz"])
        read, n, notes = self._detection_source()
        ratio = self.sample_rate / working
        down = int(round(ratio))
        if down >= 1 and abs(ratio - down) < 1e-9:
            moves = detect_movements_blockwise(
                read, n, self.sample_rate, preset=self.movement_preset, **self.movement_options
            )
            notes = [*notes, (
                f"detected block by block (constant memory; the same movements as on the whole trace): the "
                f"{self.sample_rate:g} Hz lever resampled to {working:g} Hz with resample_poly(x, 1, {down}), "
                "the detector's own first step"
            )]
        else:
            moves = detect_movements(read(0, n), self.sample_rate, preset=self.movement_preset, **self.movement_options)
        return write_movements(nwbfile, moves, trials=trials, notes=notes)
