"""Source kind ``xsglog``: a continuous Ephus recording (one raw float64 file per channel)."""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters.lever._acquisition import (
    FRAME_THRESHOLD,
    TTL_THRESHOLD,
    LeverAcquisitionBase,
)
from nwbmotor.converters.lever._bitcode import Bitcodes, decode_bitcode_edges
from nwbmotor.converters.lever._xsg_reader import OPTIONAL_CHANNELS, read_xsglog_folder

if TYPE_CHECKING:
    from pynwb import NWBFile

__all__ = ["XsglogLeverInterface"]


class XsglogLeverInterface(LeverAcquisitionBase):
    """A folder of ``<prefix>_<Channel>.xsglog`` files → the lever, TTL events, frames, movements.

    Written:

    - ``processing/behavior/BehavioralTimeSeries/lever``: the ``Lever`` channel, volts,
      lossless (unit ``m`` with ``conversion`` when ``volts_to_mm`` is given); what the
      reader fixed (unequal channel lengths padded with NaN) is in its ``comments``;
    - ``/events``: ``imaging_frame_pulses`` (``Frame``, with the frame report against the
      movie in its description), ``trial_bitcodes`` (sync times + decoded
      ``trial_number``), and ``lever_touch`` / ``opto_ttl`` when recorded — or, with
      ``ttl="raw"``, those channels as recorded (``TimeSeries`` in ``acquisition``);
    - ``general/lab_meta_data/lever_press_task`` (``LeverPressTask``);
    - the ``MovementsTable`` (here when the session has no ``dispatcher`` source;
      otherwise the Dispatcher interface writes it after the trials).

    Parameters
    ----------
    folder_path : str or PathLike
        The session's folder.
    prefix : str, optional
        Which recording, when the folder holds several.
    sample_rate : float, default 10000
        Hz; ``.xsglog`` files do not store it.
    volts_to_mm : float, optional
        Lever calibration, mm per volt.
    n_movie_frames : int, optional
        Frames in the movie, to report dropped/extra frame pulses (by default asked of
        the session's ``scanimage``/``tiff`` interface).
    ttl : {"events", "raw"}, default "events"
    movement_preset : str, default "nwbmotor"
    movement_options : dict, optional
        Overrides of the movement detection parameters.
    task : dict, optional
        ``LeverPressTask`` parameters (e.g. ``response_window``, ``reward_volume``).

    Examples
    --------
    >>> import tempfile
    >>> from nwbmotor.testing import write_rig_session
    >>> truth = write_rig_session(tempfile.mkdtemp(), n_trials=3)
    >>> interface = XsglogLeverInterface(truth.folder)
    >>> interface.bitcodes().trial_numbers
    array([1, 2, 3])
    """

    display_name = "Ephus continuous .xsglog"
    keywords = ("lever", "Ephus", "behavior")
    associated_suffixes = (".xsglog",)

    def __init__(
        self,
        folder_path: str | os.PathLike[str],
        *,
        prefix: str | None = None,
        sample_rate: float = 10_000.0,
        volts_to_mm: float | None = None,
        n_movie_frames: int | None = None,
        ttl: str = "events",
        movement_preset: str = "nwbmotor",
        movement_options: dict[str, Any] | None = None,
        task: dict[str, Any] | None = None,
        verbose: bool = False,
    ) -> None:
        self.recording = read_xsglog_folder(folder_path, prefix=prefix, sample_rate=sample_rate)
        self.source = str(self.recording.folder)
        if ttl not in ("events", "raw"):
            raise NwbMotorValueError(f"{self.source}: ttl must be 'events' or 'raw'; got {ttl!r}")
        self.ttl = ttl
        self.sample_rate = self.recording.sample_rate
        self.reader_warnings = list(self.recording.warnings)
        for w in self.reader_warnings:
            warnings.warn(w, UserWarning, stacklevel=2)
        self._init_common(
            volts_to_mm=volts_to_mm,
            movement_preset=movement_preset,
            movement_options=movement_options,
            task=task,
            n_movie_frames=n_movie_frames,
        )
        self._check_lever_nan()
        super().__init__(verbose=verbose, folder_path=str(folder_path))

    def _check_lever_nan(self) -> None:
        """NaN inside the recorded Lever file is an error (unless movement_options interpolates)."""
        rec = self.recording
        stored = rec.lengths["Lever"]
        n_nan, first = 0, None
        for start, block in rec.chunks("Lever"):
            block = block[: max(0, stored - start)]
            bad = ~np.isfinite(block)
            if bad.any():
                if first is None:
                    first = start + int(np.argmax(bad))
                n_nan += int(bad.sum())
        if n_nan:
            where = f"{rec.paths['Lever']}: channel 'Lever' has {n_nan} NaN/inf sample(s), the first at sample {first} ({first / rec.sample_rate:.4f} s)"
            if self.movement_options.get("nan_policy") != "interpolate":
                raise NwbMotorValueError(
                    f"{where}; expected finite volts. The trace would be stored as recorded, but movement "
                    "detection cannot run across the gap: pass movement_options={'nan_policy': 'interpolate'} "
                    "to interpolate short gaps for detection only"
                )
            self.reader_warnings.append(
                f"{where}; stored as recorded, interpolated for movement detection only"
            )

    # ---- data for the session's other interfaces
    def channel_names(self) -> tuple[str, ...]:
        return self.recording.channels

    def _has_bitcodes(self) -> bool:
        return "Trial_number" in self.recording.paths

    def _detection_source(self) -> tuple[Any, int, list[str]]:
        rec = self.recording
        stored = rec.lengths["Lever"]
        notes = []
        if stored < rec.n_samples:
            notes.append(
                f"movement detection ran on the {stored} recorded Lever samples; the {rec.n_samples - stored} "
                "NaN samples of padding after them were left out"
            )
        return (lambda a, b: rec.read("Lever", a, b)), stored, notes

    def channel(self, name: str) -> tuple[Any, float]:
        """A channel in volts (a lazy array-like, NaN-padded to the session length) and the rate.

        Examples
        --------
        >>> import tempfile
        >>> from nwbmotor.testing import write_rig_session
        >>> truth = write_rig_session(tempfile.mkdtemp(), n_trials=2)
        >>> data, rate = XsglogLeverInterface(truth.folder).channel("Lever")
        >>> len(data) == truth.n_samples, rate
        (True, 10000.0)
        """
        if name not in self.recording.paths:
            raise NwbMotorValueError(
                f"{self.source}: no channel {name!r} (file {self.recording.prefix}_{name}.xsglog); "
                f"found {list(self.recording.channels)}"
            )
        return self.recording.lazy(name), self.sample_rate

    def lever(self) -> tuple[Any, float]:
        return self.channel("Lever")

    def bitcodes(self) -> Bitcodes:
        if self._bitcodes is None:
            data, rate = self.channel("Trial_number")
            rising, _ = self.channel_edges("Trial_number", TTL_THRESHOLD)
            self._bitcodes = decode_bitcode_edges(rising / rate, end_time=len(data) / rate)
        return self._bitcodes

    def frame_times(self) -> np.ndarray | None:
        if self._frame_times is None:
            rising, _ = self.channel_edges("Frame", FRAME_THRESHOLD)
            self._frame_times = self._check_frames(rising / self.sample_rate)
        return self._frame_times

    # ---- NeuroConv
    def get_metadata(self):
        metadata = super().get_metadata()
        if self.recording.notes:
            metadata["NWBFile"]["notes"] = f"Rig notes ({self.recording.prefix}.txt): {self.recording.notes}"
        return metadata

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, **conversion_options: Any) -> None:
        """Add the lever, TTL events, frame pulses, task and (without a Dispatcher) movements."""
        from nwbmotor.converters.lever._nwb import (
            TTL_TABLE_NAMES,
            add_lever_press_task,
            add_lever_series,
            add_raw_ttl,
            add_ttl_events,
            chunked,
        )

        rec = self.recording
        data, rate = self.lever()
        add_lever_series(
            nwbfile,
            chunked(data),
            sample_rate=rate,
            volts_to_mm=self.volts_to_mm,
            description=f"Lever force/position: Ephus channel 'Lever' of {rec.prefix} at {rate:g} Hz.",
            comments=[*self.reader_warnings, *self._clock_comments(nwbfile)],
        )
        if self.ttl == "raw":
            for name in ("Trial_number", "Frame", *OPTIONAL_CHANNELS):
                if name in rec.paths:
                    text = f"Ephus channel '{name}' of {rec.prefix} as recorded, volts."
                    if name == "Frame":
                        text += f" Frame starts are its rising edges above 2.5 V. Frame report: {self.frame_report()['text']}"
                    add_raw_ttl(nwbfile, name, chunked(self.channel(name)[0]), sample_rate=rate, description=text)
        else:
            self._frame_table(nwbfile)
            codes = self.bitcodes()
            problems = " ".join(codes.problems) if codes.problems else "every code decoded"
            add_ttl_events(
                nwbfile,
                TTL_TABLE_NAMES["Trial_number"],
                codes.times,
                None,
                description=(
                    "Trial bitcodes on channel 'Trial_number': sync edge (trial start, acquisition clock) "
                    f"and the decoded 12-bit trial number. {len(codes.times)} codes; {problems}."
                ),
                source_description="Channel 'Trial_number' thresholded at 2 V; 12-bit code, 10 ms bit pitch",
                columns={"trial_number": (codes.trial_numbers, "Decoded Dispatcher trial number.")},
                resolution=1.0 / rate,
            )
            for name in OPTIONAL_CHANNELS:
                if name in rec.paths:
                    rising, falling = self.ttl_pulses(name)
                    add_ttl_events(
                        nwbfile,
                        TTL_TABLE_NAMES[name],
                        rising,
                        falling,
                        description=f"Pulses of the TTL channel '{name}' (rising edge and high time).",
                        source_description=f"Acquisition channel '{name}' thresholded at {TTL_THRESHOLD:g} V",
                        resolution=1.0 / rate,
                    )
        add_lever_press_task(nwbfile, self.task_parameters())
        if self._dispatcher is None:
            self.add_movements(nwbfile, trials=None)
