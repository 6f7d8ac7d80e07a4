"""ScanImage TIFF sessions: header parsing and the page layout of channels and planes.

ScanImage 4 (2012-2015) writes its whole state into every page's ImageDescription as
MATLAB-style ``scanimage.SI4.<property> = <value>`` lines, preceded by per-frame lines
(``frameNumbers``, ``frameTimestamps_sec``). ScanImage 3.8 writes ``state.<...> =``
lines. Neither is read by roiextractors' ScanImage extractor, so nwbmotor reads them
here; ScanImage 2016+ files (``SI.VERSION_MAJOR``, BigTIFF with a ScanImage header) are
left to roiextractors.

Pages are interleaved as ScanImage saves them: for each volume, for each plane (slice),
one page per saved channel. Session page ``g`` is channel ``g % C``, plane
``(g // C) % Z``, volume ``g // (C * Z)``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters.imaging._tiff_reader import TiffFrameSource, TiffIndex, scan_tiff

__all__ = [
    "ScanImageLayout",
    "detect_scanimage_version",
    "find_tiff_files",
    "parse_matlab_value",
    "parse_scanimage_header",
    "read_scanimage_layout",
]

_LINE = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*=\s*(.*?)\s*;?\s*$")
_CHANNEL_NAMES = {1: "Green", 2: "Red", 3: "Channel3", 4: "Channel4"}
_SI_BIGTIFF_MAGIC = 117637889


def parse_matlab_value(text: str) -> object:
    """Python value of a MATLAB literal as ScanImage writes it.

    Examples
    --------
    >>> parse_matlab_value("28.5"), parse_matlab_value("'AP071'"), parse_matlab_value("[1;2]")
    (28.5, 'AP071', [1, 2])
    >>> parse_matlab_value("Inf"), parse_matlab_value("true"), parse_matlab_value("[]")
    (inf, True, [])
    """
    t = text.strip()
    if len(t) >= 2 and t[0] == t[-1] == "'":
        return t[1:-1].replace("''", "'")
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    if t.startswith("[") and t.endswith("]"):
        inner = t[1:-1].strip()
        if not inner:
            return []
        rows = [r for r in re.split(r"[;\n]", inner) if r.strip()]
        values = [[parse_matlab_value(v) for v in re.split(r"[\s,]+", r.strip()) if v] for r in rows]
        flat = [v for row in values for v in row]
        return flat if len(values) == 1 or all(len(r) == 1 for r in values) else values
    try:
        if re.fullmatch(r"[+-]?\d+", t):
            return int(t)
        return float(t)  # handles Inf, NaN, 1e-3
    except ValueError:
        return t


def parse_scanimage_header(description: str) -> dict[str, object]:
    """``key = value`` lines of a ScanImage ImageDescription as a dict (keys as written).

    Examples
    --------
    >>> h = parse_scanimage_header("frameNumbers = 3\\nscanimage.SI4.scanFrameRate = 28.0\\n")
    >>> h["scanimage.SI4.scanFrameRate"], h["frameNumbers"]
    (28.0, 3)
    """
    out: dict[str, object] = {}
    for line in description.splitlines():
        m = _LINE.match(line)
        if m:
            out[m.group(1)] = parse_matlab_value(m.group(2))
    return out


def detect_scanimage_version(index: TiffIndex) -> str | None:
    """``"SI4"``, ``"SI3"``, ``"SI2016"`` (ScanImage 5/2015+), or None for a plain TIFF."""
    desc, soft = index.first_description, index.first_software
    if "scanimage.SI4." in desc:
        return "SI4"
    if "SI.VERSION_MAJOR" in soft or "SI.VERSION_MAJOR" in desc or "scanimage.SI." in desc or "SI5." in soft:
        return "SI2016"
    if desc.lstrip().startswith("state.") or "state.acq." in desc:
        return "SI3"
    if index.bigtiff:
        with open(index.path, "rb") as f:
            f.seek(16)
            head = f.read(4)
        if len(head) == 4 and int.from_bytes(head, "little" if index.byteorder == "<" else "big") == _SI_BIGTIFF_MAGIC:
            return "SI2016"
    return None


def _natural_key(path: Path) -> list[object]:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def find_tiff_files(folder_or_files: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[Path]:
    """TIFF files of a session in acquisition order (natural sort: ``_2`` before ``_10``).

    Raises
    ------
    NwbMotorValueError
        If the folder does not exist or holds no ``*.tif``/``*.tiff`` file.
    """
    if isinstance(folder_or_files, (str, os.PathLike)):
        folder = Path(folder_or_files)
        if folder.is_file():
            return [folder]
        if not folder.is_dir():
            raise NwbMotorValueError(f"{folder}: folder_path does not exist; expected a folder of ScanImage TIFF files")
        files = sorted((p for p in folder.iterdir() if p.suffix.lower() in (".tif", ".tiff") and p.is_file()), key=_natural_key)
        if not files:
            raise NwbMotorValueError(f"{folder}: the folder holds no TIFF files (*.tif, *.tiff); expected a ScanImage session")
        return files
    files = [Path(p) for p in folder_or_files]
    if not files:
        raise NwbMotorValueError("file_paths is empty; expected at least one TIFF file")
    return files


@dataclasses.dataclass
class ScanImageLayout:
    """A ScanImage session read from its headers: what each page is, and when.

    Attributes
    ----------
    version : "SI4" or "SI3"
    files : list of TiffIndex, in acquisition order
    header : dict of the first page's ``key = value`` lines
    n_channels, n_planes : int
    channel_names : list of str ("Green" for PMT 1, "Red" for PMT 2)
    scan_frame_rate : float
        Pages (slices) per second of one channel.
    volume_rate : float
        Frames per second of each plane's series.
    n_volumes : int
    timestamps : ndarray of float64, shape (n_volumes,) or None
        Start of each volume from ``frameTimestamps_sec`` when the files carry it.
    zoom : float or None
    """

    version: str
    files: list[TiffIndex]
    header: dict[str, object]
    n_channels: int
    n_planes: int
    channel_names: list[str]
    scan_frame_rate: float
    volume_rate: float
    n_volumes: int
    timestamps: np.ndarray | None
    zoom: float | None

    def source(self, channel: int, plane: int) -> TiffFrameSource:
        """The frames of one channel (index into ``channel_names``) and plane."""
        c, z = self.n_channels, self.n_planes
        pages, start = [], 0
        for idx in self.files:
            g = start + np.arange(idx.n_pages, dtype=np.int64)
            keep = (g % c == channel) & ((g // c) % z == plane) & (g // (c * z) < self.n_volumes)
            pages.append(np.flatnonzero(keep))
            start += idx.n_pages
        return TiffFrameSource(self.files, pages)


_KEYS = {
    "SI4": {
        "rate": "scanimage.SI4.scanFrameRate",
        "channels": "scanimage.SI4.channelsSave",
        "fastz": "scanimage.SI4.fastZEnable",
        "slices": "scanimage.SI4.stackNumSlices",
        "discard": "scanimage.SI4.fastZNumDiscardFrames",
        "zoom": "scanimage.SI4.scanZoomFactor",
    },
    "SI3": {
        "rate": "state.acq.frameRate",
        "channels": "state.acq.numberOfChannelsSave",
        "fastz": None,
        "slices": "state.acq.numberOfZSlices",
        "discard": None,
        "zoom": "state.acq.zoomFactor",
    },
}


def _channels(value: object, version: str) -> list[int]:
    if version == "SI3":  # a count of saved channels
        return list(range(1, int(value) + 1)) if isinstance(value, (int, float)) and value >= 1 else []
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [int(value)]
    if isinstance(value, list) and value and all(isinstance(v, (int, float)) for v in value):
        return [int(v) for v in value]
    return []


def read_scanimage_layout(files: Sequence[Path], *, version: str | None = None) -> ScanImageLayout:
    """Scan every file of a ScanImage 4 (or 3.8) session and work out its channels, planes and times.

    Parameters
    ----------
    files : sequence of Path
        In acquisition order (see :func:`find_tiff_files`).
    version : {"SI4", "SI3"}, optional
        Detected from the first file when not given.

    Returns
    -------
    ScanImageLayout

    Raises
    ------
    NwbMotorValueError
        A file that is not a ScanImage 4/3.8 TIFF, a header field missing or invalid
        (``scanFrameRate``, ``channelsSave``), files whose headers disagree, files out of
        order (frame numbers do not continue), a page count that is not whole volumes,
        or any problem of :func:`scan_tiff` (truncated file, mismatched pages).
    """
    indices: list[TiffIndex] = []
    frame_numbers: list[np.ndarray] = []
    frame_times: list[np.ndarray] = []
    header: dict[str, object] = {}
    for path in files:
        numbers: list[float] = []
        times: list[float] = []

        def collect(_page: int, text: str, numbers: list[float] = numbers, times: list[float] = times) -> None:
            # only the per-frame lines at the top; the state lines follow and are parsed once
            head = text[:400]
            m = re.search(r"^frameNumbers\s*=\s*([\d.eE+-]+)", head, re.M)
            numbers.append(float(m.group(1)) if m else math.nan)
            m = re.search(r"^frameTimestamps_sec\s*=\s*([\d.eE+-]+)", head, re.M)
            times.append(float(m.group(1)) if m else math.nan)

        idx = scan_tiff(path, on_description=collect)
        detected = detect_scanimage_version(idx)
        if version is None:
            version = detected
        if detected != version or version not in _KEYS:
            raise NwbMotorValueError(
                f"{path}: ImageDescription: expected a ScanImage 4 header ('scanimage.SI4.<property> = <value>' lines)"
                f" or ScanImage 3.8 ('state.' lines); found {detected or 'no ScanImage header'}"
                + (f" while {files[0].name} is {version}" if path != files[0] else "")
            )
        this = parse_scanimage_header(idx.first_description)
        keys = _KEYS[version]
        if not header:
            header = this
        else:
            for field in ("rate", "channels", "slices", "fastz"):
                k = keys[field]
                if k and this.get(k) != header.get(k):
                    raise NwbMotorValueError(
                        f"{path}: header field {k} is {this.get(k)!r}; expected {header.get(k)!r} as in {files[0].name} "
                        "(every file of a session must come from one acquisition)"
                    )
        if indices and (idx.shape != indices[0].shape or idx.dtype != indices[0].dtype):
            raise NwbMotorValueError(
                f"{path}: pages have shape {idx.shape} and dtype {idx.dtype}; expected shape {indices[0].shape} and "
                f"dtype {indices[0].dtype} as in {files[0].name} (every file of a session must match)"
            )
        indices.append(idx)
        frame_numbers.append(np.asarray(numbers))
        frame_times.append(np.asarray(times))
    assert version is not None
    keys = _KEYS[version]

    rate = header.get(keys["rate"])
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not math.isfinite(rate) or rate <= 0:
        raise NwbMotorValueError(f"{files[0]}: header field {keys['rate']} is {rate!r}; expected a positive frame rate in Hz")
    channels = _channels(header.get(keys["channels"], 1), version)
    if not channels:
        raise NwbMotorValueError(
            f"{files[0]}: header field {keys['channels']} is {header.get(keys['channels'])!r}; expected the saved channel(s), e.g. 1 or [1;2]"
        )
    if version == "SI3" and int(header.get(keys["slices"], 1) or 1) > 1:
        raise NwbMotorValueError(
            f"{files[0]}: header field {keys['slices']} is {header.get(keys['slices'])}; a ScanImage 3.8 z-stack "
            "(frames grouped by slice) is not a movie; expected 1"
        )
    fastz = bool(header.get(keys["fastz"], 0)) if keys["fastz"] else False
    n_planes = int(header.get(keys["slices"], 1) or 1) if fastz else 1
    if n_planes < 1:
        raise NwbMotorValueError(f"{files[0]}: header field {keys['slices']} is {n_planes}; expected >= 1")
    discard = int(header.get(keys["discard"], 0) or 0) if keys["discard"] and fastz else 0
    n_ch = len(channels)
    n_pages = sum(i.n_pages for i in indices)
    per_volume = n_ch * n_planes
    if n_pages % per_volume:
        raise NwbMotorValueError(
            f"{files[-1]}: the session has {n_pages} pages, not a whole number of volumes of {per_volume} pages "
            f"({n_ch} channel(s) x {n_planes} plane(s)); the last file may be truncated"
        )
    _check_order(files, frame_numbers, n_ch)
    n_volumes = n_pages // per_volume
    volume_rate = float(rate) / (n_planes + discard)
    all_times = np.concatenate(frame_times)[::per_volume]
    timestamps = all_times if np.isfinite(all_times).all() and len(all_times) == n_volumes else None
    if timestamps is not None and len(timestamps) > 1 and not (np.diff(timestamps) > 0).all():
        k = int(np.flatnonzero(np.diff(timestamps) <= 0)[0]) + 1
        warnings.warn(
            f"{files[0].parent}: frameTimestamps_sec goes back from {timestamps[k - 1]:.4f} s to {timestamps[k]:.4f} s "
            f"at volume {k} (a new acquisition); frame times are taken from the frame rate instead",
            UserWarning,
            stacklevel=2,
        )
        timestamps = None
    zoom = header.get(keys["zoom"])
    return ScanImageLayout(
        version=version,
        files=indices,
        header=header,
        n_channels=n_ch,
        n_planes=n_planes,
        channel_names=[_CHANNEL_NAMES.get(c, f"Channel{c}") for c in channels],
        scan_frame_rate=float(rate),
        volume_rate=volume_rate,
        n_volumes=n_volumes,
        timestamps=timestamps,
        zoom=float(zoom) if isinstance(zoom, (int, float)) and not isinstance(zoom, bool) and zoom > 0 else None,
    )


def _check_order(files: Sequence[Path], numbers: list[np.ndarray], n_ch: int) -> None:
    """Frame numbers (one per slice, shared by its channel pages) must continue across files."""
    expected_next = None
    for path, nums in zip(files, numbers):
        if len(nums) == 0 or not np.isfinite(nums).all():
            return  # no frame numbers in these files: order by name only
        per_slice = nums[::n_ch]
        if expected_next is not None and per_slice[0] == 1 and expected_next != 1:
            warnings.warn(
                f"{path}: frameNumbers restarts at 1: a new acquisition begins with this file; the files are "
                "joined in name order, with no gap between acquisitions",
                UserWarning,
                stacklevel=3,
            )
        elif expected_next is not None and per_slice[0] != expected_next:
            raise NwbMotorValueError(
                f"{path}: frameNumbers starts at {int(per_slice[0])}; expected {int(expected_next)} after the previous "
                "file; files are missing or out of acquisition order"
            )
        if len(per_slice) > 1 and not (np.diff(per_slice) == 1).all():
            bad = int(np.flatnonzero(np.diff(per_slice) != 1)[0]) + 1
            raise NwbMotorValueError(
                f"{path}: frameNumbers jumps from {int(per_slice[bad - 1])} to {int(per_slice[bad])} at page {bad * n_ch}; "
                "expected consecutive frames (dropped frames?)"
            )
        expected_next = per_slice[-1] + 1
