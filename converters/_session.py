"""One session, one clock: how the interfaces of a session find each other and share time.

Interfaces are linked by what they *provide*, never by the name of their source kind,
so a NeuroConv interface takes the same part as nwbmotor's own:

==================  ==========================================================================
capability          provided by
==================  ==========================================================================
``clock``           the acquisition (``xsglog``, ``xsg``, ``lever_table``): t = 0 at its first
                    sample; the session clock when present
``frame_pulses``    the microscope's frame starts on that clock (``xsglog`` with a ``Frame``
                    channel)
``bitcodes``        decoded trial bitcodes on that clock (``xsglog``, ``xsg``)
``ttl``             TTL channels on that clock
``movie``           imaging frames: nwbmotor's movies and every NeuroConv imaging interface
``rois``            ROI tables and their traces: nwbmotor's segmentation and every NeuroConv
                    segmentation interface
``trials``          a trials table (``dispatcher``)
==================  ==========================================================================

An interface states what it provides in a ``provides`` attribute (a frozenset, or a
property when it depends on the recording); NeuroConv's imaging and segmentation
interfaces are recognised by their base classes.

:func:`align_session` puts every object of a session on the acquisition clock through
NeuroConv's own temporal-alignment methods: movies and ROI traces get
``set_aligned_timestamps`` (the frame pulses), the Dispatcher trials
``align_by_interpolation`` (Dispatcher times of the trial bitcodes → their acquisition
times). It is what ``nwbmotor convert`` runs, and what
:class:`SessionConverter` / :class:`SessionClockMixin` run in NeuroConv's
``temporally_align_data_interfaces`` hook, so a NeuroConv ``NWBConverter`` of the same
interfaces writes the same file as the YAML spec.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError

__all__ = [
    "CAPABILITIES",
    "SessionClockMixin",
    "SessionClockReport",
    "SessionConverter",
    "align_session",
    "frame_count",
    "provider",
    "provides",
]

CAPABILITIES = ("clock", "frame_pulses", "bitcodes", "ttl", "movie", "rois", "trials")


def provides(interface: Any) -> frozenset[str]:
    """What an interface provides to the others of its session (see the module docstring).

    Examples
    --------
    >>> class Trials:
    ...     provides = frozenset({"trials"})
    >>> sorted(provides(Trials()))
    ['trials']
    >>> provides(object())
    frozenset()
    """
    own = getattr(interface, "provides", None)
    if own is not None:
        return frozenset(own)
    try:
        from neuroconv.datainterfaces.ophys.baseimagingextractorinterface import BaseImagingExtractorInterface
        from neuroconv.datainterfaces.ophys.basesegmentationextractorinterface import (
            BaseSegmentationExtractorInterface,
        )
    except ImportError:  # pragma: no cover - NeuroConv is a dependency
        return frozenset()
    if isinstance(interface, BaseImagingExtractorInterface):
        return frozenset({"movie"})
    if isinstance(interface, BaseSegmentationExtractorInterface):
        return frozenset({"rois"})
    return frozenset()


def _named(interfaces: Mapping[str, Any], capability: str) -> list[tuple[str, Any]]:
    return [(name, i) for name, i in interfaces.items() if capability in provides(i)]


def provider(interfaces: Mapping[str, Any], capability: str, *, needed_by: str = "the session") -> Any:
    """The one interface of ``interfaces`` that provides ``capability``, or None.

    Raises
    ------
    NwbMotorValueError
        If several do (naming them).

    Examples
    --------
    >>> class Clock:
    ...     provides = frozenset({"clock"})
    >>> c = Clock()
    >>> provider({"lever": c, "other": object()}, "clock") is c
    True
    """
    found = _named(interfaces, capability)
    if len(found) > 1:
        raise NwbMotorValueError(
            f"{needed_by}: {len(found)} sources provide {capability!r} ({', '.join(n for n, _ in found)}); "
            "expected one per session"
        )
    return found[0][1] if found else None


def frame_count(interface: Any) -> int | None:
    """Frames of a movie or of ROI traces, asked the ways nwbmotor, NeuroConv and roiextractors answer.

    Examples
    --------
    >>> class Movie:
    ...     n_frames = 12
    >>> frame_count(Movie())
    12
    """
    for attr in ("n_frames", "num_frames", "n_movie_frames"):
        v = getattr(interface, attr, None)
        if isinstance(v, (int, np.integer)):
            return int(v)
    for owner in (interface, getattr(interface, "imaging_extractor", None), getattr(interface, "segmentation_extractor", None)):
        if owner is None:
            continue
        for meth in ("get_num_frames", "get_num_samples"):
            f = getattr(owner, meth, None)
            if callable(f):
                try:
                    return int(f())
                except Exception:  # noqa: BLE001 - a source that cannot say is simply not compared
                    pass
    return None


def _label(name: str, interface: Any) -> str:
    src = getattr(interface, "source", None) or getattr(interface, "source_data", {}).get("folder_path") \
        or getattr(interface, "source_data", {}).get("file_path")
    return f"{name!r} ({src})" if src else repr(name)


@dataclasses.dataclass
class SessionClockReport:
    """What :func:`align_session` did: one line per object put on the clock, and the warnings.

    Attributes
    ----------
    aligned : dict
        Interface name -> how it was aligned (a sentence).
    warnings : list of str
        Everything found wrong (also printed as ``UserWarning`` and recorded in the
        file by the acquisition interface).
    """

    aligned: dict[str, str] = dataclasses.field(default_factory=dict)
    warnings: list[str] = dataclasses.field(default_factory=list)

    def text(self) -> str:
        """One paragraph for the file."""
        parts = [f"{name}: {how}" for name, how in self.aligned.items()]
        text = "Session clock (nwbmotor.converters.align_session): " + ("; ".join(parts) or "nothing to align")
        if self.warnings:
            text += ". Warnings: " + " | ".join(self.warnings)
        return text + "."


def _frame_times_for(
    pulses: np.ndarray, n: int, *, what: str, source: str, max_mismatch: int | None
) -> tuple[np.ndarray, list[str]]:
    """The start time of each of ``n`` frames from the pulses, or an error when they do not fit."""
    notes: list[str] = []
    n_p = int(pulses.size)
    allowed = max(5, math.ceil(0.01 * n)) if max_mismatch is None else int(max_mismatch)
    if n_p < 2:
        raise NwbMotorValueError(
            f"{source}: channel 'Frame' has {n_p} frame pulse(s) but {what} has {n} frames; expected one pulse per "
            "frame. Is the Frame channel wired, or is this the recording of another session?"
        )
    if abs(n_p - n) > allowed:
        raise NwbMotorValueError(
            f"{source}: channel 'Frame' has {n_p} frame pulses but {what} has {n} frames ({n_p - n:+d}); expected the "
            f"same count (at most {allowed} apart). Are they from the same session? Pass max_frame_mismatch= "
            "to accept a larger difference"
        )
    if n_p >= n:
        times = pulses[:n]
        if n_p > n:
            notes.append(
                f"{what}: {n} frames, {n_p} frame pulses on channel 'Frame' of {source}: the frames take the first "
                f"{n} pulses ({n_p - n} extra pulse(s), e.g. frames the movie did not save)"
            )
    else:
        step = float(np.median(np.diff(pulses)))
        times = np.concatenate([pulses, pulses[-1] + step * np.arange(1, n - n_p + 1)])
        notes.append(
            f"{what}: {n} frames, only {n_p} frame pulses on channel 'Frame' of {source}: the last {n - n_p} "
            f"frame time(s) continue at the median pulse interval ({step * 1e3:.3f} ms)"
        )
    d = np.diff(times)
    period = float(np.median(d))
    gaps = np.flatnonzero(d > 1.5 * period)
    if gaps.size:
        notes.append(
            f"{what}: {gaps.size} gap(s) in the frame pulses (longest {float(d[gaps].max()):.3f} s, first after "
            f"frame {int(gaps[0])} at {float(times[gaps[0]]):.3f} s); frames keep the pulse times, so the pause is kept"
        )
    return times, notes


def _n_planes(movie: Any) -> int:
    names = getattr(movie, "imaging_plane_names", None)
    if callable(names):
        try:
            return max(1, len({plane for _, plane in names()}))
        except Exception:  # noqa: BLE001 - a movie that cannot say has one plane
            return 1
    return 1


def align_session(
    interfaces: Mapping[str, Any],
    *,
    max_frame_mismatch: int | None = None,
) -> SessionClockReport:
    """Link the interfaces of one session and put them on its acquisition clock.

    1. Each interface's ``link_session`` hook runs (in ``link_order``), so it finds its
       partners by what they provide.
    2. With an acquisition that has frame pulses, every movie and ROI-trace interface
       (nwbmotor's or NeuroConv's) gets ``set_aligned_timestamps(pulse times)``: a
       multi-plane movie one time per plane, when the pulses count planes.
    3. The Dispatcher trials align by interpolation between the trial bitcodes (in
       their own ``link_session``, through ``align_by_interpolation``).

    Frame pulses against frames: equal counts align exactly; a difference of at most
    ``max_frame_mismatch`` (default the larger of 5 and 1 % of the frames) aligns with
    a warning; a larger one, or no pulse at all, is an error. Gaps in the pulses are
    kept (with a warning). With an acquisition that has no frame pulses (``xsg``,
    ``lever_table``) movies and traces stay on their own clock, with a warning.
    Warnings are printed (``UserWarning``) and recorded in the file (the acquisition's
    frame-pulse table and lever series).

    Parameters
    ----------
    interfaces : mapping of str to interface
        Every interface of the session (a NeuroConv converter's ``data_interface_objects``).
    max_frame_mismatch : int, optional
        Largest accepted difference between frame pulses and frames.

    Returns
    -------
    SessionClockReport

    Raises
    ------
    NwbMotorValueError
        Several clocks; frame counts that do not fit the pulses; no frame pulse while the
        session has imaging.

    Examples
    --------
    >>> import tempfile
    >>> from nwbmotor.testing import write_rig_session
    >>> from nwbmotor.converters.lever import XsglogLeverInterface, DispatcherTrialsInterface
    >>> truth = write_rig_session(tempfile.mkdtemp(), n_trials=3)
    >>> interfaces = {"lever": XsglogLeverInterface(truth.folder),
    ...               "trials": DispatcherTrialsInterface(truth.dispatcher_path)}
    >>> report = align_session(interfaces)
    >>> bool(abs(interfaces["trials"].get_timestamps()[0] - truth.start_times[0]) < 1e-3)
    True
    """
    report = SessionClockReport()
    clock = provider(interfaces, "clock")
    for interface in sorted(interfaces.values(), key=lambda i: getattr(i, "link_order", 0)):
        link = getattr(interface, "link_session", None)
        if link is not None:
            link(interfaces)
    clock_name = next((n for n, i in interfaces.items() if i is clock), "")
    framed = [(n, i) for n, i in interfaces.items()
              if ({"movie", "rois"} & provides(i)) and hasattr(i, "set_aligned_timestamps")]
    if clock is not None:
        pulses = clock.frame_times() if "frame_pulses" in provides(clock) else None
        source = getattr(clock, "source", clock_name)
        movie_times: np.ndarray | None = None
        framed.sort(key=lambda item: "movie" not in provides(item[1]))  # movies first
        for name, interface in framed:
            n = frame_count(interface)
            what = _label(name, interface)
            if pulses is None:
                report.warnings.append(
                    f"{what}: the acquisition {clock_name!r} ({source}) records no frame pulses, so its frames stay on "
                    "their own clock from 0 s, NOT aligned to the lever and trials"
                )
                continue
            if n is None:
                report.warnings.append(f"{what}: cannot count its frames; left on its own clock")
                continue
            is_movie = "movie" in provides(interface)
            if not is_movie and movie_times is not None and movie_times.size == n:
                interface.set_aligned_timestamps(movie_times)  # the ROIs' movie (its plane's frames)
                report.aligned[name] = f"{n} frames on the movie's frame times (first at {movie_times[0]:.4f} s)"
                continue
            n_planes = _n_planes(interface) if is_movie else 1
            m = n * n_planes if n_planes > 1 and abs(pulses.size - n * n_planes) < abs(pulses.size - n) else n
            times, notes = _frame_times_for(pulses, m, what=what, source=source, max_mismatch=max_frame_mismatch)
            report.warnings.extend(notes)
            interface.set_aligned_timestamps(times)
            if is_movie and movie_times is None:
                movie_times = np.asarray(interface.get_timestamps(), dtype=np.float64)
            report.aligned[name] = f"{n} frames on the frame pulses of {clock_name!r} (first at {times[0]:.4f} s)"
        trials = [(n, i) for n, i in interfaces.items() if "trials" in provides(i)]
        for name, interface in trials:
            aligned = getattr(interface, "alignment", lambda: None)()
            if aligned is not None:
                report.aligned[name] = "trials by interpolation between the trial bitcodes"
            else:
                report.warnings.append(f"{name!r}: trials not aligned to {clock_name!r} (no trial bitcodes)")
        record = getattr(clock, "record_session_clock", None)
        if record is not None:
            record(report)
    for interface in interfaces.values():
        if hasattr(interface, "_session_aligned"):
            interface._session_aligned = True
    for w in report.warnings:
        warnings.warn(w, UserWarning, stacklevel=2)
    return report


class SessionClockMixin:
    """Mixin for a NeuroConv ``NWBConverter``: ``temporally_align_data_interfaces`` runs
    :func:`align_session` on the converter's interfaces (once, before anything is added).

    Examples
    --------
    >>> from neuroconv import NWBConverter
    >>> class LabConverter(SessionClockMixin, NWBConverter):
    ...     data_interface_classes = {}
    """

    data_interface_objects: dict[str, Any]
    max_frame_mismatch: int | None = None
    _session_clock: SessionClockReport | None = None

    def temporally_align_data_interfaces(self, metadata: dict | None = None, conversion_options: dict | None = None) -> None:
        if self._session_clock is None:
            self._session_clock = align_session(self.data_interface_objects, max_frame_mismatch=self.max_frame_mismatch)

    def add_to_nwbfile(self, nwbfile: Any, metadata: dict | None = None, conversion_options: dict | None = None) -> None:
        self.temporally_align_data_interfaces(metadata=metadata, conversion_options=conversion_options)
        super().add_to_nwbfile(nwbfile=nwbfile, metadata=metadata, conversion_options=conversion_options)  # type: ignore[misc]


def _converter_pipe() -> type:
    from neuroconv import ConverterPipe

    return ConverterPipe


class SessionConverter(SessionClockMixin, _converter_pipe()):  # type: ignore[misc]
    """A NeuroConv ``ConverterPipe`` whose interfaces share the acquisition clock.

    Parameters
    ----------
    data_interfaces : dict of str to interface
        Any mix of nwbmotor's and NeuroConv's interfaces of one session.

    Examples
    --------
    >>> import tempfile
    >>> from nwbmotor.testing import write_rig_session
    >>> from nwbmotor.converters.lever import XsglogLeverInterface, DispatcherTrialsInterface
    >>> truth = write_rig_session(tempfile.mkdtemp(), n_trials=3)
    >>> converter = SessionConverter(data_interfaces={"lever": XsglogLeverInterface(truth.folder),
    ...                                               "trials": DispatcherTrialsInterface(truth.dispatcher_path)})
    >>> converter.temporally_align_data_interfaces()
    >>> sorted(converter._session_clock.aligned)
    ['trials']
    """
