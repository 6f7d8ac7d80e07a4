"""Source kind ``lever_table``: a lever trace and trial events from a CSV or NPZ file (other rigs)."""

from __future__ import annotations

import csv
import os
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.converters.lever._acquisition import LeverAcquisitionBase
from nwbmotor.methods import map_to_frames

if TYPE_CHECKING:
    from pynwb import NWBFile

__all__ = ["LeverTableInterface"]

TRIAL_FIELDS = ("start_time", "stop_time", "cue_time", "reward_time", "rewarded", "catch", "opto", "trial_number")
_BOOL_FIELDS = ("rewarded", "catch", "opto")


def _read_csv(path: Path) -> dict[str, np.ndarray]:
    try:
        with open(path, newline="") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as exc:
        raise NwbMotorValueError(f"{path}: cannot be read as CSV ({exc})") from None
    if not rows:
        raise NwbMotorValueError(f"{path}: empty; expected a header row and values")
    header = [h.strip() for h in rows[0]]
    out: dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        values = []
        for i, row in enumerate(rows[1:], start=2):
            if len(row) != len(header):
                raise NwbMotorValueError(f"{path}: line {i} has {len(row)} values; the header has {len(header)}")
            cell = row[j].strip()
            if name in _BOOL_FIELDS:
                if cell.lower() not in ("true", "false", "1", "0"):
                    raise NwbMotorValueError(f"{path}: line {i}, column {name!r} is {cell!r}; expected true/false or 1/0")
                values.append(cell.lower() in ("true", "1"))
                continue
            try:
                values.append(float(cell) if cell not in ("", "nan", "NaN") else np.nan)
            except ValueError:
                raise NwbMotorValueError(f"{path}: line {i}, column {name!r} is {cell!r}; expected a number") from None
        out[name] = np.asarray(values)
    return out


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as z:
            return {k: np.asarray(z[k]) for k in z.files}
    except ValueError as exc:  # object arrays need pickle: refused
        raise NwbMotorValueError(f"{path}: holds object arrays ({exc}); expected numeric arrays only") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:  # a truncated or damaged archive
        raise NwbMotorValueError(f"{path}: cannot be read as NPZ ({exc})") from None


