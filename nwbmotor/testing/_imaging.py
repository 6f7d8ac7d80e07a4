"""Generators of two-photon movies and ScanImage-like TIFF sessions, with their truth.

Frames are photon-noise-like: a smooth baseline image with neuropil texture, a few
hundred cell-like blobs whose brightness follows sparse calcium transients, and shot
noise (a Gaussian approximation of Poisson counts, rounded). Every frame is a
deterministic function of ``(seed, frame index)``, so a movie of any size can be
written in blocks with constant memory and regenerated later to check a round trip.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "ScanImageSession",
    "SyntheticMovie",
    "si4_header",
    "write_scanimage_session",
    "write_tiff_movie",
    "write_tiff_pages",
]

_BLOCK = 64  # frames per independently seeded noise block


@dataclasses.dataclass(frozen=True)
class SyntheticMovie:
    """A reproducible photon-noise-like movie; frames are made on demand.

    Parameters
    ----------
    n_frames : int
    shape : (height, width)
    dtype : numpy dtype, default uint16
    frame_rate : float, default 28.0
        Used only for the time constants of the calcium transients.
    seed : int, default 0
    n_cells : int, optional
        Cell-like blobs; default about one per 1,000 pixels (260 for 512 × 512).
    baseline : float, default 300.0
        Mean expected count of the background.

    Examples
    --------
    >>> movie = SyntheticMovie(n_frames=10, shape=(32, 32), seed=1)
    >>> movie.frames(2, 5).shape
    (3, 32, 32)
    >>> bool((movie.frames(0, 10)[2:5] == movie.frames(2, 5)).all())
    True
    """

    n_frames: int
    shape: tuple[int, int] = (512, 512)
    dtype: np.dtype = np.dtype("uint16")
    frame_rate: float = 28.0
    seed: int = 0
    n_cells: int | None = None
    baseline: float = 220.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(v) for v in self.shape))
        object.__setattr__(self, "dtype", np.dtype(self.dtype))

    # -- the static parts, made once per movie object
    @property
    def _static(self) -> tuple[np.ndarray, list[tuple[slice, slice, np.ndarray]], np.ndarray]:
        cached = self.__dict__.get("_cache")
        if cached is None:
            cached = _static_parts(self)
            object.__setattr__(self, "_cache", cached)
        return cached

    def expected(self, start: int, stop: int) -> np.ndarray:
        """Noise-free expected counts of frames ``start:stop`` (float32)."""
        base, cells, traces = self._static
        lam = np.repeat(base[None], stop - start, axis=0)
        for c, (ys, xs, patch) in enumerate(cells):
            lam[:, ys, xs] += traces[c, start:stop, None, None] * patch
        return lam

    def frames(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Frames ``start:stop`` as an array of shape ``(stop - start, height, width)``."""
        stop = self.n_frames if stop is None else stop
        if not 0 <= start <= stop <= self.n_frames:
            raise IndexError(f"frames {start}:{stop} outside 0:{self.n_frames}")
        out = np.empty((stop - start, *self.shape), dtype=self.dtype)
        b0 = start // _BLOCK
        for b in range(b0, (stop - 1) // _BLOCK + 1 if stop > start else b0):
            lo, hi = b * _BLOCK, min((b + 1) * _BLOCK, self.n_frames)
            block = self._block(b, lo, hi)
            s0, s1 = max(lo, start), min(hi, stop)
            out[s0 - start : s1 - start] = block[s0 - lo : s1 - lo]
        return out

    def iter_blocks(self, block_frames: int = _BLOCK) -> Iterator[np.ndarray]:
        """Consecutive blocks of ``block_frames`` frames (the last may be shorter)."""
        for start in range(0, self.n_frames, block_frames):
            yield self.frames(start, min(start + block_frames, self.n_frames))

    def _block(self, b: int, lo: int, hi: int) -> np.ndarray:
        lam = self.expected(lo, hi)
        rng = np.random.default_rng([self.seed, 7, b])
        noise = rng.standard_normal(lam.shape, dtype=np.float32)
        counts = np.rint(lam + np.sqrt(lam) * noise)
        info = np.iinfo(self.dtype) if self.dtype.kind in "ui" else None
        if info is not None:
            np.clip(counts, max(info.min, 0), info.max, out=counts)
        return counts.astype(self.dtype)


def _static_parts(m: SyntheticMovie) -> tuple[np.ndarray, list[tuple[slice, slice, np.ndarray]], np.ndarray]:
    h, w = m.shape
    rng = np.random.default_rng([m.seed, 3])
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    vignette = 1.0 - 0.35 * (((yy - h / 2) / h) ** 2 + ((xx - w / 2) / w) ** 2) * 4
    texture = rng.standard_normal((h // 8 + 2, w // 8 + 2)).astype(np.float32)
    texture = np.kron(texture, np.ones((8, 8), np.float32))[:h, :w]
    base = (m.baseline * vignette * (1 + 0.15 * texture)).clip(m.baseline * 0.2).astype(np.float32)
    n_cells = m.n_cells if m.n_cells is not None else max(1, h * w // 1000)
    radius = max(2.0, 6.0 * min(h, w) / 512 * 1.5)
    cells = []
    for _ in range(n_cells):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        r = radius * rng.uniform(0.8, 1.2)
        y0, y1 = int(max(cy - 2 * r, 0)), int(min(cy + 2 * r + 1, h))
        x0, x1 = int(max(cx - 2 * r, 0)), int(min(cx + 2 * r + 1, w))
        if y1 <= y0 or x1 <= x0:
            continue
        py, px = np.mgrid[y0:y1, x0:x1]
        d2 = ((py - cy) ** 2 + (px - cx) ** 2) / r**2
        patch = (np.exp(-d2 * 1.5) * (1 - 0.6 * np.exp(-d2 * 6))).astype(np.float32)  # ring-ish soma
        cells.append((slice(y0, y1), slice(x0, x1), patch * m.baseline * rng.uniform(0.4, 1.0)))
    # calcium transients: Poisson events, exponential decay (tau 0.7 s), amplitude ~ dF/F 0.5-2
    n = m.n_frames
    decay = np.exp(-1.0 / (0.7 * m.frame_rate))
    rates = rng.uniform(0.02, 0.3, size=len(cells)) / m.frame_rate
    events = (rng.random((len(cells), n)) < rates[:, None]) * rng.uniform(0.5, 2.0, size=(len(cells), n))
    traces = np.empty((len(cells), n), np.float32)
    acc = np.ones(len(cells), np.float32)
    for t in range(n):  # F = 1 + dF/F
        acc = 1 + (acc - 1) * decay + events[:, t]
        traces[:, t] = acc
    return base, cells, traces


# --------------------------------------------------------------------------- TIFF writing
def write_tiff_pages(
    path: str | os.PathLike[str],
    pages: Iterable[np.ndarray],
    *,
    descriptions: Iterable[str] | None = None,
    bigtiff: bool = False,
) -> Path:
    """Write one TIFF page per 2-D array (uncompressed), optionally each with an ImageDescription.

    Pages may differ in shape or dtype (to make bad files for tests). Streams: memory
    does not grow with the number of pages.

    Examples
    --------
    >>> import tempfile, tifffile
    >>> p = write_tiff_pages(Path(tempfile.mkdtemp()) / "a.tif", [np.zeros((4, 5), "uint16")] * 3)
    >>> len(tifffile.TiffFile(p).pages)
    3
    """
    import tifffile

    path = Path(path)
    desc_iter = iter(descriptions) if descriptions is not None else None
    with tifffile.TiffWriter(path, bigtiff=bigtiff) as tw:
        for page in pages:
            kwargs: dict[str, Any] = {}
            if desc_iter is not None:
                kwargs["description"] = next(desc_iter)
            tw.write(np.asarray(page), photometric="minisblack", contiguous=False, metadata=None, **kwargs)
    return path


def write_tiff_movie(
    path: str | os.PathLike[str],
    movie: SyntheticMovie | np.ndarray,
    *,
    bigtiff: bool | None = None,
) -> Path:
    """Write a plain multi-page TIFF, one frame per page (no ScanImage header).

    Parameters
    ----------
    path : str or PathLike
    movie : SyntheticMovie or ndarray of shape (n_frames, height, width)
    bigtiff : bool, optional
        Default: BigTIFF when the file would exceed 3.9 GB.

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, tifffile
    >>> m = SyntheticMovie(n_frames=5, shape=(16, 16))
    >>> p = write_tiff_movie(Path(tempfile.mkdtemp()) / "m.tif", m)
    >>> bool((tifffile.imread(p) == m.frames()).all())
    True
    """
    if isinstance(movie, SyntheticMovie):
        n, shape, dtype = movie.n_frames, movie.shape, movie.dtype
        pages: Iterable[np.ndarray] = (f for blk in movie.iter_blocks() for f in blk)
    else:
        arr = np.asarray(movie)
        n, shape, dtype = arr.shape[0], arr.shape[1:], arr.dtype
        pages = iter(arr)
    if bigtiff is None:
        bigtiff = n * int(np.prod(shape)) * dtype.itemsize > 3.9e9
    return write_tiff_pages(path, pages, bigtiff=bigtiff)


# --------------------------------------------------------------------------- ScanImage
@dataclasses.dataclass(frozen=True)
class ScanImageSession:
    """What :func:`write_scanimage_session` planted.

    ``movies[(channel_index, plane)]`` regenerates the frames of one channel and plane;
    ``files`` are in acquisition order; ``frame_rate`` is the rate of each plane (the
    volume rate when there are several planes); ``timestamps`` are the start times of
    each volume in seconds.
    """

    folder: Path
    files: tuple[Path, ...]
    version: str
    frame_rate: float
    scan_frame_rate: float
    n_frames: int
    n_channels: int
    n_planes: int
    channel_names: tuple[str, ...]
    shape: tuple[int, int]
    dtype: np.dtype
    timestamps: np.ndarray
    movies: dict[tuple[int, int], SyntheticMovie]
    zoom: float

    def frames(self, channel: int = 0, plane: int = 0) -> np.ndarray:
        """All frames of one channel and plane."""
        return self.movies[(channel, plane)].frames()


_CHANNEL_NAMES = {1: "Green", 2: "Red"}


def _matlab(value: object) -> str:
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ";".join(_matlab(v) for v in value) + "]"
    if isinstance(value, float) and value == float("inf"):
        return "Inf"
    return repr(value) if isinstance(value, float) else str(value)


def si4_header(state: Mapping[str, object]) -> str:
    """The ``scanimage.SI4.<prop> = <value>`` lines of a ScanImage 4 ImageDescription.

    Examples
    --------
    >>> print(si4_header({"scanFrameRate": 28.0, "channelsSave": [1, 2]}))
    scanimage.SI4.channelsSave = [1;2]
    scanimage.SI4.scanFrameRate = 28.0
    """
    return "\n".join(f"scanimage.SI4.{k} = {_matlab(v)}" for k, v in sorted(state.items()))


def write_scanimage_session(
    folder: str | os.PathLike[str],
    *,
    n_frames: int,
    shape: Sequence[int] = (512, 512),
    n_files: int = 1,
    version: str = "SI4",
    n_channels: int = 1,
    n_planes: int = 1,
    frame_rate: float = 28.0,
    dtype: str | np.dtype = "uint16",
    zoom: float = 1.0,
    seed: int = 0,
    file_stem: str = "AP071_day01",
    start_time: _dt.datetime | None = None,
) -> ScanImageSession:
    """Write a ScanImage-like TIFF session: several multi-page files with ScanImage headers.

    Pages are interleaved as ScanImage saves them: for each volume, for each plane, for
    each saved channel one page. ``version="SI4"`` writes classic TIFFs whose every page
    carries ``frameNumbers``/``frameTimestamps_sec`` lines and the full
    ``scanimage.SI4.*`` state; files are named ``<stem>_001_<k>.tif`` with ``k`` not
    zero-padded past 3 digits (so a plain sort is not always the acquisition order).

    Parameters
    ----------
    folder : str or PathLike
        Created if needed.
    n_frames : int
        Frames (volumes) per channel and plane, over the whole session.
    shape : (height, width), default (512, 512)
    n_files : int, default 1
        Files the frames are split across (as evenly as possible, in whole volumes).
    version : {"SI4", "2016", "3.8"}
        ``"3.8"`` writes ``state.<...>=<value>`` lines separated by carriage returns and no
        per-frame lines.
        ``"2016"`` writes ScanImage 2016+ BigTIFFs: the ScanImage binary header after the
        TIFF header (magic 117637889, version 3, non-varying ``SI.*`` frame data, ROI
        JSON), the frame data also in each page's Software tag, per-frame lines in each
        ImageDescription.
    n_channels : {1, 2}
        Saved channels (1 = green, 2 = green + red).
    n_planes : int, default 1
        Fast-z planes; ``frame_rate`` is then the scan (page) rate, the volume rate is
        ``frame_rate / n_planes``.
    frame_rate : float, default 28.0
        ``scanimage.SI4.scanFrameRate``.
    dtype : default "uint16"
    zoom : float, default 1.0
    seed : int
    file_stem : str
    start_time : datetime, optional
        Written as ``triggerClockTimeFirst``.

    Returns
    -------
    ScanImageSession

    Examples
    --------
    >>> import tempfile
    >>> s = write_scanimage_session(tempfile.mkdtemp(), n_frames=6, shape=(16, 16), n_files=2)
    >>> [p.name for p in s.files], s.frame_rate
    (['AP071_day01_001_1.tif', 'AP071_day01_001_2.tif'], 28.0)
    """
    if version not in ("SI4", "2016", "3.8"):
        raise ValueError(f"version {version!r} is not supported by this generator; expected 'SI4', '2016' or '3.8'")
    if version == "3.8" and n_planes != 1:
        raise ValueError("ScanImage 3.8 sessions are written with one plane")
    if n_channels not in (1, 2) or n_planes < 1 or n_files < 1 or n_frames < n_files:
        raise ValueError("n_channels must be 1 or 2, n_planes >= 1, and 1 <= n_files <= n_frames")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    shape = (int(shape[0]), int(shape[1]))
    dtype = np.dtype(dtype)
    start_time = start_time or _dt.datetime(2014, 3, 1, 10, 0, 0)
    volume_rate = frame_rate / n_planes
    movies = {
        (c, z): SyntheticMovie(
            n_frames=n_frames, shape=shape, dtype=dtype, frame_rate=volume_rate, seed=seed * 1000 + 10 * z + c,
            baseline=220.0 if c == 0 else 110.0,
        )
        for c in range(n_channels)
        for z in range(n_planes)
    }
    per_file = np.array_split(np.arange(n_frames), n_files)
    channels = list(range(1, n_channels + 1))
    state = {
        "VERSION_MAJOR": 4,
        "VERSION_MINOR": 2,
        "acqNumAveragedFrames": 1,
        "acqNumFrames": n_frames * n_planes,
        "acqsPerLoop": 1,
        "beamPowers": 28,
        "channelsActive": channels if n_channels > 1 else 1,
        "channelsSave": channels if n_channels > 1 else 1,
        "fastZEnable": int(n_planes > 1),
        "fastZNumVolumes": n_frames if n_planes > 1 else 1,
        "fastZNumDiscardFrames": 0,
        "loggingFileStem": file_stem,
        "loggingFramesPerFile": int(max(len(ix) for ix in per_file) * n_planes) if n_files > 1 else float("inf"),
        "loggingFramesPerFileLock": 0,
        "scanFramePeriod": 1.0 / frame_rate,
        "scanFrameRate": float(frame_rate),
        "scanLinePeriod": 1.0 / frame_rate / shape[0],
        "scanLinesPerFrame": shape[0],
        "scanPixelsPerLine": shape[1],
        "scanZoomFactor": float(zoom),
        "stackNumSlices": n_planes,
        "stackZStepSize": 20 if n_planes > 1 else 1,
        "triggerClockTimeFirst": start_time.strftime("%d-%m-%Y %H:%M:%S.%f")[:-3],
    }
    header = si4_header(state)
    si2016_data = _si2016_frame_data(
        frame_rate=frame_rate, n_channels=n_channels, n_planes=n_planes, shape=shape, zoom=zoom,
        frames_per_file=state["loggingFramesPerFile"],
    )
    si3_header = "\r".join(
        [
            "state.configPath='C:\\ScanImage\\configs'",
            "state.software.version=3.8",
            f"state.acq.numberOfChannelsSave={n_channels}",
            f"state.acq.frameRate={frame_rate!r}",
            "state.acq.numberOfZSlices=1",
            f"state.acq.numberOfFrames={n_frames}",
            f"state.acq.linesPerFrame={shape[0]}",
            f"state.acq.pixelsPerLine={shape[1]}",
            f"state.acq.zoomFactor={float(zoom)!r}",
            f"state.internal.triggerTimeString='{start_time:%m/%d/%Y %H:%M:%S}'",
        ]
    )
    files = []
    for k, idx in enumerate(per_file, start=1):
        path = folder / (f"{file_stem}_001_{k}.tif" if version == "SI4" else f"{file_stem}_{k:05d}.tif")

        def pages(idx: np.ndarray = idx) -> Iterator[np.ndarray]:
            for lo in range(int(idx[0]), int(idx[-1]) + 1, _BLOCK):
                hi = min(lo + _BLOCK, int(idx[-1]) + 1)
                blocks = {key: m.frames(lo, hi) for key, m in movies.items()}
                for t in range(hi - lo):
                    for z in range(n_planes):
                        for c in range(n_channels):
                            yield blocks[(c, z)][t]

        def descriptions(idx: np.ndarray = idx) -> Iterator[str]:
            for t in idx:
                for z in range(n_planes):
                    page_number = int(t) * n_planes + z  # frame (slice) number, 0-based
                    for _c in range(n_channels):
                        per_frame = (
                            f"frameNumbers = {page_number + 1}\n"
                            f"frameTimestamps_sec = {page_number / frame_rate:.6f}\n"
                            f"acqTriggerTimestamps_sec = 0.000000\n"
                        )
                        if version == "3.8":
                            yield si3_header
                        else:
                            yield per_frame + (f"{header}\n" if version == "SI4" else "epoch = [2014 3 1 10 0 0]\n")

        if version in ("SI4", "3.8"):
            files.append(write_tiff_pages(path, pages(), descriptions=descriptions()))
        else:
            files.append(_write_si2016_bigtiff(path, pages(), descriptions(), si2016_data))
    return ScanImageSession(
        folder=folder,
        files=tuple(files),
        version=version,
        frame_rate=float(volume_rate),
        scan_frame_rate=float(frame_rate),
        n_frames=n_frames,
        n_channels=n_channels,
        n_planes=n_planes,
        channel_names=tuple(_CHANNEL_NAMES[c] for c in channels),
        shape=shape,
        dtype=dtype,
        timestamps=np.arange(n_frames) / volume_rate,
        movies=movies,
        zoom=float(zoom),
    )


def _si2016_frame_data(*, frame_rate: float, n_channels: int, n_planes: int, shape: tuple[int, int], zoom: float, frames_per_file: object) -> str:
    channels = list(range(1, n_channels + 1))
    values = {
        "SI.VERSION_MAJOR": "2016b",
        "SI.VERSION_MINOR": "1",
        "SI.hChannels.channelName": ["Channel 1", "Channel 2", "Channel 3", "Channel 4"],
        "SI.hChannels.channelSave": channels if n_channels > 1 else 1,
        "SI.hRoiManager.linesPerFrame": shape[0],
        "SI.hRoiManager.pixelsPerLine": shape[1],
        "SI.hRoiManager.scanFrameRate": float(frame_rate),
        "SI.hRoiManager.scanVolumeRate": float(frame_rate) / n_planes,
        "SI.hRoiManager.scanZoomFactor": float(zoom),
        "SI.hStackManager.enable": n_planes > 1,
        "SI.hStackManager.numSlices": n_planes,
        "SI.hStackManager.framesPerSlice": 1,
        "SI.hStackManager.numFramesPerVolume": n_planes,
        "SI.hStackManager.numFramesPerVolumeWithFlyback": n_planes,
        "SI.hScan2D.logFramesPerFile": frames_per_file,
    }

    def fmt(v: object) -> str:
        if isinstance(v, list):
            return "{" + " ".join(f"'{x}'" for x in v) + "}" if v and isinstance(v[0], str) else "[" + " ".join(map(str, v)) + "]"
        return _matlab(v)

    return "\n".join(f"{k} = {fmt(v)}" for k, v in values.items()) + "\n"


def _write_si2016_bigtiff(path: Path, pages: Iterable[np.ndarray], descriptions: Iterable[str], frame_data: str) -> Path:
    """A little-endian BigTIFF laid out as ScanImage 2016+ writes it (uncompressed strips)."""
    import json
    import struct

    frame_bytes = frame_data.encode() + b"\x00"
    roi_bytes = json.dumps({"RoiGroups": {"imagingRoiGroup": {"ver": 1, "name": "Default"}}}).encode() + b"\x00"
    si_header = struct.pack("<IIII", 117637889, 3, len(frame_bytes), len(roi_bytes)) + frame_bytes + roi_bytes
    software = frame_bytes
    with open(path, "wb") as f:
        f.write(b"II" + struct.pack("<HHHQ", 43, 8, 0, 0))  # first IFD offset patched below
        f.write(si_header)
        patch_at = 8
        for page, desc in zip(pages, descriptions):
            page = np.ascontiguousarray(page)
            desc_bytes = desc.encode() + b"\x00"
            desc_off = f.tell()
            f.write(desc_bytes)
            soft_off = f.tell()
            f.write(software)
            data_off = f.tell()
            f.write(page.tobytes())
            if f.tell() % 2:
                f.write(b"\x00")
            h, w = page.shape
            fmt = {"u": 1, "i": 2, "f": 3}[page.dtype.kind]
            entries = [
                (256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, page.dtype.itemsize * 8), (259, 3, 1, 1), (262, 3, 1, 1),
                (270, 2, len(desc_bytes), desc_off), (273, 16, 1, data_off), (277, 3, 1, 1), (278, 4, 1, h),
                (279, 16, 1, page.nbytes), (305, 2, len(software), soft_off), (339, 3, 1, fmt),
            ]
            ifd_off = f.tell()
            f.write(struct.pack("<Q", len(entries)))
            for tag, typ, count, value in entries:
                f.write(struct.pack("<HHQQ", tag, typ, count, value))
            next_at = f.tell()
            f.write(struct.pack("<Q", 0))
            f.seek(patch_at)
            f.write(struct.pack("<Q", ifd_off))
            f.seek(0, 2)
            patch_at = next_at
    return path
