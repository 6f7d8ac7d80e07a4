"""Source kind ``xsg``: per-acquisition Ephus ``.xsg`` MAT files of one session."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters.lever._acquisition import TTL_THRESHOLD, LeverAcquisitionBase
from nwbmotor.converters.lever._bitcode import Bitcodes, decode_bitcodes
from nwbmotor.converters.lever._xsg_reader import find_xsg_files, read_xsg_file

if TYPE_CHECKING:
    from pynwb import NWBFile

__all__ = ["XsgLeverInterface"]


class _Concatenated:
    """The files' traces end to end, read one file at a time (1-D slicing only)."""

    def __init__(self, paths: list[Any], lengths: np.ndarray, which: str) -> None:
        self._paths = paths
        self._bounds = np.r_[0, np.cumsum(lengths)]
        self._which = which
        self._cache: tuple[int, np.ndarray] | None = None
        self.shape = (int(self._bounds[-1]),)
        self.dtype = np.dtype("float64")
        self.ndim = 1

    def __len__(self) -> int:
        return self.shape[0]

    def _file(self, k: int) -> np.ndarray:
        if self._cache is None or self._cache[0] != k:
            f = read_xsg_file(self._paths[k])
            self._cache = (k, f.lever if self._which == "lever" else f.bitcode)
        return self._cache[1]

    def __getitem__(self, item: Any) -> np.ndarray:
        if isinstance(item, tuple):
            (item,) = item
        start, stop, _ = item.indices(self.shape[0])
        out = np.empty(max(0, stop - start))
        k = int(np.searchsorted(self._bounds, start, side="right") - 1)
        pos = start
        while pos < stop:
            a, b = self._bounds[k], self._bounds[k + 1]
            take = min(stop, b) - pos
            out[pos - start : pos - start + take] = self._file(k)[pos - a : pos - a + take]
            pos += take
            k += 1
        return out


class _Timestamps:
    """Per-sample session times of the files end to end (file start + i / rate), computed on demand."""

    def __init__(self, starts: np.ndarray, lengths: np.ndarray, rate: float) -> None:
        self._starts = np.asarray(starts, dtype=np.float64)
        self._bounds = np.r_[0, np.cumsum(lengths)]
        self._rate = float(rate)
        self.shape = (int(self._bounds[-1]),)
        self.dtype = np.dtype("float64")
        self.ndim = 1

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, item: Any) -> np.ndarray:
        if isinstance(item, tuple):
            (item,) = item
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise TypeError("only contiguous slices are supported")
        start, stop, _ = item.indices(self.shape[0])
        idx = np.arange(start, max(start, stop))
        k = np.searchsorted(self._bounds, idx, side="right") - 1
        return self._starts[k] + (idx - self._bounds[k]) / self._rate


class _Grid:
    """Files placed on one regular grid (file ``k`` starts at sample ``first[k]``); samples
    between files are a straight line from the last sample of one to the first of the next."""

    def __init__(self, files: _Concatenated, first: np.ndarray, lengths: np.ndarray) -> None:
        self._files = files
        self._first = np.asarray(first, dtype=np.int64)
        self._lengths = np.asarray(lengths, dtype=np.int64)
        self._offsets = np.r_[0, np.cumsum(lengths)[:-1]]  # position of each file in ``files``
        ends = self._first + self._lengths
        self._n = int(ends[-1])
        self._edge = [(float(files[o : o + 1][0]), float(files[o + n - 1 : o + n][0])) for o, n in zip(self._offsets, self._lengths)]
        self.n_bridged = int(np.sum(np.maximum(0, self._first[1:] - ends[:-1])))

    def __len__(self) -> int:
        return self._n

    def read(self, a: int, b: int) -> np.ndarray:
        out = np.empty(max(0, b - a))
        pos = np.arange(a, b)
        for k in range(len(self._first)):
            lo, hi = self._first[k], self._first[k] + self._lengths[k]
            if k + 1 < len(self._first) and self._first[k + 1] > hi:  # the gap after file k
                g0, g1 = max(a, hi), min(b, self._first[k + 1])
                if g0 < g1:
                    y0, y1 = self._edge[k][1], self._edge[k + 1][0]
                    x0, x1 = hi - 1, self._first[k + 1]
                    out[g0 - a : g1 - a] = y0 + (y1 - y0) * (pos[g0 - a : g1 - a] - x0) / (x1 - x0)
            c0, c1 = max(a, lo), min(b, hi)
            if c0 < c1:  # later files overwrite a one-sample overlap from rounding
                o = self._offsets[k] + (c0 - lo)
                out[c0 - a : c1 - a] = self._files[o : o + (c1 - c0)]
        return out