def _read_table(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise NwbMotorValueError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix == ".npz":
        return _read_npz(path)
    raise NwbMotorTypeError(f"{path}: unsupported file type {suffix!r}; expected .csv or .npz")


class LeverTableInterface(LeverAcquisitionBase):
    """A lever trace (and optionally trials and frame times) from a CSV or NPZ file.

    The lever file holds a column/array ``lever`` (volts) and either ``time`` (s,
    evenly sampled) or a ``sample_rate`` (an NPZ scalar, or the argument). Trials come
    from arrays of the same NPZ, or from ``trials_file_path`` (CSV or NPZ), with
    ``start_time``, ``stop_time`` and optionally ``cue_time``, ``reward_time``,
    ``rewarded``, ``catch``, ``opto``, ``trial_number`` (times on the lever's clock).
    ``frame_times`` (NPZ) are imaging frame starts. NPZ files are read without pickle.

    Written: the lever (as for ``xsglog``), ``imaging_frame_pulses`` from
    ``frame_times``, the trials table, ``LeverPressTask`` and the movements.

    Parameters
    ----------
    file_path : str or PathLike
        ``.csv`` or ``.npz``.
    trials_file_path : str or PathLike, optional
    sample_rate : float, optional
        Hz, when the file has no ``time``/``sample_rate``.
    volts_to_mm : optional
        As for :class:`~nwbmotor.converters.lever.XsglogLeverInterface`.
    n_movie_frames : optional
        As for :class:`~nwbmotor.converters.lever.XsglogLeverInterface`.
    movement_preset : optional
        As for :class:`~nwbmotor.converters.lever.XsglogLeverInterface`.
    movement_options : optional
        As for :class:`~nwbmotor.converters.lever.XsglogLeverInterface`.
    task : optional
        As for :class:`~nwbmotor.converters.lever.XsglogLeverInterface`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "lever.npz"
    >>> np.savez(p, lever=np.zeros(50_000), sample_rate=1000.0)
    >>> LeverTableInterface(p).sample_rate
    1000.0
    """

    display_name = "Lever trace table (CSV/NPZ)"
    keywords = ("lever", "behavior")
    associated_suffixes = (".csv", ".npz")

    def __init__(
        self,
        file_path: str | os.PathLike[str],
        *,
        trials_file_path: str | os.PathLike[str] | None = None,
        sample_rate: float | None = None,
        volts_to_mm: float | None = None,
        n_movie_frames: int | None = None,
        movement_preset: str = "nwbmotor",
        movement_options: dict[str, Any] | None = None,
        task: dict[str, Any] | None = None,
        verbose: bool = False,
    ) -> None:
        path = Path(file_path)
        self.source = str(path)
        table = _read_table(path)
        if "lever" not in table:
            raise NwbMotorValueError(f"{path}: no 'lever' column/array (found {sorted(table)}); expected the lever trace in volts")
        lever = np.asarray(table["lever"], dtype=np.float64).ravel()
        if len(lever) < 2:
            raise NwbMotorValueError(f"{path}: 'lever' has {len(lever)} sample(s); expected a trace")
        self.starting_time = 0.0
        if "time" in table:
            t = np.asarray(table["time"], dtype=np.float64).ravel()
            if t.shape != lever.shape:
                raise NwbMotorValueError(f"{path}: 'time' has {t.size} values, 'lever' {lever.size}; expected one time per sample")
            dt = np.diff(t)
            step = float(np.median(dt))
            if not step > 0 or np.max(np.abs(dt - step)) > 0.01 * step:
                raise NwbMotorValueError(
                    f"{path}: 'time' is not evenly sampled (steps from {dt.min():.6g} to {dt.max():.6g} s); "
                    "expected a constant sample interval"
                )
            rate = 1.0 / step
            self.starting_time = float(t[0])
        elif "sample_rate" in table:
            rate = float(np.asarray(table["sample_rate"]).item())
        elif sample_rate is not None:
            rate = float(sample_rate)
        else:
            raise NwbMotorValueError(f"{path}: no 'time' column and no sample rate; pass sample_rate= (Hz)")
        if not (np.isfinite(rate) and rate > 0):
            raise NwbMotorValueError(f"{path}: sample rate {rate!r}; expected a positive number of Hz")
        self.sample_rate = float(rate)
        self._lever_data = lever
        self.reader_warnings = []
        self._init_common(volts_to_mm=volts_to_mm, movement_preset=movement_preset,
                          movement_options=movement_options, task=task, n_movie_frames=n_movie_frames)
        bad = ~np.isfinite(lever)
        if bad.any():
            where = (f"{path}: 'lever' has {int(bad.sum())} NaN/inf sample(s), the first at sample "
                     f"{int(np.argmax(bad))}")
            if self.movement_options.get("nan_policy") != "interpolate":
                raise NwbMotorValueError(
                    f"{where}; expected finite volts. Pass movement_options={{'nan_policy': 'interpolate'}} to "
                    "interpolate short gaps for movement detection (the trace is stored as recorded)"
                )
            self.reader_warnings.append(f"{where}; stored as recorded, interpolated for movement detection only")
        source = table
        if trials_file_path is not None:
            source = _read_table(Path(trials_file_path))
            self.trials_source = str(trials_file_path)
        else:
            self.trials_source = str(path)
        self._trials = self._trial_arrays(source)
        ft = table.get("frame_times")
        self._frame_times = None if ft is None else self._check_frames_named(np.ravel(ft))
        super().__init__(verbose=verbose, file_path=str(file_path))

    def _check_frames_named(self, t: np.ndarray) -> np.ndarray:
        from nwbmotor.methods import check_frame_times

        return check_frame_times(t, source=f"{self.source}: 'frame_times'")

    def _trial_arrays(self, source: dict[str, np.ndarray]) -> dict[str, np.ndarray] | None:
        present = [k for k in TRIAL_FIELDS if k in source]
        if not present:
            return None
        for k in ("start_time", "stop_time"):
            if k not in source:
                raise NwbMotorValueError(f"{self.trials_source}: trial field {k!r} is missing (found {present}); expected start_time and stop_time")
        n = np.ravel(source["start_time"]).size
        out = {}
        for k in present:
            v = np.ravel(source[k])
            if v.size != n:
                raise NwbMotorValueError(f"{self.trials_source}: {k!r} has {v.size} values, start_time {n}; expected one per trial")
            out[k] = v.astype(bool) if k in _BOOL_FIELDS else (v.astype(np.int64) if k == "trial_number" else v.astype(np.float64))
        return out

    # ---- for the session's other interfaces
    def lever(self) -> tuple[Any, float]:
        return self._lever_data, self.sample_rate

    def channel(self, name: str) -> tuple[Any, float]:
        if name == "Lever":
            return self.lever()
        raise NwbMotorValueError(f"{self.source}: no channel {name!r}; a lever table holds only 'Lever'")

    def channel_names(self) -> tuple[str, ...]:
        return ("Lever",)

    def frame_times(self) -> np.ndarray | None:
        return self._frame_times

    def _has_frame_times(self) -> bool:
        return self._frame_times is not None

    def trial_columns(self) -> dict[str, tuple[np.ndarray, str]] | None:
        """The trials table's columns from the file, or None when it has no trials."""
        if self._trials is None:
            return None
        tr = self._trials
        n = tr["start_time"].size
        nan = np.full(n, np.nan)
        reward = tr.get("reward_time", nan)
        cols = {
            "start_time": (tr["start_time"], "Trial start (s)."),
            "stop_time": (tr["stop_time"], "Trial end (s)."),
            "trial_number": (tr.get("trial_number", np.arange(1, n + 1)), "Trial number."),
            "cue_time": (tr.get("cue_time", nan), "Cue onset (s); NaN when none."),
            "reward_time": (reward, "Reward onset (s); NaN when unrewarded."),
            "rewarded": (tr.get("rewarded", np.isfinite(reward)), "The trial was rewarded."),
            "catch": (tr.get("catch", np.zeros(n, bool)), "Catch trial."),
            "opto": (tr.get("opto", np.zeros(n, bool)), "Light on in this trial."),
        }
        f = self.frame_times()
        if f is not None and len(f):
            for name in ("start", "cue", "reward"):
                cols[f"{name}_frame"] = (map_to_frames(cols[f"{name}_time"][0], f), f"Imaging frame nearest the trial's {name} (-1: none).")
        return cols

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, **conversion_options: Any) -> None:
        """Add the lever, frame times, trials, task and movements."""
        from nwbmotor.converters.lever._nwb import (
            add_lever_press_task,
            add_lever_series,
            add_trials_table,
            add_ttl_events,
        )

        add_lever_series(
            nwbfile,
            self._lever_data,
            sample_rate=self.sample_rate,
            starting_time=self.starting_time,
            volts_to_mm=self.volts_to_mm,
            description=f"Lever force/position from {Path(self.source).name} at {self.sample_rate:g} Hz.",
            comments=[*self.reader_warnings, *self._clock_comments(nwbfile)],
        )
        f = self.frame_times()
        if f is not None:
            report = self.frame_report()
            add_ttl_events(
                nwbfile, "imaging_frame_pulses", f, None,
                description=f"Imaging frame starts from {Path(self.source).name}. Frame report: {report['text']}",
                source_description=f"'frame_times' of {Path(self.source).name}",
            )
        cols = self.trial_columns()
        trials = None
        if cols is not None:
            trials = add_trials_table(nwbfile, cols, description=f"Trials from {Path(self.trials_source).name}, on the lever's clock.")
        add_lever_press_task(nwbfile, self.task_parameters())
        self.add_movements(nwbfile, trials=trials)
