"""Source kind ``dispatcher``: the Dispatcher (BControl) task file → the trials table."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from neuroconv import BaseDataInterface

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters.lever._clock import ClockAlignment, align_clocks, check_trial_numbers
from nwbmotor.converters.lever._dispatcher_reader import read_dispatcher_file
from nwbmotor.methods import map_to_frames

if TYPE_CHECKING:
    from pynwb import NWBFile

__all__ = ["DispatcherTrialsInterface"]


class DispatcherTrialsInterface(BaseDataInterface):
    """A Dispatcher file → ``intervals/trials`` on the session clock.

    With an ``xsglog`` or ``xsg`` source in the same session (found by
    ``link_session``), each trial's bitcode ties the two clocks: Dispatcher times are
    mapped to acquisition time by linear interpolation between the trials' bitcodes
    (per-trial offsets in column ``dispatcher_offset``, the fitted drift in the table's
    description). Without one, the trials stay in Dispatcher time, shifted so the first
    trial starts at 0, and the description says so.

    Columns: ``start_time`` (the ``bitcode`` state), ``stop_time`` (second ``state_0``
    row), ``trial_number``, ``cue_time``, ``reward_time`` (NaN when absent),
    ``rewarded`` (the ``reward`` state occurred), ``catch``, ``opto`` (the ``opto_on``
    state occurred), ``dispatcher_start_time``, ``dispatcher_offset``,
    ``aligned_by_bitcode``; with frame pulses ``start_frame``, ``cue_frame``,
    ``reward_frame`` (nearest imaging frame, -1 when none); then the movement columns
    (``movement_onset``, ``movement_offset``, ``cued_rewarded``) added by the
    movements step. Everything found wrong on the way (missing bitcodes, trials
    without a bitcode, bitcodes without a trial) is in the table's description.

    Parameters
    ----------
    file_path : str or PathLike
        ``data_@lever2p_<experimenter>_<animal>_<date>.mat``.
    task : dict, optional
        ``LeverPressTask`` parameters to record (e.g. ``reward_volume``).
    max_clock_residual : float, default 0.020
        Largest allowed deviation (s) of a bitcode from the linear clock fit.

    Examples
    --------
    >>> import tempfile
    >>> from nwbmotor.testing import write_rig_session
    >>> from nwbmotor.converters.lever import XsglogLeverInterface
    >>> truth = write_rig_session(tempfile.mkdtemp(), n_trials=4)
    >>> interfaces = {"xsglog": XsglogLeverInterface(truth.folder),
    ...               "dispatcher": DispatcherTrialsInterface(truth.dispatcher_path)}
    >>> for i in interfaces.values():
    ...     i.link_session(interfaces)
    >>> starts = interfaces["dispatcher"].trial_columns()["start_time"][0]
    >>> bool(np.allclose(starts, truth.start_times, atol=1e-3))
    True
    """

    display_name = "Dispatcher (BControl) task file"
    keywords = ("Dispatcher", "BControl", "trials", "lever")
    associated_suffixes = (".mat",)

    def __init__(
        self,
        file_path: str | os.PathLike[str],
        *,
        task: dict[str, Any] | None = None,
        max_clock_residual: float = 0.020,
        verbose: bool = False,
    ) -> None:
        self.session = read_dispatcher_file(file_path)
        self.source = str(self.session.path)
        self.task = dict(task or {})
        self.max_clock_residual = float(max_clock_residual)
        self._acquisition: Any = None
        self._alignment: ClockAlignment | None = None
        self._clock_warnings: list[str] | None = None
        starts = self.session.state_times("bitcode")
        if np.any(~np.isfinite(starts)):
            i = int(np.flatnonzero(~np.isfinite(starts))[0])
            raise NwbMotorValueError(
                f"{self.source}: saved_history.ProtocolsSection_parsed_events{{{i + 1}}}.states.bitcode is empty; "
                "expected every trial to start with its bitcode state"
            )
        for w in self.file_warnings():
            warnings.warn(f"{self.source}: {w}", UserWarning, stacklevel=2)
        super().__init__(verbose=verbose, file_path=str(file_path))

    #: see :mod:`nwbmotor.converters._session`
    provides = frozenset({"trials"})

    # ---- session links
    def link_session(self, interfaces: Mapping[str, Any]) -> None:
        """Take the bitcodes from the session's interface that provides them (``xsglog``, ``xsg``)."""
        from nwbmotor.converters._session import provider

        acquisition = provider(interfaces, "bitcodes", needed_by=self.source)
        if acquisition is None and provider(interfaces, "clock", needed_by=self.source) is not None:
            raise NwbMotorValueError(
                f"{self.source}: the session's lever comes from a 'lever_table', which has no trial bitcodes to "
                "put the Dispatcher trials on its clock; expected an 'xsglog' or 'xsg' source, or the trials "
                "given in the lever table (start_time, stop_time, cue_time, reward_time, ...) instead"
            )
        self._acquisition = acquisition
        self._alignment = None
        self._clock_warnings = None
        if self._acquisition is not None and hasattr(self._acquisition, "attach_dispatcher"):
            self._acquisition.attach_dispatcher(self)

    # ---- NeuroConv's temporal alignment (the trial starts are the timestamps)
    def get_original_timestamps(self) -> np.ndarray:
        """Trial starts (the ``bitcode`` state) on the Dispatcher clock, as in the file."""
        return np.asarray(self.session.state_times("bitcode"), dtype=np.float64)

    def get_timestamps(self) -> np.ndarray:
        """Trial starts on the session clock (see :meth:`session_times`)."""
        return self.session_times(self.get_original_timestamps())

    def align_by_interpolation(self, unaligned_timestamps: np.ndarray, aligned_timestamps: np.ndarray) -> None:
        """Map Dispatcher times to the session clock by interpolation between anchors
        (beyond them the fitted slope continues); NeuroConv's method, used with the trial bitcodes.

        Examples
        --------
        >>> import tempfile
        >>> from nwbmotor.testing import write_rig_session
        >>> truth = write_rig_session(tempfile.mkdtemp(), n_trials=3)
        >>> trials = DispatcherTrialsInterface(truth.dispatcher_path)
        >>> trials.align_by_interpolation(truth.dispatcher_start_times, truth.start_times)
        >>> bool(np.allclose(trials.get_timestamps(), truth.start_times))
        True
        """
        d = np.asarray(unaligned_timestamps, dtype=np.float64)
        t = np.asarray(aligned_timestamps, dtype=np.float64)
        if d.shape != t.shape or d.ndim != 1 or d.size < 2:
            raise NwbMotorValueError(
                f"{self.source}: align_by_interpolation needs two 1-D arrays of the same length >= 2; got shapes "
                f"{d.shape} and {t.shape}"
            )
        order = np.argsort(d)
        d, t = d[order], t[order]
        slope, intercept = np.polyfit(d, t, 1)
        self._clock_warnings = self._clock_warnings if self._clock_warnings is not None else []
        self._alignment = ClockAlignment(np.zeros(0, np.int64), d, t, float(slope), float(intercept))

    def set_aligned_timestamps(self, aligned_timestamps: np.ndarray) -> None:
        """Give the session time of every trial start (one per Dispatcher trial)."""
        t = np.asarray(aligned_timestamps, dtype=np.float64)
        original = self.get_original_timestamps()
        if t.shape != original.shape:
            raise NwbMotorValueError(
                f"{self.source}: set_aligned_timestamps: expected {original.size} trial starts, got {t.size}"
            )
        self.align_by_interpolation(original, t)

    def set_aligned_starting_time(self, aligned_starting_time: float) -> None:
        """Shift the trials by ``aligned_starting_time`` (s), as NeuroConv does: unaligned, the first
        trial is at 0, so it then starts at ``aligned_starting_time``."""
        self.set_aligned_timestamps(self.get_timestamps() + float(aligned_starting_time))

    @property
    def acquisition(self) -> Any:
        """The linked acquisition interface, or None."""
        return self._acquisition

    def _align(self) -> None:
        if self._clock_warnings is not None:
            return
        notes: list[str] = []
        if self._acquisition is None:
            self._clock_warnings = notes  # unaligned, or aligned by the NeuroConv methods above
            return
        codes = self._acquisition.bitcodes()
        src = f"{self._acquisition.source} vs {self.source}"
        notes.extend(f"{self._acquisition.source}: {p}" for p in codes.problems)
        notes.extend(check_trial_numbers(codes.trial_numbers, codes.times, source=self._acquisition.source))
        dispatcher_trials = self.session.trial_numbers()
        self._alignment = align_clocks(
            codes.trial_numbers, codes.times, dispatcher_trials, self.session.state_times("bitcode"),
            max_residual=self.max_clock_residual, source=src,
        )
        without = np.setdiff1d(dispatcher_trials, codes.trial_numbers)
        if len(without):
            notes.append(
                f"{len(without)} Dispatcher trial(s) have no bitcode in the acquisition "
                f"({_short(without)}); their times come from the clock fit of the neighbouring trials "
                "(column aligned_by_bitcode is False)"
            )
        extra = np.setdiff1d(codes.trial_numbers, dispatcher_trials)
        if len(extra):
            notes.append(
                f"{len(extra)} bitcode(s) decode trial numbers the Dispatcher file does not have "
                f"({_short(extra)}; the file has trials 1-{self.session.n_trials}): the task file was saved "
                "before the recording ended, or belongs to another session; those bitcodes were ignored"
            )
        self._clock_warnings = notes
        exact = self._alignment
        self.align_by_interpolation(exact.dispatcher_times, exact.session_times)  # NeuroConv's method
        self._alignment = exact  # the same mapping, with the trial numbers that anchor it
        for n in notes:
            warnings.warn(f"{src}: {n}", UserWarning, stacklevel=3)

    def alignment(self) -> ClockAlignment | None:
        """The Dispatcher→acquisition clock alignment; None without an acquisition source."""
        self._align()
        return self._alignment

    def clock_warnings(self) -> list[str]:
        """What the alignment found wrong (also recorded in the trials table description)."""
        self._align()
        return list(self._clock_warnings or [])

    def session_times(self, dispatcher_times: np.ndarray) -> np.ndarray:
        """Dispatcher times → session times (acquisition clock; or Dispatcher time minus the
        first trial's start when there is no acquisition source)."""
        a = self.alignment()
        t = np.asarray(dispatcher_times, dtype=np.float64)
        if a is None:
            return t - self.session.state_times("bitcode")[0]
        return a.to_session(t)

    def trial_states(self) -> list[dict[str, np.ndarray]]:
        """Per trial, every state's ``(n, 2)`` [start, stop] rows in session time.

        The optogenetics interface reads ``opto_on`` (and ``iti2``) from here.

        Examples
        --------
        >>> import tempfile
        >>> from nwbmotor.testing import write_rig_session
        >>> truth = write_rig_session(tempfile.mkdtemp(), n_trials=3, opto_fraction=1.0)
        >>> states = DispatcherTrialsInterface(truth.dispatcher_path).trial_states()
        >>> states[0]["opto_on"].shape
        (1, 2)
        """
        return [{k: self.session_times(v) for k, v in st.items()} for st in self.session.states]

    def task_parameters(self, *, include_acquisition: bool = True) -> dict[str, Any]:
        """``LeverPressTask`` parameters known from this file and the ``task`` argument."""
        params: dict[str, Any] = {}
        if self.session.protocol:
            params["protocol"] = f"@{self.session.protocol}"
        window = self.session.saved.get("lever2p_ResponseWindow")
        if isinstance(window, float) and np.isfinite(window):
            params["response_window"] = window
        if include_acquisition and self._acquisition is not None:
            params.update(self._acquisition.task_parameters())
        params.update(self.task)
        return params

    def trial_columns(self) -> dict[str, tuple[np.ndarray, str]]:
        """The trials table's columns: name -> (values, description)."""
        s = self.session
        numbers = s.trial_numbers()
        d_start = s.state_times("bitcode")
        d_stop = s.state_times("state_0", row=1)
        if np.any(~np.isfinite(d_stop)):  # no second state_0 row: the trial ended with its last state
            last_end = np.array([max((a[:, 1].max() for k, a in st.items() if k != "state_0" and a.size), default=np.nan)
                                 for st in s.states])
            d_stop = np.where(np.isfinite(d_stop), d_stop, last_end)
        start = self.session_times(d_start)
        stop = self.session_times(d_stop)
        cue = self.session_times(s.state_times("cue"))
        reward = self.session_times(s.state_times("reward"))
        catch = self._catch()
        opto = np.array([st.get("opto_on", np.zeros((0, 2))).shape[0] > 0 for st in s.states])
        cols: dict[str, tuple[np.ndarray, str]] = {
            "start_time": (start, "Trial start: start of the Dispatcher 'bitcode' state, session clock (s)."),
            "stop_time": (stop, "Trial end: start of the second 'state_0' visit, session clock (s)."),
            "trial_number": (numbers, "Dispatcher trial number (1-based), as sent in the bitcode."),
            "cue_time": (cue, "Cue onset: start of the 'cue' state (s); NaN when it did not occur."),
            "reward_time": (reward, "Reward onset: start of the 'reward' state (s); NaN when unrewarded."),
            "rewarded": (np.isfinite(reward), "The 'reward' state occurred."),
            "catch": (catch.astype(bool), "Catch trial (saved_history.CatchSection_catch_trial)."),
            "opto": (opto, "Light on: the 'opto_on' state occurred in this trial."),
            "dispatcher_start_time": (d_start, "Trial start on the Dispatcher clock (s), as in the task file."),
        }
        a = self.alignment()
        if a is not None:
            aligned = np.isin(numbers, a.trial_numbers)
            cols["dispatcher_offset"] = (start - d_start, "Session time minus Dispatcher time at the trial start (s).")
            cols["aligned_by_bitcode"] = (aligned, "The trial's own bitcode anchored its times (else the clock fit of its neighbours).")
            frames = self._acquisition.frame_times() if hasattr(self._acquisition, "frame_times") else None
            if not a.trial_numbers.size:  # aligned by hand: no bitcode anchors a trial
                cols.pop("aligned_by_bitcode")
            if frames is not None and len(frames):
                for name, t in (("start", start), ("cue", cue), ("reward", reward)):
                    cols[f"{name}_frame"] = (map_to_frames(t, frames), f"Imaging frame nearest the trial's {name} (-1: none).")
        return cols

    def _catch(self) -> np.ndarray:
        s = self.session
        if s.catch is None:
            return np.zeros(s.n_trials, dtype=bool)
        if len(s.catch) >= s.n_trials:
            return s.catch[: s.n_trials]
        return np.r_[s.catch, np.zeros(s.n_trials - len(s.catch), dtype=bool)]

    def file_warnings(self) -> list[str]:
        """What the task file itself had wrong (recorded in the trials table description)."""
        s = self.session
        out = []
        if s.catch is None:
            out.append("saved_history.CatchSection_catch_trial is missing: column catch is all False")
        elif len(s.catch) != s.n_trials:
            out.append(
                f"saved_history.CatchSection_catch_trial has {len(s.catch)} values for {s.n_trials} trials: "
                + ("the extra values were ignored" if len(s.catch) > s.n_trials else "the missing ones count as not catch")
            )
        return out

    def describe(self) -> str:
        """The trials table description: clock, alignment and every warning."""
        a = self.alignment()
        if a is None:
            text = (
                f"Trials of the Dispatcher file {self.session.path.name}. No acquisition source: times are on "
                "the Dispatcher clock, shifted so the first trial starts at 0, NOT aligned to any acquisition."
            )
        elif not a.trial_numbers.size:
            text = (
                f"Trials of the Dispatcher file {self.session.path.name} on the session clock, aligned with "
                f"set_aligned_timestamps / align_by_interpolation ({a.dispatcher_times.size} anchors; fitted "
                f"drift {a.drift_ppm:+.1f} ppm)."
            )
        else:
            text = f"Trials of the Dispatcher file {self.session.path.name} on the acquisition clock. {a.summary()}"
        if self.session.skipped:
            text += f" MATLAB objects skipped (undecodable): {', '.join(sorted(set(self.session.skipped)))}."
        w = self.file_warnings() + self.clock_warnings()
        if w:
            text += " Warnings: " + " | ".join(w)
        return text

    # ---- NeuroConv
    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, **conversion_options: Any) -> None:
        """Add the trials table (then, with an acquisition source, the movements)."""
        from nwbmotor.converters.lever._nwb import add_lever_press_task, add_trials_table

        description = self.describe()
        if self._acquisition is None and self.alignment() is None and "trial_bitcodes" in nwbfile.events:
            note = (
                f"{self.source}: the file holds trial bitcodes (events/trial_bitcodes) but these trials were never "
                "linked to them: they are on the Dispatcher clock, NOT the acquisition's. Use "
                "nwbmotor.converters.SessionConverter (or call align_session in temporally_align_data_interfaces)"
            )
            warnings.warn(note, UserWarning, stacklevel=2)
            description += " WARNING: " + note
        trials = add_trials_table(nwbfile, self.trial_columns(), description=description)
        add_lever_press_task(nwbfile, self.task_parameters())
        if self._acquisition is not None:
            self._acquisition.add_movements(nwbfile, trials=trials)


def _short(values: np.ndarray) -> str:
    v = [int(x) for x in values]
    return str(v) if len(v) <= 10 else str(v[:10])[:-1] + ", ...]"