class XsgLeverInterface(LeverAcquisitionBase):
    """A folder of Ephus ``.xsg`` files (``trace_1`` bitcode, ``trace_2`` lever) → the lever,
    the bitcodes and movements.

    Acquisitions are separate recordings with unknown gaps between them. With a
    ``dispatcher`` source in the session, each file is placed on the session clock
    by its bitcodes (the Dispatcher clock measures the gaps: the files' bitcodes and
    the Dispatcher's trial starts are fitted with one slope and a start per file); the
    session clock is the first file's, t = 0 at its first sample. Without one, files are
    laid end to end and the lever's ``comments`` say that the gaps are unknown. The
    lever is stored with per-sample timestamps.

    Parameters
    ----------
    folder_path : str or PathLike
        Folder of ``<2 letters><4 digits><4 letters><4 digits>.xsg`` files.
    volts_to_mm : optional
        As for :class:`~nwbmotor.converters.lever.XsglogLeverInterface`.
    movement_preset : optional
        As for :class:`~nwbmotor.converters.lever.XsglogLeverInterface`.
    movement_options : optional
        As for :class:`~nwbmotor.converters.lever.XsglogLeverInterface`.
    task : optional
        As for :class:`~nwbmotor.converters.lever.XsglogLeverInterface`.

    Examples
    --------
    >>> import tempfile
    >>> from nwbmotor.testing import write_rig_session
    >>> truth = write_rig_session(tempfile.mkdtemp(), n_trials=6, kind="xsg", trials_per_file=3)
    >>> XsgLeverInterface(truth.folder).n_files
    2
    """

    display_name = "Ephus .xsg acquisitions"
    keywords = ("lever", "Ephus", "behavior")
    associated_suffixes = (".xsg",)

    def __init__(
        self,
        folder_path: str | os.PathLike[str],
        *,
        volts_to_mm: float | None = None,
        movement_preset: str = "nwbmotor",
        movement_options: dict[str, Any] | None = None,
        task: dict[str, Any] | None = None,
        verbose: bool = False,
    ) -> None:
        self.paths = find_xsg_files(folder_path)
        self.source = str(folder_path)
        lengths, rates, codes, nan_notes = [], [], [], []
        for p in self.paths:
            f = read_xsg_file(p)
            lengths.append(len(f.lever))
            rates.append(f.sample_rate)
            bad = ~np.isfinite(f.lever)
            if bad.any():
                nan_notes.append(
                    f"{p}: data.acquirer.trace_2 (lever) has {int(bad.sum())} NaN/inf sample(s), the first at "
                    f"sample {int(np.argmax(bad))}"
                )
            codes.append(decode_bitcodes(f.bitcode, f.sample_rate, threshold=TTL_THRESHOLD))
        if len(set(rates)) > 1:
            raise NwbMotorValueError(
                f"{self.source}: the .xsg files have different header.acquirer.acquirer.sampleRate values "
                f"{sorted(set(rates))}; expected one rate per session"
            )
        self.sample_rate = float(rates[0])
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self._file_codes = codes
        self.reader_warnings = []
        self._file_starts: np.ndarray | None = None
        self._init_common(volts_to_mm=volts_to_mm, movement_preset=movement_preset,
                          movement_options=movement_options, task=task, n_movie_frames=None)
        if nan_notes:
            if self.movement_options.get("nan_policy") != "interpolate":
                raise NwbMotorValueError(
                    f"{nan_notes[0]}; expected finite volts. The trace would be stored as recorded, but movement "
                    "detection cannot run across the gap: pass movement_options={'nan_policy': 'interpolate'} "
                    "to interpolate short gaps for detection only"
                )
            self.reader_warnings.extend(f"{n}; stored as recorded, interpolated for movement detection only" for n in nan_notes)
        super().__init__(verbose=verbose, folder_path=str(folder_path))

    @property
    def n_files(self) -> int:
        return len(self.paths)

    def attach_dispatcher(self, dispatcher: Any) -> None:
        """Called by the session's Dispatcher interface: place the files by its clock."""
        self._dispatcher = dispatcher
        self._file_starts = None
        self._bitcodes = None

    def link_session(self, interfaces: Mapping[str, Any]) -> None:
        super().link_session(interfaces)
        self._file_starts = None
        self._bitcodes = None

    def file_start_times(self) -> np.ndarray:
        """Session time of each file's first sample (s)."""
        if self._file_starts is None:
            self._file_starts = self._place_files()
        return self._file_starts

    def _place_files(self) -> np.ndarray:
        fs = self.sample_rate
        durations = self.lengths / fs
        end_to_end = np.r_[0.0, np.cumsum(durations)[:-1]]
        self.reader_warnings = [w for w in self.reader_warnings if "gaps between" not in w and "gap is unknown" not in w]
        if self._dispatcher is None:
            if self.n_files > 1:
                self.reader_warnings.append(
                    f"{self.source}: {self.n_files} .xsg acquisitions laid end to end: the gaps between them are "
                    "unknown without the session's Dispatcher file, so times after the first file are approximate"
                )
            return end_to_end
        d_numbers = self._dispatcher.session.trial_numbers()
        d_starts = self._dispatcher.session.state_times("bitcode")
        local, disp, file_of = [], [], []
        for k, c in enumerate(self._file_codes):
            idx = np.searchsorted(d_numbers, c.trial_numbers)
            ok = (idx < len(d_numbers)) & (d_numbers[np.minimum(idx, len(d_numbers) - 1)] == c.trial_numbers)
            local.extend(c.times[ok])
            disp.extend(d_starts[idx[ok]])
            file_of.extend([k] * int(ok.sum()))
        local, disp, file_of = np.asarray(local), np.asarray(disp), np.asarray(file_of, dtype=np.int64)
        placed = np.unique(file_of)
        if 0 not in placed:
            raise NwbMotorValueError(
                f"{self.paths[0]}: the first acquisition has no bitcode of a Dispatcher trial; expected one to "
                "anchor the session clock"
            )
        # one slope for all files, one intercept per file: local = slope * disp + c_k
        num = den = 0.0
        for k in placed:
            m = file_of == k
            dl, dd = local[m] - local[m].mean(), disp[m] - disp[m].mean()
            num += float(dl @ dd)
            den += float(dd @ dd)
        slope = num / den if den > 0 else 1.0
        c = {int(k): float(np.mean(local[file_of == k] - slope * disp[file_of == k])) for k in placed}
        starts = np.empty(self.n_files)
        for k in range(self.n_files):
            if k in c:
                starts[k] = c[0] - c[k]
            else:
                starts[k] = starts[k - 1] + durations[k - 1]
                self.reader_warnings.append(
                    f"{self.paths[k]}: no bitcode of a Dispatcher trial; placed right after the previous "
                    "acquisition (its gap is unknown)"
                )
        overlap = np.flatnonzero(starts[1:] < starts[:-1] + durations[:-1] - 1.0 / fs)
        if len(overlap):
            k = int(overlap[0]) + 1
            raise NwbMotorValueError(
                f"{self.paths[k]}: by its bitcodes this acquisition starts at {starts[k]:.4f} s, before the previous "
                f"one ends ({starts[k - 1] + durations[k - 1]:.4f} s); expected files in acquisition order"
            )
        return starts

    def lever(self) -> tuple[Any, float]:
        return _Concatenated(self.paths, self.lengths, "lever"), self.sample_rate

    def channel(self, name: str) -> tuple[Any, float]:
        if name in ("trace_2", "Lever"):
            return self.lever()
        if name in ("trace_1", "Trial_number"):
            return _Concatenated(self.paths, self.lengths, "bitcode"), self.sample_rate
        raise NwbMotorValueError(f"{self.source}: no channel {name!r}; .xsg files hold trace_1 (bitcode) and trace_2 (lever)")

    def channel_names(self) -> tuple[str, ...]:
        return ("Trial_number", "Lever")

    def lever_timestamps(self) -> np.ndarray:
        return _Timestamps(self.file_start_times(), self.lengths, self.sample_rate)[0 : int(self.lengths.sum())]

    def bitcodes(self) -> Bitcodes:
        if self._bitcodes is None:
            starts = self.file_start_times()
            self._bitcodes = Bitcodes(
                np.concatenate([s + c.times for s, c in zip(starts, self._file_codes)]),
                np.concatenate([c.trial_numbers for c in self._file_codes]),
                tuple(f"{p.name}: {q}" for p, c in zip(self.paths, self._file_codes) for q in c.problems),
            )
        return self._bitcodes

    def ttl_pulses(self, name: str, threshold: float = TTL_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
        rising, falling = self.channel_edges(name, threshold)
        t = self.lever_timestamps()
        return t[rising], t[falling]

    def _detection_source(self) -> tuple[Any, int, list[str]]:
        """The files on one regular time grid, gaps bridged by straight lines (detection only),
        read block by block."""
        fs = self.sample_rate
        first = np.round(self.file_start_times() * fs).astype(np.int64)
        grid = _Grid(_Concatenated(self.paths, self.lengths, "lever"), first, self.lengths)
        notes = []
        if grid.n_bridged:
            notes.append(
                f"the {self.n_files} .xsg acquisitions were put on one {fs:g} Hz grid (starts rounded to the "
                f"nearest sample) and the {grid.n_bridged} samples of gaps between them bridged by straight "
                "lines, for movement detection only"
            )
        return grid.read, len(grid), notes

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, **conversion_options: Any) -> None:
        """Add the lever (with timestamps), the bitcodes, the task and (without a Dispatcher) movements."""
        from nwbmotor.converters.lever._nwb import (
            TTL_TABLE_NAMES,
            add_lever_press_task,
            add_lever_series,
            add_ttl_events,
            chunked,
        )

        data, rate = self.lever()
        timestamps = chunked(_Timestamps(self.file_start_times(), self.lengths, rate))
        for w in self.reader_warnings:
            warnings.warn(w, UserWarning, stacklevel=2)
        add_lever_series(
            nwbfile,
            chunked(data),
            sample_rate=rate,
            timestamps=timestamps,
            volts_to_mm=self.volts_to_mm,
            description=(
                f"Lever force/position: trace_2 of {self.n_files} Ephus .xsg acquisitions at {rate:g} Hz, "
                "with per-sample timestamps (gaps between acquisitions)."
            ),
            comments=[*self.reader_warnings, *self._clock_comments(nwbfile)],
        )
        codes = self.bitcodes()
        add_ttl_events(
            nwbfile,
            TTL_TABLE_NAMES["Trial_number"],
            codes.times,
            None,
            description=(
                f"Trial bitcodes on trace_1 of the .xsg files: sync edge (trial start) and decoded trial number. "
                f"{len(codes.times)} codes; {' '.join(codes.problems) or 'every code decoded'}."
            ),
            source_description="trace_1 thresholded at 2 V; 12-bit code, 10 ms bit pitch",
            columns={"trial_number": (codes.trial_numbers, "Decoded Dispatcher trial number.")},
            resolution=1.0 / rate,
        )
        add_lever_press_task(nwbfile, self.task_parameters())
        if self._dispatcher is None:
            self.add_movements(nwbfile, trials=None)
