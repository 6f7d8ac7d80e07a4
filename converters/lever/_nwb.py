"""NWB objects of the lever rig: the lever series, TTL event tables, the task, the trials.

Where things go (DESIGN.md): the lever at ``processing/behavior/BehavioralTimeSeries/lever``
(volts as recorded, ``conversion`` to metres when calibrated); TTL channels as core
``EventsTable`` objects in ``/events`` (or raw, as ``TimeSeries`` in ``acquisition``);
``LeverPressTask`` in ``general/lab_meta_data``; trials at ``intervals/trials``.

What a converter found and fixed is recorded in the file beside the object it
concerns: reader warnings in the lever series' ``comments``, clock warnings in the
trials table's ``description``, the frame report in the frame table's ``description``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError

if TYPE_CHECKING:
    from pynwb import NWBFile, TimeSeries
    from pynwb.epoch import TimeIntervals
    from pynwb.event import EventsTable

__all__ = [
    "LEVER_SERIES_NAME",
    "TASK_NAME",
    "TTL_TABLE_NAMES",
    "add_lever_press_task",
    "add_lever_series",
    "add_raw_ttl",
    "add_trials_table",
    "add_ttl_events",
    "chunked",
]

LEVER_SERIES_NAME = "lever"
TASK_NAME = "lever_press_task"
#: EventsTable name of each TTL channel (raw channel name -> table name).
TTL_TABLE_NAMES = {
    "Frame": "imaging_frame_pulses",
    "Trial_number": "trial_bitcodes",
    "Lever_touch": "lever_touch",
    "Opto": "opto_ttl",
}


def chunked(data: Any, *, chunk_samples: int = 1 << 20) -> Any:
    """Wrap a long 1-D array-like so it is written block by block (constant memory)."""
    from neuroconv.tools.hdmf import SliceableDataChunkIterator

    n = len(data)
    if n <= chunk_samples:
        return np.asarray(data[0:n], dtype=np.float64)
    return SliceableDataChunkIterator(
        data=data, buffer_shape=(chunk_samples,), chunk_shape=(min(n, 1 << 17),)
    )


def _behavior_series_container(nwbfile: NWBFile):
    from pynwb.behavior import BehavioralTimeSeries

    module = nwbfile.processing.get("behavior")
    if module is None:
        module = nwbfile.create_processing_module("behavior", "Behavioural data: the lever, movements.")
    container = module.data_interfaces.get("BehavioralTimeSeries")
    if container is None:
        container = BehavioralTimeSeries(name="BehavioralTimeSeries")
        module.add(container)
    return container


def add_lever_series(
    nwbfile: NWBFile,
    data: Any,
    *,
    sample_rate: float,
    starting_time: float = 0.0,
    timestamps: Any = None,
    volts_to_mm: float | None = None,
    description: str,
    comments: Sequence[str] = (),
) -> TimeSeries:
    """Add the lever trace (volts, lossless) at ``processing/behavior/BehavioralTimeSeries/lever``.

    With ``volts_to_mm`` the unit is metres and ``conversion = volts_to_mm / 1000``
    (data × conversion = metres); without it the unit is volts.

    Examples
    --------
    >>> from nwbmotor.testing import mock_nwbfile
    >>> nwbfile = mock_nwbfile()
    >>> ts = add_lever_series(nwbfile, np.zeros(10), sample_rate=1000.0, volts_to_mm=2.0, description="lever")
    >>> ts.unit, ts.conversion
    ('m', 0.002)
    """
    from pynwb import TimeSeries

    if volts_to_mm is not None and not (np.isfinite(volts_to_mm) and volts_to_mm > 0):
        raise NwbMotorValueError(f"volts_to_mm must be a positive number of mm per volt; got {volts_to_mm!r}")
    container = _behavior_series_container(nwbfile)
    if LEVER_SERIES_NAME in container.time_series:
        raise NwbMotorValueError(
            "the session has two lever sources (e.g. 'xsglog' and 'lever_table'); expected one lever trace"
        )
    unit_text = (
        f"Stored as recorded, in volts; conversion {volts_to_mm / 1000:g} gives metres ({volts_to_mm:g} mm/V)."
        if volts_to_mm is not None
        else "Stored as recorded, in volts (no calibration given)."
    )
    kwargs: dict[str, Any] = {}
    if timestamps is not None:
        kwargs["timestamps"] = timestamps
    else:
        kwargs["rate"] = float(sample_rate)
        kwargs["starting_time"] = float(starting_time)
    ts = TimeSeries(
        name=LEVER_SERIES_NAME,
        data=data,
        unit="m" if volts_to_mm is not None else "V",
        conversion=(volts_to_mm / 1000.0) if volts_to_mm is not None else 1.0,
        description=f"{description} {unit_text}",
        comments=" ".join(comments) if comments else "no comments",
        **kwargs,
    )
    container.add_timeseries(ts)
    return ts


def add_ttl_events(
    nwbfile: NWBFile,
    name: str,
    rising: np.ndarray,
    falling: np.ndarray | None,
    *,
    description: str,
    source_description: str,
    columns: Mapping[str, tuple[np.ndarray, str]] | None = None,
    resolution: float | None = None,
) -> EventsTable:
    """Add one TTL channel's pulses as a core ``EventsTable`` (timestamp = rising edge,
    duration = high time, NaN for a pulse still high at the end).

    Examples
    --------
    >>> from nwbmotor.testing import mock_nwbfile
    >>> t = add_ttl_events(mock_nwbfile(), "frames", np.array([0.0, 0.1]), np.array([0.001, 0.101]),
    ...                    description="frame pulses", source_description="Frame > 2.5 V")
    >>> len(t)
    2
    """
    from hdmf.common import VectorData
    from pynwb.event import DurationVectorData, EventsTable, TimestampVectorData

    rising = np.asarray(rising, dtype=np.float64)
    cols = [TimestampVectorData(name="timestamp", description="Rising edge (pulse start), s.", data=rising, resolution=resolution)]
    if falling is not None:
        falling = np.asarray(falling, dtype=np.float64)
        duration = np.full(rising.shape, np.nan)
        j = np.searchsorted(falling, rising, side="right")
        ok = j < len(falling)
        duration[ok] = falling[j[ok]] - rising[ok]
        cols.append(DurationVectorData(name="duration", description="Time the pulse stayed high, s (NaN: still high at the end).", data=duration, resolution=resolution))
    for col, (values, doc) in (columns or {}).items():
        cols.append(VectorData(name=col, description=doc, data=np.asarray(values)))
    from hdmf.common import ElementIdentifiers

    ids = ElementIdentifiers(name="id", data=np.arange(len(rising), dtype=np.int64))
    table = EventsTable(name=name, description=description, source_description=source_description, columns=cols, id=ids)
    if name in nwbfile.events:
        raise NwbMotorValueError(f"the events table {name!r} exists already: two sources wrote the same TTL channel")
    nwbfile.add_events_table(table)
    return table


def add_raw_ttl(nwbfile: NWBFile, name: str, data: Any, *, sample_rate: float, description: str) -> TimeSeries:
    """Keep a TTL channel as recorded: a ``TimeSeries`` in volts in ``acquisition``."""
    from pynwb import TimeSeries

    ts = TimeSeries(name=name, data=data, unit="V", rate=float(sample_rate), starting_time=0.0, description=description)
    nwbfile.add_acquisition(ts)
    return ts


def add_lever_press_task(nwbfile: NWBFile, parameters: Mapping[str, Any]) -> Any:
    """Add ``LeverPressTask`` to ``general/lab_meta_data`` (once per file; later calls
    fill nothing and return the existing object)."""
    from nwbmotor.extensions import LeverPressTask

    existing = nwbfile.lab_meta_data.get(TASK_NAME)
    if existing is not None:
        return existing
    allowed = {
        "lever_sample_rate", "volts_to_mm", "movement_threshold", "response_window", "hold_time",
        "reward_volume", "cue_tone_frequency", "cue_tone_duration", "iti_min", "iti_max", "protocol",
    }
    unknown = sorted(set(parameters) - allowed)
    if unknown:
        raise NwbMotorValueError(f"task parameter(s) {unknown} unknown; expected some of {sorted(allowed)}")
    kwargs = {}
    for k, v in parameters.items():
        if v is None:
            continue
        if k == "protocol":
            kwargs[k] = str(v)
        else:
            try:
                kwargs[k] = float(v)
            except (TypeError, ValueError):
                raise NwbMotorValueError(f"task parameter {k!r} is {v!r}; expected a number") from None
    task = LeverPressTask(name=TASK_NAME, **kwargs)
    nwbfile.add_lab_meta_data(task)
    return task


def add_trials_table(
    nwbfile: NWBFile,
    columns: Mapping[str, tuple[np.ndarray, str]],
    *,
    description: str,
) -> TimeIntervals:
    """Create ``intervals/trials`` from whole columns (``start_time`` and ``stop_time`` required).

    Raises
    ------
    NwbMotorValueError
        If the file has trials already, or a start/stop is NaN or stop < start.
    """
    from hdmf.common import VectorData
    from pynwb.epoch import TimeIntervals

    if nwbfile.trials is not None:
        raise NwbMotorValueError(
            "the session has trials already: two trial sources (e.g. 'dispatcher' and 'lever_table'); expected one"
        )
    start = np.asarray(columns["start_time"][0], dtype=np.float64)
    stop = np.asarray(columns["stop_time"][0], dtype=np.float64)
    if np.any(~np.isfinite(start)) or np.any(~np.isfinite(stop)) or np.any(stop < start):
        i = int(np.flatnonzero(~np.isfinite(start) | ~np.isfinite(stop) | (stop < start))[0])
        raise NwbMotorValueError(f"trial {i}: start {start[i]} / stop {stop[i]}; expected finite times with stop >= start")
    from hdmf.common import ElementIdentifiers

    cols = [
        VectorData(name="start_time", description="Start time of the trial, in seconds.", data=start),
        VectorData(name="stop_time", description="Stop time of the trial, in seconds.", data=stop),
    ]
    for name, (values, doc) in columns.items():
        if name in ("start_time", "stop_time"):
            continue
        values = np.asarray(values)
        if values.shape != start.shape:
            raise NwbMotorValueError(f"trials column {name!r} has {values.size} values for {start.size} trials")
        cols.append(VectorData(name=name, description=doc, data=values))
    ids = ElementIdentifiers(name="id", data=np.arange(len(start), dtype=np.int64))
    table = TimeIntervals(name="trials", description=description, columns=cols, id=ids)
    nwbfile.trials = table
    return table
