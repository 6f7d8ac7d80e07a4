"""Readers of the Ephus acquisition files: per-acquisition ``.xsg`` MAT files and
continuous raw ``.xsglog`` channels.

Channels are read lazily, in chunks, with plain file reads (no memory map, so the
resident memory stays small however long the recording).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError

__all__ = [
    "XSGLOG_PATTERN",
    "XSG_PATTERN",
    "XsgFile",
    "XsglogRecording",
    "find_xsg_files",
    "read_xsg_file",
    "read_xsglog_folder",
]

XSGLOG_PATTERN = re.compile(r"^(?P<prefix>[A-Za-z]{2}\d{4}[A-Za-z]{4}\d{4})_(?P<channel>[A-Za-z0-9_]+)\.xsglog$")
XSG_PATTERN = re.compile(r"^(?P<prefix>[A-Za-z]{2}\d{4})(?P<epoch>[A-Za-z]{4})(?P<counter>\d{4})\.xsg$")
REQUIRED_CHANNELS = ("Lever", "Trial_number", "Frame")
OPTIONAL_CHANNELS = ("Lever_touch", "Opto")
_CHUNK = 1 << 20  # samples per read


@dataclasses.dataclass
class XsglogRecording:
    """A continuous ``.xsglog`` session: one raw little-endian float64 file per channel.

    Attributes
    ----------
    folder : Path
    prefix : str
        The shared file-name prefix, e.g. ``AP0071AAAA0001``.
    paths : dict of str to Path
        Channel name -> file.
    lengths : dict of str to int
        Samples stored in each file.
    n_samples : int
        The session length: the longest channel (shorter ones read as NaN-padded).
    sample_rate : float
    notes : str or None
        Text of the sibling ``<prefix>.txt``.
    warnings : list of str
        What the reader found and fixed (unequal lengths).
    """

    folder: Path
    prefix: str
    paths: dict[str, Path]
    lengths: dict[str, int]
    n_samples: int
    sample_rate: float
    notes: str | None
    warnings: list[str]

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(self.paths)

    def read(self, channel: str, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Samples ``[start, stop)`` of a channel in volts; past its end, NaN (padding)."""
        stop = self.n_samples if stop is None else min(stop, self.n_samples)
        start = max(0, min(start, stop))
        stored = self.lengths[channel]
        n = max(0, min(stop, stored) - start)
        if n:
            with open(self.paths[channel], "rb") as f:
                f.seek(start * 8)
                data = np.fromfile(f, dtype="<f8", count=n).astype(np.float64, copy=False)
            if n == stop - start:
                return data
            return np.concatenate([data, np.full(stop - start - n, np.nan)])
        return np.full(stop - start, np.nan, dtype=np.float64)

    def chunks(self, channel: str, chunk: int = _CHUNK) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(start, samples)`` blocks of a channel, padded with NaN to ``n_samples``."""
        for start in range(0, self.n_samples, chunk):
            yield start, self.read(channel, start, start + chunk)

    def lazy(self, channel: str) -> _LazyChannel:
        """A sliceable, ``len``-able view of a channel that reads on demand."""
        return _LazyChannel(self, channel)


class _LazyChannel:
    """Minimal array-like over one channel: ``len`` and 1-D slicing."""

    def __init__(self, recording: XsglogRecording, channel: str) -> None:
        self._rec = recording
        self._channel = channel
        self.shape = (recording.n_samples,)
        self.dtype = np.dtype("float64")
        self.ndim = 1

    def __len__(self) -> int:
        return self._rec.n_samples

    def __getitem__(self, item: slice | tuple[slice]) -> np.ndarray:
        if isinstance(item, tuple) and len(item) == 1:
            (item,) = item
        if not isinstance(item, slice) or item.step not in (None, 1):
            raise TypeError("only contiguous slices are supported")
        start, stop, _ = item.indices(self._rec.n_samples)
        return self._rec.read(self._channel, start, stop)


def read_xsglog_folder(
    folder_path: str | os.PathLike[str],
    *,
    prefix: str | None = None,
    sample_rate: float = 10_000.0,
    required_channels: Sequence[str] = REQUIRED_CHANNELS,
) -> XsglogRecording:
    """Find and check the ``.xsglog`` channel files of one session.

    Parameters
    ----------
    folder_path : path
        Folder holding ``<prefix>_<Channel>.xsglog`` files.
    prefix : str, optional
        Which recording to read when the folder holds several; by default the folder
        must hold exactly one.
    sample_rate : float, default 10000
        Hz (not stored in the files).
    required_channels : sequence of str
        Channels that must be present.

    Returns
    -------
    XsglogRecording

    Raises
    ------
    NwbMotorValueError
        Missing folder, no files, a file name that does not follow the pattern,
        several prefixes, a missing channel, a file whose size is not a whole number
        of float64 samples, an empty channel.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for ch in ("Lever", "Trial_number", "Frame"):
    ...     np.zeros(100).tofile(d / f"AP0071AAAA0001_{ch}.xsglog")
    >>> read_xsglog_folder(d).n_samples
    100
    """
    folder = Path(folder_path)
    if not folder.is_dir():
        raise NwbMotorValueError(f"{folder}: not a folder; expected the folder of a session's .xsglog files")
    if not sample_rate > 0:
        raise NwbMotorValueError(f"{folder}: sample_rate must be positive; got {sample_rate!r}")
    files = sorted(folder.glob("*.xsglog"))
    if not files:
        raise NwbMotorValueError(f"{folder}: no .xsglog files; expected <prefix>_<Channel>.xsglog files")
    by_prefix: dict[str, dict[str, Path]] = {}
    for f in files:
        m = XSGLOG_PATTERN.match(f.name)
        if m is None:
            raise NwbMotorValueError(
                f"{f}: file name does not follow <2 letters><4 digits><4 letters><4 digits>_<Channel>.xsglog "
                "(e.g. AP0071AAAA0001_Lever.xsglog); rename it or move it out of the folder"
            )
        by_prefix.setdefault(m["prefix"], {})[m["channel"]] = f
    if prefix is None:
        if len(by_prefix) > 1:
            listing = ", ".join(f"{p} ({', '.join(sorted(c))})" for p, c in sorted(by_prefix.items()))
            raise NwbMotorValueError(
                f"{folder}: the .xsglog files have mismatched prefixes: {listing}; expected one prefix per "
                "session. Files of different recordings are not merged: pass prefix= to choose one, or "
                "move the others out of the folder"
            )
        prefix = next(iter(by_prefix))
    elif prefix not in by_prefix:
        raise NwbMotorValueError(f"{folder}: no .xsglog files with prefix {prefix!r}; found {sorted(by_prefix)}")
    paths = by_prefix[prefix]
    missing = [c for c in required_channels if c not in paths]
    if missing:
        raise NwbMotorValueError(
            f"{folder}: channel(s) {missing} missing: no file {prefix}_{missing[0]}.xsglog; "
            f"expected channels {list(required_channels)} (found {sorted(paths)})"
        )
    lengths: dict[str, int] = {}
    for ch, p in paths.items():
        size = p.stat().st_size
        if size % 8:
            raise NwbMotorValueError(
                f"{p}: {size} bytes is not a whole number of float64 samples; expected raw little-endian "
                "float64 (the file may be truncated)"
            )
        if size == 0:
            raise NwbMotorValueError(f"{p}: channel {ch!r} is empty; expected samples")
        lengths[ch] = size // 8
    n = max(lengths.values())
    warnings = []
    if len(set(lengths.values())) > 1:
        listing = ", ".join(f"'{c}' {lengths[c]}" for c in sorted(lengths))
        warnings.append(
            f"{folder}: channels of prefix {prefix} have unequal lengths ({listing} samples); "
            f"the shorter ones were padded with NaN to {n} samples ({n / sample_rate:.4f} s)"
        )
    txt = folder / f"{prefix}.txt"
    notes = txt.read_text(errors="replace").strip() if txt.is_file() else None
    return XsglogRecording(folder, prefix, dict(sorted(paths.items())), lengths, n, float(sample_rate), notes, warnings)


@dataclasses.dataclass
class XsgFile:
    """One Ephus ``.xsg`` acquisition: sample rate and the two traces."""

    path: Path
    sample_rate: float
    bitcode: np.ndarray  # trace_1, volts
    lever: np.ndarray  # trace_2, volts


def _field(obj: object, name: str, path: Path, where: str) -> object:
    try:
        return getattr(obj, name) if not isinstance(obj, dict) else obj[name]
    except (AttributeError, KeyError):
        raise NwbMotorValueError(f"{path}: field {where}.{name} is missing; expected an Ephus .xsg file") from None


def read_xsg_file(path: str | os.PathLike[str]) -> XsgFile:
    """Read one Ephus ``.xsg`` MAT file.

    Raises
    ------
    NwbMotorValueError
        Not a MATLAB v5 file, a missing field, a bad sample rate or traces of unequal length.

    Examples
    --------
    >>> import tempfile, pathlib, scipy.io
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "AP0071AAAA0001.xsg"
    >>> scipy.io.savemat(p, {"header": {"acquirer": {"acquirer": {"sampleRate": 10000.0}}},
    ...     "data": {"acquirer": {"trace_1": np.zeros(5), "trace_2": np.ones(5)}}}, format="5")
    >>> read_xsg_file(p).lever
    array([1., 1., 1., 1., 1.])
    """
    import scipy.io

    path = Path(path)
    try:
        mat = scipy.io.loadmat(path, squeeze_me=True, struct_as_record=False, appendmat=False)
    except (ValueError, TypeError, OSError, NotImplementedError) as exc:
        raise NwbMotorValueError(f"{path}: cannot be read as a MATLAB v5 .xsg file ({exc})") from None
    header = _field(mat, "header", path, "<file>")
    rate = _field(_field(_field(header, "acquirer", path, "header"), "acquirer", path, "header.acquirer"),
                  "sampleRate", path, "header.acquirer.acquirer")
    try:
        rate = float(rate)
    except (TypeError, ValueError):
        raise NwbMotorTypeError(
            f"{path}: header.acquirer.acquirer.sampleRate is {rate!r}; expected a number (Hz)"
        ) from None
    if not rate > 0:
        raise NwbMotorValueError(f"{path}: header.acquirer.acquirer.sampleRate is {rate}; expected > 0 Hz")
    acq = _field(_field(mat, "data", path, "<file>"), "acquirer", path, "data")
    traces = []
    for name in ("trace_1", "trace_2"):
        x = np.asarray(_field(acq, name, path, "data.acquirer"))
        if x.dtype.kind not in "fiu" or x.ndim > 1:
            raise NwbMotorValueError(
                f"{path}: data.acquirer.{name} has dtype {x.dtype} and shape {x.shape}; expected a numeric vector"
            )
        traces.append(np.atleast_1d(x).astype(np.float64))
    if len(traces[0]) != len(traces[1]):
        raise NwbMotorValueError(
            f"{path}: data.acquirer.trace_1 has {len(traces[0])} samples, trace_2 has {len(traces[1])}; "
            "traces of one acquisition must match"
        )
    return XsgFile(path, rate, traces[0], traces[1])


def find_xsg_files(folder_path: str | os.PathLike[str]) -> list[Path]:
    """The session's ``.xsg`` files in acquisition order (epoch letters, then counter).

    Raises
    ------
    NwbMotorValueError
        No files, a name off the pattern, or files of different prefixes.
    """
    folder = Path(folder_path)
    if not folder.is_dir():
        raise NwbMotorValueError(f"{folder}: not a folder; expected the folder of a session's .xsg files")
    files = sorted(folder.glob("*.xsg"))
    if not files:
        raise NwbMotorValueError(f"{folder}: no .xsg files; expected e.g. AP0071AAAA0001.xsg")
    keyed = []
    for f in files:
        m = XSG_PATTERN.match(f.name)
        if m is None:
            raise NwbMotorValueError(
                f"{f}: file name does not follow <2 letters><4 digits><4 letters><4 digits>.xsg "
                "(e.g. AP0071AAAA0001.xsg)"
            )
        keyed.append((m["prefix"], m["epoch"], int(m["counter"]), f))
    prefixes = sorted({k[0] for k in keyed})
    if len(prefixes) > 1:
        raise NwbMotorValueError(
            f"{folder}: .xsg files of several animals/rigs: prefixes {prefixes}; expected one per session"
        )
    return [k[3] for k in sorted(keyed, key=lambda k: (k[1], k[2]))]
